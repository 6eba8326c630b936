"""The task data of a sweep: written once under DIR/data, checked on reading, used by points."""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest

import models.tasks
from models.tasks import datasets
from rnnscope.sweep import parse_spec, plan_sweep, run_point
from rnnscope.sweep.data import read_task_data, task_data_path, write_task_data

TASK = ("digits", {"permuted": True})
SPEC = """
[task]
name = "digits"
params = { permuted = true }
[model]
kind = "rnn"
hidden = 4
[train]
steps = 3
batch_size = 8
"""


def _refuse_digits(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("the digits were loaded")

    monkeypatch.setattr(datasets, "_digits", refuse)


def test_written_once_and_read_back_as_the_task_built_here(tmp_path: Path) -> None:
    (path,) = write_task_data(tmp_path, [TASK, TASK, ("copy", {})])
    assert path == task_data_path(tmp_path, *TASK) and path.parent == tmp_path / "data"
    assert task_data_path(tmp_path, "digits", {"permuted": False}) != path
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    stamp = path.stat().st_mtime_ns
    assert write_task_data(tmp_path, [TASK]) == [path]
    assert path.stat().st_mtime_ns == stamp  # valid: not written again
    data = read_task_data(tmp_path, *TASK)
    want = models.tasks.task_data(models.tasks.get("digits", permuted=True))
    assert data is not None and data.params == want.params and data.digest() == want.digest()
    for key, value in want.arrays.items():
        assert data.arrays[key].dtype == value.dtype and np.array_equal(data.arrays[key], value)


def _rewrite(path: Path, **changes: np.ndarray) -> None:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays.update(changes)
    with path.open("wb") as handle:
        np.savez(handle, **arrays)


def _meta(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(str(archive["meta"][()]))


@pytest.mark.parametrize("damage", ["value", "settings", "truncated", "pickled"])
def test_damaged_file_is_not_used_and_is_written_again(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    (path,) = write_task_data(tmp_path, [TASK])
    if damage == "value":  # one label changed: the digest no longer matches
        with np.load(path) as archive:
            y = archive["y_test"].copy()
        y[0] = (y[0] + 1) % 10
        _rewrite(path, y_test=y)
    elif damage == "settings":  # a consistent file of another task, under this task's name
        (other,) = write_task_data(tmp_path, [("digits", {})])
        other.replace(path)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    else:  # an object array needs pickle, which is never allowed
        meta = _meta(path)
        _rewrite(path, meta=np.array([json.dumps(meta), None], dtype=object))
    with caplog.at_level(logging.WARNING, logger="rnnscope.sweep.data"):
        assert read_task_data(tmp_path, *TASK) is None
    assert "not used" in caplog.text and str(path) in caplog.text
    write_task_data(tmp_path, [TASK])
    assert read_task_data(tmp_path, *TASK) is not None


def test_missing_folder_or_unwritable_data_is_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert read_task_data(tmp_path / "nothing", *TASK) is None
    (tmp_path / "data").write_text("a file where the folder belongs")
    with caplog.at_level(logging.WARNING, logger="rnnscope.sweep.data"):
        assert write_task_data(tmp_path, [TASK]) == []
    assert "task data not written" in caplog.text
    assert zipfile.is_zipfile(tmp_path / "data") is False


def test_point_reads_its_task_from_the_data_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = parse_spec(SPEC)
    (point,) = plan_sweep(spec).points
    plain = run_point(point, tmp_path / "plain", spec.evaluation())
    write_task_data(tmp_path / "data_run", [(point.task, point.task_params)])
    _refuse_digits(monkeypatch)
    from_data = run_point(point, tmp_path / "data_run", spec.evaluation())
    assert plain["status"] == from_data["status"] == "ok"
    for name in ("result.json", "config.json", "model.safetensors"):
        got = (tmp_path / "data_run" / "runs" / point.id / name).read_bytes()
        assert got == (tmp_path / "plain" / "runs" / point.id / name).read_bytes(), name
