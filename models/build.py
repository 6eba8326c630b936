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

__all__ = [
    "KINDS",
    "MAX_PARAMETERS",
    "MAX_SEED",
    "build",
    "register_kind",
    "registered_kinds",
    "state_shapes",
    "unregister_kind",
]

_REGISTRY: dict[str, type[RecurrentModel]] = {
    cls.kind: cls for cls in (RNN, ScoRNN, ExpRNN, NNRNN, NRU, LSTM, GRU)
}
#: The built-in kinds; :func:`register_kind` adds others.
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


def register_kind(
    model_class: type[RecurrentModel], *, replace: bool = False
) -> type[RecurrentModel]:
    """Make a model class buildable by its ``kind``: :func:`build`, checkpoints, training.

    A new kind is one module with a :class:`~models.RecurrentModel` subclass (its ``kind``,
    ``OPTIONS``, ``_cell_shapes``, ``_compute_recurrent``, ``_run`` and ``_step``) and one
    entry in this module's registry, or this call. Saving, loading, training, ``rnnscope
    analyze``, ``attack`` and ``report`` then take it by name, with no change elsewhere. The
    call registers the kind in the current process only: report worker processes see the kinds
    registered when their modules are imported.

    Parameters
    ----------
    model_class : type
        A subclass of :class:`~models.RecurrentModel` with a non-empty ``kind``.
    replace : bool, optional
        Replace a registered class of the same kind.

    Returns
    -------
    type
        `model_class`, so that the call can decorate the class.

    Raises
    ------
    InvalidOptionError
        If `model_class` is not such a subclass, or its kind is taken (and `replace` is false).

    Examples
    --------
    >>> import models
    >>> from models.rnn import RNN
    >>> class Wide(RNN):
    ...     kind = "wide_example"
    >>> _ = register_kind(Wide)
    >>> build("wide_example", input_size=1, hidden_size=3, output_size=2).kind
    'wide_example'
    >>> unregister_kind("wide_example")
    """
    new = model_class
    if not (isinstance(new, type) and issubclass(new, RecurrentModel)):
        raise InvalidOptionError(f"a model kind must be a RecurrentModel subclass, got {new!r}")
    kind = new.kind
    if not isinstance(kind, str) or not kind.isidentifier():
        raise InvalidOptionError(f"{new.__name__}.kind must be an identifier, got {kind!r}")
    if kind in _REGISTRY and _REGISTRY[kind] is not new and not replace:
        raise InvalidOptionError(f"model kind {kind!r} is already registered")
    _REGISTRY[kind] = new
    return new


def unregister_kind(kind: str) -> None:
    """Remove a kind added by :func:`register_kind`.

    Parameters
    ----------
    kind : str
        Its name.

    Raises
    ------
    UnknownKindError
        If no such kind is registered, or it is a built-in kind.

    Examples
    --------
    >>> from models.rnn import RNN
    >>> class Narrow(RNN):
    ...     kind = "narrow_example"
    >>> _ = register_kind(Narrow)
    >>> unregister_kind("narrow_example")
    >>> "narrow_example" in registered_kinds()
    False
    """
    if kind in KINDS or kind not in _REGISTRY:
        raise UnknownKindError(f"no registered model kind {kind!r} to remove (built-in: {KINDS})")
    del _REGISTRY[kind]


def registered_kinds() -> tuple[str, ...]:
    """Every kind :func:`build` accepts: the built-in ones, then those registered.

    Returns
    -------
    tuple of str
        Kind names.

    Examples
    --------
    >>> registered_kinds()[:3]
    ('rnn', 'scornn', 'exprnn')
    """
    return tuple(_REGISTRY)


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
        raise UnknownKindError(f"unknown model kind {kind!r}; valid kinds: {', '.join(_REGISTRY)}")
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
