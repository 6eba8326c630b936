"""The :class:`RecurrentModel` base class shared by every model kind."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import torch
from torch import nn

from models._options import _Option
from models._uninitialized import uninitialized
from models.errors import InputShapeError, UnsupportedModelError
from models.one_step import OneStepMap

__all__ = ["RecurrentModel"]


class RecurrentModel(nn.Module, OneStepMap):
    """Recurrent classifier mapping ``(batch, time, features)`` inputs to logits.

    Subclasses implement one cell kind each; build them with :func:`models.build`. Matrices are
    reported in the column convention :math:`h_t = f(W h_{t-1} + U x_t + b)`. The one-step map
    and its Jacobians (``step``, ``step_jacobian``, ...) come from
    :class:`models.one_step.OneStepMap`.

    Parameters
    ----------
    input_size : int
        Number of input features ``F``.
    hidden_size : int
        Number of hidden units ``H``.
    output_size : int
        Number of logits ``C``.
    seed : int
        Seed of the local generator that draws every initial weight.
    options : dict
        Validated options, defaults filled in (see :func:`models.build`).

    Attributes
    ----------
    kind : str
        Model kind, e.g. ``"rnn"``.
    config : dict
        JSON-ready description; ``models.build(**model.config)`` rebuilds the same architecture.

    Examples
    --------
    >>> import models, torch
    >>> model = models.build("rnn", input_size=3, hidden_size=8, output_size=2)
    >>> model(torch.zeros(4, 5, 3)).shape
    torch.Size([4, 2])
    """

    kind: ClassVar[str] = ""
    OPTIONS: ClassVar[Mapping[str, _Option]] = {}
    PRINCIPAL: ClassVar[str] = "W"

    def __init__(
        self,
        *,
        input_size: int,
        hidden_size: int,
        output_size: int,
        seed: int,
        options: Mapping[str, Any],
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.seed = seed
        self._options = dict(options)
        self.readout_mode: str = self._options["readout"]
        self._override: torch.Tensor | None = None
        self._cache_depth = 0
        self._cached: torch.Tensor | None = None

    # ------------------------------------------------------------------ description
    @property
    def config(self) -> dict[str, Any]:
        """JSON-ready description: kind, sizes, seed and every option (defaults filled in)."""
        return {
            "kind": self.kind,
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "output_size": self.output_size,
            "seed": self.seed,
            "options": dict(self._options),
        }

    def extra_repr(self) -> str:
        """Describe the sizes and options, shown by ``repr(model)``.

        Returns
        -------
        str
            ``input_size=..., hidden_size=..., output_size=..., seed=...`` and the options.
        """
        options = ", ".join(f"{k}={v!r}" for k, v in self._options.items())
        return (
            f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"output_size={self.output_size}, seed={self.seed}, {options}"
        )

    def _generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed)

    # ------------------------------------------------------------------ hooks for subclasses
    def _compute_recurrent(self) -> torch.Tensor:
        """Principal recurrent matrix computed from the parameters (with autograd)."""
        raise NotImplementedError

    def _run(self, x: torch.Tensor, *, all_steps: bool) -> torch.Tensor:
        """Hidden states ``(B, T, H)`` when ``all_steps`` else the last one ``(B, H)``."""
        raise NotImplementedError

    def _blocks(self) -> dict[str, torch.Tensor]:
        """Square recurrent blocks (may carry autograd history)."""
        return {"W": self.recurrent_weight()}

    # ------------------------------------------------------------------ public API
    def recurrent_weight(self) -> torch.Tensor:
        """Principal recurrent matrix as used by :meth:`forward` (differentiable).

        Returns the override matrix inside :meth:`override_recurrent`, the cached matrix inside
        :meth:`parametrization_cache`, and otherwise computes it from the parameters.

        Returns
        -------
        (H, H) torch.Tensor
            The principal recurrent matrix :math:`W`.

        Examples
        --------
        >>> import models
        >>> model = models.build("exprnn", input_size=1, hidden_size=4, output_size=1)
        >>> model.recurrent_weight().shape
        torch.Size([4, 4])
        """
        if self._override is not None:
            return self._override
        if self._cache_depth > 0:
            if self._cached is None:
                self._cached = self._compute_recurrent()
            return self._cached
        return self._compute_recurrent()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a batch of sequences.

        Parameters
        ----------
        x : (B, T, F) torch.Tensor
            Float inputs, batch first.

        Returns
        -------
        (B, C) or (B, T, C) torch.Tensor
            Logits of the last step (``readout="last"``) or of every step (``readout="all"``).

        Raises
        ------
        InputShapeError
            If ``x`` is not 3-D with ``F = input_size`` features and at least one step.

        Examples
        --------
        >>> import models, torch
        >>> model = models.build("gru", input_size=2, hidden_size=4, output_size=3, readout="all")
        >>> model(torch.zeros(1, 6, 2)).shape
        torch.Size([1, 6, 3])
        """
        x = self._check_input(x)
        states = self._run(x, all_steps=self.readout_mode == "all")
        return self.readout(states)

    def hidden_states(self, x: torch.Tensor) -> torch.Tensor:
        r"""Hidden states at every step.

        Parameters
        ----------
        x : (B, T, F) torch.Tensor
            Float inputs, batch first.

        Returns
        -------
        (B, T, H) torch.Tensor
            :math:`h_1, \dots, h_T` (the initial state :math:`h_0 = 0` is not included).

        Raises
        ------
        InputShapeError
            If ``x`` has the wrong shape.

        Examples
        --------
        >>> import models, torch
        >>> model = models.build("rnn", input_size=1, hidden_size=4, output_size=1)
        >>> model.hidden_states(torch.zeros(2, 3, 1)).shape
        torch.Size([2, 3, 4])
        """
        return self._run(self._check_input(x), all_steps=True)

    def recurrent_matrices(self) -> dict[str, torch.Tensor]:
        """Square recurrent blocks, detached float32 copies, column convention.

        Returns
        -------
        dict of str to (H, H) torch.Tensor
            ``{"W"}`` for rnn, scornn, exprnn, nnrnn and nru (its h→h block);
            ``{"i", "f", "g", "o"}`` for lstm; ``{"r", "z", "n"}`` for gru. Inside
            :meth:`override_recurrent` the principal block is the override.

        Examples
        --------
        >>> import models
        >>> sorted(models.build("lstm", input_size=1, hidden_size=3, output_size=1)
        ...        .recurrent_matrices())
        ['f', 'g', 'i', 'o']
        """
        with torch.no_grad():
            return {k: _detached(v) for k, v in self._blocks().items()}

    def recurrent_matrix(self) -> torch.Tensor:
        """Principal recurrent block (``"W"``; ``"g"`` for lstm, ``"n"`` for gru).

        Returns
        -------
        (H, H) torch.Tensor
            Detached float32 copy.

        Examples
        --------
        >>> import models
        >>> models.build("rnn", input_size=1, hidden_size=3, output_size=1,
        ...              init="identity").recurrent_matrix()
        tensor([[1., 0., 0.],
                [0., 1., 0.],
                [0., 0., 1.]])
        """
        return self.recurrent_matrices()[self.PRINCIPAL]

    def orthogonal_parameters(self) -> list[nn.Parameter]:
        """Parameters of the orthogonal parametrisation (trained with their own learning rate).

        Returns
        -------
        list of torch.nn.Parameter
            ``[A]`` for scornn and exprnn, ``[log_P]`` for nnrnn, ``[]`` otherwise.

        Examples
        --------
        >>> import models
        >>> models.build("rnn", input_size=1, hidden_size=3, output_size=1).orthogonal_parameters()
        []
        """
        return []

    def after_step(self) -> None:
        """Run after every optimizer step (constrained models project their weights here).

        Examples
        --------
        >>> import models
        >>> models.build("rnn", input_size=1, hidden_size=3, output_size=1).after_step()
        """

    @contextmanager
    def parametrization_cache(self) -> Iterator[None]:
        """Compute the parametrised recurrent matrix once and reuse it in every forward.

        Callers must not change the parameters while inside (attacks freeze the model). Nested
        use is allowed; the cache is dropped when the outermost context exits.

        Yields
        ------
        None

        Examples
        --------
        >>> import models, torch
        >>> model = models.build("exprnn", input_size=1, hidden_size=4, output_size=1)
        >>> with model.parametrization_cache():
        ...     _ = model(torch.zeros(1, 3, 1)); _ = model(torch.zeros(1, 3, 1))
        """
        self._cache_depth += 1
        try:
            yield
        finally:
            self._cache_depth -= 1
            if self._cache_depth == 0:
                self._cached = None

    @contextmanager
    def override_recurrent(self, W: torch.Tensor) -> Iterator[None]:
        """Use ``W`` as the principal recurrent matrix inside the context.

        Parameters
        ----------
        W : (H, H) torch.Tensor
            Replacement matrix (column convention). Gradients flow into it.

        Yields
        ------
        None

        Raises
        ------
        InputShapeError
            If ``W`` is not ``(H, H)``.

        Examples
        --------
        >>> import models, torch
        >>> model = models.build("rnn", input_size=1, hidden_size=3, output_size=1)
        >>> with model.override_recurrent(torch.zeros(3, 3)):
        ...     float(model.recurrent_matrix().abs().sum())
        0.0
        """
        W = self._check_override(W)
        previous = self._override
        self._override = W
        try:
            yield
        finally:
            self._override = previous

    def lipschitz_parts(self) -> dict[str, Any]:
        """Matrices and nonlinearity of :math:`h_t = f(W h_{t-1} + U x_t + b)`, logits :math:`V h`.

        Returns
        -------
        dict
            ``{"U": (H, F), "W": (H, H), "V": (C, H), "nonlinearity": str,
            "modrelu_bias": (H,) tensor or None}``, detached float32 tensors.

        Raises
        ------
        UnsupportedModelError
            For kinds without this form (nru, lstm, gru).

        Examples
        --------
        >>> import models
        >>> model = models.build("scornn", input_size=2, hidden_size=4, output_size=3)
        >>> parts = model.lipschitz_parts()
        >>> parts["nonlinearity"], tuple(parts["U"].shape)
        ('modrelu', (4, 2))
        """
        raise UnsupportedModelError(
            f"lipschitz_parts is not defined for kind {self.kind!r}; "
            "supported kinds: rnn, scornn, exprnn, nnrnn"
        )

    # ------------------------------------------------------------------ shared helpers
    def _check_input(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[-1] != self.input_size:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise InputShapeError(
                f"expected inputs of shape (batch, time, {self.input_size}), got {shape}"
            )
        if x.shape[1] == 0:
            raise InputShapeError(f"expected at least one time step, got shape {tuple(x.shape)}")
        dtype = self.readout.weight.dtype
        return x if x.dtype == dtype else x.to(dtype)

    def _check_override(self, W: torch.Tensor) -> torch.Tensor:
        n = self.hidden_size
        if not isinstance(W, torch.Tensor) or tuple(W.shape) != (n, n):
            shape = tuple(W.shape) if isinstance(W, torch.Tensor) else type(W).__name__
            raise InputShapeError(f"expected a ({n}, {n}) recurrent matrix, got {shape}")
        return W.to(self.readout.weight.dtype)

    @classmethod
    def state_shapes(
        cls, *, input_size: int, hidden_size: int, output_size: int, options: Mapping[str, Any]
    ) -> dict[str, tuple[int, ...]]:
        """Shapes of the ``state_dict`` a model of these sizes and options has, without building it.

        Parameters
        ----------
        input_size, hidden_size, output_size : int
            Sizes ``F``, ``H`` and ``C``.
        options : mapping
            Validated options (defaults filled in), as in ``model.config["options"]``.

        Returns
        -------
        dict of str to tuple of int
            State-dict key to shape; equal to ``{k: tuple(v.shape) for k, v in
            model.state_dict().items()}`` of the built model.

        Examples
        --------
        >>> import models
        >>> models.build("rnn", input_size=2, hidden_size=3, output_size=4).state_shapes(
        ...     input_size=2, hidden_size=3, output_size=4, options={"nonlinearity": "tanh"})
        {'W': (3, 3), 'U': (3, 2), 'bias': (3,), 'readout.weight': (4, 3), 'readout.bias': (4,)}
        """
        shapes = cls._cell_shapes(input_size, hidden_size, options)
        return {
            **shapes,
            "readout.weight": (output_size, hidden_size),
            "readout.bias": (output_size,),
        }

    @classmethod
    def _cell_shapes(cls, F: int, H: int, options: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        """Shapes of the cell's state (everything but the readout)."""
        raise NotImplementedError

    def _make_readout(self, generator: torch.Generator) -> nn.Linear:
        return _linear(self.hidden_size, self.output_size, generator)


def _detached(tensor: torch.Tensor) -> torch.Tensor:
    """Return a detached float32 copy of ``tensor`` (how matrices leave a model)."""
    return tensor.detach().float().clone()


def _uniform_(tensor: torch.Tensor, bound: float, generator: torch.Generator) -> None:
    with torch.no_grad():
        tensor.copy_(
            (2.0 * torch.rand(tensor.shape, generator=generator) - 1.0).mul_(bound).to(tensor.dtype)
        )


def _linear(n_in: int, n_out: int, generator: torch.Generator) -> nn.Linear:
    """Build an ``nn.Linear`` with PyTorch's default initialisation drawn from ``generator``."""
    layer = uninitialized(nn.Linear, n_in, n_out)
    _uniform_linear(layer, generator)
    return layer


def _uniform_linear(linear: nn.Linear, generator: torch.Generator) -> None:
    """PyTorch's default ``nn.Linear`` initialisation, drawn from ``generator``."""
    bound = 1.0 / math.sqrt(linear.in_features)
    _uniform_(linear.weight, bound, generator)
    if linear.bias is not None:
        _uniform_(linear.bias, bound, generator)
