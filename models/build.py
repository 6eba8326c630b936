"""``models.build``: construct any model kind from its name, sizes, seed and options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models._options import _check_size, _validate
from models.base import RecurrentModel
from models.errors import InvalidOptionError, UnknownKindError
from models.gated import GRU, LSTM
from models.nnrnn import NNRNN
from models.nru import NRU
from models.orthogonal import ExpRNN, ScoRNN
from models.rnn import RNN

__all__ = ["KINDS", "build"]

_REGISTRY: dict[str, type[RecurrentModel]] = {
    cls.kind: cls for cls in (RNN, ScoRNN, ExpRNN, NNRNN, NRU, LSTM, GRU)
}
KINDS: tuple[str, ...] = tuple(_REGISTRY)


def build(
    kind: str,
    *,
    input_size: int,
    hidden_size: int,
    output_size: int,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> RecurrentModel:
    """Build a recurrent classifier.

    Parameters
    ----------
    kind : {"rnn", "scornn", "exprnn", "nnrnn", "nru", "lstm", "gru"}
        Model kind.
    input_size : int
        Number of input features ``F``.
    hidden_size : int
        Number of hidden units ``H``.
    output_size : int
        Number of logits ``C``.
    seed : int, default 0
        Seed of the local generator that draws the initial weights (the global random state is
        neither used nor changed).
    options : mapping, optional
        Options as stored in ``model.config["options"]``; merged with ``**kwargs`` (which win),
        so ``build(**model.config)`` rebuilds the same architecture.
    **kwargs
        Kind-specific options (see the model classes): ``readout`` ("last" or "all") for every
        kind; rnn: ``nonlinearity``, ``init``, ``scale``, ``alpha``, ``beta``, ``constrain``;
        scornn: ``rho``, ``init``; exprnn and nnrnn: ``init``; nru: ``memory_size``, ``heads``,
        ``use_relu``.

    Returns
    -------
    RecurrentModel
        Maps ``(B, T, F)`` float inputs to ``(B, C)`` (``readout="last"``) or ``(B, T, C)``
        logits.

    Raises
    ------
    UnknownKindError
        If ``kind`` is not a known kind (the message lists them).
    InvalidOptionError
        If a size or the seed is not a valid integer, an option name is unknown for ``kind``, or
        an option value is out of range.

    Examples
    --------
    >>> import models, torch
    >>> model = models.build("scornn", input_size=10, hidden_size=32, output_size=9,
    ...                      readout="all", rho=8)
    >>> model(torch.zeros(2, 20, 10)).shape
    torch.Size([2, 20, 9])
    >>> model.config["options"]["rho"]
    8
    """
    if kind not in _REGISTRY:
        raise UnknownKindError(f"unknown model kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    sizes = {
        "input_size": _check_size("input_size", input_size),
        "hidden_size": _check_size("hidden_size", hidden_size),
        "output_size": _check_size("output_size", output_size),
    }
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidOptionError(f"seed must be a non-negative integer, got {seed!r}")
    merged = {**(options or {}), **kwargs}
    cls = _REGISTRY[kind]
    validated = _validate(kind, cls.OPTIONS, merged, sizes)
    return cls(**sizes, seed=int(seed), options=validated)
