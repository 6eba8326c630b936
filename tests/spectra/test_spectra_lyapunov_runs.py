"""Re-orthonormalising every few steps (``every``): the same exponents, the checks that guard it."""

from __future__ import annotations

import numpy as np
import pytest

import spectra
from spectra._frames import _SolvedFrames


def _with_eigenvalues(values, seed=0):
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((len(values), len(values)))
    return V @ np.diag(values) @ np.linalg.inv(V)


@pytest.mark.parametrize(
    ("values", "k", "runs"),
    [
        # the matrix of the every-step test (spread log 34 per step): runs of a few steps
        ([0.3, -1.7, 0.9, 1.2, -0.05], None, True),
        ([0.3, -1.7, 0.9, 1.2, -0.05], 2, True),
        ([3.0, -1.0, 0.1, 1e-3, 1e-5], None, False),  # spread log 3e5: one step at a time
        ([3.0, -1.0, 0.1, 1e-3, 1e-5], 2, True),  # the leading two have a spread of log 3
    ],
    ids=["moderate-full", "moderate-k2", "wide-full", "wide-k2"],
)
def test_constant_matrix_gives_log_moduli_with_runs(values, k, runs):
    A = _with_eigenvalues(values)
    r = spectra.lyapunov(np.broadcast_to(A, (400, 5, 5)), discard=100, every="auto", k=k)
    expected = np.sort(np.log(np.abs(values)))[::-1][: r.exponents.size]
    np.testing.assert_allclose(r.exponents, expected, rtol=0, atol=1e-9)
    assert r.steps == 300 and r.running.shape == (300, r.exponents.size)
    np.testing.assert_allclose(r.running[-1], r.exponents)
    each = spectra.lyapunov(np.broadcast_to(A, (400, 5, 5)), discard=100, k=k)
    # every run of the constant matrix is as long as the limit (1e10) allows: the difference
    # to QR at every step grows with the limit (1e-9 allowed)
    np.testing.assert_allclose(r.per_sequence, each.per_sequence, rtol=0, atol=1e-9)
    assert each.factorisations == 400
    if runs:
        assert r.factorisations < 400 / 2
    else:
        assert r.factorisations >= 400


def test_sum_is_mean_log_abs_det_with_runs():
    """Runs are held to a conditioning of 1e10: the identity keeps at least 8 digits here."""
    rng = np.random.default_rng(4)
    J = 0.7 * rng.standard_normal((3, 200, 6, 6))
    r = spectra.lyapunov(J, discard=10, every="auto")
    assert r.factorisations < 190
    logdet = np.linalg.slogdet(J[:, 10:])[1].mean(axis=1)
    np.testing.assert_allclose(r.per_sequence.sum(axis=1), logdet, rtol=1e-8)
    each = spectra.lyapunov(J, discard=10)
    np.testing.assert_allclose(r.per_sequence, each.per_sequence, rtol=0, atol=1e-8)


def test_a_run_that_grows_too_ill_conditioned_is_redone_step_by_step():
    """Well-conditioned steps let the runs grow; a sudden wide spread breaks the bound."""
    rng = np.random.default_rng(5)
    S = 4
    calm = [np.linalg.qr(rng.standard_normal((S, S)))[0] * 0.9 for _ in range(60)]
    harsh = [np.diag([1e3, 1.0, 1e-3, 1e-4]) @ np.linalg.qr(rng.standard_normal((S, S)))[0]]
    steps = calm + harsh * 3 + calm
    runs = spectra.lyapunov(steps, every="auto")
    each = spectra.lyapunov(steps)
    assert runs.redone >= 1  # the run holding the harsh steps failed its check
    assert runs.factorisations < len(steps)  # and the calm stretches were runs
    np.testing.assert_allclose(runs.per_sequence, each.per_sequence, rtol=0, atol=1e-12)
    np.testing.assert_allclose(runs.exponents.sum(), each.exponents.sum(), rtol=1e-13)


def test_a_fixed_longest_run_is_also_checked():
    """``every=8`` on the same steps: at most 8 steps a run, still redone when too long."""
    rng = np.random.default_rng(5)
    calm = [np.linalg.qr(rng.standard_normal((4, 4)))[0] * 0.9 for _ in range(60)]
    harsh = [np.diag([1e3, 1.0, 1e-3, 1e-4])] * 3
    steps = calm + harsh + calm
    runs = spectra.lyapunov(steps, every=8)
    each = spectra.lyapunov(steps)
    assert runs.factorisations >= len(steps) / 8 and runs.redone >= 1
    np.testing.assert_allclose(runs.per_sequence, each.per_sequence, rtol=0, atol=1e-12)


def test_singular_steps_inside_runs_give_minus_infinity():
    """A dead unit at every step: R has an exact zero, Q is formed from the reflectors."""
    rng = np.random.default_rng(9)
    W = rng.standard_normal((5, 5))
    scales = rng.uniform(0.2, 1.0, (60, 2, 5))
    scales[:, :, 0] = 0.0
    steps = [spectra.RowScaled(d, W) for d in scales]
    runs = spectra.lyapunov(steps, every="auto")
    each = spectra.lyapunov(steps)
    assert runs.exponents[-1] == -np.inf and each.exponents[-1] == -np.inf
    np.testing.assert_allclose(runs.per_sequence[:, :-1], each.per_sequence[:, :-1], atol=1e-12)
    # the frames themselves: a singular product is orthonormalised through dorgqr, not a solve
    frame = _SolvedFrames(np.broadcast_to(np.eye(5), (2, 5, 5)).copy())
    frame.push(steps[0])
    logs = frame.orthonormalise()
    assert frame.formed == 2 and (frame.condition > 1e8).all() and (logs[:, -1] < -25).all()
    Q = frame.X.transpose(0, 2, 1)
    np.testing.assert_allclose(
        Q.transpose(0, 2, 1) @ Q, np.broadcast_to(np.eye(5), Q.shape), atol=1e-14
    )


@pytest.mark.parametrize("S", [5, 17, 64, 130])
@pytest.mark.parametrize("every", [1, "auto", "complex"])
def test_a_dead_unit_anywhere_gives_exactly_minus_infinity(S, every):
    """Zero rows are factored last, so R is exactly singular wherever the unit sits.

    In place, Householder QR mixes a zero row into the others and leaves about ``eps`` on the
    diagonal (an exponent near ``log(eps) / T`` instead of ``-inf``), depending on the BLAS.
    """
    rng = np.random.default_rng(S)
    W = rng.standard_normal((S, S)) / np.sqrt(S)
    scales = rng.uniform(0.5, 1.0, (40, 3, S))
    dead = rng.integers(0, S, size=3)  # one unit per sequence, at every step
    scales[:, np.arange(3), dead] = 0.0
    scales[::3, 2, :] = rng.uniform(0.5, 1.0, (14, S))  # sequence 2: alive on some steps
    if every == "complex":
        steps = [(d[:, :, None] * W).astype(complex) for d in scales]
        result = spectra.lyapunov(steps)
    else:
        result = spectra.lyapunov([spectra.RowScaled(d, W) for d in scales], every=every)
    assert (result.per_sequence[:, -1] == -np.inf).all()
    assert np.isfinite(result.per_sequence[:, :-1]).all()
    reference = spectra.lyapunov([spectra.RowScaled(d, W) for d in scales])
    np.testing.assert_allclose(
        result.per_sequence[:, :-1], reference.per_sequence[:, :-1], rtol=0, atol=1e-11
    )


def test_solved_frames_are_orthonormal_after_a_run():
    """Q = A R^{-1} on a conditioned run: orthonormal to rounding times the growth."""
    rng = np.random.default_rng(6)
    W = rng.standard_normal((30, 30)) / np.sqrt(30)
    frame = _SolvedFrames(np.broadcast_to(np.eye(30)[:, :7], (3, 30, 7)).copy())
    for _ in range(4):
        frame.push(spectra.RowScaled(rng.uniform(0.3, 1.0, (3, 30)), W))
    A = frame.X.transpose(0, 2, 1).copy()
    frame.orthonormalise()
    assert frame.formed == 0 and (frame.condition > 10).all()
    Q = frame.X.transpose(0, 2, 1)
    error = np.abs(Q.transpose(0, 2, 1) @ Q - np.eye(7)).max()
    assert error < 1e-15 * float(frame.condition.max())
    exact = np.linalg.cond(np.linalg.qr(A, mode="r"), p=1)
    assert (frame.condition <= exact * (1 + 1e-12)).all() and (frame.condition > exact / 10).all()


def test_runs_end_at_discard_and_match_streamed_and_complex_input():
    rng = np.random.default_rng(7)
    J = 0.5 * rng.standard_normal((2, 150, 7, 7))
    each = spectra.lyapunov(J, discard=37, seed=3)
    runs = spectra.lyapunov(J, discard=37, seed=3, every="auto")
    assert runs.steps == 113 and runs.running.shape == (113, 7)
    np.testing.assert_allclose(runs.per_sequence, each.per_sequence, rtol=0, atol=1e-9)
    streamed = spectra.lyapunov((J[:, t] for t in range(150)), discard=37, seed=3, every="auto")
    np.testing.assert_array_equal(streamed.per_sequence, runs.per_sequence)
    complex_runs = spectra.lyapunov(J.astype(np.complex128), discard=37, seed=3, every="auto")
    np.testing.assert_allclose(complex_runs.per_sequence, each.per_sequence, rtol=0, atol=1e-9)


@pytest.mark.parametrize("every", [0, -2, 1.5, "fast", True, None])
def test_bad_every_raises(every):
    with pytest.raises(ValueError, match="every"):
        spectra.lyapunov(np.ones((3, 2, 2)), every=every)
