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
found by bisection.
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
        pre, _, _ = self.intervals(x, eps, norm=norm, bounds=bounds)
        B, T, F = x.shape
        slopes = [self._slope(lo, hi) for lo, hi in pre]  # T x (B, H)
        finite = torch.stack([torch.isfinite(s).all(dim=1) for s in slopes]).all(dim=0)
        slopes = [torch.nan_to_num(s, posinf=0.0) for s in slopes]
        # a_t = ||D_T W|| ... ||D_{t+1} W|| ||D_t U||, accumulated backwards in time
        suffix = x.new_ones(B, dtype=torch.float64)
        total = x.new_zeros(B, dtype=torch.float64)
        for t in range(T - 1, -1, -1):
            d = slopes[t]
            total = total + (suffix * _spectral(d[:, :, None] * self.U)) ** 2
            suffix = suffix * _spectral(d[:, :, None] * self.W)
        lipschitz = torch.sqrt(total)
        logits = self.logits(x)
        margins = logits[torch.arange(B), y][:, None] - logits  # (B, C)
        gaps = torch.linalg.vector_norm(self.V[y][:, None, :] - self.V[None, :, :], dim=2)
        size = eps.to(torch.float64) * (math.sqrt(T * F) if norm == "linf" else 1.0)
        need = gaps * lipschitz[:, None] * size[:, None]
        need[torch.arange(B), y] = -math.inf
        return finite & (margins > need).all(dim=1)


def _spectral(A: torch.Tensor) -> torch.Tensor:
    """Spectral norms of a batch ``(B, m, n)``, from the largest eigenvalue of ``A^T A``."""
    gram = A.transpose(1, 2) @ A if A.shape[1] >= A.shape[2] else A @ A.transpose(1, 2)
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
    steps: int = 24,
) -> dict[str, torch.Tensor]:
    """Largest radius each bound certifies, by bisection in log scale between the sizes.

    ``lower`` is a radius already known to be certified (e.g. the spectral one, may be 0) and
    ``upper`` one known not to be (e.g. a found adversarial's norm). Returns ``{"ibp": (B,),
    "jacobian": (B,)}`` float64 radii, 0 for misclassified samples.
    """
    x = x.detach().to("cpu", torch.float64)
    y = y.detach().cpu()
    ok = correct.detach().cpu()
    out: dict[str, torch.Tensor] = {}
    tests = {"ibp": cell.ibp_certified, "jacobian": cell.jacobian_certified}
    for name, test in tests.items():
        hi = upper.clone().to(torch.float64)
        floor = torch.maximum(lower.to(torch.float64), hi * 1e-12)
        good = test(x, y, floor, norm=norm, bounds=bounds) & ok
        lo = torch.where(good, floor, torch.zeros_like(floor))
        if bool(good.any()):
            for _ in range(steps):
                mid = torch.sqrt(lo * hi)
                live = good & (hi > lo * (1 + 1e-6))
                if not bool(live.any()):
                    break
                passed = test(x, y, torch.where(live, mid, lo), norm=norm, bounds=bounds)
                lo = torch.where(live & passed, mid, lo)
                hi = torch.where(live & ~passed, mid, hi)
        out[name] = torch.where(ok, lo, torch.zeros_like(lo))
    return out
