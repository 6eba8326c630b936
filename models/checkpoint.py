"""Checkpoints: save and load rnnscope models, and read recurrent weights from other code.

An rnnscope checkpoint is a directory with two files:

* ``model.safetensors``: the model's ``state_dict``;
* ``config.json``: ``kind``, ``input_size``, ``hidden_size``, ``output_size``, ``seed`` and
  ``options`` (the model's :attr:`~models.RecurrentModel.config`), ``task``, ``metrics``, the
  library ``versions``, the SHA-256 of the weights file and any further metadata, with sorted
  keys.

:func:`load` also reads, for analysis only, files written by other code: ``torch.save``-d state
dicts of ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``, expRNN / dtriv, nnRNN and NRU checkpoints, and
bare matrices in ``.npy``, ``.npz``, ``.safetensors`` or torch files (see
:mod:`models.formats`). Files are never unpickled beyond tensors: torch files are read with
``torch.load(weights_only=True)`` and numpy files with ``allow_pickle=False``.

Matrices are always returned in the column convention :math:`h_t = f(W h_{t-1} + U x_t + b)`;
a matrix saved by row-vector code (Keras, TensorFlow: ``h @ W``) is transposed when loaded with
``convention="row"``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import platform
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from models.errors import (
    CheckpointError,
    InvalidOptionError,
    UnknownKindError,
    UnsupportedModelError,
)
from models.formats import FormatError, _files, matrix, recognise
from models.formats._common import Found, nonfinite_count, shape_str

if TYPE_CHECKING:
    from models.base import RecurrentModel

__all__ = [
    "CONFIG_FILE",
    "WEIGHTS_FILE",
    "Checkpoint",
    "TensorInfo",
    "list_tensors",
    "load",
    "save",
]

logger = logging.getLogger(__name__)

#: Name of the weights file inside a checkpoint directory.
WEIGHTS_FILE = "model.safetensors"
#: Name of the configuration file inside a checkpoint directory.
CONFIG_FILE = "config.json"
#: Version of the directory layout written by :func:`save`.
FORMAT_VERSION = 1

_MODEL_KEYS = ("kind", "input_size", "hidden_size", "output_size", "seed", "options")
_RESERVED = (*_MODEL_KEYS, "format", "format_version", "versions", "weights_sha256")
_CONVENTIONS = ("column", "row")
_FILE_MODE = 0o644


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of a file, as listed by :func:`list_tensors`.

    Attributes
    ----------
    key : str
        Key of the tensor; nested mappings are joined with dots (``"state_dict.rnn.P"``).
    shape : tuple of int
        Shape of the tensor.
    square : bool
        Whether the tensor is a square matrix (so it can be analysed with ``matrix=``).
    dtype : str
        Element type, e.g. ``"float32"``.
    """

    key: str
    shape: tuple[int, ...]
    square: bool
    dtype: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict ``{"key", "shape", "square", "dtype"}``."""
        return {
            "key": self.key,
            "shape": list(self.shape),
            "square": self.square,
            "dtype": self.dtype,
        }


@dataclass(frozen=True)
class Checkpoint:
    """Recurrent matrices read from a checkpoint, with where and how each was obtained.

    Attributes
    ----------
    source : str
        Path that was loaded.
    format : str
        ``"rnnscope"``, ``"exprnn"``, ``"nnrnn"``, ``"nru"``, ``"torch-rnn"``, ``"torch-lstm"``,
        ``"torch-gru"``, ``"matrix"`` or ``"named"``.
    kind : str or None
        Model kind in :func:`models.build` terms (``"lstm"`` for ``torch-lstm``), ``None`` for
        bare and named matrices.
    model : RecurrentModel or None
        The rebuilt model (format ``"rnnscope"`` only), in eval mode.
    config : dict
        ``config.json`` for rnnscope checkpoints; otherwise what was inferred from the shapes
        (sizes, layers, map, ...) plus ``"extra"``: scalars stored next to the state dict.
    matrices : dict of str to (N, N) torch.Tensor
        Recurrent matrices in the column convention.
    source_keys : dict of str to list of str
        File keys each matrix was computed from.
    formulas : dict of str to str
        How each matrix was computed, e.g. ``"W = (base·expm(triu(A,1) − triu(A,1)ᵀ))ᵀ"``.
    skipped : dict of str to str
        Recurrent blocks that were found but not analysed, with the reason.
    other_blocks : dict of str to torch.Tensor
        Further recurrent blocks that are not square (e.g. the NRU memory block ``"memory"``).
    notes : dict of str to str
        Remarks per matrix, e.g. the difference between a recomputed and a cached matrix.
    principal : str or None
        Name of the principal matrix returned by :meth:`recurrent_matrix`.

    Examples
    --------
    >>> import numpy as np, tempfile, os, models
    >>> path = os.path.join(tempfile.mkdtemp(), "W.npy")
    >>> np.save(path, np.diag(np.ones(3), -1)[:3, :3])
    >>> ckpt = models.load(path)
    >>> ckpt.format, list(ckpt.matrices), tuple(ckpt.recurrent_matrix().shape)
    ('matrix', ['W'], (3, 3))
    """

    source: str
    format: str
    kind: str | None = None
    model: RecurrentModel | None = None
    config: dict[str, Any] = field(default_factory=dict)
    matrices: dict[str, torch.Tensor] = field(default_factory=dict)
    source_keys: dict[str, list[str]] = field(default_factory=dict)
    formulas: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    other_blocks: dict[str, torch.Tensor] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    principal: str | None = None

    def recurrent_matrices(self) -> dict[str, torch.Tensor]:
        """Return every recurrent matrix, column convention.

        Returns
        -------
        dict of str to (N, N) torch.Tensor
            A new dict (the tensors are shared).
        """
        return dict(self.matrices)

    def recurrent_matrix(self) -> torch.Tensor:
        """Return the principal recurrent matrix.

        Returns
        -------
        (N, N) torch.Tensor
            ``W`` for RNN-like models, the ``g`` block of an LSTM, the ``n`` block of a GRU, the
            first matrix otherwise.

        Raises
        ------
        CheckpointError
            If the checkpoint holds no matrix.
        """
        if self.principal is not None and self.principal in self.matrices:
            return self.matrices[self.principal]
        if self.model is not None:
            return self.model.recurrent_matrix()
        if not self.matrices:
            raise CheckpointError(f"{self.source}: no recurrent matrix was loaded")
        return next(iter(self.matrices.values()))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary (no tensor values: shapes only).

        Returns
        -------
        dict
            ``source``, ``format``, ``kind``, ``principal``, ``config``, ``matrices`` (name ->
            shape), ``source_keys``, ``formulas``, ``skipped``, ``other_blocks`` (name -> shape)
            and ``notes``.
        """
        return {
            "source": self.source,
            "format": self.format,
            "kind": self.kind,
            "principal": self.principal,
            "config": _jsonable(self.config, "config"),
            "matrices": {k: list(v.shape) for k, v in self.matrices.items()},
            "source_keys": {k: list(v) for k, v in self.source_keys.items()},
            "formulas": dict(self.formulas),
            "skipped": dict(self.skipped),
            "other_blocks": {k: list(v.shape) for k, v in self.other_blocks.items()},
            "notes": dict(self.notes),
        }


# -- saving ----------------------------------------------------------------------------------


def save(model: RecurrentModel, path: str | os.PathLike[str], **metadata: Any) -> Path:
    """Write ``model`` as an rnnscope checkpoint directory.

    Both files are written to temporary names in the directory and then renamed over the old
    ones, so an interrupted save leaves the previous checkpoint (or nothing) in place; the
    weights' SHA-256 in ``config.json`` lets :func:`load` detect a mismatched pair.

    Parameters
    ----------
    model : RecurrentModel
        A model built by :func:`models.build`.
    path : str or os.PathLike
        Directory to write; created (with its parents) if missing. Other files in it are kept.
    **metadata
        JSON-serialisable values stored in ``config.json``: conventionally ``task`` (the task's
        ``to_dict()``), ``metrics`` (final metrics) and ``training`` (the training settings).
        Numpy and 0-d torch scalars become numbers, objects with ``to_dict()`` become dicts,
        non-finite floats become ``null``.

    Returns
    -------
    pathlib.Path
        The checkpoint directory.

    Raises
    ------
    UnsupportedModelError
        If ``model`` is not a :class:`~models.RecurrentModel` (it lacks a ``config``).
    CheckpointError
        If a metadata key is reserved (``kind``, ``options``, ``versions``, ...) or not
        JSON-serialisable, a weight is NaN or infinite, or ``path`` is an existing file.

    Examples
    --------
    >>> import models, tempfile, torch
    >>> model = models.build("rnn", input_size=2, hidden_size=4, output_size=3)
    >>> out = models.save(model, tempfile.mkdtemp(), metrics={"accuracy": 0.5})
    >>> sorted(p.name for p in out.iterdir())
    ['config.json', 'model.safetensors']
    >>> loaded = models.load(out).model
    >>> x = torch.randn(1, 5, 2)
    >>> torch.equal(loaded(x), model.eval()(x))
    True
    """
    from safetensors.torch import save as serialize

    target = Path(path)
    config = _model_config(model)
    clash = sorted(set(metadata) & set(_RESERVED))
    if clash:
        raise CheckpointError(
            f"cannot save {target}: metadata key(s) {', '.join(map(repr, clash))} are reserved"
        )
    state: dict[str, torch.Tensor] = {}
    for key, value in model.state_dict().items():
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(f"cannot save {target}: state entry {key!r} is not a tensor")
        tensor = value.detach().to("cpu").contiguous().clone()
        if (tensor.is_floating_point() or tensor.is_complex()) and nonfinite_count(tensor):
            raise CheckpointError(
                f"refusing to save {target}: {nonfinite_count(tensor)} non-finite value(s) "
                f"(NaN or Inf) in {key!r}"
            )
        state[key] = tensor
    blob = serialize(state, metadata={"format": "rnnscope"})
    document: dict[str, Any] = {
        **config,
        "task": None,
        "metrics": {},
        **{k: _jsonable(v, f"metadata {k!r}") for k, v in metadata.items()},
        "format": "rnnscope",
        "format_version": FORMAT_VERSION,
        "versions": _versions(),
        "weights_sha256": hashlib.sha256(blob).hexdigest(),
    }
    text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    if target.exists() and not target.is_dir():
        raise CheckpointError(f"cannot save {target}: it is a file, not a directory")
    target.mkdir(parents=True, exist_ok=True)
    _commit(target, blob, (text + "\n").encode("utf-8"))
    logger.info("saved %s checkpoint to %s", config["kind"], target)
    return target


def _model_config(model: Any) -> dict[str, Any]:
    config = getattr(model, "config", None)
    if not isinstance(model, torch.nn.Module) or not isinstance(config, Mapping):
        raise UnsupportedModelError(
            "save needs a models.RecurrentModel (built by models.build), "
            f"got {type(model).__name__}"
        )
    missing = [k for k in _MODEL_KEYS if k not in config]
    if missing:
        raise UnsupportedModelError(
            f"save needs model.config with {', '.join(_MODEL_KEYS)}; missing {', '.join(missing)}"
        )
    return {k: _jsonable(config[k], f"model.config[{k!r}]") for k in _MODEL_KEYS}


def _versions() -> dict[str, str]:
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {
        "numpy": np.__version__,
        "python": platform.python_version(),
        "rnnscope": version("rnnscope"),
        "safetensors": version("safetensors"),
        "torch": torch.__version__,
    }


def _jsonable(value: Any, where: str) -> Any:
    """Convert ``value`` to plain JSON types, or raise :class:`CheckpointError`."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return _jsonable(value.item(), where)
    if isinstance(value, torch.Tensor | np.ndarray):
        return _jsonable(value.tolist(), where)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _jsonable(to_dict(), where)
    raise CheckpointError(f"{where} of type {type(value).__name__} is not JSON-serialisable")


def _write_temp(directory: Path, name: str, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _FILE_MODE)  # mkstemp creates 0o600; checkpoints are shared files
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _commit(directory: Path, weights: bytes, config: bytes) -> None:
    """Write both files to temporary names, then rename them into place (weights first).

    If renaming the configuration fails, the previous weights file is restored, so the
    directory holds either the old pair, the new pair or (for a new directory) neither file.
    """
    temps: list[Path] = []
    backup: Path | None = None
    weights_path, config_path = directory / WEIGHTS_FILE, directory / CONFIG_FILE
    try:
        tmp_weights = _write_temp(directory, WEIGHTS_FILE, weights)
        temps.append(tmp_weights)
        tmp_config = _write_temp(directory, CONFIG_FILE, config)
        temps.append(tmp_config)
        if weights_path.exists():
            backup = directory / f".{WEIGHTS_FILE}.{uuid.uuid4().hex}.bak"
            try:
                os.link(weights_path, backup)
            except OSError:
                shutil.copy2(weights_path, backup)
        os.replace(tmp_weights, weights_path)
        temps.remove(tmp_weights)
        try:
            os.replace(tmp_config, config_path)
            temps.remove(tmp_config)
        except BaseException:
            if backup is not None:
                os.replace(backup, weights_path)
                backup = None
            else:
                weights_path.unlink(missing_ok=True)
            raise
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        if backup is not None:
            backup.unlink(missing_ok=True)
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- loading ---------------------------------------------------------------------------------


def load(
    path: str | os.PathLike[str],
    *,
    convention: str | None = None,
    matrix: str | Sequence[str] | None = None,
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
        Keys (as shown by :func:`list_tensors`) of square tensors to analyse instead of
        recognising the format; the result has format ``"named"``.

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
        key (lists the available keys) or a non-square one (gives its shape).

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
        if not (source / CONFIG_FILE).is_file():
            raise CheckpointError(
                f"directory {source} has no {CONFIG_FILE} (not an rnnscope checkpoint)"
            )
        if keys is None:
            if conv == "row":
                raise CheckpointError(
                    f"{source}: convention='row' applies to bare matrices; rnnscope "
                    "checkpoints are in the column convention"
                )
            return _load_own(source)
        source = source / WEIGHTS_FILE
        if not source.is_file():
            raise CheckpointError(f"{source.parent}: missing {WEIGHTS_FILE}")
    contents = _read(source)
    try:
        found = _find(source, contents, conv, keys)
    except FormatError as err:
        raise CheckpointError(_one_line(f"{source}: {err}")) from err
    if not found.matrices:
        reasons = "; ".join(f"{k}: {v}" for k, v in found.skipped.items()) or "no tensors"
        raise CheckpointError(_one_line(f"{source}: nothing to analyse ({reasons})"))
    config = dict(found.config)
    if contents.extras:
        config["extra"] = _jsonable(contents.extras, "extra")
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


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _read(source: Path) -> _files.Contents:
    try:
        return _files.read(source)
    except FormatError as err:
        raise CheckpointError(_one_line(f"{source}: {err}")) from err
    except OSError as err:
        raise CheckpointError(_one_line(f"{source}: cannot read ({err})")) from err


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


def _load_own(directory: Path) -> Checkpoint:
    config_path, weights_path = directory / CONFIG_FILE, directory / WEIGHTS_FILE
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(_one_line(f"{config_path}: invalid JSON ({err})")) from err
    if not isinstance(config, dict):
        raise CheckpointError(f"{config_path}: expected a JSON object")
    missing = [k for k in ("kind", "input_size", "hidden_size", "output_size") if k not in config]
    if missing:
        raise CheckpointError(f"{config_path}: missing {', '.join(missing)}")
    if not weights_path.is_file():
        raise CheckpointError(f"{directory}: missing {WEIGHTS_FILE}")
    blob = weights_path.read_bytes()
    state = _read_state(weights_path, blob)
    expected = config.get("weights_sha256")
    if expected is not None and hashlib.sha256(blob).hexdigest() != expected:
        raise CheckpointError(
            f"{weights_path}: does not match {CONFIG_FILE} (SHA-256 differs: the file was "
            "replaced or an interrupted save left a mixed pair)"
        )
    model = _build(directory, config)
    _check_state(directory, config, state, model.state_dict())
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


def _read_state(weights_path: Path, blob: bytes) -> dict[str, torch.Tensor]:
    from safetensors.torch import load as deserialize

    try:
        state = dict(deserialize(blob))
    except Exception as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CheckpointError(
            _one_line(f"{weights_path}: truncated or corrupt safetensors file ({first})")
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
            _one_line(f"{directory / CONFIG_FILE}: unknown kind {config['kind']!r} ({err})")
        ) from err
    except (InvalidOptionError, ValueError, TypeError) as err:
        raise CheckpointError(
            _one_line(f"{directory / CONFIG_FILE}: cannot rebuild the model ({err})")
        ) from err


def _check_state(
    directory: Path,
    config: Mapping[str, Any],
    state: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor],
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
    for key, reference in expected.items():
        tensor = state[key]
        if tuple(tensor.shape) != tuple(reference.shape):
            raise CheckpointError(
                f"{directory}: shape mismatch for {key!r}: {shape_str(tensor.shape)} in "
                f"{WEIGHTS_FILE}, but {CONFIG_FILE} ({sizes}) needs "
                f"{shape_str(reference.shape)}"
            )


# -- listing ---------------------------------------------------------------------------------


def list_tensors(path: str | os.PathLike[str]) -> list[TensorInfo]:
    """List every tensor of a checkpoint, with its shape and whether it is square.

    This is the dry run behind ``rnnscope analyze --list``: any square tensor can then be
    analysed with ``load(path, matrix=key)``.

    Parameters
    ----------
    path : str or os.PathLike
        A checkpoint directory (its ``model.safetensors`` is listed) or a file of any type
        :func:`load` reads.

    Returns
    -------
    list of TensorInfo
        In file order; nested keys are joined with dots.

    Raises
    ------
    CheckpointError
        If the path is missing, a directory has no ``config.json``, or the file cannot be read
        safely (see :func:`load`).

    Examples
    --------
    >>> import numpy as np, tempfile, os, models
    >>> path = os.path.join(tempfile.mkdtemp(), "weights.npz")
    >>> np.savez(path, W=np.eye(3), U=np.ones((3, 2)))
    >>> [(t.key, t.shape, t.square) for t in models.list_tensors(path)]
    [('W', (3, 3), True), ('U', (3, 2), False)]
    """
    source = Path(path)
    if not source.exists():
        raise CheckpointError(f"{source}: no such file or directory")
    if source.is_dir():
        if not (source / CONFIG_FILE).is_file():
            raise CheckpointError(
                f"directory {source} has no {CONFIG_FILE} (not an rnnscope checkpoint)"
            )
        source = source / WEIGHTS_FILE
        if not source.is_file():
            raise CheckpointError(f"{source.parent}: missing {WEIGHTS_FILE}")
    try:
        headers = _files.tensor_headers(source)
    except FormatError as err:
        raise CheckpointError(_one_line(f"{source}: {err}")) from err
    except OSError as err:
        raise CheckpointError(_one_line(f"{source}: cannot read ({err})")) from err
    return [
        TensorInfo(key, shape, len(shape) == 2 and shape[0] == shape[1], dtype)
        for key, shape, dtype in headers
    ]
