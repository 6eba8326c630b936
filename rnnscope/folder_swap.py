"""Whole folders replaced at once: built in a hidden sibling and swapped in with renames.

A report folder is written into a hidden stage next to it and exchanged with the old one in one
``renameat2(RENAME_EXCHANGE)`` call, so a reader sees the old content or the new one, never a mix;
:func:`recover_folder` cleans up after a run that was killed.
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

__all__ = ["TEMP_PREFIX", "recover_folder", "replace_folder"]

#: Name prefix of temporary files and stages; such entries never count as a folder's content.
TEMP_PREFIX = ".rnnscope-"

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
    return f"{TEMP_PREFIX}{digest}-"


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
            if entry not in names and not entry.startswith(TEMP_PREFIX):
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
