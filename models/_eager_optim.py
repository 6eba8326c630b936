"""torch's optimizers for eager training, without the hooks that import ``torch._dynamo``.

:class:`torch.optim.Optimizer` wraps its methods for ``torch.compile``: ``step`` runs between
two ``torch._dynamo.graph_break()`` calls with gradients off, and ``add_param_group`` (called
by the constructor), ``zero_grad``, ``state_dict`` and ``load_state_dict`` are disabled for
dynamo. Each wrapper imports ``torch._dynamo`` on its first call: about 1.4 CPU seconds and
a few hundred thousand objects in every process that trains, a sweep worker included,
although in eager execution the wrappers do nothing but switch gradients off around ``step``.

The classes below are torch's RMSprop, Adam and SGD (subclasses, so ``isinstance`` and the
learning-rate schedulers work as before) whose methods are the functions under those
wrappers: the updates are torch's, bit for bit, and so are the state dicts, which load into
either class. ``step`` switches gradients to the optimizer's ``differentiable`` setting, as
torch's wrapper does; step hooks and the profiler's record of each step are kept. A method
that a torch version does not wrap is used as it is.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["EAGER_OPTIMIZERS", "EagerAdam", "EagerRMSprop", "EagerSGD"]

#: The methods that torch wraps for dynamo, besides ``step``.
_WRAPPED = ("add_param_group", "zero_grad", "state_dict", "load_state_dict")


def _eager(optimizer: type[torch.optim.Optimizer]) -> type[torch.optim.Optimizer]:
    """Subclass `optimizer` with its wrapped methods replaced by the functions they wrap."""
    update = inspect.unwrap(optimizer.step)

    def step(self: torch.optim.Optimizer, closure: Callable[[], Any] | None = None) -> Any:
        with torch.set_grad_enabled(bool(self.defaults["differentiable"])):
            return update(self, closure)

    step.__doc__ = update.__doc__
    methods = {name: inspect.unwrap(getattr(optimizer, name)) for name in _WRAPPED}
    name = f"Eager{optimizer.__name__}"
    doc = (
        f":class:`torch.optim.{optimizer.__name__}` without the ``torch._dynamo`` import: "
        f"the same updates and state (see :mod:`{__name__}`)."
    )
    namespace = {"__doc__": doc, "__module__": __name__, "__qualname__": name, "step": step}
    return type(name, (optimizer,), {**namespace, **methods})


EagerRMSprop = _eager(torch.optim.RMSprop)
EagerAdam = _eager(torch.optim.Adam)
EagerSGD = _eager(torch.optim.SGD)

#: Optimizer name (:attr:`models.TrainConfig.optimizer`) to class.
EAGER_OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "rmsprop": EagerRMSprop,
    "adam": EagerAdam,
    "sgd": EagerSGD,
}
