"""Multi-layer ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` weights run through rnnscope's own kinds."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from models.base import RecurrentModel
from models.build import build
from models.errors import CheckpointError, InputShapeError, UnsupportedModelError

__all__ = ["TorchStack", "from_torch", "load_torch"]

_KEY = re.compile(r"^(?P<prefix>(?:.+\.)?)weight_hh_l(?P<layer>\d+)(?P<rev>_reverse)?$")
_GATES = {1: "rnn", 3: "gru", 4: "lstm"}


class TorchStack(nn.Module):
    """Stacked layers of one kind; the full state is every layer's state, first layer first.

    Build it with :func:`from_torch`. Layer ``l`` reads the new hidden state of layer ``l - 1``
    at the same step, as ``torch.nn.RNN`` does, so :meth:`step_jacobian` is block lower
    triangular through the input Jacobians of the upper layers.

    Attributes
    ----------
    kind : str
        ``"rnn"``, ``"lstm"`` or ``"gru"``.
    layers : torch.nn.ModuleList
        One rnnscope model per layer.
    input_size, hidden_size : int
        Features of the first layer and units per layer.
    """

    kind: ClassVar[str] = "stack"

    def __init__(self, layers: list[RecurrentModel]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.kind = layers[0].kind  # type: ignore[misc]
        self.input_size = layers[0].input_size
        self.hidden_size = layers[0].hidden_size

    @property
    def state_size(self) -> int:
        """Sum of the layers' full state sizes."""
        return sum(layer.state_size for layer in self.layers)

    def _sizes(self) -> list[int]:
        return [layer.state_size for layer in self.layers]

    def initial_state(self, batch_size: int) -> torch.Tensor:
        """Zero full state ``(B, S)``.

        Parameters
        ----------
        batch_size : int
            Number of states.

        Returns
        -------
        (B, S) torch.Tensor
            The zero state of every layer, stacked.
        """
        return torch.cat([layer.initial_state(batch_size) for layer in self.layers], dim=1)

    def _check(self, state: torch.Tensor, x_t: torch.Tensor) -> None:
        S = self.state_size
        if not isinstance(state, torch.Tensor) or state.dim() != 2 or state.shape[1] != S:
            shape = tuple(state.shape) if isinstance(state, torch.Tensor) else type(state).__name__
            raise InputShapeError(f"expected a state of shape (batch, {S}), got {shape}")
        if not isinstance(x_t, torch.Tensor) or tuple(x_t.shape) != (
            state.shape[0],
            self.input_size,
        ):
            shape = tuple(x_t.shape) if isinstance(x_t, torch.Tensor) else type(x_t).__name__
            raise InputShapeError(
                f"expected a step input of shape ({state.shape[0]}, {self.input_size}), got {shape}"
            )

    def step(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        """One step of every layer (see :meth:`models.RecurrentModel.step`).

        Parameters
        ----------
        state : (B, S) torch.Tensor
            Stacked layer states.
        x_t : (B, F) torch.Tensor
            Input of the first layer.

        Returns
        -------
        (B, S) torch.Tensor
            The next state.
        """
        self._check(state, x_t)
        out, inp = [], x_t
        for layer, s in zip(self.layers, state.split(self._sizes(), dim=1), strict=True):
            s = layer.step(s, inp)
            out.append(s)
            inp = s[:, : self.hidden_size]
        return torch.cat(out, dim=1)

    def step_jacobian(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        """Jacobian ``(B, S, S)`` of :meth:`step`, column convention, analytic per layer.

        Parameters
        ----------
        state : (B, S) torch.Tensor
            Stacked layer states.
        x_t : (B, F) torch.Tensor
            Input of the first layer.

        Returns
        -------
        (B, S, S) torch.Tensor
            Jacobian of the next state with respect to the state (column convention).
        """
        self._check(state, x_t)
        B, S, H = state.shape[0], self.state_size, self.hidden_size
        J = state.new_zeros(B, S, S)
        inp, offset, previous = x_t, 0, None
        with torch.no_grad():
            for layer, s in zip(self.layers, state.split(self._sizes(), dim=1), strict=True):
                n = layer.state_size
                rows = slice(offset, offset + n)
                J[:, rows, rows] = layer.step_jacobian(s, inp)
                if previous is not None:
                    # the input of this layer is the new h of the layer below
                    J[:, rows] += layer.input_jacobian(s, inp) @ J[:, previous : previous + H]
                s_new = layer.step(s, inp)
                inp, previous, offset = s_new[:, :H], offset, offset + n
        return J

    def hidden_states(self, x: torch.Tensor) -> torch.Tensor:
        """Hidden states of the top layer ``(B, T, H)``, as ``torch.nn.RNN``'s output.

        Parameters
        ----------
        x : (B, T, F) torch.Tensor
            Inputs, batch first.

        Returns
        -------
        (B, T, H) torch.Tensor
            Hidden states at every step.
        """
        out = x
        for layer in self.layers:
            out = layer.hidden_states(out)
        return out

    @contextmanager
    def parametrization_cache(self) -> Any:
        """Enter every layer's cache (see :meth:`models.RecurrentModel.parametrization_cache`).

        Yields
        ------
        None
        """
        with ExitStack() as stack:
            for layer in self.layers:
                stack.enter_context(layer.parametrization_cache())
            yield


def from_torch(
    source: nn.Module | Mapping[str, torch.Tensor],
    *,
    nonlinearity: str | None = None,
    prefix: str | None = None,
) -> TorchStack:
    r"""Run the weights of a ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` (every layer) as rnnscope kinds.

    Parameters
    ----------
    source : torch.nn.RNNBase or mapping of str to torch.Tensor
        The module, or its state dict (keys ``<prefix>weight_ih_l<k>``, ``weight_hh_l<k>`` and
        the biases).
    nonlinearity : {"tanh", "relu"}, optional
        Of an ``nn.RNN`` (read from the module; a state dict does not store it: default tanh).
    prefix : str, optional
        Key prefix when the state dict holds more than one recurrent module.

    Returns
    -------
    TorchStack
        ``step``, ``step_jacobian`` and ``hidden_states`` on the stacked state; the last layer's
        outputs equal the module's (exactly for lstm and gru; for rnn the two biases are summed,
        which changes the last bit).

    Raises
    ------
    CheckpointError
        If no layer is found, a key is missing, or shapes disagree.
    UnsupportedModelError
        For bidirectional layers, projections (``proj_size``) or missing biases.

    Examples
    --------
    >>> import torch
    >>> lstm = torch.nn.LSTM(2, 4, num_layers=2, batch_first=True)
    >>> stack = from_torch(lstm)
    >>> stack.kind, stack.state_size
    ('lstm', 16)
    """
    if isinstance(source, nn.RNNBase):
        if source.bidirectional or getattr(source, "proj_size", 0):
            raise UnsupportedModelError("bidirectional layers and projections are not supported")
        if nonlinearity is None:
            nonlinearity = getattr(source, "nonlinearity", "tanh")
        state = {k: v.detach() for k, v in source.state_dict().items()}
    elif isinstance(source, Mapping):
        state = dict(source)
    else:
        raise UnsupportedModelError(
            f"expected a torch recurrent module or its state dict, got {type(source).__name__}"
        )
    found: dict[str, set[int]] = {}
    for key in state:
        match = _KEY.match(key)
        if match is None or (prefix is not None and match["prefix"] != prefix):
            continue
        if match["rev"]:
            raise UnsupportedModelError(f"bidirectional layers are not supported ({key})")
        found.setdefault(match["prefix"], set()).add(int(match["layer"]))
    if not found:
        raise CheckpointError("no weight_hh_l<k> key found: not a torch RNN/LSTM/GRU state dict")
    if len(found) > 1:
        names = ", ".join(repr(p) for p in sorted(found))
        raise CheckpointError(f"several recurrent modules found ({names}); pass prefix=")
    p, layers = found.popitem()
    if sorted(layers) != list(range(len(layers))):
        raise CheckpointError(f"layers {sorted(layers)} are not numbered 0..{len(layers) - 1}")
    models_: list[RecurrentModel] = []
    for k in range(len(layers)):
        models_.append(_layer(state, p, k, nonlinearity or "tanh"))
        if k and models_[k].input_size != models_[0].hidden_size:
            raise CheckpointError(
                f"layer {k} reads {models_[k].input_size} features, expected "
                f"{models_[0].hidden_size}"
            )
    return TorchStack(models_)


def _get(state: Mapping[str, torch.Tensor], key: str) -> torch.Tensor:
    if key not in state:
        raise UnsupportedModelError(f"missing {key} (layers without biases are not supported)")
    value = state[key]
    if not isinstance(value, torch.Tensor) or not value.dtype.is_floating_point:
        raise CheckpointError(f"{key} is not a floating-point tensor")
    return value.detach()


def _layer(state: Mapping[str, torch.Tensor], p: str, k: int, nonlinearity: str) -> RecurrentModel:
    if f"{p}weight_hr_l{k}" in state:
        raise UnsupportedModelError(f"projections are not supported ({p}weight_hr_l{k})")
    W_hh = _get(state, f"{p}weight_hh_l{k}")
    W_ih = _get(state, f"{p}weight_ih_l{k}")
    b_ih = _get(state, f"{p}bias_ih_l{k}")
    b_hh = _get(state, f"{p}bias_hh_l{k}")
    H = W_hh.shape[1] if W_hh.dim() == 2 else 0
    gates = W_hh.shape[0] // H if H and W_hh.shape[0] % H == 0 else 0
    if W_hh.dim() != 2 or gates not in _GATES or W_ih.dim() != 2 or W_ih.shape[0] != W_hh.shape[0]:
        raise CheckpointError(
            f"layer {k}: weight_hh {tuple(W_hh.shape)} and weight_ih {tuple(W_ih.shape)} are not "
            "those of an RNN, GRU or LSTM layer"
        )
    if tuple(b_ih.shape) != (W_hh.shape[0],) or tuple(b_hh.shape) != (W_hh.shape[0],):
        raise CheckpointError(f"layer {k}: biases do not match weight_hh {tuple(W_hh.shape)}")
    kind = _GATES[gates]
    options: dict[str, Any] = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
    model = build(kind, input_size=W_ih.shape[1], hidden_size=H, output_size=1, **options)
    model = model.to(W_hh.dtype)
    with torch.no_grad():
        if kind == "rnn":
            model.W.copy_(W_hh)
            model.U.copy_(W_ih)
            model.bias.copy_(b_ih + b_hh)
        else:
            model.rnn.weight_hh_l0.copy_(W_hh)
            model.rnn.weight_ih_l0.copy_(W_ih)
            model.rnn.bias_ih_l0.copy_(b_ih)
            model.rnn.bias_hh_l0.copy_(b_hh)
    return model.eval()


def load_torch(
    path: str | os.PathLike[str], *, nonlinearity: str | None = None, prefix: str | None = None
) -> TorchStack:
    """Read a ``torch.save``-d (or safetensors) ``nn.RNN`` / ``LSTM`` / ``GRU`` state dict.

    The file is read as :func:`models.load` reads it (tensors only, never unpickled beyond
    them, sizes checked first), then passed to :func:`from_torch`.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    nonlinearity : {"tanh", "relu"}, optional
        Of an ``nn.RNN`` (not stored in a state dict; default tanh).
    prefix : str, optional
        Key prefix when the file holds several recurrent modules.

    Returns
    -------
    TorchStack
        The layers as one model with a one-step map.

    Raises
    ------
    CheckpointError
        If the file cannot be read or holds no torch recurrent layer.
    UnsupportedModelError
        For bidirectional layers, projections or missing biases.

    Examples
    --------
    >>> import os, tempfile, torch
    >>> path = os.path.join(tempfile.mkdtemp(), "gru.pt")
    >>> torch.save(torch.nn.GRU(2, 3, num_layers=2).state_dict(), path)
    >>> load_torch(path).state_size
    6
    """
    from models.formats import FormatError, _files

    source = Path(path)
    try:
        contents = _files.read(source)
    except (FormatError, OSError) as err:
        raise CheckpointError(f"{source}: {err}") from None
    try:
        return from_torch(contents.state, nonlinearity=nonlinearity, prefix=prefix)
    except CheckpointError as err:
        raise CheckpointError(f"{source}: {err}") from None
