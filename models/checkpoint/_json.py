"""Conversion of metadata to plain JSON types (private)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from models.errors import CheckpointError


def jsonable(value: Any, where: str) -> Any:
    """Convert ``value`` to plain JSON types, or raise :class:`CheckpointError`.

    Numpy and 0-d torch scalars become numbers, arrays and tensors lists, objects with
    ``to_dict()`` dicts, path-likes strings and non-finite floats ``None``.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return jsonable(value.item(), where)
    if isinstance(value, torch.Tensor | np.ndarray):
        return jsonable(value.tolist(), where)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict(), where)
    raise CheckpointError(f"{where} of type {type(value).__name__} is not JSON-serialisable")


def one_line(text: str) -> str:
    """Collapse whitespace (newlines included) so that an error message is one line."""
    return " ".join(text.split())
