"""Transient growth against explicit matrix powers, and the Kreiss lower bound."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize

import spectra
from spectra.matrices import chain, grcar, jordan, random_orthogonal


def _explicit(A: np.ndarray, steps: int) -> np.ndarray:
    return np.array([np.linalg.norm(np.linalg.matrix_power(A, k), 2) for k in range(steps + 1)])


def _kreiss_ratio(A: np.ndarray, z: complex) -> float:
    return (abs(z) - 1.0) / scipy.linalg.svdvals(z * np.eye(A.shape[0]) - A)[-1]


def _stable(seed: int, n: int, radius: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)) + 2.0 * np.triu(rng.standard_normal((n, n)), 1)
    return A * (radius / np.max(np.abs(np.linalg.eigvals(A))))


@pytest.mark.parametrize(
    "A",
    [
        np.random.default_rng(0).standard_normal((10, 10)) / 3.0,
        grcar(12) / 2.5,
        jordan(5, 0.8),
        np.random.default_rng(1).standard_normal((4, 4))
        + 1j * np.random.default_rng(2).standard_normal((4, 4)),
    ],
    ids=["random", "grcar", "jordan", "complex"],
)
def test_transient_growth_matches_matrix_powers(A: np.ndarray) -> None:
    growth = spectra.transient_growth(A, 25)
    assert growth.shape == (26,) and growth.dtype == np.float64
    assert growth[0] == 1.0
    assert np.allclose(growth, _explicit(A, 25), rtol=1e-10, atol=0)


def test_transient_growth_of_normal_matrix_is_rho_power() -> None:
    Q = random_orthogonal(8, seed=4)
    A = Q @ np.diag(np.linspace(-0.9, 0.5, 8)) @ Q.T
    assert np.allclose(spectra.transient_growth(A, 30), 0.9 ** np.arange(31), rtol=1e-10)


def test_transient_growth_of_nilpotent_chain() -> None:
    growth = spectra.transient_growth(chain(5, 2.0), 8)
    assert np.allclose(growth[:5], 2.0 ** np.arange(5))
    assert np.all(growth[5:] == 0.0)


def test_transient_growth_overflows_to_inf_without_error() -> None:
    growth = spectra.transient_growth(10.0 * np.eye(2), 400)
    assert growth[300] == pytest.approx(1e300, rel=1e-9)
    assert np.isinf(growth[400])
    assert np.array_equal(spectra.transient_growth(np.eye(3), 0), [1.0])


@pytest.mark.parametrize("steps", [-1, 2.5, "3", None, True])
def test_transient_growth_rejects_bad_steps(steps: object) -> None:
    with pytest.raises((TypeError, ValueError), match="steps"):
        spectra.transient_growth(np.eye(2), steps)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "A",
    [
        np.diag([0.5, -0.9, 0.2j]),
        random_orthogonal(7, seed=0),
        0.99 * random_orthogonal(7, seed=1),
        np.zeros((3, 3)),
        np.array([[0.3]]),
    ],
    ids=["diagonal", "orthogonal", "scaled-orthogonal", "zero", "scalar"],
)
def test_kreiss_of_normal_stable_matrix_is_one(A: np.ndarray) -> None:
    assert spectra.kreiss_lower_bound(A) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize(
    "A", [np.diag([1.5, 0.1]), 1.1 * random_orthogonal(5, seed=2), jordan(4, 1.01)]
)
def test_kreiss_is_infinite_outside_the_unit_disk(A: np.ndarray) -> None:
    assert spectra.kreiss_lower_bound(A) == np.inf


@pytest.mark.parametrize("c", [0.5, 2.0, 10.0])
def test_kreiss_two_by_two_nilpotent_closed_form(c: float) -> None:
    # f depends on |z| only; sigma_min^2 = (s - sqrt(s^2 - 4 |z|^4)) / 2 with s = 2|z|^2 + c^2
    def negative(log_d: float) -> float:
        r = 1.0 + np.exp(log_d)
        s = 2.0 * r * r + c * c
        sigma = np.sqrt(2.0 * r**4 / (s + np.sqrt(s * s - 4.0 * r**4)))
        return -(r - 1.0) / sigma

    best = scipy.optimize.minimize_scalar(negative, bounds=(-12.0, 8.0), method="bounded")
    expected = max(1.0, -best.fun)
    A = np.array([[0.0, c], [0.0, 0.0]])
    assert spectra.kreiss_lower_bound(A) == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize(("n", "a"), [(4, 2.0), (6, 1.5), (3, 5.0), (5, 0.9)])
def test_kreiss_scaled_jordan_block_matches_radial_optimum(n: int, a: float) -> None:
    # e^{i t} J is unitarily similar to J, so f depends on |z| only
    A = a * jordan(n)
    best = scipy.optimize.minimize_scalar(
        lambda log_d: -_kreiss_ratio(A, 1.0 + np.exp(log_d)),
        bounds=(-10.0, 6.0),
        method="bounded",
        options={"xatol": 1e-10},
    )
    expected = max(1.0, -best.fun)  # the limit |z| -> inf gives 1
    assert spectra.kreiss_lower_bound(A) == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("seed", range(4))
def test_kreiss_between_bounds_of_the_kreiss_matrix_theorem(seed: int) -> None:
    n = 8
    A = _stable(seed, n, 0.8)
    K = spectra.kreiss_lower_bound(A)
    peak = spectra.transient_growth(A, 400).max()  # rho = 0.8: the supremum is reached early
    assert 1.0 <= K <= peak * (1 + 1e-9)
    assert peak <= np.e * n * K  # Spijker's sharp upper bound
    # the optimiser finds at least what random evaluations find
    rng = np.random.default_rng(seed)
    z = (1.0 + np.exp(rng.uniform(-8.0, 3.0, 300))) * np.exp(2j * np.pi * rng.random(300))
    assert K >= max(_kreiss_ratio(A, p) for p in z) * (1 - 1e-9)


def test_kreiss_complex_matrix() -> None:
    rng = np.random.default_rng(5)
    A = rng.standard_normal((6, 6)) + 1j * rng.standard_normal((6, 6))
    A *= 0.9 / np.max(np.abs(np.linalg.eigvals(A)))
    K = spectra.kreiss_lower_bound(A)
    assert 1.0 <= K <= spectra.transient_growth(A, 400).max() * (1 + 1e-9)


def test_kreiss_grows_with_non_normality() -> None:
    values = [spectra.kreiss_lower_bound(np.array([[0.5, c], [0.0, 0.5]])) for c in (1, 4, 16)]
    assert values[0] < values[1] < values[2]


def test_transient_growth_overflowing_norm_stays_inf() -> None:
    # ||A||_2 = 3e308 overflows: every later power must stay inf, not drop to 0.
    growth = spectra.transient_growth(1e308 * np.ones((3, 3)), 3)
    assert growth[0] == 1.0
    assert np.isposinf(growth[1:]).all()
    small = spectra.transient_growth(1e-100 * np.ones((3, 3)), 2)
    np.testing.assert_allclose(small, [1.0, 3e-100, 9e-200], rtol=1e-12)
