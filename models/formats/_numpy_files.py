"""Readers of numpy files (.npy and .npz), which never unpickle (private).

Headers are checked against the bytes the file holds before any array is read; arrays are
loaded with ``np.load(allow_pickle=False)``.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.formats._common import FormatError, shape_str
from models.formats._contents import Contents, check_zip_members, first_line
from models.formats._limits import check_declared, check_entries, require_regular

__all__ = ["npy_entry", "npz_entries", "read_npy", "read_npz"]


def _npy_header(fh: Any) -> tuple[tuple[int, ...], np.dtype]:
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    except (ValueError, SyntaxError, EOFError, MemoryError) as err:
        raise FormatError(f"corrupt .npy header ({first_line(err)})") from err
    return tuple(int(d) for d in shape), dtype


def npy_entry(path: Path) -> tuple[str, tuple[int, ...], np.dtype, int]:
    """Key, shape and dtype of a .npy file, and its size, after checking the header."""
    size = require_regular(path)
    with open(path, "rb") as fh:
        shape, dtype = _npy_header(fh)
        offset = fh.tell()
    check_declared(
        ".npy file",
        f"the header (shape {shape_str(shape)}, {dtype})",
        math.prod(shape) * dtype.itemsize,
        size - offset,
    )
    return path.stem, shape, dtype, size


def npz_entries(path: Path, max_size: int | None) -> list[tuple[str, tuple[int, ...], np.dtype]]:
    """Key, shape and dtype of every array of an .npz archive, checked against the zip."""
    size = require_regular(path)
    out = []
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            check_zip_members(infos, size, max_size)
            for info in infos:
                with zf.open(info) as fh:
                    shape, dtype = _npy_header(fh)
                    offset = fh.tell()
                key = info.filename[: -len(".npy")]
                check_declared(
                    ".npz archive",
                    f"array {key!r} (shape {shape_str(shape)}, {dtype})",
                    math.prod(shape) * dtype.itemsize,
                    info.file_size - offset,
                )
                out.append((key, shape, dtype))
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as err:
        raise FormatError(f"corrupt or truncated .npz archive ({first_line(err)})") from err
    return out


def _array_to_tensor(array: np.ndarray) -> torch.Tensor | None:
    if array.dtype.kind not in "biufc" or array.dtype.kind == "b":
        return None
    if not array.dtype.isnative:  # big-endian files: torch only takes the native byte order
        array = array.astype(array.dtype.newbyteorder("="))
    return torch.from_numpy(np.ascontiguousarray(array))


def _load_array(source: Any, what: str) -> np.ndarray:
    try:
        return np.load(source, allow_pickle=False)
    except ValueError as err:
        if "allow_pickle" in str(err) or "Object arrays" in str(err):
            raise FormatError(
                f"{what} holds an object array, which needs unpickling; refused "
                "(numpy files are read with allow_pickle=False)"
            ) from err
        raise FormatError(f"corrupt or truncated {what} ({err})") from err
    except (EOFError, OSError) as err:
        raise FormatError(f"corrupt or truncated {what} ({err})") from err


def read_npy(path: Path, max_size: int | None) -> Contents:
    """Read a .npy file as one bare tensor keyed by the file's stem."""
    key, shape, dtype, _ = npy_entry(path)
    check_entries([(key, shape, dtype.itemsize)], max_size=max_size)
    array = _load_array(path, ".npy file")
    tensor = _array_to_tensor(array)
    if tensor is None:
        raise FormatError(f"the .npy array has non-numeric dtype {array.dtype}")
    return Contents("npy", tensors={path.stem: tensor}, bare=True, state={path.stem: tensor})


def read_npz(path: Path, max_size: int | None) -> Contents:
    """Read every numeric array of an .npz archive; object arrays are listed as unreadable."""
    entries = npz_entries(path, max_size)
    check_entries([(k, shape, dtype.itemsize) for k, shape, dtype in entries], max_size=max_size)
    contents = Contents("npz")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise FormatError(f"corrupt or truncated .npz archive ({err})") from err
    with archive:
        for key in archive.files:
            try:
                array = archive[key]
            except ValueError as err:
                if "allow_pickle" in str(err) or "Object arrays" in str(err):
                    contents.unreadable[key] = "object array refused (needs unpickling)"
                    continue
                raise FormatError(f"corrupt array {key!r} in the .npz archive ({err})") from err
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
                raise FormatError(f"corrupt array {key!r} in the .npz archive ({err})") from err
            tensor = _array_to_tensor(array)
            if tensor is None:
                contents.unreadable[key] = f"non-numeric dtype {array.dtype}"
                continue
            contents.tensors[key] = tensor
    contents.state = dict(contents.tensors)
    return contents
