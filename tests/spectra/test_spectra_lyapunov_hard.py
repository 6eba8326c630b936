"""Runs of steps between QRs (``every="auto"``) on hard cases, against QR at every step.

A run's QR is accepted up to a condition number of ``1e10``; its rounding perturbs the
frame by about ``eps * kappa`` in its small directions, a perturbation the QR iteration forgets
at the rate of the gaps between the exponents, so each exponent moves by a transient averaged
over the steps. Measured on these cases it stays below ``1e-9``; the tolerance ``1e-8`` is far
below any real error (a skipped step, a lost triangular factor, a frame left skewed at the end
move the exponents by ``1e-6`` or more here) and below the statistical error of any estimate.
"""

from __future__ import annotations

import numpy as np
import pytest

import spectra
from spectra._frames import _SolvedFrames

TOLERANCE = 1e-8


def _saturated(seed, S=24, B=3, T=160):
    """Steps of a tanh network driven hard: some units saturated to ``tanh' = 1e-8``."""
    rng = np.random.default_rng(seed)
    W = 2.0 * rng.standard_normal((S, S)) / np.sqrt(S)
    a = rng.standard_normal((T, B, S)) * 2.0
    a[:, :, : S // 4] *= 5.0  # a quarter of the units deep in saturation
    scales = np.maximum(1.0 - np.tanh(a) ** 2, 1e-8)
    return [spectra.RowScaled(d, W) for d in scales], scales, W


@pytest.mark.parametrize("k", [None, 6, 1])
def test_near_singular_saturated_steps(k):
    steps, scales, W = _saturated(0)
    each = spectra.lyapunov(steps, k=k, discard=20)
    runs = spectra.lyapunov(steps, k=k, discard=20, every="auto")
    if k:  # the leading exponents are close together: runs of several steps
        assert runs.factorisations < each.factorisations / 2
        np.testing.assert_allclose(runs.per_sequence, each.per_sequence, rtol=0, atol=TOLERANCE)
    else:
        # down to -19 nats per step: the smallest exponents are known only to about 1e-7 by any
        # QR at every step (the complex explicit-Q path and the real Householder-factor path
        # differ by that much); the runs (one step each here) must be as close as those two
        peer = spectra.lyapunov([J.dense().astype(complex) for J in steps], discard=20)
        spread = np.abs(peer.per_sequence - each.per_sequence).max()
        assert 1e-9 < spread < 1e-6
        assert np.abs(runs.per_sequence - each.per_sequence).max() <= 2 * spread
        assert np.abs(runs.per_sequence[:, :12] - each.per_sequence[:, :12]).max() < TOLERANCE
    np.testing.assert_allclose(runs.running[-1], runs.exponents)
    if k is None:  # the sum is the mean log |det J|, here down to exponents of about -18
        assert runs.exponents[-1] < -10
        logdet = np.log(np.abs(np.linalg.det(W))) + np.log(scales[20:]).sum(axis=2).mean(axis=0)
        # (each exponent carries the ~1e-7 above; their sum is held far tighter)
        np.testing.assert_allclose(runs.per_sequence.sum(axis=1), logdet, rtol=1e-9)
        np.testing.assert_allclose(each.per_sequence.sum(axis=1), logdet, rtol=1e-9)


@pytest.mark.parametrize("k", [None, 3])
def test_widely_spread_exponents(k):
    """Steps ``Z_t D``, ``Z_t`` random orthogonal and ``D`` spread over 13 nats per step."""
    rng = np.random.default_rng(1)
    S, T = 10, 240
    logs = np.linspace(1.0, -12.0, S)
    logs[1:3] = [0.95, 0.9]  # the leading three close together: long runs for k = 3
    steps = []
    for _ in range(T):
        Z = np.linalg.qr(rng.standard_normal((S, S)))[0]
        steps.append(Z @ np.diag(np.exp(logs)))
    each = spectra.lyapunov(steps, k=k, discard=40)
    runs = spectra.lyapunov(steps, k=k, discard=40, every="auto")
    np.testing.assert_allclose(runs.per_sequence, each.per_sequence, rtol=0, atol=TOLERANCE)
    if k is None:  # |det(Z_t D)| = prod exp(logs): the exponents sum to sum(logs) exactly
        np.testing.assert_allclose(runs.exponents.sum(), logs.sum(), rtol=1e-12)
    if k == 3:
        assert runs.factorisations < T / 4  # close exponents: runs of many steps
    else:
        assert runs.factorisations > T / 2  # a spread of 13 nats per step: one or two steps


def test_refine_completes_the_product_of_the_triangular_factors():
    """``F = A R^{-1}`` keeps a triangular skew; refine() removes it, and the logs add up."""
    rng = np.random.default_rng(2)
    S, k = 12, 12
    W = rng.standard_normal((S, S)) / np.sqrt(S)
    scales = rng.uniform(1e-3, 1.5, (12, 2, S))
    steps = [spectra.RowScaled(d, W) for d in scales]
    Q0 = np.linalg.qr(rng.standard_normal((S, S)))[0]
    frame = _SolvedFrames(np.broadcast_to(Q0, (2, S, k)).copy())
    total = np.zeros((2, k))
    for start in (0, 6):
        for J in steps[start : start + 6]:
            frame.push(J)
        total += frame.orthonormalise()
    assert (frame.condition > 1e7).all()  # F = A R^{-1} is then skewed by about 1e-9
    F = frame.X.transpose(0, 2, 1).copy()
    skew = np.log(np.abs(np.diagonal(np.linalg.qr(F, mode="r"), axis1=1, axis2=2)))
    assert np.abs(skew).max() > 1e-12
    removed = frame.refine()
    np.testing.assert_allclose(removed, skew, rtol=0, atol=1e-14)
    total += removed
    F = frame.X.transpose(0, 2, 1)
    np.testing.assert_allclose(
        F.transpose(0, 2, 1) @ F, np.broadcast_to(np.eye(k), F.shape), atol=1e-14
    )
    # reference: the product of all twelve steps applied to Q0, factored step by step
    reference = np.zeros((2, k))
    Q = np.broadcast_to(Q0, (2, S, k)).copy()
    for J in steps:
        Q, R = np.linalg.qr(J.dense() @ Q)
        reference += np.log(np.abs(np.diagonal(R, axis1=1, axis2=2)))
    # two runs of six steps at kappa ~ 1e8 keep the sums (down to -34) to about 1e-10
    np.testing.assert_allclose(total, reference, rtol=0, atol=TOLERANCE)
    skewed = total - frame.refine()  # a second refine finds nothing left to remove
    np.testing.assert_allclose(skewed, total, rtol=0, atol=1e-13)


def test_spread_singular_values_keep_the_runs_accurate():
    """Steps ``Z_1 D Z_2^T`` with ``D`` spread over 6 nats: the rounding of a run grows with its
    limit (``9e-9`` per sequence at ``1e10``, ``9e-8`` at ``k * 1e10``), and the exponents must
    still sum to the mean ``log |det J|``."""
    rng = np.random.default_rng(1)
    S, T, B = 32, 200, 2
    D = np.exp(np.linspace(2.0, -4.0, S))
    J = np.empty((B, T, S, S))
    for b in range(B):
        for t in range(T):
            left = np.linalg.qr(rng.standard_normal((S, S)))[0]
            right = np.linalg.qr(rng.standard_normal((S, S)))[0]
            J[b, t] = (left * D) @ right.T
    each = spectra.lyapunov(J)
    runs = spectra.lyapunov(J, every="auto")
    assert runs.factorisations < each.factorisations / 2
    np.testing.assert_allclose(runs.per_sequence, each.per_sequence, rtol=0, atol=3e-8)
    logdet = np.linalg.slogdet(J)[1].mean(axis=1)
    np.testing.assert_allclose(runs.per_sequence.sum(axis=1), logdet, rtol=0, atol=2e-9)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("scale", [1e-170, 1e170])
def test_runs_that_overflow_are_redone_without_numpy_warnings(scale):
    """Products of two steps overflow (or underflow) here: each run is redone step by step."""
    rng = np.random.default_rng(3)
    J = np.stack([np.linalg.qr(rng.standard_normal((6, 6)))[0] for _ in range(60)])[None]
    each = spectra.lyapunov(J * scale)
    runs = spectra.lyapunov(J * scale, every="auto")
    np.testing.assert_allclose(runs.per_sequence, each.per_sequence, rtol=0, atol=1e-12)
    np.testing.assert_allclose(each.exponents, np.log(scale), rtol=1e-13)
