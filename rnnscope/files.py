"""Atomic output files and up-front checks of output locations.

Every file the command line writes goes to a temporary name in its destination folder and is then
renamed with :func:`os.replace`, so a reader never sees a half-written file; a report folder is
built as a whole in a hidden sibling and swapped in (:func:`replace_folder`). Output locations
are checked before any work starts.

The checks live in :mod:`rnnscope.output_checks`, the folder swap in :mod:`rnnscope.folder_swap`;
this module writes single files and keeps every name importable from here.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rnnscope.folder_swap import TEMP_PREFIX as _TEMP_PREFIX
from rnnscope.folder_swap import recover_folder, replace_folder
from rnnscope.output_checks import (
    check_name_length,
    check_output_dir,
    check_output_file,
    name_max,
    prepare_output_dir,
)

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "check_name_length",
    "check_output_dir",
    "check_output_file",
    "name_max",
    "prepare_output_dir",
    "recover_folder",
    "replace_folder",
]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` through a temporary file in the same folder.

    Parameters
    ----------
    path : str or path-like
        Destination file; its folder must exist.
    data : bytes
        Content to write.

    Returns
    -------
    pathlib.Path
        The destination path.

    Raises
    ------
    OSError
        If the temporary file cannot be created or renamed (it is removed on failure).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_bytes(d / "a.bin", b"xyz").read_bytes()
    b'xyz'
    """
    dest = Path(path)
    # a short temporary name: a destination name near the file system's limit still fits
    fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    r"""Write UTF-8 `text` to `path` atomically (see :func:`atomic_write_bytes`).

    Parameters
    ----------
    path : str or path-like
        Destination file; its folder must exist.
    text : str
        Content to write; newlines are written as ``\n`` on every platform.

    Returns
    -------
    pathlib.Path
        The destination path.

    Raises
    ------
    OSError
        If the file cannot be written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_text(d / "a.txt", "hi\n").read_text()
    'hi\n'
    """
    return atomic_write_bytes(path, text.encode("utf-8"))
