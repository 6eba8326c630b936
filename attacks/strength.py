"""Attack budgets of the default ensemble: ``quick``, ``standard`` and ``thorough``.

=============  ==========  ============  ==============  ===========  ==================
strength       APGD steps  restarts      Square queries  adaptive     bisection (steps)
=============  ==========  ============  ==============  ===========  ==================
``quick``      25          1             300             25 x 1       6 (20 APGD steps)
``standard``   100         5             1000            100 x 5      10 (50 APGD steps)
``thorough``   200         10            5000            200 x 10     14 (100 APGD steps)
=============  ==========  ============  ==============  ===========  ==================

``standard`` is the default of ``rnnscope report`` and ``rnnscope attack``; ``quick`` is meant
for demos and tests and is below the five restarts a published number needs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from attacks.errors import AttackInputError

__all__ = ["STRENGTHS", "Strength", "check_strength"]


@dataclass(frozen=True)
class Strength:
    """Budgets of the default ensemble at one strength.

    Attributes
    ----------
    name : str
        ``"quick"``, ``"standard"`` or ``"thorough"``.
    apgd_steps : int
        Iterations of APGD-CE, APGD-DLR and the adaptive attack per restart.
    restarts : int
        Random restarts of each APGD member.
    square_queries : int
        Queries of the Square attack per sample.
    bisection_steps : int
        Halvings of the budget interval in the minimal-norm bisection.
    bisection_apgd_steps : int
        APGD iterations at each bisection point.
    """

    name: str
    apgd_steps: int
    restarts: int
    square_queries: int
    bisection_steps: int
    bisection_apgd_steps: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready budgets.

        Returns
        -------
        dict
            Every field.

        Examples
        --------
        >>> STRENGTHS["quick"].to_dict()["restarts"]
        1
        """
        return asdict(self)


STRENGTHS: dict[str, Strength] = {
    "quick": Strength("quick", 25, 1, 300, 6, 20),
    "standard": Strength("standard", 100, 5, 1000, 10, 50),
    "thorough": Strength("thorough", 200, 10, 5000, 14, 100),
}
"""Budgets by name."""


def check_strength(strength: Any) -> Strength:
    """Return the budgets of ``strength`` (a name or a :class:`Strength`).

    Parameters
    ----------
    strength : str or Strength
        ``"quick"``, ``"standard"``, ``"thorough"`` or custom budgets.

    Returns
    -------
    Strength
        The budgets.

    Raises
    ------
    AttackInputError
        For an unknown name.

    Examples
    --------
    >>> check_strength("standard").apgd_steps
    100
    """
    if isinstance(strength, Strength):
        return strength
    key = str(strength).lower() if isinstance(strength, str) else strength
    if key not in STRENGTHS:
        raise AttackInputError(f"unknown strength {strength!r}; available: {', '.join(STRENGTHS)}")
    return STRENGTHS[key]
