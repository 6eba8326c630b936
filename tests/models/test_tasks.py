"""Tests of models.tasks: layouts, baselines against theory, splits and offline data."""

from __future__ import annotations

import math
import random
import socket
import urllib.request

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from models import tasks
from models.errors import InputShapeError, InvalidOptionError, UnknownTaskError


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------- registry


def test_unknown_task_lists_valid_names() -> None:
    with pytest.raises(UnknownTaskError, match=r"'nope'.*copy, adding, digits, mnist1d"):
        tasks.get("nope")
    assert issubclass(UnknownTaskError, ValueError)


@pytest.mark.parametrize(
    ("name", "params", "match"),
    [
        ("copy", {"L": 5}, "unknown parameter.*L.*valid parameters: T, test_size, seed"),
        ("copy", {"T": 0}, "T must be an integer >= 1, got 0"),
        ("copy", {"T": 2.5}, "T must be an integer"),
        ("adding", {"T": 2}, "T must be an integer >= 3"),
        ("adding", {"test_size": 0}, "test_size"),
        ("digits", {"permuted": "yes"}, "permuted must be True or False"),
        ("digits", {"seed": -1}, "seed must be an integer >= 0"),
        ("digits", {"T": 10}, "valid parameters: permuted, permutation_seed, seed"),
    ],
)
def test_invalid_parameters_name_the_problem(name: str, params: dict, match: str) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        tasks.get(name, **params)


@pytest.mark.parametrize(
    ("name", "params"),
    [("copy", {"T": 7, "test_size": 3}), ("adding", {"T": 9, "seed": 4}), ("digits", {})],
)
def test_params_rebuild_an_equal_task(name: str, params: dict) -> None:
    task = tasks.get(name, **params)
    again = tasks.get(task.name, **task.params)
    assert again.params == task.params
    assert again.to_dict() == task.to_dict()
    for a, b in zip(task.test_set(), again.test_set(), strict=True):
        assert torch.equal(a, b)
    # params are JSON-ready
    import json

    assert json.loads(json.dumps(task.params)) == task.params


def test_batches_depend_only_on_the_generator() -> None:
    task = tasks.get("adding", T=20)
    a = task.batch(8, generator=_gen(3))
    b = task.batch(8, generator=_gen(3))
    c = task.batch(8, generator=_gen(4))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_loss_rejects_mismatched_output_shape() -> None:
    task = tasks.get("copy", T=5)
    _, y = task.batch(2, generator=_gen())
    with pytest.raises(InputShapeError, match=r"expects model output of shape \(2, 25, 9\)"):
        task.loss(torch.zeros(2, 9), y)


# ---------------------------------------------------------------------- copy


@pytest.mark.parametrize("T", [1, 5, 100])
def test_copy_layout(T: int) -> None:
    task = tasks.get("copy", T=T)
    x, y = task.batch(64, generator=_gen(1))
    L = T + 20
    assert task.seq_len == L
    assert x.shape == (64, L, 10) and x.dtype == torch.float32
    assert y.shape == (64, L) and y.dtype == torch.int64
    assert (task.input_size, task.output_size, task.readout) == (10, 9, "all")
    assert task.classification and task.bounds == (0.0, 1.0)
    # one-hot inputs
    assert torch.equal(x.sum(-1), torch.ones(64, L))
    tokens = x.argmax(-1)
    seq = tokens[:, :10]
    assert seq.min() >= 1 and seq.max() <= 8
    assert (tokens[:, 10 : T + 9] == 0).all()  # T - 1 blanks
    assert (tokens[:, T + 9] == 9).all()  # the cue
    assert (tokens[:, T + 10 :] == 0).all()  # 10 blanks
    assert (y[:, : T + 10] == 0).all()
    assert torch.equal(y[:, T + 10 :], seq)


@pytest.mark.parametrize("T", [10, 100, 500])
def test_copy_baseline_is_the_loss_of_the_best_constant_guess(T: int) -> None:
    """10 ln 8 / (T + 20) equals the CE of: blank with certainty, then uniform over 8 symbols."""
    task = tasks.get("copy", T=T, test_size=200)
    _, y = task.test_set()
    # The symbols at the recall steps are uniform over 1..8 (chi-square, 7 dof, p ~ 1e-6 cut).
    counts = torch.bincount(y[:, -10:].reshape(-1), minlength=9)[1:].double()
    expected = counts.sum() / 8
    assert float(((counts - expected) ** 2 / expected).sum()) < 40.0
    guess = torch.full((len(y), T + 20, 9), -1e9)
    guess[:, : T + 10, 0] = 0.0
    guess[:, T + 10 :, 1:] = math.log(1 / 8)
    assert float(task.loss(guess, y)) == pytest.approx(10 * math.log(8) / (T + 20), rel=1e-6)
    assert task.baseline == pytest.approx(10 * math.log(8) / (T + 20), rel=1e-12)
    # a perfect prediction has zero loss and full recall accuracy
    perfect = torch.nn.functional.one_hot(y, 9).double() * 1e3
    assert float(task.loss(perfect, y)) == pytest.approx(0.0, abs=1e-9)
    assert task.metric(perfect, y) == 1.0
    # the uniform guess recalls by chance: argmax picks class 1, right 1/8 of the time
    assert task.metric(guess, y) == pytest.approx(float((y[:, -10:] == 1).double().mean()))


def test_copy_baseline_reference_values() -> None:
    assert tasks.get("copy", T=100).baseline == pytest.approx(0.1733, abs=1e-4)
    assert tasks.get("copy", T=1000).baseline == pytest.approx(0.0204, abs=1e-4)


# ---------------------------------------------------------------------- adding


def test_adding_layout() -> None:
    T = 101
    task = tasks.get("adding", T=T)
    x, y = task.batch(4096, generator=_gen(2))
    assert x.shape == (4096, T, 2) and y.shape == (4096, 1)
    assert (task.input_size, task.output_size, task.readout) == (2, 1, "last")
    assert not task.classification and task.metric_name == "mse"
    values, markers = x[..., 0], x[..., 1]
    assert values.min() >= 0 and values.max() <= 1
    assert set(markers.unique().tolist()) == {0.0, 1.0}
    assert (markers.sum(1) == 2).all()
    half = (T - 1) // 2
    first = markers[:, :half].argmax(1)
    second = half + markers[:, half:].argmax(1)
    assert (markers[:, :half].sum(1) == 1).all() and (markers[:, half:].sum(1) == 1).all()
    rows = torch.arange(len(y))
    assert torch.allclose(y[:, 0], values[rows, first] + values[rows, second])
    # both marker positions cover their whole range
    assert set(first.tolist()) == set(range(half))
    assert set(second.tolist()) == set(range(half, T))


def test_adding_baseline_is_variance_of_the_sum() -> None:
    """Predicting 1 gives MSE Var(U1 + U2) = 1/6; sampling s.d. is sqrt(7/180 / n)."""
    task = tasks.get("adding", T=10)
    n = 200_000
    _, y = task.batch(n, generator=_gen(5))
    mse = task.metric(torch.ones_like(y), y)
    assert mse == pytest.approx(1 / 6, abs=5 * math.sqrt(7 / 180 / n))
    assert task.baseline == pytest.approx(1 / 6)
    assert round(task.baseline, 3) == 0.167
    assert float(task.loss(torch.ones_like(y), y)) == pytest.approx(mse, rel=1e-5)


# ---------------------------------------------------------------------- digits


def test_digits_split_is_a_stratified_partition_of_all_images() -> None:
    task = tasks.get("digits")
    x_train, y_train = task.train_set()
    x_test, y_test = task.test_set()
    assert x_train.shape == (1437, 64, 1) and x_test.shape == (360, 64, 1)
    assert (task.input_size, task.output_size, task.readout, task.seq_len) == (1, 10, "last", 64)
    assert task.bounds == (0.0, 1.0)
    assert task.baseline == pytest.approx(math.log(10))
    # pixels are the scikit-learn images divided by 16, in row-major order
    images, labels = load_digits(return_X_y=True)
    pool = np.concatenate([x_train[..., 0].numpy(), x_test[..., 0].numpy()])
    pool_labels = np.concatenate([y_train.numpy(), y_test.numpy()])
    assert pool.min() == 0.0 and pool.max() == 1.0
    order_ours = np.lexsort(np.column_stack([pool, pool_labels]).T)
    order_ref = np.lexsort(np.column_stack([images / 16, labels]).T)
    assert np.allclose(pool[order_ours], images[order_ref] / 16, atol=1e-7)
    assert np.array_equal(pool_labels[order_ours], labels[order_ref])
    # stratified: every class has its share of the test set, to within one image
    share = np.bincount(labels) * 360 / len(labels)
    assert np.all(np.abs(np.bincount(y_test.numpy(), minlength=10) - share) <= 1)


def test_digits_permutation_is_fixed_bijection() -> None:
    plain = tasks.get("digits")
    perm = tasks.get("digits", permuted=True)
    expected = np.random.RandomState(92916).permutation(64)
    assert perm.permutation is not None and np.array_equal(perm.permutation, expected)
    assert sorted(perm.permutation.tolist()) == list(range(64))
    # same split (same seed), pixels reordered by the permutation
    x_plain, y_plain = plain.test_set()
    x_perm, y_perm = perm.test_set()
    assert torch.equal(y_plain, y_perm)
    assert torch.equal(x_perm[:, :, 0], x_plain[:, expected, 0])
    assert not torch.equal(x_perm, x_plain)
    other = tasks.get("digits", permuted=True, permutation_seed=1)
    assert not np.array_equal(other.permutation, expected)


def test_digits_split_depends_on_seed_and_batches_on_generator() -> None:
    a, b = tasks.get("digits", seed=0), tasks.get("digits", seed=1)
    assert not torch.equal(a.test_set()[1], b.test_set()[1])
    x, y = a.batch(32, generator=_gen(0))
    assert x.shape == (32, 64, 1) and y.shape == (32,)
    x_train, y_train = a.train_set()
    # batches come from the training split, drawn without replacement: a batch of the whole
    # split is a reordering of it
    x_all, y_all = a.batch(len(y_train), generator=_gen(1))
    rows = torch.cat([x_all[..., 0], y_all[:, None].float()], 1).numpy()
    ref = torch.cat([x_train[..., 0], y_train[:, None].float()], 1).numpy()
    assert np.array_equal(rows[np.lexsort(rows.T)], ref[np.lexsort(ref.T)])
    assert not torch.equal(y_all, y_train)
    with pytest.raises(InvalidOptionError, match="exceeds the 1437 training examples"):
        a.batch(2000, generator=_gen(0))


def test_classification_metric_is_accuracy() -> None:
    task = tasks.get("digits")
    _, y = task.test_set()
    logits = torch.nn.functional.one_hot(y, 10).float()
    assert task.metric(logits, y) == 1.0
    wrong = torch.nn.functional.one_hot((y + 1) % 10, 10).float()
    assert task.metric(wrong, y) == 0.0
    assert float(task.loss(torch.zeros(len(y), 10), y)) == pytest.approx(task.baseline)


# ---------------------------------------------------------------------- mnist1d


@pytest.fixture(scope="module")
def mnist1d_offline() -> tuple[tasks.Task, dict]:
    """Build MNIST-1D once with every network call failing and the global RNGs watched."""

    attempts: list[tuple] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)  # recorded too, in case a caller swallows the error
        raise AssertionError("network access attempted")

    np.random.seed(123)  # noqa: NPY002
    random.seed(123)
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket, "create_connection", refuse)
        mp.setattr(urllib.request, "urlopen", refuse)
        tasks._mnist1d.cache_clear()
        task = tasks.get("mnist1d")
    watched = {
        "np_unchanged": np.array_equal(np.random.get_state()[1], np_state[1]),  # noqa: NPY002
        "py_unchanged": random.getstate() == py_state,
        "network_attempts": len(attempts),
    }
    return task, watched


def test_mnist1d_offline_shapes_and_bounds(mnist1d_offline: tuple[tasks.Task, dict]) -> None:
    task, watched = mnist1d_offline
    x_train, y_train = task.train_set()
    x_test, y_test = task.test_set()
    assert x_train.shape == (4000, 40, 1) and x_test.shape == (1000, 40, 1)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    assert (task.input_size, task.output_size, task.readout, task.seq_len) == (1, 10, "last", 40)
    lo = min(float(x_train.min()), float(x_test.min()))
    hi = max(float(x_train.max()), float(x_test.max()))
    assert task.bounds == (0.0, 1.0)
    assert lo == pytest.approx(0.0, abs=1e-7) and hi == pytest.approx(1.0, abs=1e-6)
    assert set(torch.cat([y_train, y_test]).unique().tolist()) == set(range(10))
    assert watched["network_attempts"] == 0
    # make_dataset reseeds numpy/random globally; the task restores them
    assert watched["np_unchanged"] and watched["py_unchanged"]


def test_mnist1d_matches_the_generator_up_to_rescaling(
    mnist1d_offline: tuple[tasks.Task, dict],
) -> None:
    from mnist1d.data import get_dataset_args, make_dataset

    task, _ = mnist1d_offline
    ref = make_dataset(get_dataset_args())
    x_train, y_train = task.train_set()
    raw = ref["x"]
    # an affine map a * raw + b with a > 0 reproduces our values
    a, b = np.polyfit(raw.ravel(), x_train[..., 0].numpy().ravel().astype(np.float64), 1)
    assert a > 0
    assert np.allclose(a * raw + b, x_train[..., 0].numpy(), atol=1e-6)
    assert np.array_equal(ref["y"], y_train.numpy())
    # permuted variant: the same values in a fixed order
    perm = tasks.get("mnist1d", permuted=True)
    order = np.random.RandomState(92916).permutation(40)
    assert torch.equal(perm.test_set()[0][:, :, 0], task.test_set()[0][:, order, 0])


def test_every_task_is_importable_from_models_tasks_and_its_family_module() -> None:
    import importlib

    from models._flipflop import FlipFlopTask
    from models.tasks import base, datasets, flipflop, synthetic

    family = {
        "copy": synthetic.CopyTask,
        "adding": synthetic.AddingTask,
        "digits": datasets.DigitsTask,
        "mnist1d": datasets.MNIST1DTask,
        "flipflop": flipflop.FlipFlopTask,
    }
    assert tasks.TASKS == family
    assert FlipFlopTask is tasks.FlipFlopTask
    assert tasks.Task is base.Task
    for name in tasks.__all__:
        assert getattr(importlib.import_module("models.tasks"), name) is getattr(tasks, name)
    for name, cls in family.items():
        assert getattr(tasks, cls.__name__) is cls
        assert issubclass(cls, tasks.Task)
        assert type(tasks.get(name)) is cls
    assert tasks.PERMUTATION_SEED == datasets.PERMUTATION_SEED == 92916


def test_mnist1d_from_its_arrays_equals_a_fresh_build(
    mnist1d_offline: tuple[tasks.Task, dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    permuted = tasks.get("mnist1d", permuted=True)
    data = tasks.task_data(permuted)

    def refuse(seed: int) -> None:
        raise AssertionError("MNIST-1D was generated")

    monkeypatch.setattr(tasks.datasets, "_mnist1d", refuse)
    with tasks.provided_data(data):
        rebuilt = tasks.get("mnist1d", permuted=True)
    got_all = (*rebuilt.train_set(), *rebuilt.test_set())
    for got, want in zip(got_all, (*permuted.train_set(), *permuted.test_set()), strict=True):
        assert torch.equal(got, want)
    assert np.array_equal(rebuilt.permutation, permuted.permutation)
    assert rebuilt.to_dict() == permuted.to_dict()
