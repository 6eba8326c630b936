"""``models.build``: construct any model kind from its name, sizes, seed and options."""

from __future__ import annotations

import math
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

__all__ = ["KINDS", "MAX_PARAMETERS", "MAX_SEED", "build", "state_shapes"]

_REGISTRY: dict[str, type[RecurrentModel]] = {
    cls.kind: cls for cls in (RNN, ScoRNN, ExpRNN, NNRNN, NRU, LSTM, GRU)
}
KINDS: tuple[str, ...] = tuple(_REGISTRY)

#: Most parameters (state-dict elements) a model may have: 2**30, 4 GiB in float32. A larger
#: model is refused before anything is allocated; raise this module attribute to allow one
#: (``sys.modules["models.build"].MAX_PARAMETERS``: ``models.build`` names the function).
MAX_PARAMETERS = 2**30
#: Largest seed (torch generators take 64-bit seeds).
MAX_SEED = 2**64 - 1


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
        If a size or the seed is not a valid integer (seeds go up to ``2**64 - 1``), an option
        name is unknown for ``kind``, an option value is out of range, or the model would have
        more than :data:`MAX_PARAMETERS` parameters (checked before anything is allocated).

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
    cls, sizes, seed, validated = _validated(
        kind, input_size, hidden_size, output_size, seed, {**(options or {}), **kwargs}
    )
    _check_parameters(kind, sizes, cls.state_shapes(**sizes, options=validated))
    return cls(**sizes, seed=seed, options=validated)


def state_shapes(
    kind: str,
    *,
    input_size: int,
    hidden_size: int,
    output_size: int,
    options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, tuple[int, ...]]:
    """Shapes of the ``state_dict`` of ``build(kind, ...)``, computed without building it.

    Checkpoint readers compare these with the stored tensors before they allocate a model, and
    :func:`build` compares their total with :data:`MAX_PARAMETERS`.

    Parameters
    ----------
    kind : str
        Model kind (see :func:`build`).
    input_size, hidden_size, output_size : int
        Sizes, as for :func:`build`.
    options : mapping, optional
        Options, merged with ``**kwargs`` as in :func:`build`.
    **kwargs
        Kind-specific options.

    Returns
    -------
    dict of str to tuple of int
        State-dict key to shape.

    Raises
    ------
    UnknownKindError, InvalidOptionError
        As :func:`build` (the size limit excepted).

    Examples
    --------
    >>> state_shapes("lstm", input_size=3, hidden_size=1000, output_size=2)["rnn.weight_hh_l0"]
    (4000, 1000)
    """
    cls, sizes, _, validated = _validated(
        kind, input_size, hidden_size, output_size, 0, {**(options or {}), **kwargs}
    )
    return cls.state_shapes(**sizes, options=validated)


def _validated(
    kind: Any,
    input_size: Any,
    hidden_size: Any,
    output_size: Any,
    seed: Any,
    given: Mapping[str, Any],
) -> tuple[type[RecurrentModel], dict[str, int], int, dict[str, Any]]:
    if not isinstance(kind, str) or kind not in _REGISTRY:
        raise UnknownKindError(f"unknown model kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    sizes = {
        "input_size": _check_size("input_size", input_size),
        "hidden_size": _check_size("hidden_size", hidden_size),
        "output_size": _check_size("output_size", output_size),
    }
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InvalidOptionError(
            f"seed must be a non-negative integer at most 2**64 - 1, got {seed!r}"
        )
    cls = _REGISTRY[kind]
    return cls, sizes, int(seed), _validate(kind, cls.OPTIONS, given, sizes)


def _check_parameters(
    kind: str, sizes: Mapping[str, int], shapes: Mapping[str, tuple[int, ...]]
) -> None:
    total = sum(math.prod(shape) for shape in shapes.values())
    if total > MAX_PARAMETERS:
        described = ", ".join(f"{k}={v}" for k, v in sizes.items())
        raise InvalidOptionError(
            f"model too large: kind {kind!r} with {described} has {total:.3g} parameters "
            f"({4 * total / 2**30:.3g} GiB in float32), above the limit of "
            f"{MAX_PARAMETERS:.3g} (MAX_PARAMETERS of the models.build module)"
        )
