"""No public spectra function lets a numpy RuntimeWarning escape at entries near 1e+-300."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import spectra
from spectra.matrices import chain

#: Public functions that take the matrix alone.
PLAIN = [
    "henrici",
    "eigenvector_condition",
    "orthogonality_error",
    "schur",
    "chains",
    "chain_order",
    "power_method",
    "spectral_radius",
    "spectral_norm",
    "project",
    "kreiss_lower_bound",
]

CALLS: dict[str, Callable[[np.ndarray], Any]] = {name: getattr(spectra, name) for name in PLAIN}
CALLS |= {
    "henrici_relative": lambda A: spectra.henrici(A, relative=True),
    "spectral_radius_power": lambda A: spectra.spectral_radius(A, method="power"),
    "spectral_norm_power": lambda A: spectra.spectral_norm(A, method="power"),
    "project_scale": lambda A: spectra.project(A, kind="scale"),
    "project_radius": lambda A: spectra.project(A, kind="radius"),
    "transient_growth": lambda A: spectra.transient_growth(A, 5),
    "transient_peak": lambda A: spectra.transient_peak(A, 5),
    "fisher_memory": lambda A: spectra.fisher_memory(A, np.ones(A.shape[0]), 3),
    "pseudospectral_radius": lambda A: spectra.pseudospectral_radius(A, 0.1 * np.abs(A).max()),
    "sigma_min": lambda A: spectra.sigma_min(A, np.abs(A).max() * np.array([0.5, 2.0 + 1j])),
    "pseudospectrum": lambda A: spectra.pseudospectrum(A, n=8),
    "lyapunov": lambda A: spectra.lyapunov([A, A]),
}

MATRICES: dict[str, Callable[[float], np.ndarray]] = {
    "ones": lambda s: s * np.ones((4, 4)),
    "random": lambda s: s * np.random.default_rng(0).standard_normal((5, 5)),
    "chain": lambda s: s * chain(4),
    "complex": lambda s: s * (np.eye(3) + 1j * np.eye(3, k=1)),
}


@pytest.mark.parametrize("scale", [1e-300, 1e300])
@pytest.mark.parametrize("matrix", sorted(MATRICES))
@pytest.mark.parametrize("name", sorted(CALLS))
def test_no_runtime_warning_at_extreme_scales(name: str, matrix: str, scale: float) -> None:
    A = MATRICES[matrix](scale)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        # the package's own warnings (subclasses of RuntimeWarning) are the intended reports
        warnings.simplefilter("ignore", spectra.IllConditionedWarning)
        warnings.simplefilter("ignore", spectra.NotConvergedWarning)
        try:
            CALLS[name](A)
        except OverflowError as exc:  # a value beyond float64, reported as one clear error
            assert name == "fisher_memory" and scale > 1.0, exc


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e200, 1e300])
def test_orthogonality_error_scales_without_overflow(scale: float) -> None:
    A = scale * np.ones((3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        value = spectra.orthogonality_error(A)
    # ||A^T A - I||_F with A^T A = 3 s^2 ones: overflows float64 for s >= 1e200
    gram = 3 * scale**2 if scale < 1e150 else np.inf
    exact = np.sqrt(6 * gram**2 + 3 * (gram - 1) ** 2)
    assert value == pytest.approx(exact, rel=1e-12)
