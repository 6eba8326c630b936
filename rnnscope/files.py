"""Atomic output files and up-front checks of output locations.

Every file the command line writes goes to a temporary name in its destination folder and is then
renamed with :func:`os.replace`, so a reader never sees a half-written file. Output locations are
checked before any work starts.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from rnnscope.errors import OutputPathError

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_file",
    "prepare_output_dir",
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
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
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


def _probe_writable(folder: Path, what: str) -> None:
    """Create and delete a temporary file in `folder`, or raise :class:`OutputPathError`."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".rnnscope-probe.", dir=folder)
    except OSError as exc:
        raise OutputPathError(
            f"{what} folder {str(folder)!r} is not writable ({exc.strerror or exc})"
        ) from None
    os.close(fd)
    Path(tmp).unlink(missing_ok=True)


def check_output_file(
    path: str | os.PathLike[str],
    *,
    suffixes: Iterable[str] | None = None,
    what: str = "output",
) -> Path:
    """Check that `path` can be written, before any work is done.

    Parameters
    ----------
    path : str or path-like
        Output file. Its folder must exist and be writable; the file itself must not be a folder.
    suffixes : iterable of str, optional
        Allowed lower-case suffixes including the dot (e.g. ``(".svg", ".png")``).
    what : str, optional
        Name used in error messages (e.g. ``"--out"``).

    Returns
    -------
    pathlib.Path
        The path.

    Raises
    ------
    OutputPathError
        If the suffix is not allowed, the folder is missing or not writable, or the path is a
        folder.

    Examples
    --------
    >>> check_output_file("/no/such/folder/x.svg")
    Traceback (most recent call last):
    ...
    rnnscope.errors.OutputPathError: output folder '/no/such/folder' does not exist
    """
    dest = Path(path)
    if suffixes is not None:
        allowed = tuple(suffixes)
        if dest.suffix.lower() not in allowed:
            raise OutputPathError(
                f"{what} {str(dest)!r} must end in one of {', '.join(allowed)}"
                f" (got {dest.suffix or 'no suffix'!r})"
            )
    folder = dest.parent if str(dest.parent) else Path(".")
    if not folder.is_dir():
        raise OutputPathError(f"{what} folder {str(folder)!r} does not exist")
    if dest.is_dir():
        raise OutputPathError(f"{what} {str(dest)!r} is a folder, expected a file")
    _probe_writable(folder, what)
    return dest


def prepare_output_dir(path: str | os.PathLike[str], *, what: str = "output") -> Path:
    """Create the output folder `path` (and missing parents) and check that it is writable.

    Parameters
    ----------
    path : str or path-like
        Output folder.
    what : str, optional
        Name used in error messages (e.g. ``"--out"``).

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    OutputPathError
        If the folder cannot be created (a parent is a file or is read-only) or is not writable.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> prepare_output_dir(d / "a" / "b").is_dir()
    True
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise OutputPathError(f"{what} {str(folder)!r} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(
            f"cannot create {what} folder {str(folder)!r} ({exc.strerror or exc})"
        ) from None
    _probe_writable(folder, what)
    return folder
