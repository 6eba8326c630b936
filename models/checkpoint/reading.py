"""Reading checkpoints: :func:`load` and :func:`read_config`.

:func:`load` reads rnnscope checkpoint directories (rebuilding the model) and, for analysis
only, files written by other code (see :mod:`models.formats`). Files are never unpickled beyond
tensors: torch files are read with ``torch.load(weights_only=True)`` and numpy files with
``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from models import inits
from models.checkpoint._json import jsonable, one_line
from models.checkpoint.config import expected_shapes, parameter_count, parse_config
from models.checkpoint.layout import CONFIG_FILE, WEIGHTS_FILE
from models.checkpoint.record import Checkpoint
from models.errors import CheckpointError, InvalidOptionError, UnknownKindError
from models.formats import DEFAULT_MAX_SIZE, FormatError, _files, matrix, recognise
from models.formats._common import Found, nonfinite_count, shape_str

if TYPE_CHECKING:
    from models.base import RecurrentModel

__all__ = ["load", "read_config"]

logger = logging.getLogger(__name__)

_CONVENTIONS = ("column", "row")
# bytes a weights file may hold per expected element (complex128) plus room for its header
_BYTES_PER_ELEMENT = 16
_HEADER_BYTES = 2**20


def load(
    path: str | os.PathLike[str],
    *,
    convention: str | None = None,
    matrix: str | Sequence[str] | None = None,
    max_size: int | None = DEFAULT_MAX_SIZE,
) -> Checkpoint:
    """Load a checkpoint and its recurrent matrices (column convention).

    Parameters
    ----------
    path : str or os.PathLike
        An rnnscope checkpoint directory, or a file: a torch file (``.pt``, ``.pth``,
        ``.pth.tar``, NRU's ``model.p``, ...), ``.safetensors``, ``.npy`` or ``.npz``. The type
        is detected from the file's first bytes.
    convention : {None, "column", "row"}, optional
        Storage convention of bare or named matrices. ``"row"`` (Keras / TensorFlow code that
        computes ``h @ W``) transposes them. Recognised formats know their convention, so
        ``"row"`` is refused for them. ``None`` means ``"column"``.
    matrix : str or sequence of str, optional
        Keys (as shown by :func:`~models.list_tensors`) of square tensors to analyse instead of
        recognising the format; the result has format ``"named"``.
    max_size : int or None, optional
        Largest N of an N×N matrix (default 4096, as the analysis is O(N³)): files holding a
        matrix with both sides larger, more than ``128·max_size²`` bytes in all, or an rnnscope
        checkpoint with a larger ``hidden_size`` are refused before anything is allocated.
        ``None`` lifts the limit; the headers are still checked against the file's bytes.

    Returns
    -------
    Checkpoint
        The matrices, how each was obtained, and (rnnscope format) the rebuilt model.

    Raises
    ------
    CheckpointError
        With a one-line message naming the path and the problem: missing file or directory, a
        directory without ``config.json`` or ``model.safetensors``, a truncated or corrupt file,
        a pickle that needs code (refused, nothing is executed), an object array, an unknown
        kind or options in ``config.json``, weights whose shapes do not match the config,
        NaN or Inf weights, nothing recognised (suggests ``--list``), an unknown ``matrix=``
        key (lists the available keys) or a non-square one (gives its shape), a file over the
        size limit, a FIFO or a device (refused without reading).

    Examples
    --------
    >>> import numpy as np, tempfile, os, models
    >>> path = os.path.join(tempfile.mkdtemp(), "keras_kernel.npy")
    >>> np.save(path, np.diag(np.ones(3), 1))  # a chain 0 -> 1 -> 2 for h @ W
    >>> W = models.load(path, convention="row").recurrent_matrix()
    >>> W[1, 0].item(), W[0, 1].item()  # column convention: unit 0 drives unit 1
    (1.0, 0.0)
    """
    source = Path(path)
    conv = _check_convention(convention, source)
    keys = _check_keys(matrix, source)
    if not source.exists():
        raise CheckpointError(f"{source}: no such file or directory")
    if source.is_dir():
        _require_config(source)
        if keys is None:
            if conv == "row":
                raise CheckpointError(
                    f"{source}: convention='row' applies to bare matrices; rnnscope "
                    "checkpoints are in the column convention"
                )
            return _load_own(source, max_size)
        source = source / WEIGHTS_FILE
        if not source.is_file():
            raise CheckpointError(f"{source.parent}: missing {WEIGHTS_FILE}")
    contents = _read(source, max_size)
    try:
        found = _find(source, contents, conv, keys)
    except FormatError as err:
        raise CheckpointError(one_line(f"{source}: {err}")) from err
    if not found.matrices:
        reasons = "; ".join(f"{k}: {v}" for k, v in found.skipped.items()) or "no tensors"
        raise CheckpointError(one_line(f"{source}: nothing to analyse ({reasons})"))
    config = dict(found.config)
    if contents.extras:
        config["extra"] = jsonable(contents.extras, "extra")
    logger.info("loaded %s as %s: %s", source, found.format, ", ".join(found.matrices))
    return Checkpoint(
        source=str(path),
        format=found.format,
        kind=found.kind,
        model=None,
        config=config,
        matrices=found.matrices,
        source_keys=found.source_keys,
        formulas=found.formulas,
        skipped=found.skipped,
        other_blocks=found.other_blocks,
        notes=found.notes,
        principal=found.principal,
    )


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check the ``config.json`` of an rnnscope checkpoint directory.

    Nothing is built and the weights are not read: this is the cheap way to see what a
    checkpoint holds (its model, task, training settings and metrics).

    Parameters
    ----------
    path : str or os.PathLike
        Checkpoint directory.

    Returns
    -------
    dict
        The parsed configuration; ``kind``, ``input_size``, ``hidden_size`` and ``output_size``
        are present.

    Raises
    ------
    CheckpointError
        If the directory or its ``config.json`` is missing, the file is larger than 16 MiB, not
        valid JSON, nested more than 32 levels deep, not an object, lacks a required key, or a
        key has the wrong type (sizes and seed must be integers; ``options``, ``training``,
        ``metrics`` and ``task.params`` objects; ``task`` an object or null).

    Examples
    --------
    >>> import models, tempfile
    >>> model = models.build("rnn", input_size=2, hidden_size=4, output_size=3)
    >>> folder = models.save(model, tempfile.mkdtemp(), training={"step": 7})
    >>> config = models.checkpoint.read_config(folder)
    >>> config["kind"], config["hidden_size"], config["training"]["step"]
    ('rnn', 4, 7)
    """
    directory = Path(path)
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: not a checkpoint directory")
    _require_config(directory)
    return parse_config(directory / CONFIG_FILE)


def _require_config(directory: Path) -> None:
    if not (directory / CONFIG_FILE).is_file():
        raise CheckpointError(
            f"directory {directory} has no {CONFIG_FILE} (not an rnnscope checkpoint)"
        )


def _check_convention(convention: str | None, source: Path) -> str | None:
    if convention is None or convention in _CONVENTIONS:
        return convention
    raise CheckpointError(
        f"{source}: unknown convention {convention!r}; use 'column' (W·h) or 'row' (h·W)"
    )


def _check_keys(matrix: str | Sequence[str] | None, source: Path) -> list[str] | None:
    if matrix is None:
        return None
    keys = [matrix] if isinstance(matrix, str) else list(matrix)
    if not keys or not all(isinstance(k, str) for k in keys):
        raise CheckpointError(f"{source}: matrix= must be a key or a non-empty list of keys")
    return keys


def _read(source: Path, max_size: int | None) -> _files.Contents:
    try:
        return _files.read(source, max_size=max_size)
    except FormatError as err:
        raise CheckpointError(one_line(f"{source}: {err}")) from err
    except OSError as err:
        raise CheckpointError(one_line(f"{source}: cannot read ({err})")) from err


def _find(
    source: Path, contents: _files.Contents, conv: str | None, keys: list[str] | None
) -> Found:
    column = conv or "column"
    if keys is not None:
        return matrix.named(contents.tensors, keys, convention=column)
    if contents.container in ("npy", "npz") or contents.bare or len(contents.tensors) == 1:
        return matrix.bare(contents.tensors, convention=column, unreadable=contents.unreadable)
    found = recognise(contents.state, prefix=contents.prefix)
    if found is None:
        hint = ""
        if source.name == WEIGHTS_FILE and (source.parent / CONFIG_FILE).is_file():
            hint = f"; it belongs to an rnnscope checkpoint: load the directory {source.parent}"
        raise FormatError(
            f"no recurrent weights recognised among {len(contents.tensors)} tensors (tried "
            "expRNN, nnRNN, NRU, torch RNN/LSTM/GRU); list them with `rnnscope analyze --list` "
            f"(models.list_tensors) and pick square ones with --matrix KEY (matrix=){hint}"
        )
    if conv == "row":
        raise FormatError(
            f"convention='row' applies to bare or named matrices; {found.format} checkpoints "
            "have a known convention and are converted to the column convention already"
        )
    return found


def _load_own(directory: Path, max_size: int | None) -> Checkpoint:
    config_path, weights_path = directory / CONFIG_FILE, directory / WEIGHTS_FILE
    config = parse_config(config_path)
    if not weights_path.is_file():
        raise CheckpointError(f"{directory}: missing {WEIGHTS_FILE}")
    _check_own_sizes(directory, config, max_size)
    # Everything below is checked against what the config promises before the model is built,
    # so a small file claiming a huge model fails at once and allocates nothing.
    shapes = expected_shapes(config_path, config)
    _check_file_size(weights_path, config, shapes)
    blob = weights_path.read_bytes()
    state = _read_state(weights_path, blob)
    expected = config.get("weights_sha256")
    if expected is not None and hashlib.sha256(blob).hexdigest() != expected:
        raise CheckpointError(
            f"{weights_path}: does not match {CONFIG_FILE} (SHA-256 differs: the file was "
            "replaced or an interrupted save left a mixed pair)"
        )
    _check_state(directory, config, state, shapes)
    with inits._placeholders():  # the initial weights are replaced by the stored ones
        model = _build(directory, config)
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        matrices = {k: v.detach().clone() for k, v in model.recurrent_matrices().items()}
    # by name: equal blocks (e.g. all-zero LSTM gates) must not shadow the principal one
    principal = model.PRINCIPAL if model.PRINCIPAL in matrices else next(iter(matrices), None)
    kind = str(config["kind"])
    return Checkpoint(
        source=str(directory),
        format="rnnscope",
        kind=kind,
        model=model,
        config=config,
        matrices=matrices,
        source_keys={k: [WEIGHTS_FILE] for k in matrices},
        formulas={
            k: f"{k} = recurrent_matrices()[{k!r}] of the rebuilt {kind!r} model "
            "(column convention)"
            for k in matrices
        },
        principal=principal,
    )


def _check_own_sizes(directory: Path, config: Mapping[str, Any], max_size: int | None) -> None:
    """Refuse a hidden size or stored tensors over the size limit, reading headers only."""
    hidden = config.get("hidden_size")
    if max_size is not None and isinstance(hidden, int) and hidden > max_size:
        raise CheckpointError(
            f"{directory / CONFIG_FILE}: hidden_size {hidden} is larger than the size limit "
            f"{max_size} (the analysis costs O(N³)); raise it with --max-size (max_size=)"
        )
    weights_path = directory / WEIGHTS_FILE
    try:
        _files.check_safetensors(weights_path, max_size=max_size)
    except FormatError as err:
        raise CheckpointError(one_line(f"{weights_path}: {err}")) from err
    except OSError as err:
        raise CheckpointError(one_line(f"{weights_path}: cannot read ({err})")) from err


def _read_state(weights_path: Path, blob: bytes) -> dict[str, torch.Tensor]:
    from safetensors.torch import load as deserialize

    try:
        state = dict(deserialize(blob))
    except Exception as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CheckpointError(
            one_line(f"{weights_path}: truncated or corrupt safetensors file ({first})")
        ) from err
    for key, tensor in state.items():
        if (tensor.is_floating_point() or tensor.is_complex()) and nonfinite_count(tensor):
            raise CheckpointError(
                f"{weights_path}: {nonfinite_count(tensor)} non-finite value(s) (NaN or Inf) "
                f"in {key!r}"
            )
    return state


def _build(directory: Path, config: Mapping[str, Any]) -> RecurrentModel:
    from models.build import build

    options = config.get("options", {})
    if not isinstance(options, Mapping):
        raise CheckpointError(f"{directory / CONFIG_FILE}: 'options' must be a JSON object")
    try:
        return build(
            config["kind"],
            input_size=config["input_size"],
            hidden_size=config["hidden_size"],
            output_size=config["output_size"],
            seed=config.get("seed", 0),
            **options,
        )
    except UnknownKindError as err:
        raise CheckpointError(
            one_line(f"{directory / CONFIG_FILE}: unknown kind {config['kind']!r} ({err})")
        ) from err
    except (InvalidOptionError, ValueError, TypeError) as err:
        raise CheckpointError(
            one_line(f"{directory / CONFIG_FILE}: cannot rebuild the model ({err})")
        ) from err


def _check_file_size(
    weights_path: Path, config: Mapping[str, Any], shapes: Mapping[str, tuple[int, ...]]
) -> None:
    size = weights_path.stat().st_size
    limit = _BYTES_PER_ELEMENT * parameter_count(shapes) + _HEADER_BYTES
    if size > limit:
        raise CheckpointError(
            f"{weights_path}: {size} bytes, far more than the {config['kind']!r} model of "
            f"{CONFIG_FILE} can hold ({parameter_count(shapes)} values); not its weights file"
        )


def _check_state(
    directory: Path,
    config: Mapping[str, Any],
    state: Mapping[str, torch.Tensor],
    expected: Mapping[str, tuple[int, ...]],
) -> None:
    sizes = ", ".join(f"{k}={config[k]}" for k in ("input_size", "hidden_size", "output_size"))
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(map(repr, missing[:5]))}")
        if unexpected:
            parts.append(f"unexpected {', '.join(map(repr, unexpected[:5]))}")
        raise CheckpointError(
            f"{directory}: {WEIGHTS_FILE} does not match the {config['kind']!r} model of "
            f"{CONFIG_FILE}: {'; '.join(parts)}"
        )
    for key, shape in expected.items():
        tensor = state[key]
        if tuple(tensor.shape) != tuple(shape):
            raise CheckpointError(
                f"{directory}: shape mismatch for {key!r}: {shape_str(tensor.shape)} in "
                f"{WEIGHTS_FILE}, but {CONFIG_FILE} ({sizes}) needs {shape_str(shape)}"
            )
        if not tensor.is_floating_point():
            raise CheckpointError(
                f"{directory}: {key!r} in {WEIGHTS_FILE} holds {str(tensor.dtype)[6:]} values; "
                f"the {config['kind']!r} model has real floating-point weights (load the file "
                "with matrix=KEY to analyse a stored matrix as it is)"
            )
