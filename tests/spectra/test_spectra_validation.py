"""Every public function rejects bad matrices with the domain error naming the shape or value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import spectra


def _fisher(A: Any) -> Any:
    try:
        n = np.shape(A)[0] if np.ndim(A) >= 1 else 1
    except ValueError:  # ragged
        n = len(A)
    return spectra.fisher_memory(A, np.ones(n), 3)


FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "henrici": spectra.henrici,
    "henrici_relative": lambda A: spectra.henrici(A, relative=True),
    "eigenvector_condition": spectra.eigenvector_condition,
    "orthogonality_error": spectra.orthogonality_error,
    "schur": spectra.schur,
    "chains": spectra.chains,
    "chain_order": spectra.chain_order,
    "power_method": spectra.power_method,
    "spectral_radius": spectra.spectral_radius,
    "spectral_radius_power": lambda A: spectra.spectral_radius(A, method="power"),
    "spectral_norm": spectra.spectral_norm,
    "spectral_norm_power": lambda A: spectra.spectral_norm(A, method="power"),
    "project_clip": spectra.project,
    "project_scale": lambda A: spectra.project(A, kind="scale"),
    "project_radius": lambda A: spectra.project(A, kind="radius"),
    "transient_growth": lambda A: spectra.transient_growth(A, 3),
    "kreiss_lower_bound": spectra.kreiss_lower_bound,
    "fisher_memory": _fisher,
}

BAD: dict[str, tuple[Any, type[Exception], str]] = {
    "non-square": (np.ones((3, 4)), spectra.NonSquareError, r"\(3, 4\)"),
    "vector": (np.ones(3), spectra.NonSquareError, r"\(3,\)"),
    "scalar": (np.float64(2.0), spectra.NonSquareError, r"\(\)"),
    "3-d": (np.ones((2, 2, 2)), spectra.NonSquareError, r"\(2, 2, 2\)"),
    "empty": (np.ones((0, 0)), spectra.EmptyMatrixError, r"\(0, 0\)"),
    "nan": (np.array([[1.0, np.nan], [0.0, 1.0]]), spectra.NonFiniteError, "NaN"),
    "inf": (np.array([[1.0, 0.0], [np.inf, 1.0]]), spectra.NonFiniteError, "infinite"),
    "complex-nan": (np.array([[1j, complex(np.nan, 0)], [0, 1]]), spectra.NonFiniteError, "NaN"),
    "strings": (np.array([["a", "b"], ["c", "d"]]), spectra.NonNumericError, "dtype"),
    "objects": (np.array([[1, None], [2, 3]], dtype=object), spectra.NonNumericError, "object"),
    "booleans": (np.eye(2, dtype=bool), spectra.NonNumericError, "bool"),
    "ragged": ([[1.0, 2.0], [3.0]], spectra.NonNumericError, "numeric"),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_bad_matrix(name: str, case: str) -> None:
    value, error, match = BAD[case]
    with pytest.raises(error, match=match) as info:
        FUNCTIONS[name](value)
    assert isinstance(info.value, spectra.SpectraError)
    assert isinstance(info.value, ValueError | TypeError)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_accepts_integers_lists_and_complex(name: str) -> None:
    FUNCTIONS[name]([[1, 2], [0, 3]])
    FUNCTIONS[name](np.array([[0.5j, 1.0], [0.0, -0.25]]))
    FUNCTIONS[name](np.array([[0.5]], dtype=np.float32))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_input_is_not_modified(name: str) -> None:
    A = np.array([[0.5, 2.0], [0.0, 0.25]])
    before = A.copy()
    FUNCTIONS[name](A)
    assert np.array_equal(A, before)
