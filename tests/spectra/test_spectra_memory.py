"""Fisher memory curve: closed forms, the normal-network identity and the research numbers."""

from __future__ import annotations

import numpy as np
import pytest

import spectra
from spectra.matrices import chain, fbchain, random_orthogonal


def _unit(n: int, i: int = 0) -> np.ndarray:
    e = np.zeros(n)
    e[i] = 1.0
    return e


@pytest.mark.parametrize(("alpha", "total"), [(0.95, 3.03), (1.0, 5.19), (1.05, 12.09)])
def test_chain_totals_of_the_nnrnn_table(alpha: float, total: float) -> None:
    # Orhan & Pitkow / Kerg et al. (Table 6 of the nnRNN supplement): N = 100, v = e_1
    J = spectra.fisher_memory(chain(100, alpha), _unit(100), steps=100)
    assert round(float(J.sum()), 2) == total


@pytest.mark.filterwarnings("ignore::spectra.errors.IllConditionedWarning")
@pytest.mark.parametrize("alpha", [0.5, 0.95, 1.0, 1.05, 2.0])
def test_chain_closed_form(alpha: float) -> None:
    # C = diag(c_i), c_i = sum_{m<=i} alpha^(2m), and W^k e_1 = alpha^k e_{k+1}
    n = 30
    J = spectra.fisher_memory(chain(n, alpha), _unit(n), steps=n)
    k = np.arange(n)
    c = np.cumsum(alpha ** (2.0 * k))
    assert np.allclose(J, alpha ** (2.0 * k) / c, rtol=1e-12, atol=0)
    if alpha == 1.0:
        assert np.allclose(J, 1.0 / (k + 1))


def test_nilpotent_curve_does_not_depend_on_extra_steps() -> None:
    W = chain(20, 1.02)
    J = spectra.fisher_memory(W, _unit(20), steps=20)
    longer = spectra.fisher_memory(W, _unit(20), steps=50)
    assert np.allclose(longer[:20], J, rtol=1e-12)
    assert np.all(longer[20:] == 0.0)


@pytest.mark.parametrize("steps", [1, 7, 200])
@pytest.mark.parametrize("seed", range(3))
def test_normal_networks_have_total_memory_one(steps: int, seed: int) -> None:
    n = 12
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(n)
    v /= np.linalg.norm(v)
    S = rng.standard_normal((n, n))
    Q = random_orthogonal(n, seed=seed)
    U = Q @ np.diag(np.exp(1j * rng.uniform(0, 2 * np.pi, n))) @ Q.T  # complex normal
    for W in (0.9 * Q, (S + S.T) / 10.0, 0.8 * U, np.eye(n), 1.1 * Q):
        assert spectra.fisher_memory(W, v, steps).sum() == pytest.approx(1.0, rel=1e-9)


def test_scaled_orthogonal_research_number() -> None:
    Q = random_orthogonal(100, seed=0)
    J = spectra.fisher_memory(0.95 * Q, _unit(100), steps=300)
    assert round(float(J.sum()), 3) == 1.0


@pytest.mark.parametrize("seed", range(4))
def test_bounds_and_invariances(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 8
    W = rng.standard_normal((n, n))
    W *= 0.8 / np.max(np.abs(np.linalg.eigvals(W)))
    v = rng.standard_normal(n)
    J = spectra.fisher_memory(W, v, steps=40)
    assert J.shape == (40,) and J.dtype == np.float64
    assert np.all(J >= 0.0)
    assert J.sum() <= n * (v @ v) * (1 + 1e-10)  # Ganguli et al.: J_tot <= N |v|^2
    Q = random_orthogonal(n, seed=seed + 10)
    assert np.allclose(spectra.fisher_memory(Q @ W @ Q.T, Q @ v, 40), J, rtol=1e-9, atol=1e-14)
    assert np.allclose(spectra.fisher_memory(W, 3.0 * v, 40), 9.0 * J, rtol=1e-12)


def test_symmetric_feedback_chain_is_normal() -> None:
    n = 30
    assert spectra.fisher_memory(fbchain(n, 0.4, 0.4), _unit(n), 300).sum() == pytest.approx(1.0)
    assert spectra.fisher_memory(fbchain(n, 0.4, 0.1), _unit(n), 300).sum() > 1.0


def test_integer_and_complex_inputs() -> None:
    J = spectra.fisher_memory([[0, 0], [1, 0]], [1, 0], 2)
    assert np.allclose(J, [1.0, 0.5])
    Jc = spectra.fisher_memory(np.diag([0.5j, 0.3]), [1j, 0.0], 10)
    assert Jc.dtype == np.float64 and Jc.sum() == pytest.approx(1.0)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"\(3,\)"):
        spectra.fisher_memory(np.eye(3), [1.0, 0.0], 3)
    with pytest.raises(ValueError, match=r"\(3,\)"):
        spectra.fisher_memory(np.eye(3), np.ones((3, 1)), 3)
    with pytest.raises(spectra.NonFiniteError, match="v"):
        spectra.fisher_memory(np.eye(2), [np.nan, 0.0], 3)
    with pytest.raises(spectra.NonNumericError):
        spectra.fisher_memory(np.eye(2), ["a", "b"], 3)
    with pytest.raises(ValueError, match="steps"):
        spectra.fisher_memory(np.eye(2), [1.0, 0.0], 0)
    with pytest.raises(TypeError, match="steps"):
        spectra.fisher_memory(np.eye(2), [1.0, 0.0], 2.0)  # type: ignore[arg-type]
    with pytest.raises(OverflowError, match="steps"):
        spectra.fisher_memory(10.0 * np.eye(2), [1.0, 0.0], 400)
