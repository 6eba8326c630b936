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

import logging
import os
import re
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from models.checkpoint.layout import CONFIG_FILE, OWN_FILES, WEIGHTS_FILE

__all__ = ["clean_stale_temps", "commit_pair", "replace_atomically"]

logger = logging.getLogger(__name__)

_FILE_MODE = 0o644
# what tempfile.mkstemp(prefix=".NAME.", suffix=".tmp") and commit_pair's backups are called
_STALE = re.compile(
    r"\.(?:(?:{names})\.[a-z0-9_]{{8}}\.tmp|{weights}\.[0-9a-f]{{32}}\.bak)".format(
        names="|".join(re.escape(n) for n in OWN_FILES), weights=re.escape(WEIGHTS_FILE)
    )
)


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


def clean_stale_temps(directory: Path) -> list[str]:
    """Remove the temporary files an interrupted write left in ``directory``.

    Only regular files named like the writers' own temporaries (``.model.safetensors.*.tmp``,
    ``.config.json.*.tmp``, ``.metrics.jsonl.*.tmp``, ``.train_state.pt.*.tmp`` and the
    weights backup ``.model.safetensors.<hex>.bak``) are removed; call it while holding the
    folder's lock, so that no live writer owns them.

    Parameters
    ----------
    directory : pathlib.Path
        Folder to clean.

    Returns
    -------
    list of str
        Names of the removed files, sorted.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / ".model.safetensors.k2j4_x9a.tmp").write_bytes(b"partial")
    >>> _ = (folder / ".mine.tmp").write_bytes(b"kept")
    >>> clean_stale_temps(folder), sorted(p.name for p in folder.iterdir())
    (['.model.safetensors.k2j4_x9a.tmp'], ['.mine.tmp'])
    """
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    for entry in entries:
        if not _STALE.fullmatch(entry.name):
            continue
        try:
            if not stat.S_ISREG(entry.stat(follow_symlinks=False).st_mode):
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(entry.name)
        logger.info("removed %s left in %s by an interrupted write", entry.name, directory)
    return sorted(removed)


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
