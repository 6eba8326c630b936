"""Recognisers for checkpoints written by other code bases.

Each module reads one family of state dicts and recovers the recurrent matrices in the column
convention ``h_t = f(W h_{t-1} + ...)``:

* :mod:`models.formats.exprnn`: expRNN / dtriv (``recurrent_kernel.A``, ``base``, ``_B``);
* :mod:`models.formats.nnrnn`: nnRNN (``P``, ``UppT``, ``theta_k``, ``alpha_k``);
* :mod:`models.formats.nru`: NRU (``hmi2h.weight`` and its heads);
* :mod:`models.formats.torch_rnn`: ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` and their cells;
* :mod:`models.formats.matrix`: bare matrices and tensors named with ``matrix=``.

Users reach them through :func:`models.load`. Before any tensor is read, the file must be a
regular file, its headers must not declare more data than it holds, and its sizes must fit the
limits of :mod:`models.formats._limits`: no matrix with both sides above ``max_size``
(:data:`DEFAULT_MAX_SIZE` = 4096, as the analysis of an N×N matrix is O(N³)) and at most
``128·max_size²`` bytes in all (2 GiB at the default); a nesting of mappings and lists at most
100 levels deep. Violations raise :class:`FormatError` or its subclasses
:class:`SizeLimitError` and :class:`NotRegularFileError`, which are
:class:`models.errors.ModelsError` and :class:`ValueError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import torch

from models.formats import exprnn, matrix, nnrnn, nru, torch_rnn
from models.formats._common import FormatError, Found, nonfinite_count
from models.formats._limits import DEFAULT_MAX_SIZE, NotRegularFileError, SizeLimitError

__all__ = [
    "DEFAULT_MAX_SIZE",
    "RECOGNISERS",
    "FormatError",
    "Found",
    "NotRegularFileError",
    "SizeLimitError",
    "matrix",
    "recognise",
]

#: Recognisers tried in order; the first one that matches gives the format.
RECOGNISERS: tuple[Callable[[Mapping[str, torch.Tensor]], Found | None], ...] = (
    exprnn.recognise,
    nnrnn.recognise,
    nru.recognise,
    torch_rnn.recognise,
)

_RECURRENT_HINT = re.compile(r"(weight_hh|recurrent|(^|[._])hh($|[._])|(^|[._])rec($|[._]))", re.I)


def recognise(state: Mapping[str, torch.Tensor], *, prefix: str = "") -> Found | None:
    """Run every recogniser on a flat state dict and merge what they report.

    Parameters
    ----------
    state : mapping of str to torch.Tensor
        Flat state dict (keys relative to ``prefix``).
    prefix : str, optional
        Key prefix of the state dict inside its file; prepended to the source keys.

    Returns
    -------
    Found or None
        The first matching format. Blocks that a second recogniser also claims, square tensors
        whose names suggest a recurrent matrix but that no recogniser used, and matrices with
        NaN or Inf entries are listed in ``skipped`` with the reason. ``None`` when nothing
        matches.

    Raises
    ------
    FormatError
        If a recognised block has inconsistent shapes or missing keys.

    Examples
    --------
    >>> import torch
    >>> from models import formats
    >>> state = {f"rnn.{k}": v for k, v in torch.nn.LSTM(2, 3).state_dict().items()}
    >>> found = formats.recognise(state, prefix="state_dict.")
    >>> found.format, found.principal, found.source_keys["l0.g"]
    ('torch-lstm', 'l0.g', ['state_dict.rnn.weight_hh_l0'])
    """
    results = [found for rec in RECOGNISERS if (found := rec(state)) is not None]
    if not results:
        return None
    primary = results[0]
    for other in results[1:]:
        for name, keys in other.source_keys.items():
            primary.skipped[f"{other.format}:{name}"] = (
                f"also recognised as {other.format} ({', '.join(prefix + k for k in keys[:3])}"
                f"{', …' if len(keys) > 3 else ''}); load it with matrix= to analyse it"
            )
        for name, reason in other.skipped.items():
            primary.skipped[f"{other.format}:{name}"] = reason
        primary.claimed |= other.claimed
    for key, tensor in state.items():
        if key in primary.claimed or not _RECURRENT_HINT.search(key):
            continue
        if tensor.ndim == 2 and tensor.shape[0] == tensor.shape[1]:
            primary.skipped[prefix + key] = (
                "square tensor with a recurrent-looking name outside any recognised block; "
                "analyse it with matrix="
            )
    for name in list(primary.matrices):
        bad = nonfinite_count(primary.matrices[name])
        if bad:
            sources = ", ".join(prefix + k for k in primary.source_keys[name][:3])
            primary.skipped[name] = f"{bad} non-finite value(s) (NaN or Inf) from {sources}"
            del primary.matrices[name], primary.formulas[name], primary.source_keys[name]
            primary.notes.pop(name, None)
    if primary.principal not in primary.matrices:
        primary.principal = next(iter(primary.matrices), None)
    primary.source_keys = {n: [prefix + k for k in keys] for n, keys in primary.source_keys.items()}
    return primary
