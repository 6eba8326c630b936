"""Full-state trajectories and the state Jacobians along them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from models.dynamics._common import (
    as_float64,
    check_inputs,
    check_model,
    check_state0,
    frozen,
)

__all__ = ["iter_jacobians", "jacobians", "states"]


def states(model: Any, x: torch.Tensor, *, state0: torch.Tensor | None = None) -> torch.Tensor:
    r"""Full states :math:`s_1, \dots, s_T` along the trajectories of inputs ``x`` (float64).

    Parameters
    ----------
    model : RecurrentModel or TorchStack
        Any kind from :func:`models.build`, or a stack from :func:`from_torch`.
    x : (B, T, F) torch.Tensor
        Inputs.
    state0 : (B, S) or (S,) torch.Tensor, optional
        Initial full state (default zeros, as in the forward pass).

    Returns
    -------
    (B, T, S) torch.Tensor
        Float64 states; the hidden state is the first ``H`` entries.

    Raises
    ------
    InputShapeError
        If ``x`` or ``state0`` has the wrong shape or non-finite entries.
    UnsupportedModelError
        If ``model`` has no one-step map.

    Examples
    --------
    >>> import models, torch
    >>> model = models.build("lstm", input_size=1, hidden_size=3, output_size=1)
    >>> states(model, torch.zeros(2, 5, 1)).shape
    torch.Size([2, 5, 6])
    """
    check_model(model)
    x = check_inputs(model, x)
    s = check_state0(model, state0, x.shape[0])
    model = as_float64(model)
    out = []
    with torch.no_grad(), frozen(model):
        for t in range(x.shape[1]):
            s = model.step(s, x[:, t])
            out.append(s)
    return torch.stack(out, dim=1)


def iter_jacobians(
    model: Any, x: torch.Tensor, *, state0: torch.Tensor | None = None, factored: bool = False
) -> Iterator[Any]:
    r"""Yield :math:`J_t = \partial s_t / \partial s_{t-1}`, ``(B, S, S)`` float64, step by step.

    Same arguments as :func:`jacobians`; nothing but the current step is held in memory, so it
    can feed :func:`spectra.lyapunov` over long runs.

    Parameters
    ----------
    model : RecurrentModel or TorchStack
        Model with a one-step map.
    x : (B, T, F) torch.Tensor
        Inputs.
    state0 : (B, S) or (S,) torch.Tensor, optional
        Initial full state (default zeros).
    factored : bool, optional
        For kinds whose Jacobian is :math:`\operatorname{diag}(f'(a_t))\, W` (rnn, scornn,
        exprnn, nnrnn), yield :class:`spectra.RowScaled` factors instead of the ``B`` matrices;
        :func:`spectra.lyapunov` then never forms them. Other kinds yield tensors as usual.

    Yields
    ------
    (B, S, S) torch.Tensor or spectra.RowScaled
        The step's Jacobians (float64 numpy factors for ``RowScaled``).

    Raises
    ------
    InputShapeError
        If ``x`` or ``state0`` has the wrong shape (raised on the first ``next``).

    Examples
    --------
    >>> import models, spectra, torch
    >>> model = models.build("rnn", input_size=1, hidden_size=3, output_size=1)
    >>> steps = list(iter_jacobians(model, torch.ones(1, 4, 1), factored=True))
    >>> len(steps), isinstance(steps[0], spectra.RowScaled)
    (4, True)
    """
    from spectra import RowScaled

    check_model(model)
    x = check_inputs(model, x)
    s = check_state0(model, state0, x.shape[0])
    model = as_float64(model)
    # the model's own step and factors from one pre-activation (inputs checked above)
    fused = getattr(model, "_step_with_factors", None) if factored else None
    with frozen(model):
        for t in range(x.shape[1]):
            parts = None
            if fused is not None:
                with torch.no_grad():
                    s_next, parts = fused(s, x[:, t])
            if parts is None:
                J: Any = model.step_jacobian(s, x[:, t])
                with torch.no_grad():
                    s_next = model.step(s, x[:, t])
            else:
                J = RowScaled(parts[0].numpy(), parts[1].numpy())
            s = s_next
            yield J


def jacobians(model: Any, x: torch.Tensor, *, state0: torch.Tensor | None = None) -> torch.Tensor:
    r"""State Jacobians :math:`J_t = \partial s_t / \partial s_{t-1}` along trajectories.

    Parameters
    ----------
    model : RecurrentModel or TorchStack
        Any kind from :func:`models.build`, or a stack from :func:`from_torch`. The full state
        is ``h`` (rnn, scornn, exprnn, nnrnn, gru), ``[h; c]`` (lstm), ``[h; m]`` (nru), or all
        layers stacked.
    x : (B, T, F) torch.Tensor
        Inputs; the trajectory starts at ``state0``.
    state0 : (B, S) or (S,) torch.Tensor, optional
        Initial full state (default zeros).

    Returns
    -------
    (B, T, S, S) torch.Tensor
        Float64, column convention: ``J[b, t]`` maps a perturbation of :math:`s_{t}` (the state
        before step ``t + 1``) to one of :math:`s_{t+1}`.

    Raises
    ------
    InputShapeError
        If ``x`` or ``state0`` has the wrong shape or non-finite entries.
    UnsupportedModelError
        If ``model`` has no one-step map.

    Examples
    --------
    >>> import models, torch
    >>> model = models.build("rnn", input_size=1, hidden_size=3, output_size=1)
    >>> J = jacobians(model, torch.zeros(2, 4, 1))
    >>> J.shape, bool(torch.allclose(J[0, 0], model.recurrent_matrix().double()))
    (torch.Size([2, 4, 3, 3]), True)
    """
    return torch.stack(list(iter_jacobians(model, x, state0=state0)), dim=1)
