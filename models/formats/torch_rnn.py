"""State dicts of ``torch.nn.RNN``, ``nn.LSTM``, ``nn.GRU`` and their ``*Cell`` versions.

Keys ``<p>weight_hh_l<k>`` (and ``<p>weight_hh_l<k>_reverse`` for the reverse direction) hold the
gate blocks stacked along the rows, in the column convention ``W_hh @ h``: one block for
``nn.RNN`` (shape (H, H)), three for ``nn.GRU`` (r, z, n; (3H, H)) and four for ``nn.LSTM``
(i, f, g, o; (4H, H)). With ``proj_size`` the LSTM blocks are (H, P) and the recurrence goes
through ``weight_hr_l<k>``: those blocks are not square and are listed as skipped. A cell
(``nn.LSTMCell`` ...) stores ``<p>weight_hh`` next to ``<p>weight_ih``.

Names: ``l<k>`` per layer (``l<k>_reverse`` for the reverse direction, ``cell`` for a cell),
then ``.<gate>`` for LSTM/GRU gates, e.g. ``l0``, ``l1.g``, ``l0_reverse.n``. The module prefix
(``encoder.lstm.``) is kept only when the file holds several recurrent modules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from models.formats._common import Found, as_float, group_labels, shape_str

__all__ = ["recognise"]

_LAYER = re.compile(r"^(?P<prefix>(?:.+\.)?)weight_hh_l(?P<layer>\d+)(?P<rev>_reverse)?$")
_CELL = re.compile(r"^(?P<prefix>(?:.+\.)?)weight_hh$")

_GATES: dict[int, tuple[str, tuple[str, ...]]] = {
    1: ("rnn", ("W",)),
    3: ("gru", ("r", "z", "n")),
    4: ("lstm", ("i", "f", "g", "o")),
}
_PRINCIPAL = {"rnn": "W", "gru": "n", "lstm": "g"}


def _gates(shape: tuple[int, ...], projected: bool) -> int | None:
    if len(shape) != 2 or shape[1] == 0:
        return None
    rows, cols = shape
    if projected:
        return 4 if rows % 4 == 0 else None
    for g in (1, 3, 4):
        if rows == g * cols:
            return g
    return None


def recognise(state: Mapping[str, torch.Tensor]) -> Found | None:
    """Split every ``weight_hh`` of torch recurrent modules into square gate blocks.

    Parameters
    ----------
    state : mapping of str to torch.Tensor
        Flat state dict.

    Returns
    -------
    Found or None
        ``None`` when no ``weight_hh`` key is present. Blocks that cannot be analysed (non-square,
        unknown gate count) are listed in ``skipped``.

    Examples
    --------
    >>> import torch
    >>> from models.formats import torch_rnn
    >>> found = torch_rnn.recognise(torch.nn.GRU(2, 3).state_dict())
    >>> list(found.matrices), found.principal
    (['l0.r', 'l0.z', 'l0.n'], 'l0.n')
    """
    entries: list[tuple[str, str, str]] = []  # (prefix, layer label, key)
    for key in state:
        if m := _LAYER.match(key):
            layer = f"l{m.group('layer')}{m.group('rev') or ''}"
            entries.append((m.group("prefix"), layer, key))
        elif (m := _CELL.match(key)) and f"{m.group('prefix')}weight_ih" in state:
            entries.append((m.group("prefix"), "cell", key))
    if not entries:
        return None
    labels = group_labels(p for p, _, _ in entries)
    modules: dict[str, dict[str, object]] = {}
    found: Found | None = None
    for prefix, layer, key in entries:
        weight = state[key]
        hr_key = key.replace("weight_hh", "weight_hr")
        projected = hr_key in state
        gates = _gates(tuple(weight.shape), projected)
        base = f"{labels[prefix]}{layer}"
        if gates is None:
            if found is None:
                found = Found("torch-rnn")
            found.skipped[base] = (
                f"{key} has shape {shape_str(weight.shape)}, not (G·H, H) for G = 1, 3 or 4"
            )
            found.claimed.add(key)
            continue
        kind, names = _GATES[gates]
        if found is None:
            found = Found(f"torch-{kind}", kind=kind)
        elif found.kind is None:
            found.format, found.kind = f"torch-{kind}", kind
        info = modules.setdefault(
            prefix.rstrip("."),
            {"kind": kind, "hidden_size": int(weight.shape[0]) // gates, "layers": []},
        )
        info["layers"].append(layer)  # type: ignore[union-attr]
        _split(found, state, key, base, kind, names, hr_key if projected else None)
    assert found is not None
    if found.kind in ("lstm", "gru"):
        suffix = "." + _PRINCIPAL[found.kind]
        found.principal = next((n for n in found.matrices if n.endswith(suffix)), found.principal)
    found.config = {"modules": modules}
    return found


def _split(
    found: Found,
    state: Mapping[str, torch.Tensor],
    key: str,
    base: str,
    kind: str,
    names: tuple[str, ...],
    hr_key: str | None,
) -> None:
    weight = as_float(state[key])
    found.claimed.add(key)
    rows = int(state[key].shape[0])
    h = rows // len(names)
    for i, gate in enumerate(names):
        name = base if kind == "rnn" else f"{base}.{gate}"
        rng = f"[{i * h}:{(i + 1) * h}, :]" if kind != "rnn" else ""
        if weight is None:
            found.skipped[name] = f"{key} has non-numeric dtype {state[key].dtype}"
            continue
        block = weight[i * h : (i + 1) * h, :]
        if hr_key is not None:
            found.claimed.add(hr_key)
            found.skipped[name] = (
                f"non-square gate block {shape_str(block.shape)} of {key}: LSTM with "
                f"proj_size={block.shape[1]}, the recurrence goes through {hr_key}"
            )
            continue
        order = ", ".join(names)
        what = "W" if kind == "rnn" else f"W_{gate}"
        gate_text = "" if kind == "rnn" else f" (torch {kind.upper()} gate order {order})"
        found.add(
            name,
            block.clone(),
            keys=[key],
            formula=f"{what} = {key}{rng}{gate_text}, column convention W·h",
        )
