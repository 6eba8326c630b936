r"""nnRNN checkpoints (Kerg et al., code KyleGoyette/nnRNN, ``OrthoRNNCell``).

The training scripts save ``{"state_dict": ..., "optimizer": ..., "time step": int}``; the
cell's keys are ``<p>P`` (orthogonal, ``expm`` of the skew part of ``<p>log_P``), ``<p>log_P``,
``<p>UppT`` and the scalars ``<p>theta_k`` / ``<p>alpha_k`` (shape ``[1]``; the first ``n/2``
of each are used). ``OrthoRNNCell.calc_rec`` builds

.. math::

    T_m = U \circ M + A_B \circ D, \qquad \mathrm{rec} = P\, T_m P^T,

with :math:`M = \mathrm{triu}(\mathbf{1}, 1)`, :math:`D` block diagonal with the 2×2 blocks
``[[cos θ_k, −sin θ_k], [sin θ_k, cos θ_k]]`` (``calc_D`` writes ``D[i, i+1] = −sin``) and
:math:`A_B` block diagonal with the blocks :math:`\alpha_k \mathbf{1}_{2\times 2}`. The
forward pass computes ``h @ rec`` (row convention), so :math:`W = \mathrm{rec}^T`; in the
column convention the diagonal blocks are rotations by :math:`-\theta_k` and the
non-normal part is strictly lower triangular in the Schur basis :math:`P`.

The stored ``P`` is used (it is the matrix the forward pass multiplies by); its distance from
``expm(triu(log_P, 1) − triu(log_P, 1)ᵀ)`` is reported in the notes.
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
from models.maps import skew

__all__ = ["recognise"]

_UPPT = re.compile(r"^(?P<prefix>(?:.+\.)?)UppT$")


def _scalar(state: Mapping[str, torch.Tensor], key: str) -> torch.Tensor:
    if key not in state:
        raise FormatError(f"nnRNN key {key!r} is missing")
    value = as_float(state[key])
    if value is None or value.numel() != 1:
        raise FormatError(
            f"nnRNN key {key!r} must hold one number, got {shape_str(state[key].shape)}"
        )
    return value.reshape(()).double()


def _matrix(state: Mapping[str, torch.Tensor], key: str, n: int | None) -> torch.Tensor:
    value = square_matrix("nnRNN", key, state[key])
    if n is not None and value.shape[0] != n:
        raise FormatError(
            f"nnRNN key {key!r} has shape {shape_str(value.shape)}, expected ({n}, {n})"
        )
    return value


def recognise(state: Mapping[str, torch.Tensor]) -> Found | None:
    """Recover ``W = recᵀ`` from nnRNN ``OrthoRNNCell`` state dicts.

    Parameters
    ----------
    state : mapping of str to torch.Tensor
        Flat state dict.

    Returns
    -------
    Found or None
        ``None`` when no nnRNN cell is present.

    Raises
    ------
    FormatError
        If a cell has an odd size, a missing ``theta_k``/``alpha_k`` or inconsistent shapes.

    Examples
    --------
    >>> import torch
    >>> from models.formats import nnrnn
    >>> state = {"rnn.P": torch.eye(2), "rnn.UppT": torch.zeros(2, 2),
    ...          "rnn.theta_0": torch.tensor([0.0]), "rnn.alpha_0": torch.tensor([0.5])}
    >>> torch.allclose(nnrnn.recognise(state).matrices["W"], 0.5 * torch.eye(2))
    True
    """
    prefixes = [
        m.group("prefix")
        for k in state
        if (m := _UPPT.match(k)) and m.group("prefix") + "P" in state
    ]
    if not prefixes:
        return None
    found = Found("nnrnn", kind="nnrnn")
    labels = group_labels(prefixes)
    layers: dict[str, dict[str, object]] = {}
    for prefix in prefixes:
        name = labels[prefix] + "W"
        layers[name] = _recover(state, found, name, prefix)
    found.config = layer_config(layers)
    return found


def _blocks(thetas: list[torch.Tensor], alphas: list[torch.Tensor], n: int) -> torch.Tensor:
    """Return ``A_B ∘ D``: the 2×2 blocks ``α_k [[cos θ_k, −sin θ_k], [sin θ_k, cos θ_k]]``."""
    out = torch.zeros(n, n, dtype=torch.float64)
    for k, (theta, alpha) in enumerate(zip(thetas, alphas, strict=True)):
        c, s = torch.cos(theta), torch.sin(theta)
        i = 2 * k
        out[i, i], out[i, i + 1] = alpha * c, -alpha * s
        out[i + 1, i], out[i + 1, i + 1] = alpha * s, alpha * c
    return out


def _recover(
    state: Mapping[str, torch.Tensor], found: Found, name: str, prefix: str
) -> dict[str, object]:
    p_key, t_key, log_key = f"{prefix}P", f"{prefix}UppT", f"{prefix}log_P"
    p = _matrix(state, p_key, None)
    n = int(p.shape[0])
    if n % 2:
        raise FormatError(f"nnRNN hidden size must be even, {p_key!r} is {shape_str(p.shape)}")
    upp = _matrix(state, t_key, n)
    theta_keys = [f"{prefix}theta_{k}" for k in range(n // 2)]
    alpha_keys = [f"{prefix}alpha_{k}" for k in range(n // 2)]
    thetas = [_scalar(state, key) for key in theta_keys]
    alphas = [_scalar(state, key) for key in alpha_keys]
    mask = torch.triu(torch.ones(n, n, dtype=torch.float64), diagonal=1)
    tm = upp.double() * mask + _blocks(thetas, alphas, n)
    p64 = p.double()
    rec = p64 @ tm @ p64.T
    keys = [p_key, t_key, *theta_keys, *alpha_keys]
    eye = torch.eye(n, dtype=torch.float64)
    note = f"P as stored; ‖PᵀP − I‖_F = {float(torch.linalg.norm(p64.T @ p64 - eye)):.3g}"
    info: dict[str, object] = {"hidden_size": n, "log_P_difference": None}
    if log_key in state:
        log_p = _matrix(state, log_key, n).double()
        difference = float((torch.linalg.matrix_exp(skew(log_p)) - p64).abs().max())
        note += f"; max |P − expm(skew(log_P))| = {difference:.3g}"
        info["log_P_difference"] = difference
        found.claimed.add(log_key)
    found.claimed.update(f"{prefix}theta_{k}" for k in range(n // 2, n))
    found.add(
        name,
        rec.T.to(p.dtype),
        keys=keys,
        formula=(
            "W = (P·(UppT∘M + AB∘D)·Pᵀ)ᵀ, M = triu(1,1), "
            "D = blockdiag([[cos θ_k, −sin θ_k], [sin θ_k, cos θ_k]]), AB = blockdiag(α_k·1₂ₓ₂)"
        ),
        note=note,
    )
    return info
