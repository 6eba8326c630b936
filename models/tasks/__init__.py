"""Sequence tasks: the copy and adding problems, permuted digits, MNIST-1D and the flip-flop.

A task bundles everything a training loop or an attack needs: how to draw a training batch,
a fixed test set, the loss, a metric, the loss of an uninformed guess (the *baseline*) and the
range of valid inputs. Every task is generated in code or read from data that ships inside an
installed package; nothing is downloaded.

========  ======================================================  ==========  ====================
name      inputs (B, T, F)                                        readout     loss / metric
========  ======================================================  ==========  ====================
copy      one-hot symbols, ``T + 20`` steps, 10 features          ``"all"``   CE / recall accuracy
adding    value in [0, 1] and marker, ``T`` steps, 2 features     ``"last"``  MSE / MSE
digits    scikit-learn 8x8 digits, 64 steps of 1 pixel in [0, 1]  ``"last"``  CE / accuracy
mnist1d   MNIST-1D, 40 steps of 1 value rescaled to [0, 1]        ``"last"``  CE / accuracy
flipflop  pulses in {-1, 0, 1} on 3 channels, ``T`` steps         ``"all"``   MSE / MSE
========  ======================================================  ==========  ====================

Use :func:`get` to build a task by name; ``get(task.name, **task.params)`` rebuilds an equal task.

One module per family: :mod:`models.tasks.base` (the :class:`Task` base class),
:mod:`models.tasks.synthetic` (copy, adding), :mod:`models.tasks.datasets` (digits, MNIST-1D)
and :mod:`models.tasks.flipflop`; every class is importable from :mod:`models.tasks`.
:mod:`models.tasks.provided` hands the arrays of a dataset task built once to other processes
(:func:`task_data`, :func:`provided_data`), which then build it without loading its data set.
"""

from __future__ import annotations

from typing import Any

from models.errors import InvalidOptionError, UnknownTaskError
from models.tasks.base import Task
from models.tasks.base import _check_bool as _check_bool
from models.tasks.base import _check_int as _check_int
from models.tasks.base import _generator as _generator
from models.tasks.base import _SyntheticTask as _SyntheticTask
from models.tasks.datasets import PERMUTATION_SEED as PERMUTATION_SEED
from models.tasks.datasets import DigitsTask, MNIST1DTask
from models.tasks.datasets import _DatasetTask as _DatasetTask
from models.tasks.datasets import _digits as _digits
from models.tasks.datasets import _mnist1d as _mnist1d
from models.tasks.datasets import _permutation as _permutation
from models.tasks.flipflop import FlipFlopTask
from models.tasks.provided import TaskData, provided_data, task_data
from models.tasks.synthetic import AddingTask, CopyTask

__all__ = [
    "TASKS",
    "AddingTask",
    "CopyTask",
    "DigitsTask",
    "FlipFlopTask",
    "MNIST1DTask",
    "Task",
    "TaskData",
    "get",
    "provided_data",
    "task_data",
]

#: Registered tasks by name.
TASKS: dict[str, type[Task]] = {
    "copy": CopyTask,
    "adding": AddingTask,
    "digits": DigitsTask,
    "mnist1d": MNIST1DTask,
    "flipflop": FlipFlopTask,
}


def get(name: str, **params: Any) -> Task:
    """Build a task by name.

    Parameters
    ----------
    name : {"copy", "adding", "digits", "mnist1d", "flipflop"}
        Task name.
    **params
        Task parameters (see :class:`CopyTask`, :class:`AddingTask`, :class:`DigitsTask`,
        :class:`MNIST1DTask`, :class:`FlipFlopTask`); omitted ones take their
        defaults.

    Returns
    -------
    Task
        The task; ``get(task.name, **task.params)`` rebuilds an equal one.

    Raises
    ------
    UnknownTaskError
        If ``name`` is not a registered task; the message lists the valid names.
    InvalidOptionError
        If a parameter name is not one of the task's parameters (the message lists the valid
        ones) or a value is invalid (wrong type or out of range). Both errors are
        :class:`ValueError`.

    Examples
    --------
    >>> task = get("copy", T=100)
    >>> round(task.baseline, 4)
    0.1733
    >>> get("adding").readout
    'last'
    """
    if not isinstance(name, str) or name not in TASKS:
        raise UnknownTaskError(f"unknown task {name!r}; valid tasks: {', '.join(TASKS)}")
    cls = TASKS[name]
    unknown = sorted(set(params) - set(cls.defaults))
    if unknown:
        raise InvalidOptionError(
            f"unknown parameter(s) {', '.join(unknown)} for task {name!r}; "
            f"valid parameters: {', '.join(cls.defaults)}"
        )
    return cls(**params)
