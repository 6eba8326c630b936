"""Members of the default attack ensemble: APGD-CE, APGD-DLR, Square and the adaptive attack.

The default ensemble follows AutoAttack (Croce & Hein, ICML 2020): APGD on the cross-entropy
and on the DLR loss (the margin loss for 2 classes), then Square as a black-box control, and,
for models with modReLU units, APGD through a smooth surrogate of modReLU (see
:mod:`attacks.surrogate`). Each member runs at every budget on the samples not yet broken by
it, decides success on every iterate and keeps the smallest adversarial per sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from attacks._apgd import Best, apgd
from attacks._square import square
from attacks.strength import Strength
from attacks.surrogate import modrelu_surrogate

__all__ = ["BLACK_BOX", "DEFAULT", "ENSEMBLE_ATTACKS", "WHITE_BOX", "MemberRun", "run_member"]

ENSEMBLE_ATTACKS: tuple[str, ...] = ("apgd-ce", "apgd-dlr", "square", "adaptive")
"""Names of the ensemble members accepted by :func:`attacks.adversarial`."""

DEFAULT: tuple[str, ...] = ("apgd-ce", "apgd-dlr", "square")
"""The default ensemble; ``"adaptive"`` joins it for models with modReLU units."""

BLACK_BOX: frozenset[str] = frozenset({"square"})
"""Members that use only forward passes."""

WHITE_BOX: frozenset[str] = frozenset({"fgsm", "pgd", "bim", "deepfool", "fmn", "cw", "apgd-ce"})
"""Plain gradient members (``"apgd-dlr"`` counts as white-box too; ``"adaptive"`` does not)."""


@dataclass(frozen=True)
class MemberRun:
    """Outcome of one member at every budget.

    Attributes
    ----------
    broken : (K, B) torch.Tensor of bool
        Sample ``b`` broken at budget ``k``.
    note : str or None
        Why the member did not run (all ``False`` then).
    """

    broken: torch.Tensor
    note: str | None = None


def run_member(
    name: str,
    model: torch.nn.Module,
    wrapped: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    correct: torch.Tensor,
    epsilons: tuple[float, ...],
    *,
    norm: str,
    strength: Strength,
    seed: int,
    bounds: tuple[float, float],
) -> MemberRun:
    """Run one ensemble member at every budget.

    Parameters
    ----------
    name : {"apgd-ce", "apgd-dlr", "square", "adaptive"}
        Member.
    model : torch.nn.Module
        The user's model (read for modReLU parts).
    wrapped : torch.nn.Module
        The model returning ``(B, C)`` logits in attack mode.
    x : (B, T, F) torch.Tensor
        Inputs.
    y : (B,) torch.Tensor
        Labels.
    correct : (B,) torch.Tensor of bool
        Clean correctness; only correct samples are attacked.
    epsilons : tuple of float
        Budgets.
    norm : {"linf", "l2"}
        Threat model.
    strength : Strength
        Budgets of the attack.
    seed : int
        Seed.
    bounds : tuple of float
        Input box.

    Returns
    -------
    MemberRun
        Per-budget broken samples.

    Examples
    --------
    >>> import torch
    >>> from attacks.strength import STRENGTHS
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 3))
    >>> x, y = torch.rand(4, 3, 2), torch.zeros(4, dtype=torch.int64)
    >>> run = run_member("square", net, net, x, y, torch.ones(4, dtype=torch.bool), (0.1,),
    ...                  norm="linf", strength=STRENGTHS["quick"], seed=0, bounds=(0.0, 1.0))
    >>> tuple(run.broken.shape)
    (1, 4)
    """
    n = x.shape[0]
    rows = torch.zeros((len(epsilons), n), dtype=torch.bool, device=x.device)
    surrogate = tau = None
    if name == "adaptive":
        surrogate, tau, note = modrelu_surrogate(model, wrapped, x, steps=strength.apgd_steps)
        if surrogate is None:
            return MemberRun(rows, note)
    # budgets in increasing order: an adversarial found inside a smaller ball lies inside every
    # larger one, so a sample broken at one budget counts as broken at the larger ones
    carried = torch.zeros(n, dtype=torch.bool, device=x.device)
    for k in sorted(range(len(epsilons)), key=lambda i: epsilons[i]):
        eps = epsilons[k]
        if eps <= 0:
            continue
        todo = correct & ~carried
        budget = torch.where(todo, torch.full((n,), float(eps)), torch.zeros(n))
        best = Best(x, norm)
        common = {"norm": norm, "bounds": bounds, "best": best}
        if name == "apgd-ce":
            apgd(wrapped, x, y, budget, loss="ce", steps=strength.apgd_steps,
                 restarts=strength.restarts, seed=seed, **common)  # fmt: skip
        elif name == "apgd-dlr":
            apgd(wrapped, x, y, budget, loss="dlr", steps=strength.apgd_steps,
                 restarts=strength.restarts, seed=seed + 1000, **common)  # fmt: skip
        elif name == "square":
            square(wrapped, x, y, budget, queries=strength.square_queries, seed=seed, **common)
        elif name == "adaptive":
            ce_restarts = max(1, (strength.restarts + 1) // 2)
            apgd(wrapped, x, y, budget, loss="ce", steps=strength.apgd_steps,
                 restarts=ce_restarts, seed=seed + 2000, grad_model=surrogate, tau=tau,
                 **common)  # fmt: skip
            if strength.restarts > 1:
                apgd(wrapped, x, y, budget, loss="dlr", steps=strength.apgd_steps,
                     restarts=strength.restarts - ce_restarts, seed=seed + 3000,
                     grad_model=surrogate, tau=tau, **common)  # fmt: skip
        else:
            raise KeyError(name)
        carried |= best.found & todo
        rows[k] = carried & correct
    return MemberRun(rows)
