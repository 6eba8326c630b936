"""Atomic output files and up-front checks of output locations.

Every file the command line writes goes to a temporary name in its destination folder and is then
renamed with :func:`os.replace`, so a reader never sees a half-written file; a report folder is
built as a whole in a hidden sibling and swapped in (:func:`replace_folder`). Output locations
are checked before any work starts.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rnnscope.errors import OutputPathError

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


_TEMP_PREFIX = ".rnnscope-"


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
        The folder will be replaced through a sibling (:func:`replace_folder`), so its parent
        must be writable; with ``False`` the folder itself (or, while missing, its nearest
        existing parent) must be.

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


# -- whole folders ---------------------------------------------------------------------------

_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with ``renameat2(RENAME_EXCHANGE)``; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _stage_prefix(folder: Path) -> str:
    digest = hashlib.sha256(os.fsencode(folder.name)).hexdigest()[:12]
    return f"{_TEMP_PREFIX}{digest}-"


def recover_folder(folder: str | os.PathLike[str], *, owned: Iterable[str]) -> None:
    """Clean up after a run of :func:`replace_folder` that was killed.

    A missing `folder` next to an ``-old-`` stage is put back; entries not in `owned` that a
    killed run had moved out of `folder` into its ``-new-`` stage are moved back; the stages are
    then removed.

    Parameters
    ----------
    folder : str or path-like
        The destination folder of :func:`replace_folder`.
    owned : iterable of str
        The names passed to :func:`replace_folder`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> recover_folder(pathlib.Path(tempfile.mkdtemp()) / "report", owned=["index.html"])
    """
    folder = Path(folder)
    owned = frozenset(owned)
    if not folder.parent.is_dir():
        return
    prefix = _stage_prefix(folder)
    stages = sorted(p for p in folder.parent.glob(prefix + "*") if p.is_dir())
    for stage in stages:
        if "-old-" in stage.name and not folder.exists():
            os.rename(stage, folder)
    for stage in stages:
        if not stage.exists():
            continue
        if "-new-" in stage.name and folder.is_dir():
            for entry in stage.iterdir():
                if entry.name not in owned and not (folder / entry.name).exists():
                    os.rename(entry, folder / entry.name)
        shutil.rmtree(stage, ignore_errors=True)


def replace_folder(
    folder: str | os.PathLike[str],
    build: Callable[[Path], Any],
    *,
    owned: Iterable[str],
) -> Any:
    """Build the content of `folder` in a temporary sibling and swap it in with renames.

    A reader of `folder` sees the old content or the new one, never a mix: the new files are
    written into a hidden sibling folder, the entries of `folder` that the new content does not
    define (not in `owned`, such as the demo's ``models/``) are moved into it, and the two
    folders are exchanged in one ``renameat2(RENAME_EXCHANGE)`` call (on other systems: two
    renames, between which `folder` is briefly absent). The old content is then deleted.
    A run killed at any point leaves `folder` whole, with the old or the new content; killed
    within the few renames before the swap, it may leave foreign entries in the hidden stage,
    and the next call (or :func:`recover_folder`) moves them back and removes the stages.

    Parameters
    ----------
    folder : str or path-like
        Destination folder; created if missing. Its parent must be writable.
    build : callable
        ``build(stage)`` writes the new content into the empty folder ``stage``; its return value
        is returned.
    owned : iterable of str
        Names of the entries `build` defines; they replace the old ones of that name.

    Returns
    -------
    object
        What `build` returned.

    Raises
    ------
    OSError
        If a folder cannot be created or renamed; `folder` is then left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report"
    >>> _ = replace_folder(out, lambda d: (d / "a.txt").write_text("new"), owned=["a.txt"])
    >>> sorted(p.name for p in out.iterdir()), (out / "a.txt").read_text()
    (['a.txt'], 'new')
    """
    dest = Path(folder)
    names = frozenset(owned)
    dest.mkdir(parents=True, exist_ok=True)
    recover_folder(dest, owned=names)
    prefix = _stage_prefix(dest)
    stage = Path(tempfile.mkdtemp(prefix=prefix + "new-", dir=dest.parent))
    moved: list[str] = []
    try:
        os.chmod(stage, stat.S_IMODE(os.stat(dest).st_mode))  # mkdtemp makes it private
        result = build(stage)
        for entry in sorted(os.listdir(dest)):
            if entry not in names and not entry.startswith(_TEMP_PREFIX):
                os.rename(dest / entry, stage / entry)
                moved.append(entry)
        _fsync_tree(stage)
        if _exchange(stage, dest):
            old = stage
        else:
            old = Path(tempfile.mkdtemp(prefix=prefix + "old-", dir=dest.parent))
            os.rmdir(old)
            os.rename(dest, old)
            os.rename(stage, dest)
    except BaseException:
        for entry in moved:  # put back what was moved, when the swap did not happen
            if (stage / entry).exists() and not (dest / entry).exists():
                os.rename(stage / entry, dest / entry)
        shutil.rmtree(stage, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return result


def _fsync_tree(folder: Path) -> None:
    """Flush the files written into `folder` (not recursing into moved entries' contents)."""
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
