"""The data of a sweep's task, built once and read by every point: ``DIR/data/<task>-<key>.npz``.

A fresh worker process that builds the digits task imports scikit-learn (``load_digits`` and
the stratified split: about 1.5 CPU seconds, with the parts of scipy it pulls in) and one that
builds MNIST-1D generates it again (a few seconds). :func:`write_task_data` builds each task of
the points once, in the process that starts the sweep, and writes its split arrays;
:func:`read_task_data` gives them to :func:`models.tasks.provided_data` in the worker, which then
builds the very same task (the same tensors) with numpy alone.

The file name is keyed by the task's settings as the SPEC gives them; the file holds the
arrays, the task's full parameters and the SHA-256 of both (:meth:`models.tasks.TaskData.digest`),
checked on every read. It is written to a temporary name and renamed. A file that is missing,
unreadable, for other settings or fails its check is not used: the point builds its task as
usual (and the file is written again by the next sweep). Arrays are read with
``allow_pickle=False``. Tasks generated in code (copy, adding, flipflop) have no file.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnscope.files import atomic_write_bytes
from rnnscope.sweep.plan import _canonical

if TYPE_CHECKING:
    from models.tasks import TaskData

__all__ = ["DATA_FOLDER", "read_task_data", "task_data_path", "write_task_data"]

logger = logging.getLogger(__name__)

#: Folder of the task data inside the sweep folder.
DATA_FOLDER = "data"

#: Tasks backed by fixed arrays (the others are generated in code from their seed).
_DATASET_TASKS = ("digits", "mnist1d")

_FORMAT = 1
_META = "meta"


def _settings(task: str, params: Mapping[str, Any]) -> dict[str, Any]:
    return {"format": _FORMAT, "task": str(task), "params": dict(params)}


def task_data_path(
    root: str | os.PathLike[str], task: str, params: Mapping[str, Any]
) -> Path | None:
    """Return the file of the task `task` with SPEC parameters `params` in the sweep folder.

    Parameters
    ----------
    root : str or path-like
        Sweep folder (``DIR``).
    task : str
        Task name.
    params : mapping
        Task parameters as the points hold them (:attr:`SweepPoint.task_params`).

    Returns
    -------
    pathlib.Path or None
        ``root/data/<task>-<16 hex digits>.npz``, or ``None`` for a task generated in code.

    Examples
    --------
    >>> task_data_path("/sweep", "digits", {"permuted": True}).name
    'digits-...npz'
    >>> task_data_path("/sweep", "copy", {}) is None
    True
    """
    if task not in _DATASET_TASKS:
        return None
    key = hashlib.sha256(_canonical(_settings(task, params)).encode()).hexdigest()[:16]
    return Path(root) / DATA_FOLDER / f"{task}-{key}.npz"


def write_task_data(
    root: str | os.PathLike[str], tasks: Iterable[tuple[str, Mapping[str, Any]]]
) -> list[Path]:
    """Build each dataset task once and write its arrays under ``root/data`` (if not there yet).

    Parameters
    ----------
    root : str or path-like
        Sweep folder (``DIR``); ``data`` is created in it.
    tasks : iterable of (str, mapping)
        Task names and SPEC parameters, e.g. ``{(p.task, p.task_params) for p in points}``;
        repeats are written once.

    Returns
    -------
    list of pathlib.Path
        The files of the dataset tasks (written now or valid before); a file that cannot be
        written is left out, with a warning in the log.

    Raises
    ------
    models.errors.ModelsError
        If a task or its parameters are invalid.

    Examples
    --------
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> [p.parent.name for p in write_task_data(root, [("digits", {}), ("digits", {})])]
    ['data']
    >>> read_task_data(root, "digits", {}).arrays["x_test"].shape
    (360, 64)
    """
    import numpy as np

    import models.tasks

    written: list[Path] = []
    seen: set[Path] = set()
    for task, params in tasks:
        path = task_data_path(root, task, params)
        if path is None or path in seen:
            continue
        seen.add(path)
        if read_task_data(root, task, params, quiet=True) is not None:
            written.append(path)
            continue
        data = models.tasks.task_data(models.tasks.get(task, **dict(params)))
        meta = {
            "settings": _settings(task, params),
            "name": data.name,
            "params": data.params,
            "digest": data.digest(),
        }
        buffer = io.BytesIO()
        np.savez(buffer, **data.arrays, **{_META: np.array(json.dumps(meta, sort_keys=True))})
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, buffer.getvalue())
        except OSError as exc:  # the points build their task themselves, as without the file
            logger.warning("task data not written to %s: %s", path, exc)
            continue
        logger.info("task data of %s %s written to %s", task, dict(params), path)
        written.append(path)
    return written


def read_task_data(
    root: str | os.PathLike[str],
    task: str,
    params: Mapping[str, Any],
    *,
    quiet: bool = False,
) -> TaskData | None:
    """Return the arrays written by :func:`write_task_data` for a task, or ``None``.

    Parameters
    ----------
    root : str or path-like
        Sweep folder (``DIR``).
    task : str
        Task name.
    params : mapping
        Task parameters as the points hold them.
    quiet : bool, optional
        Log nothing about a file that cannot be used (it is about to be written again).

    Returns
    -------
    models.tasks.TaskData or None
        The arrays, or ``None`` when the task has no file, or the file is missing, unreadable,
        for other settings, or its content does not match its digest (logged as a warning).

    Examples
    --------
    >>> read_task_data("/no/such/sweep", "digits", {}) is None
    True
    """
    path = task_data_path(root, task, params)
    if path is None or not path.is_file():
        return None
    try:
        data = _load(path, _settings(task, params))
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        if not quiet:
            logger.warning("task data %s not used (%s); building the task instead", path, exc)
        return None
    return data


def _load(path: Path, settings: Mapping[str, Any]) -> TaskData:
    import numpy as np

    import models.tasks

    with np.load(path, allow_pickle=False) as archive:
        meta = json.loads(str(archive[_META][()]))
        arrays = {name: archive[name] for name in models.tasks.provided.ARRAY_NAMES}
    if meta.get("settings") != json.loads(json.dumps(dict(settings))):
        raise ValueError("written for other task settings")
    data = models.tasks.TaskData(name=meta["name"], params=meta["params"], arrays=arrays)
    if data.name != settings["task"] or data.digest() != meta.get("digest"):
        raise ValueError("content does not match its SHA-256")
    return data
