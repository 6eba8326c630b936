"""Safe readers for tensor files: torch (weights only), safetensors and numpy (private).

Nothing here unpickles code: torch files go through ``torch.load(weights_only=True)``, numpy
files through ``np.load(allow_pickle=False)`` and safetensors files through
``safetensors.torch.load_file`` / ``safe_open``. This module tells the containers apart and
dispatches to the reader of each (``_numpy_files``, ``_safetensors_files``, ``_torch_files``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from models.formats._common import FormatError
from models.formats._contents import ZIP_MAGIC, Contents
from models.formats._limits import DEFAULT_MAX_SIZE, require_regular
from models.formats._numpy_files import npy_entry, npz_entries, read_npy, read_npz
from models.formats._safetensors_files import (
    check_safetensors,
    read_safetensors,
    safetensors_entries,
)
from models.formats._torch_files import WRAPPERS, read_torch

__all__ = ["WRAPPERS", "Contents", "check_safetensors", "read", "sniff", "tensor_headers"]

_NPY_MAGIC = b"\x93NUMPY"


def sniff(path: Path) -> str:
    """Return the container type of ``path`` from its first bytes.

    Raises
    ------
    FormatError
        If the file is empty, not a regular file, or a zip archive of an unknown kind.
    """
    require_regular(path)
    with open(path, "rb") as fh:
        head = fh.read(9)
    if not head:
        raise FormatError("the file is empty")
    if path.name.endswith(".safetensors"):
        return "safetensors"
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head[:4] in ZIP_MAGIC:
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, ValueError, EOFError) as err:
            raise FormatError(f"truncated or corrupt zip archive ({err})") from err
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            return "torch"
        if names and all(n.endswith(".npy") for n in names):
            return "npz"
        raise FormatError("zip archive that is neither a torch file nor an .npz archive")
    if len(head) == 9 and head[8:9] == b"{":
        return "safetensors"
    return "torch"


def read(path: Path, *, max_size: int | None = DEFAULT_MAX_SIZE) -> Contents:
    """Read every tensor of the file at ``path``, after checking its declared sizes.

    Parameters
    ----------
    path : Path
        The file.
    max_size : int or None, optional
        Largest N of an N×N matrix (see :mod:`models.formats._limits`); ``None`` disables the
        size limits but not the checks of the headers against the file's bytes.

    Raises
    ------
    FormatError
        If the file is not a regular file, is truncated or corrupt, declares more data than it
        holds, needs unpickling of code, or holds object arrays.
    SizeLimitError
        If a matrix or the whole file exceeds the size limit.
    """
    container = sniff(path)
    if container == "npy":
        return read_npy(path, max_size)
    if container == "npz":
        return read_npz(path, max_size)
    if container == "safetensors":
        return read_safetensors(path, max_size)
    return read_torch(path, max_size)


def tensor_headers(path: Path) -> list[tuple[str, tuple[int, ...], str]]:
    """Return ``(key, shape, dtype)`` of every entry, without reading tensor data.

    Torch files are mapped into memory (``mmap=True``) rather than read, except the old
    non-zip format, which is read only when it fits the default byte budget.

    Raises
    ------
    FormatError
        As :func:`read`.
    """
    container = sniff(path)
    if container == "npy":
        key, shape, dtype, _ = npy_entry(path)
        return [(key, shape, str(dtype))]
    if container == "npz":
        return [(key, shape, str(dtype)) for key, shape, dtype in npz_entries(path, None)]
    if container == "safetensors":
        return [(k, shape, dtype) for k, shape, dtype, _ in safetensors_entries(path)]
    contents = read_torch(path, None)
    return [
        (k, tuple(t.shape), str(t.dtype).removeprefix("torch."))
        for k, t in contents.tensors.items()
    ]
