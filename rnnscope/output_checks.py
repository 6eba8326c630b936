"""Up-front checks of output locations, before any work starts.

A name longer than its file system allows, an output that exists and is not a folder, a missing
or read-only parent: each is refused with one :class:`~rnnscope.errors.OutputPathError` line
naming the path, before anything is computed or written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from rnnscope.errors import OutputPathError

__all__ = [
    "check_name_length",
    "check_output_dir",
    "check_output_file",
    "name_max",
    "prepare_output_dir",
]


def name_max(folder: str | os.PathLike[str]) -> int:
    """Return the longest file name, in bytes, that the file system of `folder` allows.

    Parameters
    ----------
    folder : str or path-like
        An existing folder.

    Returns
    -------
    int
        ``NAME_MAX`` of the file system (255 when it cannot be queried).

    Examples
    --------
    >>> name_max(".") >= 14
    True
    """
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def check_name_length(path: str | os.PathLike[str], *, what: str = "output") -> None:
    """Refuse an output path whose last component is longer than its file system allows.

    Parameters
    ----------
    path : str or path-like
        Output path; its nearest existing parent folder is asked for the limit.
    what : str, optional
        Name used in the error message.

    Raises
    ------
    OutputPathError
        If a component of `path` is too long.

    Examples
    --------
    >>> try:
    ...     check_name_length("x" * 300 + ".svg", what="--out")
    ... except OutputPathError as err:
    ...     print(str(err)[-47:])
    (304 bytes, the file system allows at most 255)
    """
    dest = Path(path)
    anchor = dest.parent
    while str(anchor) not in ("", ".") and not _is_dir(anchor):
        anchor = anchor.parent
    limit = name_max(anchor if str(anchor) else ".")
    for part in dest.parts:
        size = len(os.fsencode(part))
        if size > limit:
            shown = part if len(part) <= 40 else part[:37] + "..."
            raise OutputPathError(
                f"{what} name {shown!r} is too long ({size} bytes, the file system allows at "
                f"most {limit})"
            )


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # e.g. a component longer than the file system allows
        return False


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
        If the suffix is not allowed, the name is longer than the file system allows, the folder
        is missing or not writable, or the path is a folder.

    Examples
    --------
    >>> check_output_file("/no/such/folder/x.svg")
    Traceback (most recent call last):
    ...
    rnnscope.errors.OutputPathError: output folder '/no/such/folder' does not exist
    """
    dest = Path(path)
    check_name_length(dest, what=what)
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


def check_output_dir(
    path: str | os.PathLike[str],
    *,
    what: str = "output",
    entries: Iterable[str] = (),
    swap: bool = True,
) -> Path:
    """Check that the folder `path` could be created or replaced, creating nothing.

    Parameters
    ----------
    path : str or path-like
        Output folder, existing or not.
    what : str, optional
        Name used in error messages (e.g. ``"--out"``).
    entries : iterable of str, optional
        Names of the folders the output puts inside `path` (e.g. ``("figures",)``); an existing
        entry of such a name must be a folder.
    swap : bool, optional
        The folder will be replaced through a sibling
        (:func:`rnnscope.folder_swap.replace_folder`), so its parent must be writable; with
        ``False`` the folder itself (or, while missing, its nearest existing parent) must be.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    OutputPathError
        If a name is too long, `path` or one of `entries` exists and is not a folder, or the
        nearest existing parent is not a writable folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_dir(d / "new" / "report") == d / "new" / "report", (d / "new").exists()
    (True, False)
    """
    folder = Path(path)
    check_name_length(folder, what=what)
    if folder.exists() and not folder.is_dir():
        raise OutputPathError(f"{what} {str(folder)!r} exists and is not a folder")
    for name in entries:
        inner = folder / name
        if inner.exists() and not inner.is_dir():
            raise OutputPathError(f"{what} {str(inner)!r} exists and is not a folder")
    anchor = folder
    while not anchor.exists():
        if anchor.is_symlink():  # a dangling link
            raise OutputPathError(f"{what} {str(anchor)!r} is a broken symbolic link")
        anchor = anchor.parent
    if not anchor.is_dir():
        raise OutputPathError(f"{what} {str(anchor)!r} exists and is not a folder")
    # the folder is replaced through a sibling, so its parent must be writable
    _probe_writable(folder.parent if anchor == folder and swap else anchor, what)
    return folder


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
        If the folder cannot be created (a parent is a file or is read-only, or its name is too
        long) or is not writable.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> prepare_output_dir(d / "a" / "b").is_dir()
    True
    """
    folder = Path(path)
    check_name_length(folder, what=what)
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
