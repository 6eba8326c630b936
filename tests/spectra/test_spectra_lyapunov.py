"""Lyapunov exponents by QR: exact cases, a peer estimate on a chaotic network, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import spectra
from spectra.errors import EmptyMatrixError, NonFiniteError, NonNumericError, NonSquareError


def _with_eigenvalues(values, seed=0):
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((len(values), len(values)))
    return V @ np.diag(values) @ np.linalg.inv(V)


def test_constant_matrix_gives_sorted_log_moduli():
    values = [0.3, -1.7, 0.9, 1.2, -0.05]  # deliberately unsorted, mixed signs
    A = _with_eigenvalues(values)
    r = spectra.lyapunov(np.broadcast_to(A, (400, 5, 5)), discard=100)
    expected = np.sort(np.log(np.abs(values)))[::-1]
    np.testing.assert_allclose(r.exponents, expected, rtol=0, atol=1e-9)
    assert r.steps == 300 and r.running.shape == (300, 5)
    np.testing.assert_allclose(r.running[-1], r.exponents)


def test_diagonal_matrix_is_sorted_not_kept_in_place():
    """An identity start frame would return diag entries in their order; the random frame sorts."""
    r = spectra.lyapunov(np.broadcast_to(np.diag([0.5, 3.0, 1.0]), (300, 3, 3)), discard=100)
    np.testing.assert_allclose(r.exponents, np.log([3.0, 1.0, 0.5]), atol=1e-9)


def test_rotation_pairs_converge_to_their_modulus():
    """A complex pair: both exponents are log|lambda|, reached at rate O(1/T)."""
    c, s = np.cos(0.7), np.sin(0.7)
    A = np.zeros((4, 4))
    A[:2, :2] = 0.8 * np.array([[c, -s], [s, c]])
    A[2:, 2:] = np.diag([1.5, 0.2])
    A = _with_eigenvalues([1.0] * 4, 1) @ A @ np.linalg.inv(_with_eigenvalues([1.0] * 4, 1))
    V = np.random.default_rng(3).standard_normal((4, 4))
    A = V @ A @ np.linalg.inv(V)
    r = spectra.lyapunov(np.broadcast_to(A, (20000, 4, 4)), discard=100)
    np.testing.assert_allclose(r.exponents, np.log([1.5, 0.8, 0.8, 0.2]), atol=2e-3)
    assert abs(r.exponents[1] + r.exponents[2] - 2 * np.log(0.8)) < 1e-9


def test_sum_is_mean_log_abs_det():
    rng = np.random.default_rng(4)
    J = rng.standard_normal((3, 60, 6, 6))
    r = spectra.lyapunov(J, discard=10)
    logdet = np.linalg.slogdet(J[:, 10:])[1].mean(axis=1)
    np.testing.assert_allclose(r.per_sequence.sum(axis=1), logdet, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r.exponents.sum(), logdet.mean(), rtol=1e-12)


def test_leading_k_match_the_full_spectrum_and_stream_matches_array():
    rng = np.random.default_rng(5)
    J = 0.6 * rng.standard_normal((2, 200, 8, 8))
    full = spectra.lyapunov(J)
    top = spectra.lyapunov(J, k=3)
    np.testing.assert_allclose(top.exponents, full.exponents[:3], rtol=1e-12, atol=1e-12)
    streamed = spectra.lyapunov(J[:, t] for t in range(J.shape[1]))
    np.testing.assert_allclose(streamed.exponents, full.exponents, rtol=0, atol=0)
    single = spectra.lyapunov(list(J[0]))
    np.testing.assert_allclose(single.exponents, spectra.lyapunov(J[0]).exponents, atol=0)


def test_standard_error_across_the_batch():
    rng = np.random.default_rng(6)
    J = rng.standard_normal((5, 100, 4, 4))
    r = spectra.lyapunov(J)
    np.testing.assert_allclose(r.stderr, r.per_sequence.std(axis=0, ddof=1) / np.sqrt(5))
    assert (r.stderr > 0).all()
    assert np.isnan(spectra.lyapunov(J[0]).stderr).all()
    d = r.to_dict(running=True)
    assert d["unit"] == "nats per step" and len(d["running"]) == 100 and d["batch"] == 5


def test_singular_jacobian_gives_minus_infinity():
    J = np.broadcast_to(np.diag([2.0, 0.0]), (10, 2, 2))
    r = spectra.lyapunov(J, discard=1)
    assert r.exponents[0] == pytest.approx(np.log(2.0)) and r.exponents[1] == -np.inf
    assert r.to_dict()["exponents"][1] is None


def test_complex_jacobians():
    A = np.diag([2.0 + 1.0j, 0.5j])
    r = spectra.lyapunov(np.broadcast_to(A, (200, 2, 2)), discard=50)
    np.testing.assert_allclose(r.exponents, np.log([np.sqrt(5.0), 0.5]), atol=1e-9)


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (np.zeros((4, 3, 2)), NonSquareError, "shape"),
        (np.zeros((3, 3)), NonSquareError, "shape"),
        (np.zeros((0, 3, 3)), EmptyMatrixError, "non-empty"),
        (np.full((4, 2, 2), np.nan), NonFiniteError, "NaN"),
        (np.array([[["a"]]]), NonNumericError, "numeric"),
        ([], EmptyMatrixError, "none"),
        ([np.eye(2), np.eye(3)], NonSquareError, "step 1"),
        ([np.eye(2), np.ones((2, 3))], NonSquareError, r"jacobians\[1\]"),
        ([np.eye(2), np.array([[np.inf, 0], [0, 1]])], NonFiniteError, "step 1"),
    ],
)
def test_bad_input_raises_domain_errors(value, error, match):
    with pytest.raises(error, match=match):
        spectra.lyapunov(value)


def test_bad_options():
    J = np.broadcast_to(np.eye(3), (5, 3, 3))
    with pytest.raises(ValueError, match="k must"):
        spectra.lyapunov(J, k=4)
    with pytest.raises(ValueError, match="k must"):
        spectra.lyapunov(J, k=0)
    with pytest.raises(ValueError, match="discard"):
        spectra.lyapunov(J, discard=-1)
    with pytest.raises(EmptyMatrixError, match="discard=5"):
        spectra.lyapunov(J, discard=5)
    with pytest.raises(EmptyMatrixError, match="discard=5"):
        spectra.lyapunov(iter(J), discard=5)


def test_spectra_never_imports_torch():
    import subprocess
    import sys

    code = "import sys, spectra, spectra.lyapunov; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_implicit_full_frame_matches_the_explicit_qr_path():
    # k = S on real input keeps Q as Householder factors; a complex copy of the same
    # Jacobians goes through the explicit Q R path, which must give the same numbers
    rng = np.random.default_rng(7)
    J = 0.5 * rng.standard_normal((3, 120, 12, 12))
    J[1] *= 3.0  # one sequence with growing and one with decaying directions
    real = spectra.lyapunov(J, discard=15, seed=3)
    explicit = spectra.lyapunov(J.astype(np.complex128), discard=15, seed=3)
    np.testing.assert_allclose(real.per_sequence, explicit.per_sequence, rtol=0, atol=1e-12)
    np.testing.assert_allclose(real.running, explicit.running, rtol=0, atol=1e-12)
    assert spectra.lyapunov(J.astype(np.float32), seed=3).exponents.dtype == np.float64


@pytest.mark.parametrize("k", [None, 1, 5])
def test_row_scaled_jacobians_match_their_dense_form(k):
    # diag(d_b) W of a vanilla step, never formed: the same exponents and running estimate as
    # the dense batch, through the Householder-factor path (k = S) and the explicit one
    rng = np.random.default_rng(8)
    W = 1.3 * rng.standard_normal((9, 9)) / 3.0
    scales = rng.uniform(0.0, 1.0, (150, 4, 9))
    scales[:, 2] *= 3.0  # one sequence with growing directions
    factored = [spectra.RowScaled(d, W) for d in scales]
    dense = np.stack([J.dense() for J in factored], axis=1)
    np.testing.assert_array_equal(dense[1, 7], np.diag(scales[7, 1]) @ W)
    a = spectra.lyapunov(factored, k=k, discard=20, seed=4)
    b = spectra.lyapunov(dense, k=k, discard=20, seed=4)
    np.testing.assert_allclose(a.per_sequence, b.per_sequence, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.running, b.running, rtol=0, atol=1e-12)
    # the tripled sequence grows faster: the factors are applied per sequence, not shared
    assert a.per_sequence[2, 0] > a.per_sequence[0, 0] + 0.5


def test_row_scaled_sum_and_singular_rows():
    rng = np.random.default_rng(9)
    W = rng.standard_normal((5, 5))
    scales = rng.uniform(0.2, 1.0, (60, 2, 5))
    r = spectra.lyapunov([spectra.RowScaled(d, W) for d in scales])
    logdet = np.log(np.abs(np.linalg.det(W))) + np.log(scales).sum(axis=2).mean(axis=0)
    np.testing.assert_allclose(r.per_sequence.sum(axis=1), logdet, rtol=1e-10)
    dead = scales.copy()
    dead[:, :, 0] = 0.0  # a dead unit: the Jacobian is singular at every step
    assert spectra.lyapunov([spectra.RowScaled(d, W) for d in dead]).exponents[-1] == -np.inf


def test_row_scaled_bad_input():
    with pytest.raises(NonSquareError, match="square"):
        spectra.RowScaled(np.ones((1, 3)), np.ones((3, 2)))
    with pytest.raises(NonSquareError, match=r"\(B, 3\)"):
        spectra.RowScaled(np.ones((2, 4)), np.eye(3))
    with pytest.raises(NonNumericError):
        spectra.RowScaled(np.array([["a", "b"]]), np.eye(2))
    assert spectra.RowScaled(np.ones(3), np.eye(3)).shape == (1, 3, 3)
    nan = spectra.RowScaled(np.array([[1.0, np.nan]]), np.eye(2))
    with pytest.raises(NonFiniteError, match="step 1"):
        spectra.lyapunov([spectra.RowScaled(np.ones(2), np.eye(2)), nan])
    with pytest.raises(NonSquareError, match="step 1"):
        spectra.lyapunov([spectra.RowScaled(np.ones(2), np.eye(2)), np.eye(3)])
