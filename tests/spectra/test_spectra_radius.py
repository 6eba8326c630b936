"""The certified pseudospectral radius against closed forms, dense SVD grids and its own claims."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import numpy as np
import pytest
import scipy.linalg
from threadpoolctl import threadpool_limits

import spectra
from spectra import matrices
from spectra.radius import PseudospectralRadius, pseudospectral_radius


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def dense_sigma(A: np.ndarray, z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=complex).ravel()
    M = z[:, None, None] * np.eye(A.shape[0]) - A
    return np.linalg.svd(M, compute_uv=False)[:, -1]


def jordan_radius(n: int, eps: float) -> float:
    """Closed form: the pseudospectra of J_n are disks, sigma_min(r I - J) = eps (bisection)."""
    J = np.eye(n, k=1)
    lo, hi = 0.0, 1.0 + eps
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        s = scipy.linalg.svdvals(mid * np.eye(n) - J)[-1]
        lo, hi = (mid, hi) if s <= eps else (lo, mid)
    return 0.5 * (lo + hi)


def check_claims(A: np.ndarray, eps: float, r: PseudospectralRadius, tol: float = 1e-8) -> None:
    """The witness is inside, and a dense circle just outside `upper` is outside."""
    assert abs(r.witness) == pytest.approx(float(r), rel=1e-12)
    assert dense_sigma(A, np.array([r.witness]))[0] <= eps * (1 + tol) + 1e-14
    theta = np.linspace(0, 2 * np.pi, 1000, endpoint=False)
    outside = dense_sigma(A, r.upper * (1 + 1e-6) * np.exp(1j * theta))
    assert outside.min() > eps
    assert float(r) <= r.upper
    if r.certified:
        assert r.upper <= float(r) * (1 + 1e-3)


def polar_grid_bounds(A: np.ndarray, eps: float, nr: int = 30, nt: int = 96) -> float:
    """Largest |z| on a polar grid with sigma <= eps (a lower bound of the radius)."""
    R = np.linalg.norm(A, 2) + eps
    rho = np.abs(np.linalg.eigvals(A)).max()
    r = np.linspace(rho, R, nr)
    t = np.linspace(0, 2 * np.pi, nt, endpoint=False)
    Z = (r[:, None] * np.exp(1j * t[None, :])).ravel()
    s = dense_sigma(A, Z)
    return float(np.abs(Z[s <= eps]).max(initial=rho))


@pytest.mark.parametrize("real", [True, False])
def test_normal_matrix_gives_rho_plus_eps_certified(real: bool) -> None:
    rng = np.random.default_rng(3)
    n = 40
    if real:
        Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        lam = rng.uniform(-1, 1, n)
        A = (Q * lam) @ Q.T
    else:
        Q, _ = np.linalg.qr(rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n)))
        lam = rng.standard_normal(n) + 1j * rng.standard_normal(n)
        A = (Q * lam) @ Q.conj().T
    rho = np.abs(lam).max()
    for eps in (1e-6, 1e-3, 1e-1):
        r = pseudospectral_radius(A, eps)
        assert float(r) == pytest.approx(rho + eps, rel=1e-9)
        assert r.certified
        check_claims(A, eps, r)


def test_jordan_block_examples_of_the_issue() -> None:
    r = pseudospectral_radius(np.eye(10, k=1), 1e-12)  # was 0.2535, sigma 1e-6 there
    assert float(r) == pytest.approx(jordan_radius(10, 1e-12), rel=1e-7)
    assert r.upper >= jordan_radius(10, 1e-12)
    r = pseudospectral_radius(np.eye(8, k=1), 1e-8)  # raised from eigh_tridiagonal
    assert float(r) == pytest.approx(jordan_radius(8, 1e-8), rel=1e-7)
    r = pseudospectral_radius(matrices.chain(64), 1e-8)  # raised too
    assert np.isfinite(float(r)) and r.upper >= float(r)


@pytest.mark.parametrize("n", [2, 4, 8, 16, 32, 64])
@pytest.mark.parametrize("eps", [1e-12, 1e-8, 1e-4, 1e-1])
def test_jordan_blocks_against_the_closed_form(n: int, eps: float) -> None:
    J = np.eye(n, k=1)
    exact = jordan_radius(n, eps)
    r = pseudospectral_radius(J, eps)
    assert float(r) == pytest.approx(exact, rel=1e-7)  # never too high, as before
    assert r.upper >= exact * (1 - 1e-12)
    delta = 4 * n * np.finfo(float).eps * np.linalg.norm(J)
    if eps >= 1e3 * delta:  # resolvable well above the rounding level: certified
        assert r.certified
        assert r.upper <= exact * (1 + 1e-3)
    else:
        assert r.upper > exact  # an honest interval, not a plain number


@pytest.mark.parametrize(
    ("name", "A"),
    [
        ("gaussian", np.random.default_rng(7).standard_normal((24, 24)) / np.sqrt(24)),
        ("grcar", matrices.grcar(16)),
        (
            "toeplitz",
            scipy.linalg.toeplitz(np.r_[0, 0.25, np.zeros(18)], np.r_[0, 1, 1, np.zeros(17)]),
        ),
        ("nonnormal", np.random.default_rng(8).standard_normal((20, 20)) / 5 + np.eye(20, k=1)),
    ],
)
@pytest.mark.parametrize("eps", [1e-3, 1e-1])
def test_random_and_toeplitz_against_a_dense_polar_grid(
    name: str, A: np.ndarray, eps: float
) -> None:
    r = pseudospectral_radius(A, eps)
    grid = polar_grid_bounds(A, eps)
    assert float(r) >= grid  # no grid point of the pseudospectrum lies beyond the value
    assert r.upper >= grid
    check_claims(A, eps, r)


def _rotation(radius: float, angle: float) -> np.ndarray:
    c, s = radius * np.cos(angle), radius * np.sin(angle)
    return np.array([[c, -s], [s, c]])


def test_outermost_component_between_rays_and_away_from_the_largest_eigenvalue() -> None:
    # The largest eigenvalue (0.9, on the real axis) has a small normal component; the outer
    # component grows from a smaller, strongly non-normal pair at an angle between any rays.
    angle = 2 * np.pi * 0.3217
    lam = 0.55 * np.exp(1j * angle)
    block = np.array([[lam, 6.0], [0.0, lam]])
    real_block = np.zeros((4, 4))
    real_block[:2, :2] = _rotation(0.55, angle)
    real_block[2:, 2:] = _rotation(0.55, angle)
    real_block[:2, 2:] = 6.0 * np.eye(2)
    rng = np.random.default_rng(2)
    others = [_rotation(0.3, a) for a in rng.uniform(0, np.pi, 6)]
    A = scipy.linalg.block_diag(np.array([[0.9]]), real_block, *others)
    Q, _ = np.linalg.qr(rng.standard_normal((A.shape[0], A.shape[0])))
    A = Q @ A @ Q.T
    eps = 0.05
    exact = abs(lam) + np.max(  # the 2x2 block's disk radius (normal part: 0.95)
        [r for r in np.linspace(0, 2, 20001) if dense_sigma(block, np.array([lam + r]))[0] <= eps]
    )
    r = pseudospectral_radius(A, eps)
    assert exact > 1.0
    assert float(r) == pytest.approx(exact, rel=1e-4)
    check_claims(A, eps, r)
    complex_block = scipy.linalg.block_diag(np.array([[0.9]]), block)
    rc = pseudospectral_radius(complex_block, eps)
    assert float(rc) == pytest.approx(exact, rel=1e-4)
    check_claims(complex_block, eps, rc)


def test_below_the_rounding_level_the_result_says_so() -> None:
    A = np.random.default_rng(1).standard_normal((30, 30))
    r = pseudospectral_radius(A, 1e-15)
    assert not r.certified
    assert r.upper >= float(r)


def test_result_behaves_as_the_float_it_replaces() -> None:
    r = pseudospectral_radius(np.diag([0.5, -0.25]), 0.1)
    assert isinstance(r, float) and float(r) == pytest.approx(0.6)
    assert r / 2 == pytest.approx(0.3) and r > 0.5
    again = pickle.loads(pickle.dumps(r))
    assert again.to_dict() == r.to_dict() and float(again) == float(r)
    d = r.to_dict()
    assert set(d) == {"value", "upper", "witness", "certified", "method", "eps"}
    with pytest.raises(AttributeError):
        r.upper = 3.0  # type: ignore[misc]
    radii = pseudospectral_radius(np.eye(3), [0.1, 0.2])
    np.testing.assert_allclose(np.asarray(radii), [1.1, 1.2])
    assert radii.certified.all() and len(radii.to_dict()) == 2


def test_shared_schur_form_gives_the_same_result() -> None:
    A = np.random.default_rng(4).standard_normal((30, 30)) / 5
    sf = spectra.schur(A)
    a = pseudospectral_radius(A, 0.01)
    b = pseudospectral_radius(A, 0.01, schur=sf)
    assert float(a) == pytest.approx(float(b), rel=1e-9)
    with pytest.raises(ValueError, match="shape"):
        pseudospectral_radius(np.eye(3), 0.1, schur=sf)
    with pytest.raises(TypeError, match="SchurForm"):
        pseudospectral_radius(np.eye(3), 0.1, schur="no")


@pytest.mark.parametrize("bad", [0.0, -1e-3, 0.1, 0.5, np.nan, np.inf])
def test_bad_tolerances_raise_domain_errors(bad: float) -> None:
    with pytest.raises(ValueError, match="tol"):
        pseudospectral_radius(np.eye(3), 0.1, tol=bad)
    with pytest.raises(ValueError, match="certify_tol"):
        pseudospectral_radius(np.eye(3), 0.1, certify_tol=bad)


@pytest.mark.parametrize("bad", [0.0, -0.1, np.inf, np.nan])
def test_bad_eps_raises(bad: float) -> None:
    with pytest.raises(ValueError, match="eps"):
        pseudospectral_radius(np.eye(3), bad)
    with pytest.raises(ValueError, match="eps"):
        pseudospectral_radius(np.eye(3), [0.1, bad])


@pytest.mark.parametrize("scale", [1e-320, 1e-310, 2e-300])
def test_eps_beyond_the_float_range_of_the_matrix_is_certified_without_lapack(scale, capfd):
    A = scale * np.ones((4, 4))
    r = pseudospectral_radius(A, [0.1, 1e-300])
    assert r[0].value == pytest.approx(0.1, rel=1e-12)
    assert r[0].certified and r[0].upper == pytest.approx(0.1, rel=1e-12)
    assert r[0].upper >= r[0].value
    out, err = capfd.readouterr()
    assert "DLASCL" not in out + err


@pytest.mark.parametrize("kind", ["nonnormal", "toeplitz"])
def test_lanczos_sized_search_with_estimated_ray_samples(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # above the dense-SVD size of the search: ray samples are first ranked by a few Lanczos
    # steps (an estimate can only prove a point inside), the bracket ends are then exact
    import spectra._radius_search as search

    n = 110
    if kind == "nonnormal":
        A = np.random.default_rng(9).standard_normal((n, n)) / np.sqrt(n) + 0.5 * np.eye(n, k=1)
    else:
        A = scipy.linalg.toeplitz(np.r_[0, 0.25, np.zeros(n - 2)], np.r_[0, 1, 1, np.zeros(n - 3)])
    eps = [1e-3, 1e-1]
    fast = pseudospectral_radius(A, eps)
    monkeypatch.setattr(search, "_SAMPLE_STEPS", None)  # every sample to full accuracy
    slow = pseudospectral_radius(A, eps)
    theta = np.linspace(0, np.pi, 180)  # real A: the lower half plane is the mirror image
    for e, r, ref in zip(eps, fast, slow, strict=True):
        assert dense_sigma(A, np.array([r.witness]))[0] <= e * (1 + 1e-8) + 1e-14
        assert float(r) == pytest.approx(float(ref), rel=1e-6)
        assert r.certified and r.upper <= float(r) * (1 + 1e-3)
        outside = dense_sigma(A, r.upper * (1 + 1e-6) * np.exp(1j * theta))
        assert outside.min() > e


def test_circle_samples_cover_a_gap_when_the_predicted_widths_hold() -> None:
    # the next round's points, with the half-widths interpolated between the neighbours,
    # must cover the whole gap (shrunk by the safety factor they even overlap)
    from spectra._certify import arc_samples

    centre = np.array([0.0, 1.0])
    for half in (np.array([0.01, 0.01]), np.array([0.002, 0.05])):
        a, b = float(centre[0] + half[0]), float(centre[1] - half[1])
        (pts,) = arc_samples([(a, b)], centre, half, split=6, safety=0.75, cap=10_000)
        widths = np.interp(pts, centre, half)
        lo, hi = pts - widths, pts + widths
        assert np.all(np.diff(pts) > 0) and lo[0] <= a and hi[-1] >= b
        assert np.all(lo[1:] <= hi[:-1])  # consecutive predicted arcs overlap
        ideal = np.trapezoid(
            1.0 / (2.0 * np.interp(np.linspace(a, b, 2001), centre, half)), np.linspace(a, b, 2001)
        )
        assert pts.size <= 1.6 * ideal + 2  # about 1/safety times the least possible
    # no neighbour that excluded anything: evenly spaced points
    (pts,) = arc_samples(
        [(0.0, 1.0)], np.array([0.5]), np.array([0.0]), split=6, safety=0.75, cap=64
    )
    assert np.allclose(pts, (np.arange(6) + 0.5) / 6)


def test_near_ray_offsets_keep_the_close_ones_in_order() -> None:
    import spectra._radius_search as search

    offsets = search._near_offsets(np.array([1e-7, 1e-3, 1.0]))
    assert offsets.shape == (3, search._NEAR_SAMPLES.size)
    assert np.all(np.diff(offsets, axis=1) >= 0)
    assert np.array_equal(offsets[2], search._NEAR_SAMPLES)  # a wide step: every offset
    assert set(np.unique(offsets[0])) == {-1e-3, -1e-5, 1e-5, 1e-3}
    assert np.abs(offsets[1]).max() <= 50e-3 and {-1e-5, 1e-5} <= set(offsets[1])


def test_per_point_solves_leave_the_schur_factor_untouched() -> None:
    from spectra._inverse_lanczos import ResolventSolver

    rng = np.random.default_rng(3)
    T = np.triu(rng.standard_normal((40, 40)) + 1j * rng.standard_normal((40, 40)))
    solver = ResolventSolver(T.copy())
    z = np.array([0.3 + 0.1j, -1.0 + 2.0j, 4.0 + 0.0j])  # few points: per-point solves
    first = solver.sigma(z, tol=1e-12)
    again = solver.sigma(z[::-1], tol=1e-12)[::-1]
    assert np.array_equal(solver.T, T)
    assert np.array_equal(first, again)
    dense = [np.linalg.svd(zi * np.eye(40) - T, compute_uv=False)[-1] for zi in z]
    assert first == pytest.approx(dense, rel=1e-10)


@pytest.mark.parametrize("n", [1, 2, 7, 64])
def test_comparison_solves_match_scipy_bit_for_bit(n: int) -> None:
    from spectra._certify import _triangular_solver

    rng = np.random.default_rng(n)
    M = -np.abs(np.triu(rng.standard_normal((n, n)), 1)) / n
    M[np.diag_indices_from(M)] = 0.3
    b = rng.uniform(0.1, 1.0, n)
    solve = _triangular_solver(M)
    plain = scipy.linalg.solve_triangular(M, b, check_finite=False)
    transposed = scipy.linalg.solve_triangular(M, b, trans="T", check_finite=False)
    assert np.array_equal(solve(b, False), plain)
    assert np.array_equal(solve(b, True), transposed)
    assert np.allclose(M @ plain, b) and np.allclose(M.T @ transposed, b)


@pytest.mark.parametrize("c", [0.1, 1.0, 4.0])
def test_comparison_bound_is_below_the_dense_sigma_min(c: float) -> None:
    from spectra._certify import ComparisonNorm

    rng = np.random.default_rng(3)
    N = np.abs(np.triu(rng.standard_normal((24, 24)), 1)) / 8
    M = c * np.eye(24) - N
    exact = float(np.linalg.svd(M, compute_uv=False)[-1])
    bound = ComparisonNorm(N).lower(c)
    assert 0.0 <= bound <= exact
    assert bound >= exact * (1.0 - 1e-4)
