r"""The one-step map :math:`s_t = F(s_{t-1}, x_t)` of every model kind, and its Jacobians.

:class:`OneStepMap` is a base of :class:`models.RecurrentModel`; every kind implements
``_step`` (and, where the cell allows, an analytic ``_step_jacobians``), and gets the checked
public methods here.
"""

from __future__ import annotations

import torch
from torch import nn

from models.errors import InputShapeError

__all__ = ["OneStepMap"]


def _rows(d: torch.Tensor, M: torch.Tensor) -> torch.Tensor:
    """``diag(d) M`` for every batch row: ``(B, H)`` times ``(H, K)`` gives ``(B, H, K)``."""
    return d[:, :, None] * M[None]


class OneStepMap:
    r"""One step of a recurrent model on its full state, and the Jacobians of that step.

    The full state is ``h`` for rnn, scornn, exprnn, nnrnn and gru, ``[h; c]`` for lstm and
    ``[h; m]`` for nru. Iterating :meth:`step` from :meth:`initial_state` reproduces the model's
    forward pass.

    Attributes
    ----------
    input_size, hidden_size : int
        Features ``F`` and hidden units ``H`` (set by the model).

    Examples
    --------
    >>> import models
    >>> model = models.build("lstm", input_size=1, hidden_size=3, output_size=1)
    >>> isinstance(model, OneStepMap), model.state_size
    (True, 6)
    """

    input_size: int
    hidden_size: int
    readout: nn.Linear

    @property
    def state_size(self) -> int:
        """Size ``S`` of the full state: ``H``; ``2H`` for lstm (``[h; c]``); ``H + m`` for nru.

        The hidden state ``h`` is always the first ``H`` entries of the full state.
        """
        return self.hidden_size

    def initial_state(self, batch_size: int) -> torch.Tensor:
        """Zero full state ``(B, S)`` (the state every forward pass starts from).

        Parameters
        ----------
        batch_size : int
            Number of states ``B``.

        Returns
        -------
        (B, S) torch.Tensor
            Zeros in the model's dtype.

        Examples
        --------
        >>> import models
        >>> models.build("lstm", input_size=1, hidden_size=3, output_size=1).initial_state(2).shape
        torch.Size([2, 6])
        """
        return self.readout.weight.new_zeros(batch_size, self.state_size)

    def step(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        r"""One step of the recurrence on the full state, :math:`s_t = F(s_{t-1}, x_t)`.

        Iterating it from :meth:`initial_state` reproduces :meth:`hidden_states` (in its first
        ``H`` entries) with the same operations in the same order; the forward pass projects
        the inputs of all steps in one matrix product, so the two agree to the last bit
        wherever the BLAS rounds a row of a product alike for any number of rows (MKL does
        except at a few widths below 8 on some CPUs), and to a few rounding errors otherwise
        (always for the LSTM and GRU, whose torch layers block that product by the number of
        steps and threads). Differentiable with autograd and ``torch.func``.

        Parameters
        ----------
        state : (B, S) torch.Tensor
            Full state :math:`s_{t-1}` (see :attr:`state_size`).
        x_t : (B, F) torch.Tensor
            Input of the step.

        Returns
        -------
        (B, S) torch.Tensor
            :math:`s_t`.

        Raises
        ------
        InputShapeError
            If ``state`` is not ``(B, S)`` or ``x_t`` is not ``(B, F)``.

        Examples
        --------
        >>> import models, torch
        >>> model = models.build("gru", input_size=2, hidden_size=4, output_size=1)
        >>> s = model.step(model.initial_state(3), torch.ones(3, 2))
        >>> bool(torch.equal(s, model.hidden_states(torch.ones(3, 1, 2))[:, 0]))
        True
        """
        state, x_t = self._check_step(state, x_t)
        return self._step(state, x_t)

    def step_jacobian(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        r"""Jacobian :math:`\partial s_t / \partial s_{t-1}` of :meth:`step`, column convention.

        Analytic for every built-in kind (rnn, scornn, exprnn, nnrnn, nru, lstm and gru); a kind
        without its own formula falls back to ``torch.func.jacrev`` (vectorised over the batch).
        Where the step is not differentiable (a ReLU at 0, a norm at a clamp) the one-sided
        derivative is the one autograd uses, so the result equals ``torch.func.jacrev``'s.

        Parameters
        ----------
        state, x_t : torch.Tensor
            The point of differentiation: full states ``(B, S)`` and inputs ``(B, F)``, as
            for :meth:`step`.

        Returns
        -------
        (B, S, S) torch.Tensor
            ``J[b, i, j]`` is the derivative of entry ``i`` of the new state with respect to
            entry ``j`` of the old one. Detached.

        Raises
        ------
        InputShapeError
            If the shapes are not those :meth:`step` takes.

        Examples
        --------
        >>> import models, torch
        >>> rnn = models.build("rnn", input_size=1, hidden_size=3, output_size=1)
        >>> J = rnn.step_jacobian(rnn.initial_state(1), torch.zeros(1, 1))
        >>> bool(torch.allclose(J[0], rnn.recurrent_matrix()))
        True
        """
        return self._jacobians_at(state, x_t, inputs=False)[0]

    def input_jacobian(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        r"""Jacobian :math:`\partial s_t / \partial x_t` of :meth:`step`.

        Parameters
        ----------
        state, x_t : torch.Tensor
            The point of differentiation, as for :meth:`step_jacobian`.

        Returns
        -------
        (B, S, F) torch.Tensor
            Derivatives of the new state with respect to the step's input. Detached.

        Raises
        ------
        InputShapeError
            If the shapes are not those :meth:`step` takes.

        Examples
        --------
        >>> import models, torch
        >>> gru = models.build("gru", input_size=2, hidden_size=3, output_size=1)
        >>> tuple(gru.input_jacobian(gru.initial_state(1), torch.zeros(1, 2)).shape)
        (1, 3, 2)
        """
        J_x = self._jacobians_at(state, x_t, inputs=True)[1]
        assert J_x is not None
        return J_x

    def step_jacobian_factors(
        self, state: torch.Tensor, x_t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        r"""Return ``(d, W)`` with :math:`J = \operatorname{diag}(d)\, W`, where the step has it.

        A vanilla step :math:`h' = f(W h + U x + b)` (rnn, scornn, exprnn, nnrnn) has the
        Jacobian :math:`\operatorname{diag}(f'(a))\, W`; handing the factors on
        (:class:`spectra.RowScaled`) saves forming ``B`` matrices per step.

        Parameters
        ----------
        state, x_t : torch.Tensor
            The point of differentiation, as for :meth:`step_jacobian`.

        Returns
        -------
        (d, W) or None
            Slopes ``d`` ``(B, H)`` and the recurrent matrix ``W`` ``(H, H)``, detached, with
            ``step_jacobian(state, x_t)[b] == diag(d[b]) @ W``; ``None`` for lstm, gru and nru.

        Raises
        ------
        InputShapeError
            If the shapes are not those :meth:`step` takes.

        Examples
        --------
        >>> import models, torch
        >>> rnn = models.build("rnn", input_size=1, hidden_size=3, output_size=1)
        >>> d, W = rnn.step_jacobian_factors(rnn.initial_state(2), torch.ones(2, 1))
        >>> bool(torch.allclose(d[:, :, None] * W, rnn.step_jacobian(
        ...     rnn.initial_state(2), torch.ones(2, 1))))
        True
        """
        state, x_t = self._check_step(state, x_t)
        with torch.no_grad():
            return self._jacobian_factors(state.detach(), x_t.detach())

    # ------------------------------------------------------------------ hooks for subclasses
    def _step(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        """One step on checked ``(B, S)`` states and ``(B, F)`` inputs."""
        raise NotImplementedError

    def _jacobian_factors(
        self, state: torch.Tensor, x_t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``(d, W)`` with ``J = diag(d) W`` on checked inputs, or ``None`` (no such form)."""
        return None

    def _step_with_factors(
        self, state: torch.Tensor, x_t: torch.Tensor
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
        """Return the next state and the Jacobian factors at ``(state, x_t)`` (checked inputs).

        Vanilla kinds compute the pre-activation once for both.
        """
        return self._step(state, x_t), self._jacobian_factors(state, x_t)

    def _step_jacobians(
        self, state: torch.Tensor, x_t: torch.Tensor, *, inputs: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """State Jacobian ``(B, S, S)`` and, when ``inputs``, input Jacobian ``(B, S, F)``.

        The default differentiates :meth:`_step` with ``torch.func`` (vectorised over the batch).
        """

        def one(s: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            return self._step(s[None], x[None])[0]

        with torch.enable_grad():
            argnums = (0, 1) if inputs else 0
            out = torch.func.vmap(torch.func.jacrev(one, argnums=argnums))(state, x_t)
        if inputs:
            return out[0].detach(), out[1].detach()
        return out.detach(), None

    # ------------------------------------------------------------------ checks
    def _jacobians_at(
        self, state: torch.Tensor, x_t: torch.Tensor, *, inputs: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Check the point, then the detached Jacobians of :meth:`_step_jacobians`."""
        state, x_t = self._check_step(state, x_t)
        with torch.no_grad():
            return self._step_jacobians(state.detach(), x_t.detach(), inputs=inputs)

    def _check_step(
        self, state: torch.Tensor, x_t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        S, F = self.state_size, self.input_size
        if not isinstance(state, torch.Tensor) or state.dim() != 2 or state.shape[1] != S:
            shape = tuple(state.shape) if isinstance(state, torch.Tensor) else type(state).__name__
            raise InputShapeError(f"expected a state of shape (batch, {S}), got {shape}")
        if not isinstance(x_t, torch.Tensor) or tuple(x_t.shape) != (state.shape[0], F):
            shape = tuple(x_t.shape) if isinstance(x_t, torch.Tensor) else type(x_t).__name__
            raise InputShapeError(
                f"expected a step input of shape ({state.shape[0]}, {F}), got {shape}"
            )
        dtype = self.readout.weight.dtype
        return state.to(dtype), x_t.to(dtype)
