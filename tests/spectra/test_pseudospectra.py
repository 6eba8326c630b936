"""sigma_min, pseudospectrum and pseudospectral_radius against theory and dense SVD."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from spectra import matrices
from spectra._inverse_lanczos import DENSE_MAX_N
from spectra.errors import (
    EmptyMatrixError,
    GridTooLargeError,
    NonFiniteError,
    NonNumericError,
    NonSquareError,
)
from spectra.pseudospectra import (
    Pseudospectrum,
    pseudospectral_radius,
    pseudospectrum,
    sigma_min,
)

EPS = np.finfo(np.float64).eps


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """Dense references run single-threaded: timings stay stable on a busy machine."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def dense_sigma(A: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Reference: smallest singular value of zI - A by a dense SVD per point."""
    z = np.asarray(z, dtype=complex)
    n = A.shape[0]
    M = z.ravel()[:, None, None] * np.eye(n) - A
    return np.linalg.svd(M, compute_uv=False)[:, -1].reshape(z.shape)


def grid_points(re: tuple[float, float], im: tuple[float, float], n: int) -> np.ndarray:
    x = np.linspace(*re, n)
    y = np.linspace(*im, n)
    return x[None, :] + 1j * y[:, None]


def random_normal(n: int, seed: int, *, real: bool) -> tuple[np.ndarray, np.ndarray]:
    """A normal matrix Q diag(lam) Q* with known eigenvalues (real: conjugate pairs)."""
    rng = np.random.default_rng(seed)
    if real:
        Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        D = np.zeros((n, n))
        lam = []
        for k in range(0, n - 1, 2):
            a, b = rng.standard_normal(2)
            D[k : k + 2, k : k + 2] = [[a, b], [-b, a]]
            lam += [a + 1j * b, a - 1j * b]
        if n % 2:
            D[-1, -1] = rng.standard_normal()
            lam.append(D[-1, -1] + 0j)
        return Q @ D @ Q.T, np.array(lam)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n)))
    lam = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    return (Q * lam) @ Q.conj().T, lam


# --------------------------------------------------------------------------- exact values


@pytest.mark.parametrize("n", [5, 12, 80])
@pytest.mark.parametrize("real", [True, False])
def test_normal_matrix_gives_distance_to_spectrum(n: int, real: bool) -> None:
    A, lam = random_normal(n, seed=n, real=real)
    z = grid_points((-3, 3), (-3, 3), 19)
    expected = np.abs(z[..., None] - lam).min(axis=-1)
    got = sigma_min(A, z)
    assert got.shape == z.shape
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=50 * n * EPS)


def test_two_by_two_closed_form() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        a, b, c = rng.standard_normal(3) + 1j * rng.standard_normal(3)
        b *= 10 ** rng.uniform(-2, 3)
        A = np.array([[a, b], [0, c]])
        z = rng.standard_normal(7) * 3 + 3j * rng.standard_normal(7)
        # singular values of M = zI - A from trace and determinant of M*M
        t = np.abs(z - a) ** 2 + np.abs(b) ** 2 + np.abs(z - c) ** 2
        det = np.abs((z - a) * (z - c))
        smax = np.sqrt((t + np.sqrt(np.maximum(t * t - 4 * det * det, 0))) / 2)
        np.testing.assert_allclose(sigma_min(A, z), det / smax, rtol=1e-12, atol=1e-15)


def test_scalar_point_gives_zero_dimensional_float() -> None:
    value = sigma_min(np.diag([1.0, 3.0]), 2.5)
    assert np.ndim(value) == 0
    assert isinstance(value, float)
    assert value == pytest.approx(0.5, rel=1e-14)


@pytest.mark.parametrize("n", [6, 70])
def test_real_matrix_is_symmetric_about_the_real_axis(n: int) -> None:
    rng = np.random.default_rng(n)
    A = rng.standard_normal((n, n)) / np.sqrt(n) + np.eye(n, k=1)
    z = rng.uniform(-2, 2, 40) + 1j * rng.uniform(0.01, 2, 40)
    # our value at z against the dense SVD at conj(z): sigma(conj z) = sigma(z) for real A
    np.testing.assert_allclose(sigma_min(A, z), dense_sigma(A, z.conj()), rtol=1e-8)


def test_complex_matrix_is_not_mirrored() -> None:
    n = 60
    A = np.diag(np.full(n, 1j)) + 0.1 * np.eye(n, k=1)
    s = sigma_min(A, [1j, -1j])
    np.testing.assert_allclose(s, dense_sigma(A, np.array([1j, -1j])), rtol=1e-8, atol=1e-15)
    assert s[0] < 1e-10 < 1.5 < s[1]


@pytest.mark.parametrize("n", [5, 60])
def test_eigenvalues_of_perturbations_lie_in_the_pseudospectrum(n: int) -> None:
    # sigma_min(lam I - A) <= ||E|| for every eigenvalue lam of A + E (Trefethen & Embree, Thm 2.1)
    rng = np.random.default_rng(n)
    A = matrices.grcar(n)
    for size in (1e-6, 1e-3, 1e-1):
        E = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
        E *= size / np.linalg.norm(E, 2)
        lam = np.linalg.eigvals(A + E)
        s = sigma_min(A, lam)
        assert np.all(s <= size * (1 + 1e-7) + 100 * n * EPS * np.linalg.norm(A, 2))


# --------------------------------------------------------------------------- against dense SVD


CLASSIC = {
    "grcar": (matrices.grcar(100), (-1.5, 3.5), (-3.5, 3.5)),
    "kahan": (matrices.kahan(60), (-0.5, 1.5), (-1.0, 1.0)),
    "jordan": (matrices.jordan(64), (-1.2, 1.2), (-1.2, 1.2)),
    "limacon": (matrices.limacon(100), (-1.0, 2.5), (-2.0, 2.0)),
    "random": (
        np.random.default_rng(7).standard_normal((90, 90)) / np.sqrt(90),
        (-1.5, 1.5),
        (-1.5, 1.5),
    ),
}


@pytest.mark.parametrize("name", sorted(CLASSIC))
def test_classic_matrices_agree_with_dense_svd(name: str) -> None:
    A, re, im = CLASSIC[name]
    ps = pseudospectrum(A, re=re, im=im, n=(17, 15))
    z = ps.re[None, :] + 1j * ps.im[:, None]
    ref = dense_sigma(A, z)
    assert np.isfinite(ps.sigma).all()
    mask = ref > 1e-8 * np.linalg.norm(A, 2)
    assert mask.sum() > 50
    rel = np.abs(ps.sigma - ref)[mask] / ref[mask]
    assert rel.max() <= 1e-8
    # below the threshold the error is still tiny in absolute terms
    assert np.abs(ps.sigma - ref).max() <= 1e-9 * np.linalg.norm(A, 2)


def test_few_points_use_per_point_solves_and_agree() -> None:
    A = matrices.grcar(120)
    z = np.array([0.5 + 1j, 2 - 2j, -1 + 0.1j])
    np.testing.assert_allclose(sigma_min(A, z), dense_sigma(A, z), rtol=1e-8)


def test_complex_matrix_agrees_with_dense_svd() -> None:
    rng = np.random.default_rng(11)
    n = 70
    A = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))) / np.sqrt(2 * n)
    A += np.eye(n, k=1)
    z = grid_points((-2, 2), (-2, 2), 13)
    np.testing.assert_allclose(sigma_min(A, z), dense_sigma(A, z), rtol=1e-8)


def test_integer_matrix_is_accepted() -> None:
    A = np.arange(1, 65).reshape(8, 8) % 7 - 3
    z = np.array([0.3, 1 + 1j, -2j])
    np.testing.assert_allclose(sigma_min(A, z), dense_sigma(A.astype(float), z), rtol=1e-10)
    big = np.triu(np.ones((70, 70), dtype=np.int64)) * 2
    np.testing.assert_allclose(sigma_min(big, z), dense_sigma(big.astype(float), z), rtol=1e-8)


def test_exact_eigenvalue_hits_give_zero_not_nan() -> None:
    for n in (10, 64):
        A = matrices.jordan(n, lam=0.5)
        s = sigma_min(A, [0.5, 0.5 + 1e-200j, 0.5 + 1e-3])
        assert np.isfinite(s).all()
        assert s[0] == 0.0
        assert s[1] <= 1e-150
        # sigma is about |z - lam|^n: 1e-30 for n = 10; for n = 64, 1e-192 is below the range of
        # a float64 resolvent norm and is reported as 0
        assert s[2] <= (2e-30 if n == 10 else 1e-150)
    A = np.diag(np.arange(80.0))
    z = np.arange(80.0) + 0j
    assert np.array_equal(sigma_min(A, z), np.zeros(80))


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_extreme_scales_are_handled_exactly(scale: float) -> None:
    # sigma_min(s z I - s A) = s sigma_min(z I - A), also near the ends of the float64 range
    A = matrices.grcar(70)
    z = np.array([0.5 + 1j, 2 - 2j, -1 + 0.1j])
    np.testing.assert_allclose(sigma_min(A * scale, z * scale) / scale, sigma_min(A, z), rtol=1e-8)
    r = pseudospectral_radius(A * scale, 0.1 * scale) / scale
    assert r == pytest.approx(pseudospectral_radius(A, 0.1), rel=1e-6)
    ps = pseudospectrum(A * scale, n=8)
    assert np.isfinite(ps.sigma).all() and np.isfinite(ps.re).all()


def test_maxiter_fallback_and_chunks_give_the_same_values(monkeypatch: pytest.MonkeyPatch) -> None:
    import spectra._inverse_lanczos as engine

    A = matrices.grcar(70)
    z = grid_points((-1, 3), (0.1, 3), 12).ravel()
    ref = dense_sigma(A, z)
    monkeypatch.setattr(engine, "MAXITER", 4)  # most points stop early and fall back to SVD
    np.testing.assert_allclose(sigma_min(A, z), ref, rtol=1e-8, atol=1e-13)
    monkeypatch.undo()
    monkeypatch.setattr(engine, "CHUNK_BYTES", 16 * 70 * 7 * 20)  # chunks of 20 points
    np.testing.assert_allclose(sigma_min(A, z), ref, rtol=1e-8, atol=1e-13)


def test_seed_changes_only_rounding() -> None:
    A = matrices.grcar(70)
    z = grid_points((-1, 3), (0, 3), 9)
    np.testing.assert_allclose(sigma_min(A, z, seed=1), sigma_min(A, z, seed=2), rtol=1e-8)


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 90),
    points=st.integers(1, 70),
    seed=st.integers(0, 2**31 - 1),
    complex_matrix=st.booleans(),
)
def test_random_matrices_agree_with_dense_svd(
    n: int, points: int, seed: int, complex_matrix: bool
) -> None:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    if complex_matrix:
        A = A + 1j * rng.standard_normal((n, n))
    A = A / np.sqrt(n) + np.eye(n, k=1) * rng.uniform(0, 2)
    z = 2 * (rng.standard_normal(points) + 1j * rng.standard_normal(points))
    got = sigma_min(A, z)
    ref = dense_sigma(A, z)
    err = np.abs(got - ref)
    assert np.all(err <= 1e-8 * ref + 10 * n * EPS * np.linalg.norm(A, 2))


def test_agrees_with_pseudopy_meshgrid() -> None:
    shapely_ops = pytest.importorskip("shapely.ops")
    if not hasattr(shapely_ops, "cascaded_union"):  # removed in shapely 2; pseudopy needs it
        shapely_ops.cascaded_union = shapely_ops.unary_union
    pseudopy = pytest.importorskip("pseudopy")
    A = matrices.grcar(DENSE_MAX_N + 15)
    peer = pseudopy.NonnormalMeshgrid(A, -1, 3, 12, -3, 3, 10)
    ours = pseudospectrum(A, re=(-1, 3), im=(-3, 3), n=(12, 10))
    assert peer.Vals.shape == ours.sigma.shape
    np.testing.assert_allclose(peer.Real[0], ours.re, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(peer.Imag[:, 0], ours.im, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(ours.sigma, peer.Vals, rtol=1e-8, atol=1e-14)


# --------------------------------------------------------------------------- the grid object


def test_default_grid_covers_the_spectrum_and_is_mirrored() -> None:
    A = matrices.grcar(60)
    ps = pseudospectrum(A, n=(30, 24))
    assert isinstance(ps, Pseudospectrum)
    assert ps.re.shape == (30,) and ps.im.shape == (24,) and ps.sigma.shape == (24, 30)
    lam = ps.eigenvalues
    assert lam.shape == (60,)
    assert ps.re[0] < lam.real.min() and lam.real.max() < ps.re[-1]
    assert ps.im[0] < lam.imag.min() and lam.imag.max() < ps.im[-1]
    assert np.array_equal(ps.im, -ps.im[::-1])
    assert np.array_equal(ps.sigma, ps.sigma[::-1])
    # the numerical range plus a margin holds every small-eps pseudospectrum
    edge = np.concatenate([ps.sigma[0], ps.sigma[-1], ps.sigma[:, 0], ps.sigma[:, -1]])
    assert edge.min() > 1e-3
    assert not ps.sigma.flags.writeable


def test_grid_options_and_to_dict() -> None:
    ps = pseudospectrum(np.diag([1.0, 2.0j]), re=(0, 2), im=(-1, 3), n=(5, 9))
    assert ps.re.tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert ps.im[0] == -1.0 and ps.im[-1] == 3.0
    d = ps.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert len(d["sigma"]) == 9 and len(d["sigma"][0]) == 5
    assert sorted(map(tuple, d["eigenvalues"])) == [(0.0, 2.0), (1.0, 0.0)]


def test_plot_delegates_to_spectra_plot() -> None:
    from matplotlib.figure import Figure

    ps = pseudospectrum(matrices.grcar(20), n=25)
    ax = Figure().add_subplot()
    assert ps.plot(eps=[1e-2, 1e-1], ax=ax) is ax


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("A", "error"),
    [
        (np.ones((3, 4)), NonSquareError),
        (np.ones(3), NonSquareError),
        (np.ones((2, 2, 2)), NonSquareError),
        (np.zeros((0, 0)), EmptyMatrixError),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), NonFiniteError),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), NonFiniteError),
        ([["a", "b"], ["c", "d"]], NonNumericError),
        (np.array([[1, None], [2, 3]], dtype=object), NonNumericError),
        (np.eye(2, dtype=bool), NonNumericError),
    ],
)
def test_bad_matrices_raise_domain_errors(A: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        sigma_min(A, 0.0)
    with pytest.raises(error):
        pseudospectrum(A, n=3)
    with pytest.raises(error):
        pseudospectral_radius(A, 0.1)


def test_bad_points_and_options_raise() -> None:
    A = np.eye(3)
    with pytest.raises(NonFiniteError):
        sigma_min(A, [0.0, np.nan])
    with pytest.raises(NonNumericError):
        sigma_min(A, "1+1j")
    for tol in (0.0, -1e-3, 1.0, np.nan, "x"):
        with pytest.raises(ValueError, match="tol"):
            sigma_min(A, 0.0, tol=tol)
    with pytest.raises(TypeError, match="n must"):
        pseudospectrum(A, n=2.5)
    with pytest.raises(TypeError, match="n must"):
        pseudospectrum(A, n=(3, 4, 5))
    with pytest.raises(ValueError, match="at least 2"):
        pseudospectrum(A, n=1)
    with pytest.raises(ValueError, match="re must"):
        pseudospectrum(A, re=(1.0, 0.0))
    with pytest.raises(TypeError, match="im must"):
        pseudospectrum(A, im=3.0)
    with pytest.raises(ValueError, match="eps"):
        pseudospectral_radius(A, [0.1, -0.1])
    with pytest.raises(TypeError, match="eps"):
        pseudospectral_radius(A, [[0.1]])


def test_huge_grid_is_refused_before_allocating() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(GridTooLargeError, match="points"):
            pseudospectrum(np.eye(3), n=(100_000, 100_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20


# --------------------------------------------------------------------------- radius


@pytest.mark.parametrize("n", [8, 70])
def test_radius_of_normal_matrix_is_rho_plus_eps(n: int) -> None:
    A, lam = random_normal(n, seed=n + 1, real=True)
    rho = np.abs(lam).max()
    eps = np.array([1e-4, 1e-2, 0.5])
    np.testing.assert_allclose(pseudospectral_radius(A, eps), rho + eps, rtol=1e-6)


def test_radius_is_between_its_theoretical_bounds_and_increases() -> None:
    rng = np.random.default_rng(5)
    for n, A in [(30, None), (80, None)]:
        A = rng.standard_normal((n, n)) / np.sqrt(n) + np.eye(n, k=1)
        rho = np.abs(np.linalg.eigvals(A)).max()
        eps = np.array([1e-3, 1e-2, 1e-1])
        r = pseudospectral_radius(A, eps)
        assert np.all(r >= (rho + eps) * (1 - 1e-9))
        assert np.all(r <= np.linalg.norm(A, 2) + eps)
        assert np.all(np.diff(r) > 0)


@pytest.mark.parametrize(
    ("name", "A", "eps"),
    [
        ("grcar", matrices.grcar(12), 1e-2),
        ("jordan", matrices.jordan(8), 1e-3),
        ("chain", matrices.fbchain(10, 1.0, 0.3), 3e-2),
    ],
)
def test_radius_agrees_with_brute_force_grid(name: str, A: np.ndarray, eps: float) -> None:
    # With grid spacing h, the 1-Lipschitz sigma_min gives rigorous bounds: every grid point
    # with sigma <= eps is in the pseudospectrum, and every point of it is within h/sqrt(2)
    # of a grid point with sigma <= eps + h/sqrt(2).
    r = pseudospectral_radius(A, eps)
    R = np.linalg.norm(A, 2) + eps
    z = grid_points((-R, R), (-R, R), 241).ravel()
    h = 2 * R / 240 / np.sqrt(2)
    s = dense_sigma(A, z)
    lower = np.abs(z[s <= eps]).max()
    upper = np.abs(z[s <= eps + h]).max() + h
    assert lower * (1 - 1e-6) <= r <= upper
    # the result lies on the boundary: sigma at the maximiser is eps
    sampled = np.abs(sigma_min(A, r * np.exp(1j * np.linspace(0, 2 * np.pi, 4001))))
    assert sampled.min() <= eps * (1 + 1e-3)
    assert sigma_min(A, (r * (1 + 1e-3)) * np.exp(1j * np.linspace(0, 2 * np.pi, 4001))).min() > (
        eps
    )


def test_radius_on_large_non_normal_matrix_touches_the_level() -> None:
    A = matrices.grcar(100)
    eps = 1e-2
    r = pseudospectral_radius(A, eps)
    theta = np.linspace(0, 2 * np.pi, 3001)
    on = sigma_min(A, r * np.exp(1j * theta))
    out = sigma_min(A, r * (1 + 1e-4) * np.exp(1j * theta))
    assert on.min() <= eps * (1 + 1e-4)
    assert out.min() > eps
