r"""spectra: spectral and non-normality analysis of one square matrix.

numpy and scipy only (matplotlib is imported lazily by :mod:`spectra.plot`), so it works on any
matrix, with or without torch. Matrices use the column convention of recurrent networks,
:math:`h_t = W h_{t-1} + \dots`.

Examples
--------
>>> import spectra
>>> W = spectra.matrices.chain(8, alpha=1.0)
>>> spectra.henrici(W, relative=True), spectra.chains(W).length
(1.0, 8)
"""

from __future__ import annotations

from spectra import errors, matrices, plot
from spectra.errors import (
    EmptyMatrixError,
    GridTooLargeError,
    IllConditionedWarning,
    NonFiniteError,
    NonNumericError,
    NonSquareError,
    NotConvergedWarning,
    ShapeMismatchError,
    SpectraError,
)
from spectra.kreiss import KreissBound, kreiss_lower_bound
from spectra.local_order import ChainOrder, chain_order
from spectra.lyapunov import LyapunovResult, RowScaled, lyapunov
from spectra.memory import fisher_memory
from spectra.nonnormality import eigenvector_condition, henrici, orthogonality_error
from spectra.norms import PowerResult, power_method, project, spectral_norm, spectral_radius
from spectra.pseudospectra import Pseudospectrum, pseudospectrum, sigma_min
from spectra.radius import PseudospectralRadii, PseudospectralRadius, pseudospectral_radius
from spectra.schur import ChainReport, SchurForm, chains, schur
from spectra.transient import transient_growth, transient_peak

__all__ = [
    "ChainOrder",
    "ChainReport",
    "EmptyMatrixError",
    "GridTooLargeError",
    "IllConditionedWarning",
    "KreissBound",
    "LyapunovResult",
    "NonFiniteError",
    "NonNumericError",
    "NonSquareError",
    "NotConvergedWarning",
    "PowerResult",
    "PseudospectralRadii",
    "PseudospectralRadius",
    "Pseudospectrum",
    "RowScaled",
    "SchurForm",
    "ShapeMismatchError",
    "SpectraError",
    "chain_order",
    "chains",
    "eigenvector_condition",
    "errors",
    "fisher_memory",
    "henrici",
    "kreiss_lower_bound",
    "lyapunov",
    "matrices",
    "orthogonality_error",
    "plot",
    "power_method",
    "project",
    "pseudospectral_radius",
    "pseudospectrum",
    "schur",
    "sigma_min",
    "spectral_norm",
    "spectral_radius",
    "transient_growth",
    "transient_peak",
]
