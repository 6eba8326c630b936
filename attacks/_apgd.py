"""Auto-PGD (Croce & Hein, ICML 2020) on ``(B, T, F)`` sequences, per-sample budgets (private).

The step-size schedule, momentum (0.75), checkpoints (``p_{j+1} = p_j + max(p_j - p_{j-1} -
0.03, 0.06)`` starting at 0.22) and the two halving conditions follow the reference
implementation (``fra31/auto-attack``, ``apgd_attack``). Differences that matter for a
robustness report:

* every budget is per sample (a ``(B,)`` tensor), so one batched run serves a bisection over
  the budget of each sample;
* success is decided on **every** iterate: the adversarial of smallest norm found at any step is
  kept (the library checks each iterate the same way);
* the loss and its gradient may come from another module than the one that decides success
  (``grad_model``), which is how the adaptive attack differentiates through a smooth surrogate
  while counting success on the real model;
* restarts draw their random start from a ``torch.Generator`` seeded per restart, so results do
  not depend on the global random state.

Losses: ``"ce"`` (cross-entropy), ``"dlr"`` (difference of logits ratio, needs >= 3 classes) and
``"margin"`` (``max_{j != y} z_j - z_y``, used in place of DLR for 2 classes).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

__all__ = ["LOSSES", "Best", "apgd", "loss_per_sample"]

LOSSES: tuple[str, ...] = ("ce", "dlr", "margin")


def loss_per_sample(logits: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """Per-sample loss that an untargeted attack maximises.

    Parameters
    ----------
    logits : (B, C) torch.Tensor
        Model outputs.
    y : (B,) torch.Tensor
        Labels.
    loss : {"ce", "dlr", "margin"}
        Loss name; ``"dlr"`` falls back to ``"margin"`` for fewer than 3 classes.

    Returns
    -------
    (B,) torch.Tensor
        Loss of each sample.

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[2.0, 1.0, 0.0]])
    >>> float(loss_per_sample(z, torch.tensor([0]), "margin"))
    -1.0
    >>> float(loss_per_sample(z, torch.tensor([0]), "dlr"))
    -0.5
    """
    if loss == "ce":
        return torch.nn.functional.cross_entropy(logits, y, reduction="none")
    true = logits.gather(1, y[:, None])[:, 0]
    others = logits.clone()
    others.scatter_(1, y[:, None], -math.inf)
    top_other = others.amax(dim=1)
    if loss == "margin" or logits.shape[1] < 3:
        return top_other - true
    ranked = logits.sort(dim=1, descending=True).values
    scale = ranked[:, 0] - ranked[:, 2] + 1e-12
    return (top_other - true) / scale


class Best:
    """Smallest-norm adversarial found so far for each sample.

    Parameters
    ----------
    x : (B, T, F) torch.Tensor
        Clean inputs.
    norm : {"linf", "l2"}
        Norm in which sizes are measured.

    Attributes
    ----------
    size : (B,) torch.Tensor
        ``float64`` norm of the best adversarial, ``inf`` where none was found.
    adversarial : (B, T, F) torch.Tensor
        The best adversarial (the clean input where none was found).
    """

    def __init__(self, x: torch.Tensor, norm: str) -> None:
        self.x = x.detach()
        self.norm = norm
        self.size = torch.full((x.shape[0],), math.inf, dtype=torch.float64, device=x.device)
        self.adversarial = self.x.clone()

    def sizes(self, candidate: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Norm of ``candidate - x`` (rows ``rows`` of the batch), ``float64``."""
        base = self.x if rows is None else self.x[rows]
        flat = (candidate.detach() - base).flatten(1).to(torch.float64)
        if self.norm == "linf":
            return flat.abs().amax(dim=1)
        return torch.linalg.vector_norm(flat, dim=1)

    def offer(
        self,
        candidate: torch.Tensor,
        fooled: torch.Tensor,
        rows: torch.Tensor,
        *,
        size: torch.Tensor | None = None,
    ) -> None:
        """Keep ``candidate[i]`` for sample ``rows[i]`` where it fools the model and is smaller.

        ``size`` is :meth:`sizes` of the candidates when the caller has it already.
        """
        if not bool(fooled.any()):
            return
        if size is None:
            size = self.sizes(candidate, rows)
        better = fooled & (size < self.size[rows])
        if bool(better.any()):
            idx = rows[better]
            self.size[idx] = size[better]
            self.adversarial[idx] = candidate.detach()[better].to(self.adversarial.dtype)

    @property
    def found(self) -> torch.Tensor:
        """``(B,)`` bool: an adversarial was found."""
        return torch.isfinite(self.size)


def _project(
    x_adv: torch.Tensor, x: torch.Tensor, eps: torch.Tensor, norm: str, bounds: tuple[float, float]
) -> torch.Tensor:
    lo, hi = bounds
    e = eps.view(-1, 1, 1).to(x.dtype)
    if norm == "linf":
        return torch.minimum(torch.maximum(x_adv, x - e), x + e).clamp(lo, hi)
    delta = x_adv - x
    size = torch.linalg.vector_norm(delta.flatten(1), dim=1).clamp_min(1e-12).view(-1, 1, 1)
    return (x + delta * torch.clamp(e / size, max=1.0)).clamp(lo, hi)


def _direction(grad: torch.Tensor, norm: str) -> torch.Tensor:
    if norm == "linf":
        return grad.sign()
    size = torch.linalg.vector_norm(grad.flatten(1), dim=1).clamp_min(1e-12).view(-1, 1, 1)
    return grad / size


def _start(
    x: torch.Tensor, eps: torch.Tensor, norm: str, bounds: tuple[float, float], gen: torch.Generator
) -> torch.Tensor:
    shape = x.shape
    e = eps.view(-1, 1, 1).to(x.dtype)
    if norm == "linf":
        t = torch.rand(shape, generator=gen, dtype=torch.float64).to(x) * 2 - 1
        t = t / t.flatten(1).abs().amax(dim=1).clamp_min(1e-12).view(-1, 1, 1)
    else:
        t = torch.randn(shape, generator=gen, dtype=torch.float64).to(x)
        t = t / torch.linalg.vector_norm(t.flatten(1), dim=1).clamp_min(1e-12).view(-1, 1, 1)
    return (x + e * t).clamp(*bounds)


def _checkpoints(steps: int) -> list[int]:
    p = [0.0, 0.22]
    while True:
        nxt = p[-1] + max(p[-1] - p[-2] - 0.03, 0.06)
        if nxt > 1:
            break
        p.append(nxt)
    return sorted({math.ceil(v * steps) for v in p[1:]})


def _loss_grad(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss: str,
    step: int,
    tau: Callable[[int], float] | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    with torch.enable_grad():
        probe = x.detach().clone().requires_grad_(True)
        logits = model(probe, tau(step)) if tau is not None else model(probe)
        values = loss_per_sample(logits, y, loss)
        (grad,) = torch.autograd.grad(values.sum(), probe)
    return values.detach(), grad.detach(), logits.detach()


def _run_once(
    model: torch.nn.Module,
    grad_model: torch.nn.Module | None,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: torch.Tensor,
    rows: torch.Tensor,
    best: Best,
    *,
    norm: str,
    loss: str,
    steps: int,
    bounds: tuple[float, float],
    gen: torch.Generator,
    random_start: bool,
    tau: Callable[[int], float] | None,
    mask: torch.Tensor | None = None,
) -> None:
    source = grad_model if grad_model is not None else model

    def project(candidate: torch.Tensor) -> torch.Tensor:
        out = _project(candidate, x, eps, norm, bounds)
        return out if mask is None else x + (out - x) * mask

    separate = grad_model is not None

    def fooled_by(candidate: torch.Tensor, logits: torch.Tensor | None) -> torch.Tensor:
        if separate or logits is None:
            with torch.no_grad():
                logits = model(candidate)
        return logits.argmax(dim=1) != y

    x_adv = project(_start(x, eps, norm, bounds, gen)) if random_start else x.clone()
    values, grad, logits = _loss_grad(source, x_adv, y, loss, 0, tau)
    best.offer(x_adv, fooled_by(x_adv, logits), rows)
    step_size = (2.0 * eps).to(x.dtype).view(-1, 1, 1)
    x_best, grad_best, loss_best = x_adv.clone(), grad.clone(), values.clone()
    x_old = x_adv.clone()
    history = torch.zeros((steps + 1, x.shape[0]), dtype=values.dtype, device=x.device)
    history[0] = values
    checks = set(_checkpoints(steps))
    last_check = 0
    reduced = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    loss_at_check = loss_best.clone()
    for i in range(steps):
        momentum = 0.75 if i > 0 else 1.0
        direction = _direction(grad if mask is None else grad * mask, norm)
        z = project(x_adv + step_size * direction)
        moved = x_adv + momentum * (z - x_adv) + (1 - momentum) * (x_adv - x_old)
        x_old = x_adv
        x_adv = project(moved)
        values, grad, logits = _loss_grad(source, x_adv, y, loss, i + 1, tau)
        best.offer(x_adv, fooled_by(x_adv, logits), rows)
        history[i + 1] = values
        up = values > loss_best
        x_best[up], grad_best[up], loss_best[up] = x_adv[up], grad[up], values[up]
        if (i + 1) in checks:
            window = i + 1 - last_check
            increases = (history[last_check + 1 : i + 2] > history[last_check : i + 1]).sum(0)
            oscillating = increases < 0.75 * window
            stalled = (~reduced) & (loss_at_check >= loss_best)
            halve = oscillating | stalled
            reduced = halve
            loss_at_check = loss_best.clone()
            last_check = i + 1
            if bool(halve.any()):
                step_size[halve] /= 2
                x_adv[halve] = x_best[halve]
                grad[halve] = grad_best[halve]


def apgd(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: torch.Tensor,
    *,
    norm: str,
    loss: str,
    steps: int,
    restarts: int,
    seed: int,
    bounds: tuple[float, float],
    grad_model: torch.nn.Module | None = None,
    tau: Callable[[int], float] | None = None,
    best: Best | None = None,
    random_start: bool = True,
    mask: torch.Tensor | None = None,
) -> Best:
    """Run APGD with ``restarts`` random starts on the samples not yet broken.

    Parameters
    ----------
    model : torch.nn.Module
        ``(B, T, F)`` to ``(B, C)`` logits; decides success.
    x : (B, T, F) torch.Tensor
        Clean inputs.
    y : (B,) torch.Tensor
        Labels.
    eps : (B,) torch.Tensor
        Budget of each sample (> 0; samples with budget 0 are skipped).
    norm : {"linf", "l2"}
        Threat model.
    loss : {"ce", "dlr", "margin"}
        Loss to maximise.
    steps : int
        Iterations per restart.
    restarts : int
        Random starts; restart ``r`` is seeded with ``seed + r``.
    seed : int
        Base seed.
    bounds : tuple of float
        Input box.
    grad_model : torch.nn.Module, optional
        Module whose loss is differentiated (called as ``grad_model(x, tau)``
        when ``tau`` is given); default ``model``.
    tau : callable, optional
        Temperature of ``grad_model`` at each step.
    best : Best, optional
        Running record to update; a new one is made by default.
    random_start : bool, default True
        Start at a random point of the ball (else at the clean input).
    mask : torch.Tensor, optional
        0/1 tensor broadcastable to ``(B, T, F)``: entries that may be perturbed.

    Returns
    -------
    Best
        Smallest adversarial found per sample within its budget.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 3))
    >>> x, y = torch.rand(4, 3, 2), torch.zeros(4, dtype=torch.int64)
    >>> found = apgd(net, x, y, torch.full((4,), 0.5), norm="linf", loss="ce", steps=5,
    ...              restarts=1, seed=0, bounds=(0.0, 1.0))
    >>> bool((found.size[found.found] <= 0.5 + 1e-6).all())
    True
    """
    best = best if best is not None else Best(x, norm)
    eps = eps.to(device=x.device, dtype=torch.float64)
    for r in range(restarts):
        rows = torch.nonzero(~best.found & (eps > 0)).flatten()
        if rows.numel() == 0:
            break
        gen = torch.Generator().manual_seed(int(seed) + r)
        _run_once(
            model,
            grad_model,
            x[rows],
            y[rows],
            eps[rows],
            rows,
            best,
            norm=norm,
            loss=loss,
            steps=steps,
            bounds=bounds,
            gen=gen,
            random_start=random_start,
            tau=tau,
            mask=None if mask is None else (mask if mask.shape[0] == 1 else mask[rows]),
        )
    return best
