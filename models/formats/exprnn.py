r"""expRNN / dtriv checkpoints (Lezcano-Casado & Martínez-Rubio).

Two layouts are recognised.

* Current code (``Parametrization`` / ``Orthogonal``): keys ``<p>recurrent_kernel.A`` (or the
  older ``._A``), ``<p>recurrent_kernel.base`` and, only when a forward pass ran after the last
  optimiser step, the cached ``<p>recurrent_kernel._B``. The layer computes ``h @ B`` with
  :math:`B = \mathrm{base}\,\phi(S)`, :math:`S = \mathrm{triu}(A, 1) - \mathrm{triu}(A, 1)^T`
  and :math:`\phi` the matrix exponential (``exprnn``/``dtriv`` modes) or the Cayley map
  :math:`(I + S)^{-1}(I - S)` (``cayley`` mode). In the column convention :math:`W = B^T`.
  ``B`` is recomputed from ``A`` and ``base``; when ``_B`` is present the map that reproduces
  it is chosen and the difference is reported.
* Older code (also copied into the nnRNN repository): ``<p>log_recurrent_kernel`` with the
  orthogonal ``<p>recurrent_kernel`` it is mapped to (or ``log_orthogonal_kernel`` /
  ``orthogonal_kernel``), ``h @ expm(S)``, so again :math:`W = \exp(S)^T`.
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
    square_matrix,
)
from models.maps import cayley, skew

__all__ = ["recognise"]

_NEW = re.compile(r"^(?P<prefix>(?:.+\.)?)recurrent_kernel\.(?P<a>_?A)$")
_OLD = re.compile(r"^(?P<prefix>(?:.+\.)?)log_(?P<kernel>recurrent_kernel|orthogonal_kernel)$")

#: Relative tolerance for deciding that the cached ``_B`` agrees with a recomputed map.
_CACHE_RTOL = 1e-4


def recognise(state: Mapping[str, torch.Tensor]) -> Found | None:
    """Recover ``W`` from expRNN / dtriv state dicts.

    Parameters
    ----------
    state : mapping of str to torch.Tensor
        Flat state dict.

    Returns
    -------
    Found or None
        ``None`` when no expRNN key is present.

    Raises
    ------
    FormatError
        If an expRNN block has inconsistent shapes.

    Examples
    --------
    >>> import torch
    >>> from models.formats import exprnn
    >>> state = {"rnn.recurrent_kernel.A": torch.zeros(3, 3),
    ...          "rnn.recurrent_kernel.base": torch.eye(3)}
    >>> found = exprnn.recognise(state)
    >>> found.format, torch.equal(found.matrices["W"], torch.eye(3))
    ('exprnn', True)
    """
    new = [(m.group("prefix"), m.group("a")) for k in state if (m := _NEW.match(k))]
    old = [
        (m.group("prefix"), m.group("kernel"))
        for k in state
        if (m := _OLD.match(k)) and m.group("prefix") + m.group("kernel") in state
    ]
    if not new and not old:
        return None
    found = Found("exprnn", kind="exprnn")
    labels = group_labels([p for p, _ in new] + [p for p, _ in old])
    layers: dict[str, dict[str, object]] = {}
    for prefix, a_name in new:
        name = labels[prefix] + "W"
        _recover_new(state, found, name, prefix, a_name, layers)
    for prefix, kernel in old:
        name = labels[prefix] + "W"
        _recover_old(state, found, name, prefix, kernel, layers)
    found.config = layer_config(layers)
    return found


def _recover_new(
    state: Mapping[str, torch.Tensor],
    found: Found,
    name: str,
    prefix: str,
    a_name: str,
    layers: dict[str, dict[str, object]],
) -> None:
    base_key = f"{prefix}recurrent_kernel.base"
    a_key = f"{prefix}recurrent_kernel.{a_name}"
    cache_key = f"{prefix}recurrent_kernel._B"
    a = square_matrix("expRNN", a_key, state[a_key])
    dtype = a.dtype
    n = a.shape[0]
    keys = [a_key]
    if base_key in state:
        base = square_matrix("expRNN", base_key, state[base_key])
        if base.shape != a.shape:
            raise FormatError(
                f"expRNN base {shape_str(base.shape)} does not match A {shape_str(a.shape)}"
            )
        keys.append(base_key)
        base_desc = "base"
    else:
        base = torch.eye(n, dtype=dtype)
        base_desc = "I"
    s = skew(a.double())
    b_exp = base.double() @ torch.linalg.matrix_exp(s)
    chosen, map_name = b_exp, "expm"
    formula = f"W = ({base_desc}·expm(triu(A,1) − triu(A,1)ᵀ))ᵀ"
    note = "recomputed from A" + (" and base" if base_desc == "base" else " (no base stored: I)")
    difference: float | None = None
    if cache_key in state:
        cache = as_float(state[cache_key])
        keys.append(cache_key)
        if cache is None or cache.shape != a.shape:
            note += f"; cached _B ignored (shape {shape_str(state[cache_key].shape)})"
        else:
            cache = cache.double()
            scale = max(1.0, float(cache.abs().max()))
            difference = float((b_exp - cache).abs().max())
            if difference > _CACHE_RTOL * scale:
                b_cay = base.double() @ cayley(s)
                cay_difference = float((b_cay - cache).abs().max())
                if cay_difference <= _CACHE_RTOL * scale:
                    chosen, map_name, difference = b_cay, "cayley", cay_difference
                    formula = f"W = ({base_desc}·(I + S)⁻¹(I − S))ᵀ, S = triu(A,1) − triu(A,1)ᵀ"
                    note += "; the cached _B matches the Cayley map (cayley mode), not expm"
                else:
                    note += (
                        "; the cached _B differs (stale cache: a step ran after the last forward)"
                    )
            note += f"; max |B − _B| = {difference:.3g}"
    found.add(name, chosen.T.to(dtype), keys=keys, formula=formula, note=note)
    layers[name] = {
        "hidden_size": n,
        "map": map_name,
        "base": "stored" if base_desc == "base" else "identity",
        "cached_difference": difference,
    }


def _recover_old(
    state: Mapping[str, torch.Tensor],
    found: Found,
    name: str,
    prefix: str,
    kernel: str,
    layers: dict[str, dict[str, object]],
) -> None:
    log_key = f"{prefix}log_{kernel}"
    kernel_key = f"{prefix}{kernel}"
    log = square_matrix("expRNN", log_key, state[log_key])
    stored = square_matrix("expRNN", kernel_key, state[kernel_key])
    if stored.shape != log.shape:
        raise FormatError(
            f"expRNN {kernel_key!r} {shape_str(stored.shape)} does not match "
            f"{log_key!r} {shape_str(log.shape)}"
        )
    b = torch.linalg.matrix_exp(skew(log.double()))
    difference = float((b - stored.double()).abs().max())
    found.add(
        name,
        b.T.to(log.dtype),
        keys=[log_key, kernel_key],
        formula=f"W = expm(triu(L,1) − triu(L,1)ᵀ)ᵀ, L = log_{kernel}",
        note=f"recomputed from log_{kernel}; max |B − {kernel}| = {difference:.3g}",
    )
    layers[name] = {
        "hidden_size": int(log.shape[0]),
        "map": "expm",
        "base": "identity",
        "cached_difference": difference,
    }
