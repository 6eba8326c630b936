"""The built-in spectral measures of a recurrent matrix, in table order.

Each is one :func:`rnnscope.measures.register_measure` call computing from the shared
:class:`rnnscope.matrix_context.MatrixContext`; a new measure of the same kind is one more call
here.
"""

from __future__ import annotations

import math

import numpy as np

import spectra
from rnnscope.matrix_context import MatrixContext, safe
from rnnscope.measures import register_measure

__all__: list[str] = []


def _max_growth(ctx: MatrixContext) -> float:
    return ctx.transient_peak


register_measure("size", "size N", lambda ctx: int(ctx.A.shape[0]))
register_measure(
    "spectral_radius",
    "spectral radius ρ",
    lambda ctx: float(np.abs(ctx.schur.eigenvalues).max()),
    short_label="ρ",
    help="spectral radius of the principal W",
    comparison=True,
    compact=True,
)
register_measure(
    "spectral_radius_power",
    "ρ (power method)",
    lambda ctx: abs(ctx.power.value) if ctx.power.converged else math.nan,
)
register_measure(
    "power_converged",
    "power method converged",
    lambda ctx: bool(ctx.power.converged),
    table=False,
)
register_measure(
    "spectral_norm",
    "spectral norm σ_max",
    lambda ctx: float(spectra.spectral_norm(ctx.A)),
    short_label="σ_max",
    help="largest singular value of the principal W",
    comparison=True,
    compact=True,
)
register_measure(
    "spectral_norm_power",
    "σ_max (power method)",
    lambda ctx: float(safe("power spectral norm", spectra.spectral_norm, ctx.A, method="power")),
)
register_measure(
    "henrici", "Henrici departure", lambda ctx: float(spectra.henrici(ctx.A, schur=ctx.schur))
)
register_measure(
    "henrici_relative",
    "Henrici / ‖W‖_F",
    lambda ctx: float(spectra.henrici(ctx.A, relative=True, schur=ctx.schur)),
    short_label="Henrici rel",
    help="departure from normality / ‖W‖_F",
    comparison=True,
    compact=True,
)
register_measure(
    "chain_length",
    "chain length",
    lambda ctx: int(ctx.chain.length),
    short_label="chain",
    help="length of the detected Schur chain",
    comparison=True,
    compact=True,
)
register_measure(
    "chain_order",
    "chain order (resolvent)",
    lambda ctx: float(ctx.chain_order.order),
    short_label="chain order",
    help="largest stable local order of the resolvent: the length of a hidden chain, 1 without",
    comparison=True,
)
register_measure(
    "chain_order_null",
    "chain order, Gaussian null",
    lambda ctx: float(ctx.chain_order.null_order),
)
register_measure(
    "orthogonality_error",
    "‖WᵀW − I‖_F",
    lambda ctx: float(spectra.orthogonality_error(ctx.A)),
)
register_measure(
    "eigenvector_condition",
    "eigenvector condition κ(V)",
    lambda ctx: float(
        safe("eigenvector condition", spectra.eigenvector_condition, ctx.A, schur=ctx.schur)
    ),
)
register_measure(
    "kreiss_lower_bound",
    "Kreiss lower bound",
    lambda ctx: float(safe("Kreiss bound", spectra.kreiss_lower_bound, ctx.A, schur=ctx.schur)),
)
register_measure("max_transient_growth", "max_k ‖W^k‖₂", _max_growth)
register_measure(
    "pseudospectral_radius",
    "ε-pseudospectral radius",
    lambda ctx: dict(ctx.pseudospectral_radii),
    short_label="ρ_ε ε={eps}",
    help="ε-pseudospectral radius",
    comparison=True,
    per_eps=True,
)
register_measure(
    "pseudospectral_radius_upper",
    "ε-pseudospectral radius, certified upper bound",
    lambda ctx: dict(ctx.pseudospectral_uppers),
    short_label="ρ_ε upper ε={eps}",
    help="certified upper bound of the ε-pseudospectral radius",
    table=False,
    per_eps=True,
)
