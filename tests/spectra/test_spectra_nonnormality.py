"""Henrici departure, eigenvector condition number and orthogonality error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg

import spectra
from spectra.matrices import chain, jordan, random_orthogonal


def _formula(A: np.ndarray) -> float:
    """Henrici's departure by the eigenvalue formula (cancels for nearly normal A)."""
    lam = np.linalg.eigvals(A)
    return float(np.sqrt(max(np.linalg.norm(A) ** 2 - np.sum(np.abs(lam) ** 2), 0.0)))


@pytest.mark.parametrize("n", [1, 2, 7, 40])
def test_henrici_zero_for_orthogonal_and_symmetric(n: int) -> None:
    Q = random_orthogonal(n, seed=n)
    S = np.random.default_rng(n).standard_normal((n, n))
    S = S + S.T
    H = S + 1j * np.triu(S, 1) - 1j * np.triu(S, 1).T  # Hermitian
    for A in (Q, S, H, np.zeros((n, n)), np.eye(n)):
        tol = 1e-13 * max(1.0, np.linalg.norm(A)) * n
        assert spectra.henrici(A) <= tol
        assert spectra.henrici(A, relative=True) <= 1e-13 * n
    assert spectra.henrici(np.zeros((n, n)), relative=True) == 0.0


@pytest.mark.parametrize("n", [2, 5, 30, 100])
@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.05])
def test_henrici_equals_frobenius_norm_for_chain(n: int, alpha: float) -> None:
    W = chain(n, alpha)
    assert spectra.henrici(W) == pytest.approx(np.linalg.norm(W), rel=1e-14)
    assert spectra.henrici(W, relative=True) == pytest.approx(1.0, rel=1e-14)


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("seed", range(3))
def test_henrici_of_hidden_nilpotent_chain(n: int, seed: int) -> None:
    # Eigenvalues of a Jordan block move by eps**(1/n) under rounding, so the measure itself is
    # ill-conditioned there; for short chains it stays within a few eps**(2/n).
    Q = random_orthogonal(n, seed=seed)
    A = Q @ chain(n) @ Q.T
    assert spectra.henrici(A) == pytest.approx(np.linalg.norm(A), rel=1e-4)


@pytest.mark.parametrize("seed", range(5))
def test_henrici_agrees_with_eigenvalue_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 6 + 5 * seed
    A = rng.standard_normal((n, n))
    B = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    for M in (A, B, np.triu(A) + 0.1 * np.eye(n)):
        assert spectra.henrici(M) == pytest.approx(_formula(M), rel=1e-10)


def test_henrici_accurate_for_nearly_normal_matrix() -> None:
    # A = Q (D + N) Q^T with a tiny strictly upper N: the Schur route keeps its digits
    n = 60
    rng = np.random.default_rng(4)
    D = np.diag(np.linspace(-1.0, 1.0, n))
    N = np.triu(rng.standard_normal((n, n)), 1)
    N *= 1e-8 / np.linalg.norm(N)
    Q = random_orthogonal(n, seed=5)
    A = Q @ (D + N) @ Q.T
    assert spectra.henrici(A) == pytest.approx(1e-8, rel=1e-4)
    assert abs(_formula(A) - 1e-8) > 1e-9  # the formula has lost every digit


def test_henrici_invariances() -> None:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((8, 8))
    Q = random_orthogonal(8, seed=1)
    d = spectra.henrici(A)
    assert spectra.henrici(Q @ A @ Q.T) == pytest.approx(d, rel=1e-12)
    assert spectra.henrici(-3.0 * A) == pytest.approx(3.0 * d, rel=1e-12)
    assert spectra.henrici(A.T) == pytest.approx(d, rel=1e-12)
    assert 0.0 < spectra.henrici(A, relative=True) < 1.0


def test_integer_input_is_accepted() -> None:
    assert spectra.henrici([[0, 3], [0, 0]]) == pytest.approx(3.0)


def test_eigenvector_condition_of_normal_matrices_is_one() -> None:
    Q = random_orthogonal(6, seed=2)
    repeated = Q @ np.diag([1.0, 1.0, 1.0, 2.0, 2.0, 3.0]) @ Q.T  # repeated eigenvalues
    for A in (np.eye(4), np.zeros((3, 3)), Q, repeated, np.diag([1.0, -2.0, 3j])):
        assert spectra.eigenvector_condition(A) == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize("seed", range(4))
def test_eigenvector_condition_matches_numpy_for_distinct_eigenvalues(seed: int) -> None:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((10, 10)) + np.diag(np.arange(10.0))
    _, V = np.linalg.eig(A)
    expected = np.linalg.cond(V / np.linalg.norm(V, axis=0))
    assert spectra.eigenvector_condition(A) == pytest.approx(expected, rel=1e-6)


def test_eigenvector_condition_two_by_two_closed_form() -> None:
    # eigenvectors (1, 0) and (t, d)/sqrt(t^2 + d^2): kappa = cot(phi/2) with phi the angle
    t, d = 1.0, 1e-3
    phi = np.arctan2(d, t)
    expected = 1.0 / np.tan(phi / 2.0)
    assert spectra.eigenvector_condition([[1.0, t], [0.0, 1.0 + d]]) == pytest.approx(
        expected, rel=1e-8
    )


def test_eigenvector_condition_defective_is_inf_and_warns() -> None:
    for A in (jordan(5, 0.3), chain(4), [[1.0, 1.0], [0.0, 1.0]]):
        with pytest.warns(spectra.IllConditionedWarning):
            assert spectra.eigenvector_condition(A) == np.inf


def test_eigenvector_condition_huge_warns() -> None:
    with pytest.warns(spectra.IllConditionedWarning):
        kappa = spectra.eigenvector_condition([[1.0, 1.0], [0.0, 1.0 + 1e-9]])
    assert kappa > 1e8


def test_eigenvector_condition_does_not_warn_when_benign() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spectra.eigenvector_condition(np.diag([1.0, 2.0]) + np.triu(np.ones((2, 2)), 1))


def test_orthogonality_error() -> None:
    Q = random_orthogonal(9, seed=3)
    U = scipy.linalg.expm(1j * (lambda H: H + H.conj().T)(np.random.default_rng(0).random((5, 5))))
    assert spectra.orthogonality_error(Q) <= 1e-13
    assert spectra.orthogonality_error(U) <= 1e-13
    # c * I: ||(c^2 - 1) I||_F = |c^2 - 1| sqrt(n)
    assert spectra.orthogonality_error(2.0 * np.eye(4)) == pytest.approx(3.0 * 2.0)
    A = np.random.default_rng(1).standard_normal((5, 5))
    assert spectra.orthogonality_error(A) == pytest.approx(np.linalg.norm(A.T @ A - np.eye(5)))


@pytest.mark.parametrize("scale", [1e-310, 1e-200, 1e200])
def test_nonnormality_measures_scale_invariant_at_extreme_scales(scale: float) -> None:
    # The Frobenius norms must not overflow or underflow in their squared entries.
    J = jordan(5, 0.0)
    assert spectra.henrici(scale * J) == pytest.approx(2.0 * scale, rel=1e-12)
    assert spectra.henrici(scale * J, relative=True) == pytest.approx(1.0, rel=1e-12)
    A = np.array([[1.0, 1.0], [0.0, 2.0]])
    assert spectra.eigenvector_condition(scale * A) == pytest.approx(
        spectra.eigenvector_condition(A), rel=1e-10
    )
