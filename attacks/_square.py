"""Square attack (Andriushchenko et al., ECCV 2020): score-based random search (private).

A sequence ``(T, F)`` is treated as a one-channel image with ``T`` rows and ``F`` columns.
Each query changes one random rectangular patch of each still-robust sample; the change is
kept when the margin loss ``z_y - max_{j != y} z_j`` decreases. The patch covers a fraction
``p`` of the entries, halved on the reference schedule (``p_init = 0.8`` at 10, 50, 200, 500,
1000, 2000, 4000, 6000 and 8000 of 10000 queries, rescaled to the budget). Patches are
``a`` steps by ``min(a, F)`` features with ``a ~ sqrt(p T F)`` (taller when ``F`` is small).

* **Linf**: the start is a random vertical-stripe pattern of size ``eps`` (one sign per
  feature column, as the reference); a patch is set to ``+-eps`` of one random sign, clipped to
  the ball and the box.
* **L2**: the start is a random ``+-`` pattern scaled to norm ``eps``; a query adds a ``+-``
  patch whose norm is ``eps * sqrt(p)`` and projects back onto the ball and the box (a simpler
  update than the reference's mass redistribution between two windows, with the same ball).

Only forward passes are used (no gradients), so it is the ensemble's black-box control.
"""

from __future__ import annotations

import math

import torch

from attacks._apgd import Best, _project, loss_per_sample

__all__ = ["square"]

_SCHEDULE = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)


def _fraction(p_init: float, query: int, queries: int) -> float:
    it = int(query / max(queries, 1) * 10000)
    halvings = sum(1 for t in _SCHEDULE if it > t)
    return p_init / (2**halvings)


def _patch_shape(p: float, T: int, F: int) -> tuple[int, int]:
    side = max(1, round(math.sqrt(p * T * F)))
    width = min(F, side)
    height = min(T, max(1, round(p * T * F / width)))
    return height, width


def _margin(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return -loss_per_sample(model(x), y, "margin")


def square(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: torch.Tensor,
    *,
    norm: str,
    queries: int,
    seed: int,
    bounds: tuple[float, float],
    best: Best | None = None,
    p_init: float = 0.8,
) -> Best:
    """Run the Square attack on the samples not yet broken.

    Parameters
    ----------
    model : torch.nn.Module
        ``(B, T, F)`` to ``(B, C)`` logits.
    x : (B, T, F) torch.Tensor
        Clean inputs.
    y : (B,) torch.Tensor
        Labels.
    eps : (B,) torch.Tensor
        Budget of each sample.
    norm : {"linf", "l2"}
        Threat model.
    queries : int
        Model queries per sample (after the initial one).
    seed : int
        Seed of the random search.
    bounds : tuple of float
        Input box.
    best : Best, optional
        Running record to update.
    p_init : float, default 0.8
        Initial fraction of entries a patch covers.

    Returns
    -------
    Best
        Smallest adversarial found per sample.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 3))
    >>> x, y = torch.rand(4, 3, 2), torch.zeros(4, dtype=torch.int64)
    >>> found = square(net, x, y, torch.full((4,), 0.3), norm="l2", queries=20, seed=0,
    ...                bounds=(0.0, 1.0))
    >>> bool((found.size[found.found] <= 0.3 + 1e-6).all())
    True
    """
    best = best if best is not None else Best(x, norm)
    eps = eps.to(device=x.device, dtype=torch.float64)
    rows = torch.nonzero(~best.found & (eps > 0)).flatten()
    if rows.numel() == 0:
        return best
    gen = torch.Generator().manual_seed(int(seed))
    x0, y0, e0 = x[rows], y[rows], eps[rows]
    B, T, F = x0.shape
    e = e0.to(x.dtype).view(-1, 1, 1)

    def draw_signs(shape: tuple[int, ...]) -> torch.Tensor:
        bits = torch.randint(0, 2, shape, generator=gen)
        return (bits * 2 - 1).to(device=x.device, dtype=x.dtype)

    if norm == "linf":
        start = x0 + e * draw_signs((B, 1, F))
    else:
        pattern = draw_signs((B, T, F))
        start = x0 + e * pattern / math.sqrt(T * F)
    cur = _project(start, x0, e0, norm, bounds)
    margin = _margin(model, cur, y0)
    best.offer(cur, margin < 0, rows)
    for q in range(queries):
        active = torch.nonzero(margin >= 0).flatten()
        if active.numel() == 0:
            break
        n = active.numel()
        p = _fraction(p_init, q, queries)
        h, w = _patch_shape(p, T, F)
        t0 = torch.randint(0, T - h + 1, (n,), generator=gen).to(x.device)
        f0 = torch.randint(0, F - w + 1, (n,), generator=gen).to(x.device)
        tt = torch.arange(T, device=x.device).view(1, T, 1)
        ff = torch.arange(F, device=x.device).view(1, 1, F)
        inside = (
            (tt >= t0.view(-1, 1, 1))
            & (tt < (t0 + h).view(-1, 1, 1))
            & (ff >= f0.view(-1, 1, 1))
            & (ff < (f0 + w).view(-1, 1, 1))
        )
        ea = e[active]
        base, origin = cur[active], x0[active]
        if norm == "linf":
            sign = draw_signs((n, 1, 1))
            proposal = torch.where(inside, origin + ea * sign, base)
        else:
            signs = draw_signs((n, 1, 1)) * torch.ones_like(base)
            size = ea * math.sqrt(p) / math.sqrt(h * w)
            proposal = base + inside * signs * size
        proposal = _project(proposal, origin, e0[active], norm, bounds)
        new_margin = _margin(model, proposal, y0[active])
        improved = new_margin < margin[active]
        keep = active[improved]
        cur[keep] = proposal[improved]
        margin[keep] = new_margin[improved]
        best.offer(proposal[improved], new_margin[improved] < 0, rows[keep])
    return best
