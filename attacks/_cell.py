r"""A vanilla recurrent classifier rebuilt from ``lipschitz_parts()``, with sound bounds (private).

The cell is :math:`h_0 = 0`, :math:`z_t = W h_{t-1} + U x_t + b`, :math:`h_t = f(z_t)`,
logits :math:`V h_T + c`. ``lipschitz_parts()`` gives ``U``, ``W``, ``V``, ``f`` and the modReLU
bias; the input bias ``b`` is taken from the parts (``"b"``/``"bias"``) or the model's ``b`` /
``bias`` attribute, and ``c`` is fitted on the attacked batch. A rebuild is used only when it
reproduces the model's logits on that batch (within ``1e-3`` of their scale), so the bounds
below are bounds of the model itself.

Two sound certificates for a perturbation of size :math:`\epsilon` of the whole sequence:

* **interval bound propagation** (IBP): interval arithmetic through the unrolled network. Every
  supported :math:`f` (tanh, ReLU, ELU, modReLU, whose jump at 0 is upwards for :math:`b > 0`)
  is non-decreasing, so intervals map to intervals. Linf balls enter as boxes clipped to the
  input domain; an L2 ball enters per step as :math:`|U\delta_t|_i \le \|U_i\|_2 \epsilon`.
  Certified when the lower bound of every margin :math:`z_y - z_j` is positive.
* **per-step Jacobian bound**: over the ball, :math:`|f'(z_{t,i})| \le d_{t,i}`, the largest
  slope on the IBP interval of :math:`z_{t,i}`, so
  :math:`\|\partial h_T/\partial x_t\|_2 \le \|D_T W\| \cdots \|D_{t+1} W\|\,\|D_t U\|` with
  :math:`D_s = \mathrm{diag}(d_s)` and the Lipschitz constant of the margin over the ball is at
  most :math:`\|V_y - V_j\|_2 \sqrt{\sum_t a_t^2}`. Certified when the margin exceeds that
  constant times :math:`\epsilon` (times :math:`\sqrt{TF}` for Linf). A modReLU unit with
  :math:`b > 0` whose interval contains 0 has no slope bound (its jump), which voids the bound.

Both tests are monotone in :math:`\epsilon`, so the largest certified radius of each sample is
found by a search (:func:`tight_radii`): bisection in log scale for the interval bound, a
safeguarded secant search for the Jacobian bound, whose every evaluation also gives a sound upper
end. Each returned radius was itself tested and is at most a relative :data:`RTOL` below the
largest radius its bound certifies (rounded down, never up).
"""

from __future__ import annotations

import math
from typing import Any

import torch

__all__ = ["Cell", "rebuild"]


def _as64(value: Any) -> torch.Tensor | None:
    if value is None:
        return None
    return torch.as_tensor(value).detach().to("cpu", torch.float64)


class Cell:
    """Rebuilt vanilla cell in float64 (see the module docstring)."""

    def __init__(
        self,
        U: torch.Tensor,
        W: torch.Tensor,
        V: torch.Tensor,
        b: torch.Tensor,
        c: torch.Tensor,
        nonlinearity: str,
        modrelu_bias: torch.Tensor | None,
    ) -> None:
        self.U, self.W, self.V, self.b, self.c = U, W, V, b, c
        self.nonlinearity = nonlinearity
        self.mb = modrelu_bias

    def act(self, z: torch.Tensor) -> torch.Tensor:
        """Apply the nonlinearity."""
        if self.nonlinearity == "tanh":
            return torch.tanh(z)
        if self.nonlinearity == "relu":
            return torch.relu(z)
        if self.nonlinearity == "elu":
            return torch.nn.functional.elu(z)
        return torch.sign(z) * torch.relu(z.abs() + self.mb)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of ``(B, T, F)`` inputs."""
        x = x.to(torch.float64)
        h = x.new_zeros(x.shape[0], self.W.shape[0])
        for t in range(x.shape[1]):
            h = self.act(h @ self.W.T + x[:, t] @ self.U.T + self.b)
        return h @ self.V.T + self.c

    def _act_interval(
        self, lo: torch.Tensor, hi: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # every supported f is non-decreasing (modReLU with b > 0 jumps upwards at 0)
        return self.act(lo), self.act(hi)

    def _slope(self, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
        """Largest ``|f'|`` on ``[lo, hi]`` (``inf`` across a modReLU jump)."""
        if self.nonlinearity == "tanh":
            near = torch.where(
                (lo <= 0) & (hi >= 0), torch.zeros_like(lo), lo.abs().minimum(hi.abs())
            )
            return 1 - torch.tanh(near) ** 2
        if self.nonlinearity == "relu":
            return (hi > 0).to(lo.dtype)
        if self.nonlinearity == "elu":
            return torch.where(hi > 0, torch.ones_like(hi), torch.exp(hi))
        # slope <= 1 everywhere except across the jump at 0 of a unit with b > 0
        jump = (lo <= 0) & (hi >= 0) & (self.mb.expand_as(lo) > 0)
        return torch.where(jump, torch.full_like(lo, math.inf), torch.ones_like(lo))

    def intervals(
        self,
        x: torch.Tensor,
        eps: torch.Tensor,
        *,
        norm: str,
        bounds: tuple[float, float],
    ) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor, torch.Tensor]:
        """Pre-activation intervals per step and the final hidden interval ``(lo, hi)``."""
        x = x.to(torch.float64)
        e = eps.to(torch.float64).view(-1, 1)
        lo_b, hi_b = bounds
        B, T, _ = x.shape
        H = self.W.shape[0]
        h_lo = x.new_zeros(B, H)
        h_hi = x.new_zeros(B, H)
        W_pos, W_neg = self.W.clamp(min=0), self.W.clamp(max=0)
        row_norms = torch.linalg.vector_norm(self.U, dim=1)  # (H,)
        U_pos, U_neg = self.U.clamp(min=0), self.U.clamp(max=0)
        pre: list[tuple[torch.Tensor, torch.Tensor]] = []
        for t in range(T):
            if norm == "linf":
                x_lo = (x[:, t] - e).clamp(lo_b, hi_b)
                x_hi = (x[:, t] + e).clamp(lo_b, hi_b)
                in_lo = x_lo @ U_pos.T + x_hi @ U_neg.T
                in_hi = x_hi @ U_pos.T + x_lo @ U_neg.T
            else:
                centre = x[:, t] @ self.U.T
                in_lo, in_hi = centre - e * row_norms, centre + e * row_norms
            z_lo = h_lo @ W_pos.T + h_hi @ W_neg.T + in_lo + self.b
            z_hi = h_hi @ W_pos.T + h_lo @ W_neg.T + in_hi + self.b
            pre.append((z_lo, z_hi))
            h_lo, h_hi = self._act_interval(z_lo, z_hi)
        return pre, h_lo, h_hi

    def ibp_certified(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: torch.Tensor,
        *,
        norm: str,
        bounds: tuple[float, float],
    ) -> torch.Tensor:
        """``(B,)`` bool: every margin's lower bound is positive over the ball."""
        _, h_lo, h_hi = self.intervals(x, eps, norm=norm, bounds=bounds)
        diff = self.V[y][:, None, :] - self.V[None, :, :]  # (B, C, H)
        centre, radius = (h_lo + h_hi) / 2, (h_hi - h_lo) / 2
        low = (diff * centre[:, None, :]).sum(-1) - (diff.abs() * radius[:, None, :]).sum(-1)
        low = low + (self.c[y][:, None] - self.c[None, :])
        low[torch.arange(x.shape[0]), y] = math.inf
        return (low > 0).all(dim=1)

    def jacobian_lipschitz(
        self,
        x: torch.Tensor,
        eps: torch.Tensor,
        *,
        norm: str,
        bounds: tuple[float, float],
    ) -> tuple[torch.Tensor, torch.Tensor]:
        r"""``(B,)`` L2 Lipschitz bound of ``x -> h_T`` over the ball, and whether it is finite.

        The bound is :math:`\sqrt{\sum_t a_t^2}` with
        :math:`a_t = \|D_T W\| \cdots \|D_{t+1} W\| \|D_t U\|` (module docstring); it is
        non-decreasing in ``eps`` because the slope bounds are.
        """
        pre, _, _ = self.intervals(x, eps, norm=norm, bounds=bounds)
        B, T, _ = x.shape
        slopes = torch.stack([self._slope(lo, hi) for lo, hi in pre])  # (T, B, H)
        finite = torch.isfinite(slopes).all(dim=2).all(dim=0)
        slopes = torch.nan_to_num(slopes, posinf=0.0)
        norms_w = _spectral_rows(slopes, self.W)  # (T, B): ||D_t W||
        norms_u = _spectral_rows(slopes, self.U)  # (T, B): ||D_t U||
        # a_t = ||D_T W|| ... ||D_{t+1} W|| ||D_t U||, accumulated backwards in time
        suffix = x.new_ones(B, dtype=torch.float64)
        total = x.new_zeros(B, dtype=torch.float64)
        for t in range(T - 1, -1, -1):
            total = total + (suffix * norms_u[t]) ** 2
            suffix = suffix * norms_w[t]
        return torch.sqrt(total), finite

    def margin_gaps(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Margins ``z_y - z_j`` and readout gaps ``||V_y - V_j||_2``, both ``(B, C)``."""
        B = x.shape[0]
        logits = self.logits(x)
        margins = logits[torch.arange(B), y][:, None] - logits
        gaps = torch.linalg.vector_norm(self.V[y][:, None, :] - self.V[None, :, :], dim=2)
        return margins, gaps

    def jacobian_certified(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: torch.Tensor,
        *,
        norm: str,
        bounds: tuple[float, float],
    ) -> torch.Tensor:
        """``(B,)`` bool: the margin exceeds its per-step Jacobian bound times the size."""
        lipschitz, finite = self.jacobian_lipschitz(x, eps, norm=norm, bounds=bounds)
        margins, gaps = self.margin_gaps(x, y)
        return finite & _jacobian_pass(margins, gaps, lipschitz, eps, y, _size_factor(x, norm))


def _size_factor(x: torch.Tensor, norm: str) -> float:
    """``sqrt(T F)`` for Linf (``||d||_2 <= sqrt(T F) ||d||_inf``), 1 for L2."""
    return math.sqrt(x.shape[1] * x.shape[2]) if norm == "linf" else 1.0


def _jacobian_pass(
    margins: torch.Tensor,
    gaps: torch.Tensor,
    lipschitz: torch.Tensor,
    eps: torch.Tensor,
    y: torch.Tensor,
    factor: float,
) -> torch.Tensor:
    """``(B,)`` bool: every margin exceeds ``gap * lipschitz * eps * factor``."""
    size = eps.to(torch.float64) * factor
    need = gaps * lipschitz[:, None] * size[:, None]
    need[torch.arange(margins.shape[0]), y] = -math.inf
    return (margins > need).all(dim=1)


#: Matrices per batched ``eigvalsh`` call of :func:`_spectral_rows` (bounds the memory).
_CHUNK = 256


def _spectral_rows(slopes: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
    r"""Spectral norms :math:`\|\mathrm{diag}(d) A\|_2` for every row ``d = slopes[t, b]``.

    :math:`\|D A\|_2^2` is the largest eigenvalue of :math:`D (A A^T) D` (or of
    :math:`A^T D^2 A` when ``A`` has fewer columns than rows); the fixed product is formed once,
    so each row costs a scaling and a small ``eigvalsh``. Returns ``(T, B)``.
    """
    T, B, H = slopes.shape
    flat = slopes.reshape(T * B, H)
    wide = A.shape[0] <= A.shape[1]
    inner = A @ A.T if wide else A.T @ A
    inner = (inner + inner.T) / 2
    out = torch.empty(T * B, dtype=torch.float64)
    for start in range(0, T * B, _CHUNK):
        d = flat[start : start + _CHUNK]
        if wide:  # D (A A^T) D
            gram = inner * d[:, :, None] * d[:, None, :]
        else:  # A^T D^2 A
            gram = torch.einsum("bi,ij,ik->bjk", d * d, A, A)
        out[start : start + _CHUNK] = _top_root(gram)
    return out.reshape(T, B)


def _top_root(gram: torch.Tensor) -> torch.Tensor:
    """Square root of the largest eigenvalue of each symmetric PSD matrix, padded upwards."""
    top = torch.linalg.eigvalsh(gram)[:, -1].clamp(min=0)
    # eigvalsh is backward stable: pad by a relative 1e-12 so the value stays an upper bound
    return torch.sqrt(top) * (1 + 1e-12) + 1e-300


def _input_bias(model: torch.nn.Module, parts: dict[str, Any], H: int) -> list[torch.Tensor]:
    found = []
    for value in (parts.get("b"), parts.get("bias"), getattr(model, "b", None),
                  getattr(model, "bias", None)):  # fmt: skip
        t = _as64(value) if isinstance(value, torch.Tensor) else None
        if t is not None and t.shape == (H,):
            found.append(t)
    return [*found, torch.zeros(H, dtype=torch.float64)]


def rebuild(
    model: torch.nn.Module, wrapped: torch.nn.Module, x: torch.Tensor
) -> tuple[Cell | None, str]:
    """Rebuild ``model`` as a :class:`Cell` checked against its logits on ``x``.

    Returns the cell (or ``None``) and a note saying how well it fits or why it is missing.
    """
    method = getattr(model, "lipschitz_parts", None)
    if not callable(method):
        return None, "the model has no lipschitz_parts()"
    try:
        parts = dict(method())
    except Exception as exc:  # models refuse unsupported kinds with their own exceptions
        return None, f"lipschitz_parts() refused: {exc}"
    U, W, V = _as64(parts.get("U")), _as64(parts.get("W")), _as64(parts.get("V"))
    nonlinearity = str(parts.get("nonlinearity"))
    mb = _as64(parts.get("modrelu_bias"))
    if (
        U is None
        or W is None
        or V is None
        or nonlinearity not in ("tanh", "relu", "elu", "modrelu")
    ):
        return None, f"lipschitz_parts() lacks U, W, V or a known nonlinearity ({nonlinearity!r})"
    if nonlinearity == "modrelu" and mb is None:
        return None, "lipschitz_parts() gave nonlinearity 'modrelu' no bias"
    H = W.shape[0]
    if W.shape != (H, H) or U.shape[0] != H or V.shape[1] != H or U.shape[1] != x.shape[2]:
        return None, f"lipschitz_parts() shapes do not fit: U {tuple(U.shape)}, W {tuple(W.shape)}"
    with torch.no_grad():
        target = wrapped(x).detach().to("cpu", torch.float64)
        scale = 1.0 + float(target.abs().max())
        best_error = math.inf
        xc = x.detach().to("cpu", torch.float64)
        for b in _input_bias(model, parts, H):
            cell = Cell(U, W, V, b, torch.zeros(V.shape[0], dtype=torch.float64), nonlinearity, mb)
            plain = cell.logits(xc)
            cell.c = (target - plain).mean(dim=0)
            error = float((plain + cell.c - target).abs().max())
            if math.isfinite(error) and error <= 1e-3 * scale:
                return cell, f"rebuilt cell reproduces the logits within {error:.2g}"
            best_error = min(best_error, error)
    return None, f"rebuilt cell differs from the model by {best_error:.3g} in the logits"


#: Relative precision of :func:`tight_radii`: a returned radius ``r`` is certified and the
#: largest radius its bound certifies lies in ``[r, r * (1 + RTOL)]``.
RTOL = 1e-6


def tight_radii(
    cell: Cell,
    x: torch.Tensor,
    y: torch.Tensor,
    correct: torch.Tensor,
    *,
    norm: str,
    bounds: tuple[float, float],
    lower: torch.Tensor,
    upper: torch.Tensor,
    steps: int = 40,
    rtol: float = RTOL,
) -> dict[str, torch.Tensor]:
    r"""Largest radius each bound certifies, each to relative precision `rtol` (rounded down).

    ``lower`` is a radius already known to be certified (e.g. the spectral one, may be 0) and
    ``upper`` one known not to be (e.g. a found adversarial's norm). Returns ``{"ibp": (B,),
    "jacobian": (B,)}`` float64 radii, 0 for misclassified samples. Every returned radius was
    itself tested and certified; the search stops once the best sound upper end is within a
    factor ``1 + rtol`` of it, or after `steps` rounds (the radius is then still sound, only
    less tight).

    The interval bound is searched by bisection in log scale. The Jacobian bound uses its
    structure: certified at :math:`\epsilon` means :math:`m > s \epsilon L(\epsilon)`, with
    :math:`m = \min_j (z_y - z_j) / \|V_y - V_j\|_2`, :math:`s` the size factor and
    :math:`L` non-decreasing in :math:`\epsilon`. One evaluation of :math:`L(p)` therefore
    also bounds the radius from above by :math:`m / (s L(p))` when :math:`p` is certified,
    and a safeguarded secant step on :math:`\psi = \log(s \epsilon L(\epsilon) / m)` in
    :math:`\log \epsilon` picks the next point; only samples not yet converged are evaluated.
    """
    x = x.detach().to("cpu", torch.float64)
    y = y.detach().cpu()
    ok = correct.detach().cpu().to(torch.bool)
    hi = upper.detach().cpu().to(torch.float64)
    floor = torch.maximum(lower.detach().cpu().to(torch.float64), hi * 1e-12)
    common = {"norm": norm, "bounds": bounds, "steps": steps, "rtol": rtol}
    return {
        "ibp": _bisect(cell.ibp_certified, x, y, ok, floor, hi.clone(), **common),
        "jacobian": _secant_jacobian(cell, x, y, ok, floor, hi.clone(), **common),
    }


def _bisect(
    test: Any,
    x: torch.Tensor,
    y: torch.Tensor,
    ok: torch.Tensor,
    floor: torch.Tensor,
    hi: torch.Tensor,
    *,
    norm: str,
    bounds: tuple[float, float],
    steps: int,
    rtol: float,
) -> torch.Tensor:
    """Bisection in log scale of a monotone test, on the samples not yet converged."""
    lo = torch.zeros_like(floor)
    idx = torch.nonzero(ok).flatten()
    if idx.numel():
        passed = test(x[idx], y[idx], floor[idx], norm=norm, bounds=bounds)
        lo[idx[passed]] = floor[idx[passed]]
        good = torch.zeros_like(ok)
        good[idx[passed]] = True
        for _ in range(steps):
            live = torch.nonzero(good & (hi > lo * (1 + rtol))).flatten()
            if not live.numel():
                break
            mid = torch.sqrt(lo[live] * hi[live])
            passed = test(x[live], y[live], mid, norm=norm, bounds=bounds)
            lo[live[passed]] = mid[passed]
            hi[live[~passed]] = mid[~passed]
    return torch.where(ok, lo, torch.zeros_like(lo))


def _secant_jacobian(
    cell: Cell,
    x: torch.Tensor,
    y: torch.Tensor,
    ok: torch.Tensor,
    floor: torch.Tensor,
    hi: torch.Tensor,
    *,
    norm: str,
    bounds: tuple[float, float],
    steps: int,
    rtol: float,
) -> torch.Tensor:
    """Largest radius the per-step Jacobian bound certifies (see :func:`tight_radii`)."""
    margins, gaps = cell.margin_gaps(x, y)
    factor = _size_factor(x, norm)
    with torch.no_grad():
        ratio = torch.where(gaps > 0, margins / gaps, torch.where(margins > 0, math.inf, -math.inf))
        ratio[torch.arange(x.shape[0]), y] = math.inf
    m = ratio.min(dim=1).values  # certified at eps iff m > factor * eps * L(eps)
    lo = torch.zeros_like(floor)
    known = torch.zeros_like(ok)  # lo tested and certified
    # the last two evaluated points per sample, (log eps, psi), for the secant step
    last = torch.full((2, x.shape[0], 2), math.nan, dtype=torch.float64)
    aim = -rtol / 3  # aim just inside the radius so that the point is certified
    live = torch.nonzero(ok).flatten()
    point = floor[live]
    for _ in range(steps + 1):
        if not live.numel():
            break
        L, finite = cell.jacobian_lipschitz(x[live], point, norm=norm, bounds=bounds)
        passed = finite & _jacobian_pass(margins[live], gaps[live], L, point, y[live], factor)
        scale = factor * L
        with torch.no_grad():
            above = torch.where(scale > 0, m[live] / scale, math.inf)  # radius <= above
            psi = torch.where(
                finite & (scale > 0) & torch.isfinite(m[live]),
                torch.log(point) - torch.log(above),
                torch.where(finite, -math.inf, math.inf),
            )
        # certified at `point`: the radius lies in [point, m / (s L(point))]
        lo[live] = torch.where(passed, point, lo[live])
        known[live] = known[live] | passed
        hi[live] = torch.where(passed, torch.minimum(hi[live], above * (1 + 1e-9)), hi[live])
        hi[live] = torch.where(passed, hi[live], torch.minimum(hi[live], point))
        last[0, live] = last[1, live]
        last[1, live] = torch.stack([torch.log(point), psi], dim=1)
        # a sample failing at the floor has no certified radius; converged samples stop
        keep = known[live] & (hi[live] > lo[live] * (1 + rtol))
        live = live[keep]
        if not live.numel():
            break
        point = _next_point(lo[live], hi[live], last[:, live], aim)
    return torch.where(ok & known, lo, torch.zeros_like(lo))


def _next_point(lo: torch.Tensor, hi: torch.Tensor, last: torch.Tensor, aim: float) -> torch.Tensor:
    """Secant step on ``psi`` in log scale, kept inside ``(lo, hi)`` (else the midpoint)."""
    log_lo, log_hi = torch.log(lo), torch.log(hi)
    (x0, p0), (x1, p1) = last[0].unbind(1), last[1].unbind(1)
    # psi rises at least as fast as log(eps) (L is non-decreasing): slope >= 1
    slope = torch.where(torch.isfinite(x0 + p0 + p1) & (x1 != x0), (p1 - p0) / (x1 - x0), 1.0)
    slope = slope.clamp(min=1.0)
    step = torch.where(torch.isfinite(p1), x1 - (p1 - aim) / slope, math.nan)
    width = log_hi - log_lo
    inside = torch.isfinite(step) & (step > log_lo + 1e-3 * width) & (step < log_hi)
    # just below the upper end when the step overshoots it (the upper end is often the cap)
    near_top = log_hi + aim
    top_ok = torch.isfinite(step) & (step >= log_hi) & (near_top > log_lo)
    mid = (log_lo + log_hi) / 2
    chosen = torch.where(inside, step, torch.where(top_ok, near_top, mid))
    return torch.exp(chosen)
