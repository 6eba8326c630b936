"""Writing rnnscope checkpoint directories: :func:`save`."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from models.checkpoint._json import jsonable
from models.checkpoint.atomic import clean_stale_temps, commit_pair
from models.checkpoint.layout import FORMAT_VERSION, MODEL_KEYS, RESERVED
from models.checkpoint.lock import folder_lock
from models.errors import CheckpointError, UnsupportedModelError
from models.formats._common import nonfinite_count

if TYPE_CHECKING:
    from models.base import RecurrentModel

__all__ = ["save"]

logger = logging.getLogger(__name__)

#: Seconds :func:`save` waits for another writer of the same folder before it gives up.
SAVE_WAIT = 10.0


def save(model: RecurrentModel, path: str | os.PathLike[str], **metadata: Any) -> Path:
    """Write ``model`` as an rnnscope checkpoint directory.

    Both files are written to temporary names in the directory and then renamed over the old
    ones, so an interrupted save leaves the previous checkpoint (or nothing) in place; the
    weights' SHA-256 in ``config.json`` lets :func:`~models.load` detect a mismatched pair.
    The save holds the folder's lock (:data:`~models.LOCK_FILE`), waiting up to
    :data:`SAVE_WAIT` seconds for another writer, and first removes the temporary files an
    earlier interrupted save left behind.

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
    FolderInUseError
        If another process keeps writing into ``path`` (a training run holds its lock).

    Examples
    --------
    >>> import models, tempfile, torch
    >>> model = models.build("rnn", input_size=2, hidden_size=4, output_size=3)
    >>> out = models.save(model, tempfile.mkdtemp(), metrics={"accuracy": 0.5})
    >>> sorted(p.name for p in out.iterdir())
    ['config.json', 'model.safetensors']
    >>> loaded = models.load(out)
    >>> loaded.metrics
    {'accuracy': 0.5}
    >>> x = torch.randn(1, 5, 2)
    >>> torch.equal(loaded.model(x), model.eval()(x))
    True
    """
    from safetensors.torch import save as serialize

    target = Path(path)
    config = _model_config(model)
    clash = sorted(set(metadata) & set(RESERVED))
    if clash:
        raise CheckpointError(
            f"cannot save {target}: metadata key(s) {', '.join(map(repr, clash))} are reserved"
        )
    state = _state(model, target)
    blob = serialize(state, metadata={"format": "rnnscope"})
    document: dict[str, Any] = {
        **config,
        "task": None,
        "metrics": {},
        **{k: jsonable(v, f"metadata {k!r}") for k, v in metadata.items()},
        "format": "rnnscope",
        "format_version": FORMAT_VERSION,
        "versions": _versions(),
        "weights_sha256": hashlib.sha256(blob).hexdigest(),
    }
    text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    if target.exists() and not target.is_dir():
        raise CheckpointError(f"cannot save {target}: it is a file, not a directory")
    target.mkdir(parents=True, exist_ok=True)
    with folder_lock(target, reentrant=True, wait=SAVE_WAIT):
        clean_stale_temps(target)
        commit_pair(target, blob, (text + "\n").encode("utf-8"))
    logger.info("saved %s checkpoint to %s", config["kind"], target)
    return target


def _state(model: torch.nn.Module, target: Path) -> dict[str, torch.Tensor]:
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
    return state


def _model_config(model: Any) -> dict[str, Any]:
    config = getattr(model, "config", None)
    if not isinstance(model, torch.nn.Module) or not isinstance(config, Mapping):
        raise UnsupportedModelError(
            "save needs a models.RecurrentModel (built by models.build), "
            f"got {type(model).__name__}"
        )
    missing = [k for k in MODEL_KEYS if k not in config]
    if missing:
        raise UnsupportedModelError(
            f"save needs model.config with {', '.join(MODEL_KEYS)}; missing {', '.join(missing)}"
        )
    return {k: jsonable(config[k], f"model.config[{k!r}]") for k in MODEL_KEYS}


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
