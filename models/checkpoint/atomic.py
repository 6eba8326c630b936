"""Crash-safe writing: temporary files in the target folder, renamed into place.

Every file of a checkpoint directory is written to a hidden temporary name in the same folder
(``.NAME.XXXXXXXX.tmp``), flushed to disk and renamed over the old one, so a reader sees the old
file or the new one, never a partial file.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> replace_atomically(folder / "notes.txt", lambda tmp: tmp.write_text("done"))
>>> [p.name for p in folder.iterdir()], (folder / "notes.txt").read_text()
(['notes.txt'], 'done')
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from models.checkpoint.layout import CONFIG_FILE, WEIGHTS_FILE

__all__ = ["commit_pair", "replace_atomically"]

_FILE_MODE = 0o644


def _temp_name(directory: Path, name: str) -> tuple[int, Path]:
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    if hasattr(os, "fchmod"):
        os.fchmod(fd, _FILE_MODE)  # mkstemp creates 0o600; checkpoints are shared files
    return fd, Path(tmp)


def write_temp(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to a new temporary file for ``name`` in ``directory`` (fsynced)."""
    fd, tmp = _temp_name(directory, name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def replace_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then rename it to ``path``.

    Parameters
    ----------
    path : pathlib.Path
        Final file name; its folder must exist.
    write : callable
        Writes the whole content to the path it is given.
    """
    fd, tmp = _temp_name(path.parent, path.name)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def commit_pair(directory: Path, weights: bytes, config: bytes) -> None:
    """Write both checkpoint files to temporary names, then rename them (weights first).

    If renaming the configuration fails, the previous weights file is restored, so the
    directory holds either the old pair, the new pair or (for a new directory) neither file.
    """
    temps: list[Path] = []
    backup: Path | None = None
    weights_path, config_path = directory / WEIGHTS_FILE, directory / CONFIG_FILE
    try:
        tmp_weights = write_temp(directory, WEIGHTS_FILE, weights)
        temps.append(tmp_weights)
        tmp_config = write_temp(directory, CONFIG_FILE, config)
        temps.append(tmp_config)
        if weights_path.exists():
            backup = directory / f".{WEIGHTS_FILE}.{uuid.uuid4().hex}.bak"
            try:
                os.link(weights_path, backup)
            except OSError:
                shutil.copy2(weights_path, backup)
        os.replace(tmp_weights, weights_path)
        temps.remove(tmp_weights)
        try:
            os.replace(tmp_config, config_path)
            temps.remove(tmp_config)
        except BaseException:
            if backup is not None:
                os.replace(backup, weights_path)
                backup = None
            else:
                weights_path.unlink(missing_ok=True)
            raise
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        if backup is not None:
            backup.unlink(missing_ok=True)
    fsync_directory(directory)


def fsync_directory(directory: Path) -> None:
    """Flush a folder's entries (the renames) to disk where the platform allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
