"""Schur form (against scipy.linalg.schur) and feed-forward chains."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize

import spectra
from spectra.matrices import chain, grcar, random_orthogonal

EPS = np.finfo(np.float64).eps


def _hidden(B: np.ndarray, seed: int) -> np.ndarray:
    Q = random_orthogonal(B.shape[0], seed=seed)
    return Q @ B @ Q.T


@pytest.mark.parametrize(
    "A",
    [
        np.random.default_rng(0).standard_normal((12, 12)),
        np.random.default_rng(1).standard_normal((7, 7))
        + 1j * np.random.default_rng(2).standard_normal((7, 7)),
        grcar(20),
        chain(9),
        np.eye(3),
        np.array([[5.0]]),
    ],
    ids=["real", "complex", "grcar", "chain", "identity", "scalar"],
)
def test_schur_reconstruction_and_unitarity(A: np.ndarray) -> None:
    n = A.shape[0]
    sf = spectra.schur(A)
    assert sf.T.dtype == np.complex128 and sf.Z.dtype == np.complex128
    assert np.array_equal(sf.T, np.triu(sf.T))
    scale = max(np.linalg.norm(A), 1.0)
    assert np.linalg.norm(sf.Z @ sf.T @ sf.Z.conj().T - A) <= 100 * n * EPS * scale
    assert np.linalg.norm(sf.Z.conj().T @ sf.Z - np.eye(n)) <= 100 * n * EPS
    assert np.array_equal(sf.eigenvalues, np.diag(sf.T))
    assert np.array_equal(sf.normal_part + sf.nonnormal_part, sf.T)
    assert np.array_equal(sf.normal_part, np.diag(np.diag(sf.T)))
    # the Schur form is unique only up to the order of the eigenvalues and phases: compare the
    # spectrum and the unitarily invariant part with the peer
    T, _ = scipy.linalg.schur(A.astype(complex), output="complex")
    assert _matching_distance(np.diag(T), sf.eigenvalues) <= 1e-10 * scale
    assert np.linalg.norm(sf.nonnormal_part) == pytest.approx(
        np.linalg.norm(np.triu(T, 1)), rel=1e-10, abs=1e-13 * scale
    )


def _matching_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Largest distance in the best one-to-one matching of two point sets."""
    cost = np.abs(a[:, None] - b[None, :])
    rows, cols = scipy.optimize.linear_sum_assignment(cost)
    return float(cost[rows, cols].max())


def test_schur_eigenvalues_match_numpy() -> None:
    A = np.random.default_rng(3).standard_normal((15, 15))
    eigenvalues = spectra.schur(A).eigenvalues
    peer = np.linalg.eigvals(A)
    assert _matching_distance(eigenvalues, peer) <= 1e-10
    # a real matrix keeps its real eigenvalues exactly real, and its other ones in pairs
    assert np.count_nonzero(eigenvalues.imag == 0.0) == np.count_nonzero(peer.imag == 0.0)
    assert _matching_distance(eigenvalues, eigenvalues.conj()) <= 1e-12


def test_schur_form_is_frozen_and_serialisable() -> None:
    sf = spectra.schur([[1.0, 2.0], [0.0, 3.0]])
    with pytest.raises(AttributeError):
        sf.T = np.zeros((2, 2))  # type: ignore[misc]
    with pytest.raises(ValueError):
        sf.T[0, 0] = 1.0
    data = json.loads(json.dumps(sf.to_dict()))
    assert set(data) == {"T", "Z", "eigenvalues", "normal_part", "nonnormal_part"}
    assert np.array(data["T"]).shape == (2, 2, 2)  # [re, im] pairs
    assert sorted(v[0] for v in data["eigenvalues"]) == pytest.approx([1.0, 3.0])


@pytest.mark.parametrize("n", [2, 3, 5, 10, 20, 30])
@pytest.mark.parametrize("seed", range(4))
def test_hidden_chain_has_full_length(n: int, seed: int) -> None:
    report = spectra.chains(_hidden(chain(n), seed))
    assert report.length == n
    assert report.path == tuple(range(n))
    assert report.nonnormal_fraction == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("alpha", [0.1, 0.9, 1.0, 3.0])
def test_hidden_chain_any_weight(alpha: float) -> None:
    assert spectra.chains(_hidden(chain(15, alpha), 7)).length == 15


@pytest.mark.parametrize(("m", "k"), [(5, 5), (20, 10), (50, 30), (10, 25)])
@pytest.mark.parametrize("seed", range(3))
def test_chain_next_to_orthogonal_block(m: int, k: int, seed: int) -> None:
    B = scipy.linalg.block_diag(random_orthogonal(m, seed=100 + seed), chain(k, 0.9))
    report = spectra.chains(_hidden(B, seed))
    assert report.length == k


@pytest.mark.parametrize("lam", [0.5, -0.7, 0.9])
def test_shifted_chain(lam: float) -> None:
    assert spectra.chains(_hidden(lam * np.eye(12) + chain(12), 1)).length == 12


@pytest.mark.parametrize("n", [1, 2, 10, 100])
def test_normal_matrices_have_no_chain(n: int) -> None:
    S = np.random.default_rng(n).standard_normal((n, n))
    for A in (random_orthogonal(n, seed=n), S + S.T, np.eye(n), np.zeros((n, n))):
        report = spectra.chains(A)
        assert report.length == 1
        assert report.path == (0,)
        assert report.nonnormal_fraction <= 1e-12


def test_chain_path_uses_strong_edges() -> None:
    A = np.random.default_rng(5).standard_normal((15, 15))
    threshold = 0.3
    report = spectra.chains(A, threshold=threshold)
    N = np.abs(spectra.schur(A).nonnormal_part)
    assert 1 <= report.length == len(report.path) <= 15
    assert list(report.path) == sorted(set(report.path))
    for i, j in zip(report.path[:-1], report.path[1:], strict=True):
        assert N[i, j] >= threshold * N.max()
    # a lower threshold only adds edges
    assert spectra.chains(A, threshold=0.05).length >= report.length


def test_several_chains_on_one_eigenvalue_stay_between_block_and_multiplicity() -> None:
    # derogatory eigenvalue 0: the Schur basis is not unique (documented limitation)
    B = scipy.linalg.block_diag(chain(3), chain(10))
    for seed in range(4):
        assert 10 <= spectra.chains(_hidden(B, seed)).length <= 13


def test_chain_report_fields_and_dict() -> None:
    A = _hidden(chain(6, 2.0), 0)
    report = spectra.chains(A)
    assert report.nonnormal_fraction == pytest.approx(spectra.henrici(A, relative=True))
    assert report.threshold == 0.1
    assert spectra.chains(3.0 * A).length == report.length
    data = json.loads(json.dumps(report.to_dict()))
    assert data == {
        "length": 6,
        "path": [0, 1, 2, 3, 4, 5],
        "nonnormal_fraction": report.nonnormal_fraction,
        "threshold": 0.1,
    }


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.5, "a", None])
def test_chains_rejects_bad_threshold(threshold: object) -> None:
    with pytest.raises(ValueError, match="threshold"):
        spectra.chains(np.eye(2), threshold=threshold)  # type: ignore[arg-type]


def test_chains_ignore_float32_rounding_of_an_orthogonal_matrix() -> None:
    Q = random_orthogonal(64, seed=5).astype(np.float32).astype(np.float64)
    assert spectra.henrici(Q) > 0  # normal only to float32 precision
    assert spectra.chains(Q).length == 1
    assert spectra.chains(Q, rtol=0.0).length > 1  # the rounding couplings alone form "chains"


def test_chains_rtol_is_validated() -> None:
    with pytest.raises(ValueError, match="rtol"):
        spectra.chains(np.eye(3), rtol=-1.0)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_chains_scale_invariant_at_extreme_scales(scale: float) -> None:
    report = spectra.chains(scale * chain(5))
    assert report.length == 5
    assert report.nonnormal_fraction == pytest.approx(1.0, rel=1e-12)


def _extreme_cases() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return [
        np.array([[1.0, 2.0], [-3.0, 1.0]]),  # a complex pair of a real matrix
        rng.standard_normal((9, 9)),
        rng.standard_normal((6, 6)) + 1j * rng.standard_normal((6, 6)),
        _hidden(chain(6, alpha=0.7) + np.diag(np.linspace(-0.5, 0.5, 6)), seed=3),
    ]


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1e150, 1e300])
@pytest.mark.parametrize("case", range(4))
def test_schur_exact_at_extreme_scales(scale: float, case: int) -> None:
    # The real-to-complex conversion of the real Schur form breaks beyond about 1e+-140
    # unless the matrix is scaled first: the eigenvalues of 1e-160 * [[1, 2], [-3, 1]] came
    # out as [1e-160, 1e-160] with a 77 % reconstruction error.
    B = _extreme_cases()[case]
    n = B.shape[0]
    A = scale * B
    sf = spectra.schur(A)
    reconstructed = (sf.Z @ sf.T @ sf.Z.conj().T) / scale  # no overflow: |Z| <= 1
    assert np.linalg.norm(reconstructed - B) <= 100 * n * EPS * np.linalg.norm(B)
    assert np.linalg.norm(sf.Z.conj().T @ sf.Z - np.eye(n)) <= 100 * n * EPS
    reference = np.linalg.eigvals(B)
    assert _matching_distance(sf.eigenvalues / scale, reference) <= 1e-8 * np.linalg.norm(B)
    assert np.array_equal(sf.nonnormal_part, np.triu(sf.T, 1))


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1e150, 1e300])
@pytest.mark.parametrize("case", range(4))
def test_schur_measures_scale_equivariant_at_extreme_scales(scale: float, case: int) -> None:
    B = _extreme_cases()[case]
    A = scale * B
    assert spectra.henrici(A) / scale == pytest.approx(spectra.henrici(B), rel=1e-9)
    assert spectra.henrici(A, relative=True) == pytest.approx(
        spectra.henrici(B, relative=True), rel=1e-9
    )
    assert spectra.eigenvector_condition(A) == pytest.approx(
        spectra.eigenvector_condition(B), rel=1e-8
    )
    scaled, plain = spectra.chains(A), spectra.chains(B)
    assert (scaled.length, scaled.path) == (plain.length, plain.path)
    assert scaled.nonnormal_fraction == pytest.approx(plain.nonnormal_fraction, rel=1e-9)
