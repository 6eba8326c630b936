"""sigma_min on normal-like spectra, the transient peak, and sharing one Schur form."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import spectra
from spectra import matrices
from spectra.pseudospectra import sigma_min


@pytest.mark.parametrize(("n", "points"), [(64, 200), (128, 120), (256, 60), (512, 30)])
def test_sigma_min_of_diagonal_unitary_matrices(n: int, points: int) -> None:
    # orthogonal RNNs: the two smallest singular values of zI - A often nearly tie; the old
    # stopping test returned values up to 1e-5 too large
    rng = np.random.default_rng(n)
    d = np.exp(2j * np.pi * rng.uniform(size=n))
    z = rng.uniform(-1.5, 1.5, points) + 1j * rng.uniform(-1.5, 1.5, points)
    # include near-ties: points almost equidistant from two neighbouring eigenvalues
    k = rng.integers(0, n, 10)
    mid = 0.5 * (d[k] + d[(k + 1) % n])
    z = np.concatenate([z, mid * (1 + 1e-3 * rng.standard_normal(10))])
    expected = np.abs(z[:, None] - d[None, :]).min(axis=1)
    with threadpool_limits(limits=1):
        got = sigma_min(np.diag(d), z)
    np.testing.assert_allclose(got, expected, rtol=1e-8)


def test_sigma_min_of_a_rotated_unitary_matrix_with_ties() -> None:
    rng = np.random.default_rng(5)
    n = 64
    d = np.exp(2j * np.pi * rng.uniform(size=n))
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n)))
    A = (Q * d) @ Q.conj().T
    k = rng.integers(0, n, 20)
    z = 0.5 * (d[k] + d[(k + 1) % n]) * (1 + 1e-4 * rng.standard_normal(20))
    M = z[:, None, None] * np.eye(n) - A
    ref = np.linalg.svd(M, compute_uv=False)[:, -1]
    np.testing.assert_allclose(sigma_min(A, z), ref, rtol=1e-8)


def test_sigma_min_of_near_normal_matrix_with_ties_against_dense_svd() -> None:
    rng = np.random.default_rng(9)
    n = 64
    d = np.exp(2j * np.pi * rng.uniform(size=n))
    T = np.diag(d) + 1e-5 * np.triu(rng.standard_normal((n, n)), 1)
    k = rng.integers(0, n, 30)
    z = 0.5 * (d[k] + d[(k + 1) % n]) * (1 + 1e-4 * rng.standard_normal(30))
    M = z[:, None, None] * np.eye(n) - T
    ref = np.linalg.svd(M, compute_uv=False)[:, -1]
    np.testing.assert_allclose(sigma_min(T, z), ref, rtol=1e-8)


@pytest.mark.parametrize(
    "A",
    [
        np.array([[0.5, 4.0], [0.0, 0.5]]),
        np.random.default_rng(1).uniform(-1, 1, (30, 30)) / np.sqrt(30),
        0.3 * np.eye(8) + matrices.chain(8, 2.0),
        1.01 * np.eye(3),
        matrices.chain(5, 2.0),
    ],
)
def test_transient_peak_is_the_maximum_of_the_growth(A: np.ndarray) -> None:
    for steps in (0, 1, 40):
        full = spectra.transient_growth(A, steps).max()
        assert spectra.transient_peak(A, steps) == pytest.approx(full, rel=1e-12)


def test_transient_peak_overflow_is_inf() -> None:
    assert spectra.transient_peak(10.0 * np.eye(2), 400) == np.inf


def test_shared_schur_form_gives_identical_measures() -> None:
    A = np.random.default_rng(3).standard_normal((40, 40)) / 7
    sf = spectra.schur(A)
    assert spectra.henrici(A, schur=sf) == spectra.henrici(A)
    assert spectra.henrici(A, relative=True, schur=sf) == spectra.henrici(A, relative=True)
    assert spectra.chains(A, schur=sf).path == spectra.chains(A).path
    assert spectra.eigenvector_condition(A, schur=sf) == spectra.eigenvector_condition(A)
    B = A / (1.1 * np.abs(sf.eigenvalues).max())
    sb = spectra.schur(B)
    assert spectra.kreiss_lower_bound(B, schur=sb) == pytest.approx(
        spectra.kreiss_lower_bound(B), rel=1e-9
    )
    with pytest.raises(ValueError, match="shape"):
        spectra.henrici(np.eye(3), schur=sf)


@pytest.mark.parametrize("complex_matrix", [False, True])
def test_schur_factor_uses_lapacks_optimal_workspace(complex_matrix: bool) -> None:
    import scipy.linalg

    from spectra._resolvent import _gees_lwork, _schur_factor
    from spectra.local_order import _schur_factor as null_schur_factor

    rng = np.random.default_rng(5)
    A = rng.standard_normal((150, 150))
    if complex_matrix:
        A = A + 1j * rng.standard_normal((150, 150))
    gees = scipy.linalg.lapack.zgees if complex_matrix else scipy.linalg.lapack.dgees
    select = (lambda w: None) if complex_matrix else (lambda wr, wi: None)
    lwork = _gees_lwork(gees, select, A)
    # the blocked Hessenberg reduction needs more than the wrapper's default of 3N
    assert lwork > 3 * A.shape[0]
    assert lwork == int(np.real(gees(select, A, compute_v=0, lwork=-1)[-2][0]))
    factors = [_schur_factor(A)] + ([] if complex_matrix else [null_schur_factor(A)])
    for T in factors:
        assert np.allclose(np.tril(T, -1), 0.0)
        lam, d = np.linalg.eigvals(A), np.diag(T)
        # every eigenvalue on the diagonal and back (conjugate pairs sort unreliably)
        assert np.abs(lam[:, None] - d[None, :]).min(axis=1).max() < 1e-10
        assert np.abs(lam[:, None] - d[None, :]).min(axis=0).max() < 1e-10
        # unitary similarity keeps the Frobenius norm
        assert np.isclose(np.linalg.norm(T), np.linalg.norm(A), rtol=1e-12)
