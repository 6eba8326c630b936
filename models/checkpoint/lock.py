"""An exclusive lock on a folder that is being written (:data:`~models.LOCK_FILE`).

:func:`models.train` holds the lock of its output folder for the whole run and :func:`models.save`
while it writes, so two writers never interleave their files. The lock is an advisory
``flock`` on ``.rnnscope.lock`` in the folder, which records the holder's pid and host. The
operating system releases it when the holder exits, however it exits: a lock file left by a
killed process is simply taken over. The file is removed when the lock is released. Where
``fcntl`` is unavailable (Windows) folders are not locked.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> with folder_lock(folder):
...     (folder / LOCK_FILE).exists()
True
>>> (folder / LOCK_FILE).exists()
False
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from models.checkpoint.layout import LOCK_FILE
from models.errors import FolderInUseError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["folder_lock"]

logger = logging.getLogger(__name__)

_HELD: dict[str, tuple[int, int]] = {}  # real path -> (thread ident, depth)
_MUTEX = threading.Lock()
_POLL = 0.05


@contextmanager
def folder_lock(
    directory: str | os.PathLike[str], *, reentrant: bool = False, wait: float = 0.0
) -> Iterator[None]:
    """Hold the exclusive lock of ``directory`` (which must exist) while the block runs.

    Parameters
    ----------
    directory : str or os.PathLike
        Folder to lock.
    reentrant : bool, default False
        Accept a lock this thread already holds (a save inside a training run); otherwise
        any holder, this thread included, is refused.
    wait : float, default 0.0
        Seconds to wait for another holder to finish before giving up.

    Raises
    ------
    FolderInUseError
        If another process or thread holds the lock; the message names the folder and the
        holder's pid.
    """
    folder = Path(directory)
    key = os.path.realpath(folder)
    me = threading.get_ident()
    if _enter_held(key, me, reentrant, folder):
        try:
            yield
        finally:
            _leave_held(key)
        return
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    fd = _acquire(folder / LOCK_FILE, wait)
    with _MUTEX:
        _HELD[key] = (me, 1)
    try:
        yield
    finally:
        with _MUTEX:
            _HELD.pop(key, None)
        _release(folder / LOCK_FILE, fd)


def _enter_held(key: str, me: int, reentrant: bool, folder: Path) -> bool:
    with _MUTEX:
        held = _HELD.get(key)
        if held is None:
            return False
        owner, depth = held
        if reentrant and owner == me:
            _HELD[key] = (owner, depth + 1)
            return True
    raise FolderInUseError(
        f"{folder} is in use by another run in this process (pid {os.getpid()}); "
        "write each run into its own folder"
    )


def _leave_held(key: str) -> None:
    with _MUTEX:
        owner, depth = _HELD[key]
        _HELD[key] = (owner, depth - 1)


def _acquire(path: Path, wait: float) -> int:
    deadline = time.monotonic() + wait
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            if time.monotonic() < deadline:
                time.sleep(_POLL)
                continue
            raise FolderInUseError(_busy_message(path)) from None
        # The holder we waited for may have removed the file after we opened it: our lock is
        # then on a file nobody else will see, so start again with the current one.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    previous = _holder(fd)
    if previous.get("pid") not in (None, os.getpid()):
        logger.info("taking over the lock of %s left by pid %s", path.parent, previous["pid"])
    record = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(record) + "\n").encode("utf-8"), 0)
    return fd


def _release(path: Path, fd: int) -> None:
    try:
        path.unlink(missing_ok=True)
    finally:
        os.close(fd)  # closing releases the flock


def _holder(fd: int) -> dict[str, Any]:
    try:
        data = os.pread(fd, 4096, 0)
        record = json.loads(data.decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _busy_message(path: Path) -> str:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        record: dict[str, Any] = {}
    else:
        try:
            record = _holder(fd)
        finally:
            os.close(fd)
    pid = record.get("pid")
    pid = pid if isinstance(pid, int) and not isinstance(pid, bool) else "unknown"
    host = record.get("host")
    shown = isinstance(host, str) and host.isprintable() and host != socket.gethostname()
    where = f" on {host}" if shown else ""
    return (
        f"{path.parent} is in use by another process (pid {pid}{where}) that holds "
        f"{path.name}; wait for it to finish or write into another folder"
    )
