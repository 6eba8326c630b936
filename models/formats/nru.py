"""NRU checkpoints (Chandar et al., code apsarath/NRU, ``NRUCell``).

``NRU.save`` writes the plain state dict (``model.p``). Each layer
``<p>_list_of_modules.<k>.`` holds ``hmi2h`` (``Linear(input + H + M, H)``, applied to
``cat(x, h, m)`` in that order, column convention), the heads ``hm2alpha`` / ``hm2beta``
(``Linear(H + M, k)``) and ``hm2v_alpha`` / ``hm2v_beta`` (``Linear(H + M, 2√(Mk))``), and
optionally the layer norm ``_ln_h``. ``H`` is read from ``hmi2h.bias`` (or the weight's rows),
``M`` from the heads' input width ``H + M`` and ``input`` from the rest of ``hmi2h``'s columns.
The recurrent block is ``W = hmi2h.weight[:, input : input + H]``; the memory block
``hmi2h.weight[:, input + H :]`` (H × M) is reported in ``other_blocks``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from models.formats._common import (
    FormatError,
    Found,
    as_float,
    group_labels,
    layer_config,
    shape_str,
)

__all__ = ["recognise"]

_HMI2H = re.compile(r"^(?P<prefix>(?:.+\.)?)hmi2h\.weight$")
_LAYER = re.compile(r"^(?:.+\.)?_list_of_modules\.(?P<k>\d+)\.$")
_HEADS = ("hm2alpha", "hm2beta", "hm2v_alpha", "hm2v_beta")


def _labels(prefixes: list[str]) -> dict[str, str]:
    """Name the layers of a ``_list_of_modules`` stack ``l0.``, ``l1.``, ...; else as usual."""
    layers = {p: _LAYER.match(p) for p in prefixes}
    if len(prefixes) > 1 and all(layers.values()):
        indices = {p: m.group("k") for p, m in layers.items() if m}
        if len(set(indices.values())) == len(prefixes):
            return {p: f"l{k}." for p, k in indices.items()}
    return group_labels(prefixes)


def recognise(state: Mapping[str, torch.Tensor]) -> Found | None:
    """Recover the hidden-to-hidden block of every NRU layer.

    Parameters
    ----------
    state : mapping of str to torch.Tensor
        Flat state dict.

    Returns
    -------
    Found or None
        ``None`` when no NRU cell is present.

    Raises
    ------
    FormatError
        If the memory size cannot be inferred or the shapes are inconsistent.

    Examples
    --------
    >>> import torch
    >>> from models.formats import nru
    >>> state = {"hmi2h.weight": torch.arange(12.0).reshape(2, 6),  # input 1, hidden 2, memory 3
    ...          "hmi2h.bias": torch.zeros(2), "hm2alpha.weight": torch.zeros(1, 5)}
    >>> nru.recognise(state).matrices["W"].tolist()
    [[1.0, 2.0], [7.0, 8.0]]
    """
    prefixes = [m.group("prefix") for k in state if (m := _HMI2H.match(k))]
    prefixes = [p for p in prefixes if any(f"{p}{h}.weight" in state for h in _HEADS)]
    if not prefixes:
        return None
    found = Found("nru", kind="nru")
    labels = _labels(prefixes)
    layers: dict[str, dict[str, object]] = {}
    for prefix in prefixes:
        layers[labels[prefix] + "W"] = _recover(state, found, labels[prefix], prefix)
    found.config = layer_config(layers)
    return found


def _recover(
    state: Mapping[str, torch.Tensor], found: Found, label: str, prefix: str
) -> dict[str, object]:
    w_key, b_key = f"{prefix}hmi2h.weight", f"{prefix}hmi2h.bias"
    weight = as_float(state[w_key])
    if weight is None or weight.ndim != 2:
        raise FormatError(
            f"NRU key {w_key!r} must be a matrix, got {shape_str(state[w_key].shape)}"
        )
    hidden = int(state[b_key].shape[0]) if b_key in state else int(weight.shape[0])
    if hidden != weight.shape[0]:
        raise FormatError(
            f"NRU {b_key!r} has {hidden} entries but {w_key!r} has {weight.shape[0]} rows"
        )
    head_key = next(f"{prefix}{h}.weight" for h in _HEADS if f"{prefix}{h}.weight" in state)
    head = state[head_key]
    if head.ndim != 2:
        raise FormatError(f"NRU key {head_key!r} must be a matrix, got {shape_str(head.shape)}")
    memory = int(head.shape[1]) - hidden
    inputs = int(weight.shape[1]) - hidden - memory
    if memory < 1 or inputs < 1:
        raise FormatError(
            f"NRU shapes are inconsistent: {w_key!r} {shape_str(weight.shape)} and {head_key!r} "
            f"{shape_str(head.shape)} give hidden {hidden}, memory {memory}, input {inputs}"
        )
    for h in _HEADS:
        key = f"{prefix}{h}.weight"
        if key in state and (state[key].ndim != 2 or state[key].shape[1] != hidden + memory):
            raise FormatError(
                f"NRU key {key!r} has shape {shape_str(state[key].shape)}, expected "
                f"(·, {hidden + memory}) from {head_key!r}"
            )
    w = weight[:, inputs : inputs + hidden]
    block = weight[:, inputs + hidden :]
    note = f"input {inputs}, hidden {hidden}, memory {memory} (memory from {head_key})"
    ln_key = f"{prefix}_ln_h.weight"
    if ln_key in state:
        note += "; layer norm follows W h + … (W is the pre-normalisation block)"
    found.add(
        f"{label}W",
        w.clone(),
        keys=[w_key],
        formula=f"W = hmi2h.weight[:, {inputs}:{inputs + hidden}] (acts on h in cat(x, h, m))",
        note=note,
    )
    found.other_blocks[f"{label}memory"] = block.clone()
    found.claimed.update({head_key, b_key} & set(state))
    alpha_key = f"{prefix}hm2alpha.weight"
    return {
        "input_size": inputs,
        "hidden_size": hidden,
        "memory_size": memory,
        "heads": int(state[alpha_key].shape[0]) if alpha_key in state else None,
        "layer_norm": ln_key in state,
    }
