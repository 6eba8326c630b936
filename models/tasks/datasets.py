"""Classification of fixed data sets: (permuted) scikit-learn digits and MNIST-1D."""

from __future__ import annotations

import functools
import logging
import math
import random
from typing import Any, ClassVar

import numpy as np
import torch

from models.errors import InputShapeError, InvalidOptionError
from models.tasks.base import Task, _check_bool, _check_int
from models.tasks.provided import _provided_arrays

logger = logging.getLogger(__name__)


#: Default permutation seed of the permuted pixel tasks (scoRNN's and expRNN's psMNIST seed).
PERMUTATION_SEED = 92916

#: Pixels of a scikit-learn digits image (8 x 8), the steps of a digits sequence.
_DIGITS_PIXELS = 64


class _DatasetTask(Task):
    """Classification task backed by fixed arrays: random batches from the training split."""

    def _set_data(
        self,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_test: np.ndarray,
        y_test: np.ndarray,
    ) -> None:
        self._x_train = torch.tensor(np.asarray(x_train), dtype=torch.float32).unsqueeze(-1)
        self._y_train = torch.tensor(np.asarray(y_train), dtype=torch.long)
        self._x_test = torch.tensor(np.asarray(x_test), dtype=torch.float32).unsqueeze(-1)
        self._y_test = torch.tensor(np.asarray(y_test), dtype=torch.long)
        self.seq_len = int(self._x_train.shape[1])
        self.input_size = 1
        self.output_size = 10
        self.readout = "last"
        self.classification = True
        self.bounds = (0.0, 1.0)
        self.baseline = math.log(self.output_size)
        self.metric_name = "accuracy"

    def batch(
        self, batch_size: int, *, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        batch_size = _check_int("batch_size", self.name, batch_size, 1)
        n = len(self._y_train)
        if batch_size > n:
            raise InvalidOptionError(
                f"task {self.name!r}: batch_size {batch_size} exceeds the {n} training examples"
            )
        idx = torch.randperm(n, generator=generator)[:batch_size]
        return self._x_train[idx], self._y_train[idx]

    def train_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the whole training split.

        Returns
        -------
        x : (N, T, 1) torch.Tensor
            Float32 inputs in ``bounds``.
        y : (N,) torch.Tensor
            Int64 class labels.
        """
        return self._x_train, self._y_train

    def test_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._x_test, self._y_test


def _permutation(length: int, seed: int) -> np.ndarray:
    return np.random.RandomState(seed).permutation(length)


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    x.setflags(write=False)
    y = y.astype(np.int64)
    y.setflags(write=False)
    return x, y


class DigitsTask(_DatasetTask):
    r"""Sequential (optionally permuted) scikit-learn digits.

    The 1797 8x8 images that ship with scikit-learn, read as 64 steps of one pixel scaled to
    ``[0, 1]`` (pixel / 16), in row-major order or in a fixed permuted order. The data are split
    by :func:`sklearn.model_selection.train_test_split` (``test_size=360``, stratified by class,
    ``random_state=seed``) into 1437 training and 360 test images. Batches are drawn without
    replacement from the training split. The baseline is the cross-entropy of a uniform guess,
    :math:`\ln 10`.

    Parameters
    ----------
    permuted : bool, default False
        Feed the pixels in the order ``np.random.RandomState(permutation_seed).permutation(64)``.
    permutation_seed : int, default 92916
        Seed of the pixel permutation (92916 is the psMNIST permutation seed of scoRNN/expRNN).
    seed : int, default 0
        Seed of the train/test split.

    Examples
    --------
    >>> task = DigitsTask(permuted=True)
    >>> x, y = task.test_set()
    >>> x.shape, y.shape, task.output_size
    (torch.Size([360, 64, 1]), torch.Size([360]), 10)
    """

    name = "digits"
    defaults: ClassVar[dict[str, Any]] = {
        "permuted": False,
        "permutation_seed": PERMUTATION_SEED,
        "seed": 0,
    }
    test_size: ClassVar[int] = 360

    def __init__(
        self, *, permuted: bool = False, permutation_seed: int = PERMUTATION_SEED, seed: int = 0
    ) -> None:
        permuted = _check_bool("permuted", self.name, permuted)
        permutation_seed = _check_int("permutation_seed", self.name, permutation_seed, 0)
        seed = _check_int("seed", self.name, seed, 0)
        self.params = {"permuted": permuted, "permutation_seed": permutation_seed, "seed": seed}
        self.permutation: np.ndarray | None = None
        if permuted:
            self.permutation = _permutation(_DIGITS_PIXELS, permutation_seed)
        arrays = _provided_arrays(self.name, self.params)
        if arrays is None:
            arrays = self._split(seed)
        elif arrays[0].shape[1] != _DIGITS_PIXELS:
            raise InputShapeError(
                f"task {self.name!r}: provided sequences have {arrays[0].shape[1]} steps, "
                f"expected {_DIGITS_PIXELS}"
            )
        self._set_data(*arrays)

    def _split(self, seed: int) -> tuple[np.ndarray, ...]:
        from sklearn.model_selection import train_test_split

        x, y = _digits()
        if self.permutation is not None:
            x = x[:, self.permutation]
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=self.test_size, random_state=seed, stratify=y
        )
        return x_train, y_train, x_test, y_test


@functools.lru_cache(maxsize=4)
def _mnist1d(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = seed
    # make_dataset reseeds the global numpy and random generators; restore them afterwards.
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
    lo = min(data["x"].min(), data["x_test"].min())
    hi = max(data["x"].max(), data["x_test"].max())
    arrays = (
        ((data["x"] - lo) / (hi - lo)).astype(np.float32),
        np.asarray(data["y"], dtype=np.int64),
        ((data["x_test"] - lo) / (hi - lo)).astype(np.float32),
        np.asarray(data["y_test"], dtype=np.int64),
    )
    for a in arrays:
        a.setflags(write=False)
    return arrays


class MNIST1DTask(_DatasetTask):
    r"""MNIST-1D: 40-step one-dimensional digit signals (Greydanus 2020).

    The dataset is generated procedurally by ``mnist1d.data.make_dataset`` with the package's
    default arguments (5000 signals, 4000 train / 1000 test, 10 classes) and the given ``seed``
    (42 reproduces the published dataset); nothing is downloaded. Generation takes a few seconds
    and is cached per process. The signals are rescaled linearly to ``[0, 1]`` by the minimum and
    maximum over train and test together, so ``bounds == (0, 1)`` holds exactly. The baseline is
    :math:`\ln 10`.

    Parameters
    ----------
    permuted : bool, default False
        Feed the 40 values in the order
        ``np.random.RandomState(permutation_seed).permutation(40)``.
    permutation_seed : int, default 92916
        Seed of the permutation.
    seed : int, default 42
        Seed passed to ``make_dataset`` (the dataset and its train/test split).

    Examples
    --------
    >>> task = MNIST1DTask()  # generated in a few seconds, then cached
    >>> task.test_set()[0].shape, task.bounds
    (torch.Size([1000, 40, 1]), (0.0, 1.0))
    """

    name = "mnist1d"
    defaults: ClassVar[dict[str, Any]] = {
        "permuted": False,
        "permutation_seed": PERMUTATION_SEED,
        "seed": 42,
    }

    def __init__(
        self, *, permuted: bool = False, permutation_seed: int = PERMUTATION_SEED, seed: int = 42
    ) -> None:
        permuted = _check_bool("permuted", self.name, permuted)
        permutation_seed = _check_int("permutation_seed", self.name, permutation_seed, 0)
        seed = _check_int("seed", self.name, seed, 0)
        self.params = {"permuted": permuted, "permutation_seed": permutation_seed, "seed": seed}
        self.permutation: np.ndarray | None = None
        provided = _provided_arrays(self.name, self.params)
        if provided is not None:
            if permuted:
                self.permutation = _permutation(provided[0].shape[1], permutation_seed)
            self._set_data(*provided)
            return
        x_train, y_train, x_test, y_test = _mnist1d(seed)
        if permuted:
            self.permutation = _permutation(x_train.shape[1], permutation_seed)
            x_train, x_test = x_train[:, self.permutation], x_test[:, self.permutation]
        self._set_data(x_train, y_train, x_test, y_test)
