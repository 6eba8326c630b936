"""Test matrices: definitions, known spectra and pseudospectral behaviour."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

import spectra
from spectra import matrices


def _sigma_min(A: np.ndarray, z: complex) -> float:
    return float(scipy.linalg.svdvals(z * np.eye(A.shape[0]) - A)[-1])


def _winding(diagonals: dict[int, float], z: complex) -> int:
    t = np.exp(1j * np.linspace(0.0, 2.0 * np.pi, 4001))
    f = sum(a * t**k for k, a in diagonals.items()) - z
    return round(float(np.sum(np.diff(np.unwrap(np.angle(f))))) / (2.0 * np.pi))


ALL = {
    "grcar": lambda n: matrices.grcar(n),
    "kahan": lambda n: matrices.kahan(n),
    "jordan": lambda n: matrices.jordan(n, 0.5),
    "chain": lambda n: matrices.chain(n, 0.9),
    "fbchain": lambda n: matrices.fbchain(n, 0.99, 0.05),
    "random_orthogonal": lambda n: matrices.random_orthogonal(n, seed=1),
    "limacon": lambda n: matrices.limacon(n),
    "triangle": lambda n: matrices.triangle(n),
    "demmel": lambda n: matrices.demmel(n),
}


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("n", [1, 2, 5, 16])
def test_shape_and_dtype(name: str, n: int) -> None:
    A = ALL[name](n)
    assert isinstance(A, np.ndarray) and A.shape == (n, n) and A.dtype == np.float64
    assert np.isfinite(A).all()


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("n", [0, -1, 2.5, "4", True])
def test_bad_size(name: str, n: object) -> None:
    with pytest.raises((TypeError, ValueError), match="n must be"):
        ALL[name](n)


@pytest.mark.parametrize(
    ("name", "diagonals"),
    [
        ("grcar", {-1: -1.0, 0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}),
        ("limacon", {1: 1.0, 2: 1.0}),
        ("triangle", {-1: 1.0, 2: 0.25}),
        ("fbchain", {-1: 0.99, 1: 0.05}),
        ("chain", {-1: 0.9}),
    ],
)
def test_banded_toeplitz_definitions(name: str, diagonals: dict[int, float]) -> None:
    n = 9
    col = np.zeros(n)
    row = np.zeros(n)
    for k, a in diagonals.items():
        (row if k >= 0 else col)[abs(k)] = a
    col[0] = row[0]
    assert np.array_equal(ALL[name](n), scipy.linalg.toeplitz(col, row))


@pytest.mark.parametrize(
    ("name", "diagonals", "points"),
    [
        ("grcar", {-1: -1.0, 0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}, [1 + 1.5j, 2j, 0.5, -0.5]),
        ("limacon", {1: 1.0, 2: 1.0}, [0.5, 0.3 + 0.3j, -0.5, 3.0, 2j]),
        ("triangle", {-1: 1.0, 2: 0.25}, [0.5, 0.3 + 0.3j, 0.1, 3.0, 1 + 1.5j]),
    ],
)
def test_toeplitz_pseudospectra_fill_the_symbol_curve(
    name: str, diagonals: dict[int, float], points: list[complex]
) -> None:
    # inside the symbol curve (winding number != 0) sigma_min decays geometrically with n
    for z in points:
        s = [_sigma_min(ALL[name](n), z) for n in (20, 40, 80)]
        if _winding(diagonals, z) != 0:
            assert s[2] < 0.5 * s[1] < 0.25 * s[0]
        else:
            assert s[2] > 0.5 * s[0]


def test_grcar_options() -> None:
    assert np.array_equal(
        matrices.grcar(6, k=1), scipy.linalg.toeplitz([1, -1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0])
    )


@pytest.mark.parametrize("n", [2, 10, 30])
def test_kahan(n: int) -> None:
    K = matrices.kahan(n)
    s = 0.1 ** (1 / (n - 1))
    assert np.array_equal(K, np.triu(K))
    assert np.allclose(np.diag(K), s ** np.arange(n))
    assert np.diag(K)[-1] == pytest.approx(0.1)
    # c^2 + s^2 = 1 makes every column a unit vector
    assert np.allclose(np.linalg.norm(K, axis=0), 1.0)


@pytest.mark.parametrize("n", [1, 4, 7])
def test_jordan_and_chain(n: int) -> None:
    J = matrices.jordan(n, 0.3)
    N = J - 0.3 * np.eye(n)
    assert np.linalg.matrix_power(N, n - 1).any()
    assert not np.linalg.matrix_power(N, n).any()
    W = matrices.chain(n, 2.0)
    assert np.array_equal(W, 2.0 * matrices.jordan(n).T)
    assert not np.linalg.matrix_power(W, n).any()


def test_chain_direction_unit_i_minus_1_drives_unit_i() -> None:
    W = matrices.chain(4, 0.9)
    h = np.array([1.0, 0.0, 0.0, 0.0])
    trail = []
    for _ in range(3):
        h = W @ h
        trail.append(int(np.argmax(h)))
    assert trail == [1, 2, 3]


def test_fbchain_eigenvalues() -> None:
    n, alpha, beta = 12, 0.99, 0.2
    expected = 2 * np.sqrt(alpha * beta) * np.cos(np.arange(1, n + 1) * np.pi / (n + 1))
    eigenvalues = np.linalg.eigvals(matrices.fbchain(n, alpha, beta))
    assert np.allclose(np.sort(eigenvalues.real), np.sort(expected), atol=1e-10)
    assert np.allclose(eigenvalues.imag, 0.0, atol=1e-10)


def test_random_orthogonal() -> None:
    Q = matrices.random_orthogonal(10, seed=3)
    assert np.allclose(Q.T @ Q, np.eye(10), atol=1e-13)
    assert np.array_equal(Q, matrices.random_orthogonal(10, seed=3))
    assert not np.allclose(Q, matrices.random_orthogonal(10, seed=4))
    dets = {round(np.linalg.det(matrices.random_orthogonal(5, seed=s))) for s in range(30)}
    assert dets == {-1, 1}


def test_random_orthogonal_is_haar() -> None:
    # Diaconis & Shahshahani: for Haar O(n), E[tr Q] = 0 and E[(tr Q)^2] = 1 (n >= 2)
    traces = np.array([np.trace(matrices.random_orthogonal(6, seed=s)) for s in range(1500)])
    assert abs(traces.mean()) < 4 / np.sqrt(1500)
    assert abs(np.mean(traces**2) - 1.0) < 0.15


def test_limacon_is_nilpotent() -> None:
    L = matrices.limacon(10)
    assert not np.linalg.matrix_power(L, 10).any()
    assert spectra.spectral_radius(L) == 0.0


def test_godunov_exact_eigenvalues() -> None:
    G = matrices.godunov()
    assert G.shape == (7, 7) and np.array_equal(G, np.round(G))
    # L G L^{-1} is upper triangular (EigTool's godunov_demo), in exact integer arithmetic
    L = np.eye(7, dtype=np.int64)
    L[2, 0] = L[5, 0] = L[4, 2] = 1
    L[6, [1, 2, 4]] = 1
    Linv = np.rint(np.linalg.inv(L)).astype(np.int64)
    assert np.array_equal(L @ Linv, np.eye(7, dtype=np.int64))
    U = L @ G.astype(np.int64) @ Linv
    assert not np.tril(U, -1).any()
    assert sorted(np.diag(U).tolist()) == [-4, -2, -1, 0, 1, 2, 4]


@pytest.mark.parametrize("n", [2, 5, 50])
def test_demmel(n: int) -> None:
    D = matrices.demmel(n)
    B = 10 ** (4 / (n - 1))
    assert np.array_equal(D, np.triu(D))
    assert np.all(np.diag(D) == -1.0)
    assert D[0, -1] == pytest.approx(-1e4)
    i, j = 0, n - 1
    assert D[i, j] == pytest.approx(-(B ** (j - i)))
    assert np.allclose(np.diag(D, 1), -B)


def test_matrices_are_new_arrays() -> None:
    A = matrices.godunov()
    A[0, 0] = 0.0
    assert matrices.godunov()[0, 0] == 289.0


@pytest.mark.parametrize("value", [np.nan, np.inf, "x"])
def test_bad_weights(value: object) -> None:
    with pytest.raises((TypeError, ValueError), match="alpha"):
        matrices.chain(3, value)  # type: ignore[arg-type]
