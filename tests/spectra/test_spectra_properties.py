"""Property tests over random sizes and seeds (hypothesis)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spectra
from spectra.matrices import random_orthogonal

SETTINGS = settings(max_examples=15, deadline=None)
sizes = st.integers(min_value=1, max_value=10)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
EPS = np.finfo(np.float64).eps


def _matrix(n: int, seed: int, *, complex_: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    if complex_:
        A = A + 1j * rng.standard_normal((n, n))
    return A * rng.uniform(0.1, 3.0)


@SETTINGS
@given(n=sizes, seed=seeds, complex_=st.booleans())
def test_schur_and_henrici(n: int, seed: int, complex_: bool) -> None:
    A = _matrix(n, seed, complex_=complex_)
    sf = spectra.schur(A)
    scale = np.linalg.norm(A)
    assert np.linalg.norm(sf.Z @ sf.T @ sf.Z.conj().T - A) <= 200 * n * EPS * scale
    assert np.linalg.norm(sf.Z.conj().T @ sf.Z - np.eye(n)) <= 200 * n * EPS
    d = spectra.henrici(A)
    assert 0.0 <= d <= scale * (1 + 1e-12)
    assert 0.0 <= spectra.henrici(A, relative=True) <= 1.0 + 1e-12
    Q = random_orthogonal(n, seed=seed % 1000)
    assert spectra.henrici(Q @ A @ Q.T) == pytest.approx(d, rel=1e-8, abs=1e-12 * scale)


@SETTINGS
@given(n=sizes, seed=seeds, threshold=st.floats(0.01, 1.0))
def test_chain_is_a_valid_path(n: int, seed: int, threshold: float) -> None:
    A = _matrix(n, seed)
    report = spectra.chains(A, threshold=threshold)
    assert 1 <= report.length == len(report.path) <= n
    assert all(i < j for i, j in zip(report.path[:-1], report.path[1:], strict=True))
    N = np.abs(spectra.schur(A).nonnormal_part)
    for i, j in zip(report.path[:-1], report.path[1:], strict=True):
        assert N[i, j] >= threshold * N.max()


@SETTINGS
@given(n=sizes, seed=seeds)
def test_transient_growth_is_submultiplicative_and_above_rho(n: int, seed: int) -> None:
    A = _matrix(n, seed)
    g = spectra.transient_growth(A, 12)
    rho = spectra.spectral_radius(A)
    k = np.arange(13)
    assert np.all(g >= rho**k * (1 - 1e-8))
    assert np.all(g <= spectra.spectral_norm(A) ** k * (1 + 1e-8))
    for a in range(1, 6):
        for b in range(1, 6):
            assert g[a + b] <= g[a] * g[b] * (1 + 1e-8)


@settings(max_examples=8, deadline=None)
@given(n=st.integers(1, 6), seed=seeds)
def test_kreiss_bound_of_stable_matrices(n: int, seed: int) -> None:
    A = _matrix(n, seed)
    rho = spectra.spectral_radius(A)
    if rho > 0:
        A = A * (0.8 / rho)
    K = spectra.kreiss_lower_bound(A)
    peak = spectra.transient_growth(A, 300).max()
    assert 1.0 <= K <= peak * (1 + 1e-9)
    assert peak <= np.e * n * K * (1 + 1e-9)


@SETTINGS
@given(n=sizes, seed=seeds, steps=st.integers(1, 30))
def test_fisher_memory_bounds(n: int, seed: int, steps: int) -> None:
    A = _matrix(n, seed)
    rho = spectra.spectral_radius(A)
    if rho > 0:
        A = A * (0.9 / rho)
    v = np.random.default_rng(seed).standard_normal(n)
    J = spectra.fisher_memory(A, v, steps)
    assert J.shape == (steps,)
    assert np.all(J >= 0.0)
    assert J.sum() <= n * (v @ v) * (1 + 1e-9)
    Q = random_orthogonal(n, seed=seed % 1000)
    normal = Q @ np.diag(np.linspace(-0.9, 0.9, n)) @ Q.T
    assert spectra.fisher_memory(normal, v, steps).sum() == pytest.approx(v @ v, rel=1e-9)


@SETTINGS
@given(n=sizes, seed=seeds, bound=st.floats(0.1, 5.0), kind=st.sampled_from(["clip", "scale"]))
def test_norm_projections(n: int, seed: int, bound: float, kind: str) -> None:
    A = _matrix(n, seed)
    P = spectra.project(A, bound, kind=kind)  # type: ignore[arg-type]
    assert np.linalg.norm(P, 2) <= bound * (1 + 1e-12)
    assert np.allclose(spectra.project(P, bound, kind=kind), P, rtol=1e-10, atol=1e-12)  # type: ignore[arg-type]
    if kind == "clip":
        S = spectra.project(A, bound, kind="scale")
        assert np.linalg.norm(A - P) <= np.linalg.norm(A - S) + 1e-12


@SETTINGS
@given(n=sizes, seed=seeds, complex_=st.booleans())
def test_power_method_is_right_or_says_so(n: int, seed: int, complex_: bool) -> None:
    A = _matrix(n, seed, complex_=complex_)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = spectra.power_method(A, seed=seed % 1000)
    if result.converged:
        assert abs(result.value) == pytest.approx(spectra.spectral_radius(A), rel=1e-7)
    else:
        assert any(issubclass(w.category, spectra.NotConvergedWarning) for w in caught)
    assert spectra.spectral_norm(A, method="power") == pytest.approx(
        spectra.spectral_norm(A), rel=1e-8
    )
