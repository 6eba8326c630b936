"""Dataset tasks built from arrays given by the caller (models.tasks.provided)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from models import tasks
from models.errors import InputShapeError, InvalidOptionError
from models.tasks import datasets


def _refuse_data_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make loading the digits or generating MNIST-1D fail, as if the libraries were absent."""

    def refuse(*args: object) -> None:
        raise AssertionError("the data set was loaded")

    monkeypatch.setattr(datasets, "_digits", refuse)
    monkeypatch.setattr(datasets, "_mnist1d", refuse)


def _same_task(a: tasks.Task, b: tasks.Task) -> None:
    for got, want in zip(
        (*a.train_set(), *a.test_set()), (*b.train_set(), *b.test_set()), strict=True
    ):
        assert got.dtype == want.dtype and torch.equal(got, want)
    assert a.params == b.params and a.to_dict() == b.to_dict()
    assert (a.permutation is None) == (b.permutation is None)
    if a.permutation is not None:
        assert np.array_equal(a.permutation, b.permutation)


@pytest.mark.parametrize("params", [{}, {"permuted": True}, {"permuted": True, "seed": 3}])
def test_digits_from_provided_arrays_equal_a_fresh_build(
    params: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = tasks.get("digits", **params)
    data = tasks.task_data(fresh)
    _refuse_data_sets(monkeypatch)
    with tasks.provided_data(data):
        rebuilt = tasks.get("digits", **params)
    _same_task(rebuilt, fresh)
    x, y = rebuilt.batch(16, generator=torch.Generator().manual_seed(5))
    x_ref, y_ref = fresh.batch(16, generator=torch.Generator().manual_seed(5))
    assert torch.equal(x, x_ref) and torch.equal(y, y_ref)


def test_arrays_are_used_only_for_equal_parameters_and_only_inside_the_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tasks.task_data(tasks.get("digits", permuted=True))
    loads: list[int] = []
    real = datasets._digits

    def counting() -> tuple[np.ndarray, np.ndarray]:
        loads.append(1)
        return real()

    monkeypatch.setattr(datasets, "_digits", counting)
    with tasks.provided_data(data):
        tasks.get("digits", permuted=True, permutation_seed=tasks.PERMUTATION_SEED)  # defaults
        assert loads == []
        other = tasks.get("digits", permuted=True, seed=1)  # another split: built as usual
        assert loads == [1]
        plain = tasks.get("digits")
        assert loads == [1, 1]
    tasks.get("digits", permuted=True)
    assert loads == [1, 1, 1]
    assert not torch.equal(other.test_set()[1], tasks.get("digits", permuted=True).test_set()[1])
    assert plain.permutation is None


def test_provided_arrays_hold_only_in_their_own_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    data = tasks.task_data(tasks.get("digits"))
    _refuse_data_sets(monkeypatch)
    seen: list[str] = []

    def other_thread() -> None:
        try:
            tasks.get("digits")
        except AssertionError as exc:
            seen.append(str(exc))

    with tasks.provided_data(data):
        tasks.get("digits")
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert seen == ["the data set was loaded"]


def test_mnist1d_permutation_follows_the_provided_length(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.random((12, 40), dtype=np.float32),
        "y_train": rng.integers(0, 10, 12),
        "x_test": rng.random((5, 40), dtype=np.float32),
        "y_test": rng.integers(0, 10, 5),
    }
    params = {"permuted": True, "permutation_seed": 7, "seed": 42}
    data = tasks.TaskData(name="mnist1d", params=params, arrays=arrays)
    _refuse_data_sets(monkeypatch)
    with tasks.provided_data(data):
        task = tasks.get("mnist1d", permuted=True, permutation_seed=7)
    order = np.random.RandomState(7).permutation(40)
    assert np.array_equal(task.permutation, order)
    # the arrays are the task's split as it is fed (already permuted): used as they are
    assert np.array_equal(task.test_set()[0][..., 0].numpy(), arrays["x_test"])
    assert np.array_equal(task.train_set()[1].numpy(), arrays["y_train"])


def test_digest_changes_with_any_value_and_with_the_parameters() -> None:
    data = tasks.task_data(tasks.get("digits"))
    assert data.digest() == tasks.task_data(tasks.get("digits")).digest()
    changed = {key: value.copy() for key, value in data.arrays.items()}
    changed["x_test"][359, 63] = np.nextafter(changed["x_test"][359, 63], np.float32(2))
    assert tasks.TaskData("digits", data.params, changed).digest() != data.digest()
    other = dict(data.params, seed=1)
    assert tasks.TaskData("digits", other, data.arrays).digest() != data.digest()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"x_train": None}, "needs the arrays x_train, y_train, x_test, y_test"),
        ({"x_train": np.zeros((4, 64))}, r"x_train \(N, T\) float32.*float64"),
        ({"y_test": np.zeros((3, 1), np.int64)}, r"y_test \(N,\) int64.*\(3, 1\)"),
        ({"y_train": np.zeros(3, np.int64)}, "x_train has 4 rows and y_train 3"),
        ({"x_test": np.zeros((3, 40), np.float32)}, "differ in length .64 and 40."),
    ],
)
def test_malformed_arrays_are_refused(change: dict, match: str) -> None:
    arrays = {
        "x_train": np.zeros((4, 64), np.float32),
        "y_train": np.zeros(4, np.int64),
        "x_test": np.zeros((3, 64), np.float32),
        "y_test": np.zeros(3, np.int64),
    }
    arrays.update(change)
    arrays = {key: value for key, value in arrays.items() if value is not None}
    with pytest.raises(InputShapeError, match=match):
        tasks.TaskData(name="digits", params={}, arrays=arrays)


def test_digits_refuse_provided_sequences_of_another_length() -> None:
    arrays = {
        "x_train": np.zeros((4, 40), np.float32),
        "y_train": np.zeros(4, np.int64),
        "x_test": np.zeros((3, 40), np.float32),
        "y_test": np.zeros(3, np.int64),
    }
    params = tasks.get("digits").params
    with (
        tasks.provided_data(tasks.TaskData("digits", params, arrays)),
        pytest.raises(InputShapeError, match="provided sequences have 40 steps, expected 64"),
    ):
        tasks.get("digits")


def test_tasks_generated_in_code_have_no_arrays() -> None:
    with pytest.raises(InvalidOptionError, match="'copy' is generated in code"):
        tasks.task_data(tasks.get("copy"))
    with pytest.raises(TypeError, match="takes TaskData objects, got dict"):
        with tasks.provided_data({"name": "digits"}):  # type: ignore[arg-type]
            pass
