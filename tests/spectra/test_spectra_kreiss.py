"""The coarse Kreiss search of large matrices and the truncated Lanczos estimates behind it."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.linalg

import spectra
import spectra.kreiss as kreiss
from spectra._resolvent import prepare


def _ratio(A: np.ndarray, z: complex) -> float:
    return (abs(z) - 1.0) / scipy.linalg.svdvals(z * np.eye(A.shape[0]) - A)[-1]


def _matrix(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "chain":
        A = rng.standard_normal((n, n)) / np.sqrt(n) + np.eye(n, k=1)
        return A * (0.95 / np.abs(np.linalg.eigvals(A)).max())
    if kind == "gaussian":
        A = rng.standard_normal((n, n)) / np.sqrt(n)
        return A * (0.99 / np.abs(np.linalg.eigvals(A)).max())
    T = np.triu(rng.standard_normal((n, n)), 1) * 2.0 / np.sqrt(n)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return Q @ (T + np.diag(rng.uniform(-0.9, 0.9, n))) @ Q.T


def test_truncated_lanczos_estimates_never_fall_below_sigma_min() -> None:
    # the coarse search ranks points by a few Lanczos steps: a Ritz value is below the top
    # eigenvalue of the inverse operator, so the estimate of sigma_min may only be too large
    A = _matrix("chain", 64, 0)
    prep = prepare(A)
    rng = np.random.default_rng(1)
    z = (1.0 + np.exp(rng.uniform(-6, 2, 200))) * np.exp(1j * rng.uniform(0, np.pi, 200))
    est = prep.solver.sigma(z / prep.scale, tol=1e-3, maxiter=3, estimate=True) * prep.scale
    exact = np.array([scipy.linalg.svdvals(p * np.eye(64) - A)[-1] for p in z])
    assert np.all(est >= exact * (1 - 1e-10))
    assert np.any(est > exact * (1 + 1e-6))  # three steps are not converged everywhere
    full = prep.solver.sigma(z / prep.scale, tol=1e-10) * prep.scale
    assert np.allclose(full, exact, rtol=1e-8)


@pytest.mark.parametrize("kind", ["chain", "triangular"])
def test_coarse_search_matches_the_fine_one_and_is_attained(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    A = _matrix(kind, 132, 2)
    coarse = spectra.kreiss_lower_bound(A)
    assert coarse.search == "coarse" and coarse.evaluations > 0
    monkeypatch.setattr(kreiss, "_FINE_N", 10**6)
    fine = spectra.kreiss_lower_bound(A)
    assert fine.search == "fine"
    assert float(coarse) > 1.0
    assert float(coarse) >= float(fine) * (1 - 1e-3)
    # the reported bound is certified: the dense ratio at its point is at least as large
    assert _ratio(A, coarse.point) >= float(coarse) * (1 - 1e-9)


def test_kreiss_bound_result_keeps_the_float_contract() -> None:
    A = np.array([[0.5, 4.0], [0.0, 0.5]])
    K = spectra.kreiss_lower_bound(A)
    assert isinstance(K, float) and K.search == "fine"
    assert _ratio(A, K.point) >= float(K) * (1 - 1e-9)
    again = pickle.loads(pickle.dumps(K))
    assert again == K and again.point == K.point and again.to_dict() == K.to_dict()
    assert spectra.kreiss_lower_bound(np.eye(3) / 2).to_dict()["point"] is None
    assert spectra.kreiss_lower_bound(2 * np.eye(2)).search == "none"
    with pytest.raises(AttributeError):
        K.search = "x"  # type: ignore[misc]
