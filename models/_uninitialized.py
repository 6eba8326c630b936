"""Torch modules whose parameters are allocated but not initialised (private).

The models draw every parameter from their own generator, so torch's default initialisation of
a layer would be wasted work and would consume torch's global random stream.
``torch.nn.utils.skip_init`` and ``Module.to_empty`` avoid it by building the layer on the
``meta`` device and then calling ``torch.empty_like`` on each meta tensor. That call goes
through torch's Python reference implementations, whose first use imports
``torch.fx.experimental.symbolic_shapes`` and sympy: about 0.3 s to 0.5 s in every fresh process
that builds a model (each ``rnnscope`` command, each sweep worker). :func:`uninitialized`
allocates the parameters with :func:`torch.empty` from their shapes instead, which imports
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import nn

_M = TypeVar("_M", bound=nn.Module)


def uninitialized(factory: Callable[..., _M], *args: Any, **kwargs: Any) -> _M:
    """Build ``factory(*args, **kwargs)`` on the CPU with uninitialised parameters.

    Parameters
    ----------
    factory : callable
        A module class (or function) that accepts a ``device`` keyword.
    *args, **kwargs
        Its other arguments.

    Returns
    -------
    torch.nn.Module
        The module, every parameter a new tensor on the CPU holding arbitrary values, with the
        shape, dtype and ``requires_grad`` it was built with.

    Raises
    ------
    TypeError
        If the module has buffers (they would need their own initial values).

    Examples
    --------
    >>> layer = uninitialized(nn.Linear, 3, 2)
    >>> layer.weight.shape, layer.weight.device.type, layer.bias.requires_grad
    (torch.Size([2, 3]), 'cpu', True)
    """
    module = factory(*args, device="meta", **kwargs)
    for sub in module.modules():
        if next(sub.buffers(recurse=False), None) is not None:
            raise TypeError(f"{type(sub).__name__} has buffers; build it initialised instead")
        for name, meta in list(sub.named_parameters(recurse=False)):
            empty = torch.empty(meta.shape, dtype=meta.dtype, device="cpu")
            setattr(sub, name, nn.Parameter(empty, requires_grad=meta.requires_grad))
    return module
