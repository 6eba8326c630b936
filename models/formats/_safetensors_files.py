"""Reader of safetensors files, their header checked against the file first (private)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from models.formats._common import FormatError, shape_str
from models.formats._contents import Contents, first_line
from models.formats._limits import DEFAULT_MAX_SIZE, check_declared, check_entries, require_regular

__all__ = ["check_safetensors", "read_safetensors", "safetensors_entries"]


#: Bytes per element of the safetensors dtypes that torch reads.
_ST_ITEMSIZE = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
    "BOOL": 1, "F8_E4M3": 1, "F8_E4M3FNUZ": 1, "F8_E5M2": 1, "F8_E5M2FNUZ": 1, "C64": 8,
    "U64": 8, "U32": 4, "U16": 2,
}  # fmt: skip

_ST_MAX_HEADER = 100_000_000
_ST = "safetensors file"


def _safetensors_error(err: Exception) -> FormatError:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return FormatError(f"truncated or corrupt safetensors file ({text})")


def safetensors_entries(path: Path) -> list[tuple[str, tuple[int, ...], str, int]]:
    """Key, shape, dtype and item size of every tensor, from the header checked against the file."""
    size = require_regular(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise FormatError("truncated or corrupt safetensors file (no header length)")
        length = int.from_bytes(head, "little")
        check_declared(_ST, "the header length", length, size - 8)
        if length > _ST_MAX_HEADER:
            raise FormatError(
                f"truncated or corrupt safetensors file (header of {length} bytes, over the "
                "format's limit)"
            )
        raw = fh.read(length)
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise FormatError(
            f"truncated or corrupt safetensors file (header: {first_line(err)})"
        ) from err
    if not isinstance(header, dict):
        raise FormatError("truncated or corrupt safetensors file (header is not a JSON object)")
    data = size - 8 - length
    out = []
    for key, info in header.items():
        if key == "__metadata__":
            continue
        shape, dtype, offsets = _st_fields(key, info)
        itemsize = _ST_ITEMSIZE.get(dtype)
        if itemsize is None:
            raise FormatError(f"tensor {key!r} has unsupported safetensors dtype {dtype!r}")
        start, end = offsets
        nbytes = math.prod(shape) * itemsize
        check_declared(
            _ST, f"tensor {key!r} (shape {shape_str(shape)}, {dtype})", nbytes, data - start
        )
        if end - start != nbytes or start > end:
            raise FormatError(
                f"truncated or corrupt safetensors file (tensor {key!r}: data offsets "
                f"{start}..{end} do not match shape {shape_str(shape)} of {dtype})"
            )
        out.append((str(key), shape, dtype, itemsize))
    return out


def _st_fields(key: str, info: Any) -> tuple[tuple[int, ...], str, tuple[int, int]]:
    ok = isinstance(info, dict) and isinstance(info.get("dtype"), str)
    shape, offsets = (info.get("shape"), info.get("data_offsets")) if ok else (None, None)
    ints = (
        isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for v in [*(shape or []), *(offsets or [])]
    )
    if not (
        ok
        and isinstance(shape, list)
        and isinstance(offsets, list)
        and len(offsets) == 2
        and all(ints)
    ):
        raise FormatError(f"truncated or corrupt safetensors file (header entry {key!r})")
    return tuple(shape), info["dtype"], (offsets[0], offsets[1])


def check_safetensors(path: Path, *, max_size: int | None = DEFAULT_MAX_SIZE) -> None:
    """Check a safetensors file's header against its bytes and the size limits, reading no data.

    Raises
    ------
    FormatError
        If the header is corrupt or declares more data than the file holds.
    SizeLimitError
        If a matrix or the whole file exceeds the size limit.
    """
    entries = safetensors_entries(path)
    check_entries([(k, shape, item) for k, shape, _, item in entries], max_size=max_size)


def read_safetensors(path: Path, max_size: int | None) -> Contents:
    """Read every tensor of a safetensors file whose header passed the checks."""
    from safetensors.torch import load_file

    entries = safetensors_entries(path)
    check_entries([(k, shape, item) for k, shape, _, item in entries], max_size=max_size)
    try:
        tensors = load_file(str(path), device="cpu")
    except Exception as err:
        raise _safetensors_error(err) from err
    contents = Contents("safetensors", tensors=dict(tensors), state=dict(tensors))
    return contents
