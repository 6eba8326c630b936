"""Listing the tensors of any checkpoint file: :func:`list_tensors` (the dry run)."""

from __future__ import annotations

import os
from pathlib import Path

from models.checkpoint._json import one_line
from models.checkpoint.layout import CONFIG_FILE, WEIGHTS_FILE
from models.checkpoint.record import TensorInfo
from models.errors import CheckpointError
from models.formats import FormatError, _files

__all__ = ["list_tensors"]


def list_tensors(path: str | os.PathLike[str]) -> list[TensorInfo]:
    """List every tensor of a checkpoint, with its shape and whether it is square.

    This is the dry run behind ``rnnscope analyze --list``: any square tensor can then be
    analysed with ``load(path, matrix=key)``.

    Parameters
    ----------
    path : str or os.PathLike
        A checkpoint directory (its ``model.safetensors`` is listed) or a file of any type
        :func:`~models.load` reads.

    Returns
    -------
    list of TensorInfo
        In file order; nested keys are joined with dots.

    Raises
    ------
    CheckpointError
        If the path is missing, a directory has no ``config.json``, or the file cannot be read
        safely (see :func:`~models.load`).

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
        raise CheckpointError(one_line(f"{source}: {err}")) from err
    except OSError as err:
        raise CheckpointError(one_line(f"{source}: cannot read ({err})")) from err
    return [
        TensorInfo(key, shape, len(shape) == 2 and shape[0] == shape[1], dtype)
        for key, shape, dtype in headers
    ]
