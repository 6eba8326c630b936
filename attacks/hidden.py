r"""Perturbations of the hidden state: accuracy when :math:`h_t` is moved at one step.

:func:`hidden_state` runs the model one step at a time through its full-state API
(``initial_state``, ``step`` and ``readout``, as every :func:`models.build` kind has), adds
:math:`\Delta h` with :math:`\|\Delta h\|_2 = \delta \|h_t\|_2` to the hidden part of the
state after step ``t`` and lets the recurrence carry on to the logits. Two directions:

* random: one seeded Gaussian direction per sample, the same for every :math:`\delta`;
* adversarial: projected gradient ascent on the margin :math:`\max_{j \ne y} z_j - z_y` over
  the sphere of radius :math:`\delta \|h_t\|`, starting from the gradient with respect to
  :math:`h_t`; a sample counts as broken at :math:`\delta` when some iterate on a sphere of
  radius at most :math:`\delta` (of the grid) misclassifies it, so the curve is the accuracy
  over the ball :math:`\|\Delta h\| \le \delta \|h_t\|` and never increases.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import torch

from attacks._model import attack_mode, check_labels_match, check_model, prepare
from attacks._records import Record
from attacks._validation import check_positive_int, check_seed
from attacks.curves import provenance
from attacks.errors import AttackInputError, UnsupportedModelError
from attacks.intervals import wilson
from attacks.strength import check_strength

__all__ = ["HiddenStateCurve", "hidden_state"]

_API = ("initial_state", "step", "readout")


@dataclass(frozen=True)
class HiddenStateCurve(Record):
    r"""Accuracy against the relative size of a hidden-state perturbation at one step.

    Attributes
    ----------
    deltas : tuple of float
        Relative sizes :math:`\delta = \|\Delta h\| / \|h_t\|`, in the given order.
    step : int
        Index ``t`` (0-based, ``0 <= t < T``) of the perturbed state: the state after the
        input ``x[:, t]``.
    n_steps : int
        Sequence length ``T``.
    clean_accuracy : float
        Accuracy without perturbation.
    random_accuracy : tuple of float
        Accuracy with :math:`\Delta h` along a random direction, per delta.
    random_intervals : tuple of tuple of float
        95 % Wilson interval of each random accuracy.
    adversarial_accuracy : tuple of float or None
        Accuracy under the gradient attack on the ball of each delta (``None`` when not run).
    adversarial_intervals : tuple of tuple of float or None
        95 % Wilson interval of each adversarial accuracy.
    iterations : int
        Gradient steps of the adversarial search per delta.
    strength : str
        Budget name that set ``iterations``.
    n_samples : int
        Number of samples.
    provenance : dict
        Versions, settings, seed, data hash.
    """

    _kind = "hidden_state"

    deltas: tuple[float, ...]
    step: int
    n_steps: int
    clean_accuracy: float
    random_accuracy: tuple[float, ...]
    random_intervals: tuple[tuple[float, float], ...]
    adversarial_accuracy: tuple[float, ...] | None
    adversarial_intervals: tuple[tuple[float, float], ...] | None
    iterations: int
    strength: str
    n_samples: int
    provenance: dict[str, Any] = field(repr=False)


def _check_deltas(deltas: Any) -> tuple[float, ...]:
    values = [deltas] if isinstance(deltas, numbers.Real) else deltas
    try:
        out = tuple(float(d) for d in values)
    except (TypeError, ValueError):
        raise AttackInputError(f"deltas must be numbers >= 0, got {deltas!r}") from None
    if not out:
        raise AttackInputError("deltas must hold at least one size, got an empty sequence")
    bad = [d for d in out if not (math.isfinite(d) and d >= 0)]
    if bad:
        raise AttackInputError(f"deltas must be finite and >= 0, got {bad[0]!r}")
    return out


def _check_step(step: Any, T: int) -> int:
    if step is None:
        return T // 2
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise AttackInputError(f"step must be an integer, got {step!r}")
    index = int(step) + T if step < 0 else int(step)
    if not 0 <= index < T:
        raise AttackInputError(
            f"step must lie in [0, {T - 1}] (or [-{T}, -1] from the end) for sequences of "
            f"T={T} steps, got {step}"
        )
    return index


def _check_api(model: torch.nn.Module) -> int:
    missing = [name for name in _API if not callable(getattr(model, name, None))]
    size = getattr(model, "hidden_size", None)
    if missing or not isinstance(size, int):
        what = ", ".join(missing) if missing else "an integer hidden_size"
        raise UnsupportedModelError(
            f"hidden_state needs the one-step API of models.build models (initial_state, "
            f"step, readout, hidden_size); {type(model).__name__} lacks {what}"
        )
    return size


class _Suffix:
    """The recurrence after the perturbed step, from a full state to last-step logits."""

    def __init__(self, model: torch.nn.Module, tail: torch.Tensor, H: int) -> None:
        self.model, self.tail, self.H = model, tail, H

    def logits(self, state: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """Logits from ``state`` (``(N, S)``) for the samples ``rows`` (``(N,)`` indices)."""
        xs = self.tail[rows]
        for t in range(xs.shape[1]):
            state = self.model.step(state, xs[:, t])
        return self.model.readout(state[:, : self.H])

    def with_hidden(self, state: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``state`` with its hidden part replaced by ``h``."""
        return h if state.shape[1] == self.H else torch.cat([h, state[:, self.H :]], dim=1)


def _margin(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    true = logits.gather(1, y[:, None])[:, 0]
    other = logits.scatter(1, y[:, None], -torch.inf).amax(dim=1)
    return other - true


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=1, keepdim=True).clamp_min(torch.finfo(v.dtype).tiny)


def _adversarial(
    suffix: _Suffix,
    state: torch.Tensor,
    y: torch.Tensor,
    radius: torch.Tensor,
    start: torch.Tensor,
    rows: torch.Tensor,
    iterations: int,
) -> torch.Tensor:
    """Which rows some iterate on the sphere of ``radius`` misclassifies (``(N,)`` bool)."""
    h0 = state[:, : suffix.H]
    r = radius[:, None]
    delta = r * start
    broken = torch.zeros(rows.shape[0], dtype=torch.bool, device=state.device)
    for k in range(iterations + 1):
        active = (~broken).nonzero()[:, 0]
        if active.numel() == 0:
            break
        probe = delta[active].requires_grad_(k < iterations)
        logits = suffix.logits(suffix.with_hidden(state[active], h0[active] + probe), rows[active])
        broken[active] |= logits.detach().argmax(dim=1) != y[active]
        if k == iterations:
            break
        (grad,) = torch.autograd.grad(_margin(logits, y[active]).sum(), probe)
        size = 1.0 - 0.9 * k / max(iterations - 1, 1)  # step length from r down to 0.1 r
        moved = probe.detach() + size * r[active] * _unit(grad)
        delta[active] = r[active] * _unit(moved)
    return broken


def hidden_state(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    *,
    deltas: Any,
    step: int | None = None,
    adversarial: bool = True,
    strength: Any = "quick",
    iterations: int | None = None,
    seed: int = 0,
) -> HiddenStateCurve:
    r"""Accuracy when the hidden state after one step is perturbed by a relative size delta.

    Parameters
    ----------
    model : torch.nn.Module
        A model with the one-step API of :func:`models.build`: ``initial_state(B)``,
        ``step(state, x_t)`` on the full state (whose first ``hidden_size`` entries are
        :math:`h`; the LSTM cell state and the NRU memory are not perturbed) and
        ``readout(h)`` giving the logits.
    x : (B, T, F) array_like
        Inputs.
    y : (B,) array_like of int
        Labels.
    deltas : float or sequence of float
        Relative sizes :math:`\delta \ge 0`: :math:`\|\Delta h\|_2 = \delta\|h_t\|_2`.
    step : int, optional
        Index ``t`` of the perturbed state (the state after ``x[:, t]``); negative counts from
        the end. Default: the middle step ``T // 2``.
    adversarial : bool, default True
        Also run the gradient attack on the hidden state.
    strength : {"quick", "standard", "thorough"} or Strength, default "quick"
        Sets the gradient steps of the attack (its APGD steps) unless ``iterations`` is given.
    iterations : int, optional
        Gradient steps per delta.
    seed : int, default 0
        Seed of the random directions.

    Returns
    -------
    HiddenStateCurve
        Random and adversarial accuracy per delta, with Wilson intervals.

    Raises
    ------
    AttackInputError
        For bad inputs, a negative or non-finite delta, or a step outside ``[-T, T)``.
    UnsupportedModelError
        When the model lacks the one-step API, or its steps do not reproduce its forward pass.

    Examples
    --------
    >>> import models, torch
    >>> net = models.build("gru", input_size=2, hidden_size=4, output_size=3)
    >>> x, y = torch.rand(8, 5, 2), torch.randint(0, 3, (8,))
    >>> curve = hidden_state(net, x, y, deltas=[0, 0.5], step=2, iterations=3)
    >>> curve.random_accuracy[0] == curve.clean_accuracy
    True
    """
    model = check_model(model)
    H = _check_api(model)
    values = _check_deltas(deltas)
    budget = check_strength(strength)
    n_iter = (
        budget.apgd_steps if iterations is None else check_positive_int(iterations, "iterations")
    )
    seed = check_seed(seed)
    batch = prepare(model, x, y)
    T = int(batch.x.shape[1])
    t = _check_step(step, T)
    B = batch.n
    with attack_mode(model, seed=seed) as wrapped:
        with torch.no_grad():
            reference = wrapped(batch.x)
            check_labels_match(batch.y, int(reference.shape[-1]))
            state = model.initial_state(B)
            for k in range(t + 1):
                state = model.step(state, batch.x[:, k])
            suffix = _Suffix(model, batch.x[:, t + 1 :], H)
            rows = torch.arange(B, device=batch.x.device)
            logits = suffix.logits(state, rows)
        if logits.shape != reference.shape or not torch.allclose(
            logits, reference, rtol=1e-4, atol=1e-5
        ):
            raise UnsupportedModelError(
                f"{type(model).__name__}.step does not reproduce its forward pass (largest "
                f"logit difference {float((logits - reference).abs().max()):.3g}); hidden_state "
                "needs initial_state, step and readout to match forward"
            )
        correct = logits.argmax(dim=1) == batch.y
        h = state[:, :H]
        norm_h = h.norm(dim=1)
        g = torch.Generator(device="cpu").manual_seed(seed)
        direction = _unit(torch.randn(B, H, generator=g, dtype=torch.float64)).to(h)
        positive = [d for d in values if d > 0]
        D = len(positive)
        many_rows = rows.repeat(D)
        many_state = state.repeat(D, 1)
        radius = torch.tensor(positive, dtype=h.dtype, device=h.device).repeat_interleave(B)
        radius = radius * norm_h.repeat(D)
        random_ok: dict[float, torch.Tensor] = {}
        if D:
            with torch.no_grad():
                moved = h.repeat(D, 1) + radius[:, None] * direction.repeat(D, 1)
                noisy = suffix.logits(suffix.with_hidden(many_state, moved), many_rows)
            hits = (noisy.argmax(1) == batch.y.repeat(D)).view(D, B)
            random_ok = dict(zip(positive, hits, strict=True))
        adv_ok: dict[float, torch.Tensor] = {}
        if adversarial and D:
            probe = torch.zeros_like(h, requires_grad=True)
            first = suffix.logits(suffix.with_hidden(state, h + probe), rows)
            (grad,) = torch.autograd.grad(_margin(first, batch.y).sum(), probe)
            zero = grad.norm(dim=1, keepdim=True) == 0
            start = torch.where(zero, direction, _unit(grad)).repeat(D, 1)
            broken = _adversarial(
                suffix, many_state, batch.y.repeat(D), radius, start, many_rows, n_iter
            ).view(D, B)
            ever = ~correct
            for d in sorted(positive):
                ever = ever | broken[positive.index(d)]
                adv_ok[d] = ~ever
    random_acc = tuple(float((correct if d == 0 else random_ok[d]).double().mean()) for d in values)
    adv_acc = (
        tuple(float((correct if d == 0 else adv_ok[d]).double().mean()) for d in values)
        if adversarial
        else None
    )
    settings = {"deltas": list(values), "step": t, "adversarial": bool(adversarial),
                "iterations": n_iter, "strength": budget.to_dict()}  # fmt: skip
    return HiddenStateCurve(
        deltas=values,
        step=t,
        n_steps=T,
        clean_accuracy=float(correct.double().mean()),
        random_accuracy=random_acc,
        random_intervals=tuple(wilson(a * B, B) for a in random_acc),
        adversarial_accuracy=adv_acc,
        adversarial_intervals=None if adv_acc is None else tuple(wilson(a * B, B) for a in adv_acc),
        iterations=n_iter,
        strength=budget.name,
        n_samples=B,
        provenance=provenance(
            "hidden_state", model, batch.x, batch.y, settings=settings, seed=seed
        ),
    )
