"""The arrays of a dataset task, and building the same task from them in another process.

A dataset task (digits, MNIST-1D) is built from a data set that is costly to obtain in a fresh
process: the digits need scikit-learn (about a second of imports for ``load_digits`` and the
stratified split), MNIST-1D is generated in a few seconds. :func:`task_data` takes the split
arrays of a task built once; inside :func:`provided_data` the task classes (and
:func:`models.tasks.get`) build a task with the same name and parameters from those arrays
instead, without loading anything. The task is equal to one built from scratch: the same
tensors, the same permutation.

Reading and writing such arrays to files is up to the caller.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from models.errors import InputShapeError, InvalidOptionError

if TYPE_CHECKING:
    from models.tasks.base import Task

__all__ = ["ARRAY_NAMES", "TaskData", "provided_data", "task_data"]

#: Names of the split arrays of a dataset task, in this order.
ARRAY_NAMES = ("x_train", "y_train", "x_test", "y_test")

_ACTIVE: contextvars.ContextVar[tuple[TaskData, ...]] = contextvars.ContextVar(
    "models_tasks_provided", default=()
)


@dataclass(frozen=True, eq=False)
class TaskData:
    """The split arrays of a dataset task, with the task's name and parameters.

    Attributes
    ----------
    name : str
        Task name, e.g. ``"digits"``.
    params : dict
        The task's full parameters (:attr:`models.tasks.Task.params`).
    arrays : dict of numpy.ndarray
        ``x_train`` ``(N, T)`` float32, ``y_train`` ``(N,)`` int64, ``x_test`` ``(M, T)``
        float32 and ``y_test`` ``(M,)`` int64.

    Raises
    ------
    models.errors.InputShapeError
        If an array is missing or has the wrong dtype or shape.

    Examples
    --------
    >>> import models.tasks
    >>> data = task_data(models.tasks.get("digits"))
    >>> data.arrays["x_train"].shape, data.arrays["y_test"].dtype
    ((1437, 64), dtype('int64'))
    """

    name: str
    params: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(repr=False)

    def __post_init__(self) -> None:
        arrays = {key: np.asarray(value) for key, value in self.arrays.items()}
        if sorted(arrays) != sorted(ARRAY_NAMES):
            raise InputShapeError(
                f"task data of {self.name!r} needs the arrays {', '.join(ARRAY_NAMES)}, "
                f"got {', '.join(sorted(arrays)) or 'none'}"
            )
        for split in ("train", "test"):
            x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
            if x.dtype != np.float32 or y.dtype != np.int64 or x.ndim != 2 or y.ndim != 1:
                raise InputShapeError(
                    f"task data of {self.name!r}: expected x_{split} (N, T) float32 and "
                    f"y_{split} (N,) int64, got {x.shape} {x.dtype} and {y.shape} {y.dtype}"
                )
            if len(x) != len(y) or len(y) == 0:
                raise InputShapeError(
                    f"task data of {self.name!r}: x_{split} has {len(x)} rows and y_{split} "
                    f"{len(y)}; expected the same positive number"
                )
        if arrays["x_train"].shape[1] != arrays["x_test"].shape[1]:
            raise InputShapeError(
                f"task data of {self.name!r}: train and test sequences differ in length "
                f"({arrays['x_train'].shape[1]} and {arrays['x_test'].shape[1]})"
            )
        object.__setattr__(self, "params", dict(self.params))
        object.__setattr__(self, "arrays", {key: arrays[key] for key in ARRAY_NAMES})

    def digest(self) -> str:
        """Return the SHA-256 of the name, the parameters and every array's dtype, shape and bytes.

        Returns
        -------
        str
            64 hexadecimal digits; equal data give equal digests.

        Examples
        --------
        >>> import models.tasks
        >>> len(task_data(models.tasks.get("digits")).digest())
        64
        """
        hasher = hashlib.sha256()
        header = {"name": self.name, "params": self.params}
        hasher.update(json.dumps(header, sort_keys=True).encode())
        for key in ARRAY_NAMES:
            array = np.ascontiguousarray(self.arrays[key])
            hasher.update(f"|{key}|{array.dtype.str}|{array.shape}|".encode())
            hasher.update(array.tobytes())
        return hasher.hexdigest()


def task_data(task: Task) -> TaskData:
    """Return the split arrays of a dataset task (digits, MNIST-1D).

    Parameters
    ----------
    task : models.tasks.Task
        A dataset task.

    Returns
    -------
    TaskData
        Its name, parameters and arrays (copies).

    Raises
    ------
    models.errors.InvalidOptionError
        If the task is generated in code (copy, adding, flipflop): it has no fixed arrays.

    Examples
    --------
    >>> import models.tasks
    >>> task_data(models.tasks.get("digits", permuted=True)).params["permuted"]
    True
    """
    from models.tasks.datasets import _DatasetTask

    if not isinstance(task, _DatasetTask):
        raise InvalidOptionError(
            f"task {getattr(task, 'name', task)!r} is generated in code and has no fixed "
            "arrays; only dataset tasks (digits, mnist1d) do"
        )
    x_train, y_train = task.train_set()
    x_test, y_test = task.test_set()
    arrays = {
        "x_train": x_train[..., 0].numpy().copy(),
        "y_train": y_train.numpy().copy(),
        "x_test": x_test[..., 0].numpy().copy(),
        "y_test": y_test.numpy().copy(),
    }
    return TaskData(name=task.name, params=dict(task.params), arrays=arrays)


@contextlib.contextmanager
def provided_data(*data: TaskData) -> Iterator[None]:
    """Build the dataset tasks matching `data` from its arrays while the block runs.

    Inside the block a task whose name and full parameters equal those of one of `data` (after
    its parameters are checked and completed with their defaults) takes its split from that
    :class:`TaskData` instead of loading or generating its data set. The setting holds in the
    current thread (and its context) only; blocks nest, the innermost match wins.

    Parameters
    ----------
    *data : TaskData
        Arrays of tasks built earlier (:func:`task_data`).

    Yields
    ------
    None

    Raises
    ------
    TypeError
        If an argument is not a :class:`TaskData`.

    Examples
    --------
    >>> import models.tasks
    >>> data = task_data(models.tasks.get("digits", permuted=True))
    >>> with provided_data(data):
    ...     task = models.tasks.get("digits", permuted=True)  # no data set is loaded
    >>> bool((task.test_set()[0][..., 0].numpy() == data.arrays["x_test"]).all())
    True
    """
    for item in data:
        if not isinstance(item, TaskData):
            raise TypeError(f"provided_data takes TaskData objects, got {type(item).__name__}")
    token = _ACTIVE.set((*data, *_ACTIVE.get()))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def _provided_arrays(name: str, params: Mapping[str, Any]) -> tuple[np.ndarray, ...] | None:
    """Return the arrays given for the task `name` with `params` (:data:`ARRAY_NAMES` order)."""
    for item in _ACTIVE.get():
        if item.name == name and item.params == dict(params):
            return tuple(item.arrays[key] for key in ARRAY_NAMES)
    return None
