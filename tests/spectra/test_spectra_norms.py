"""Power method, spectral radius and norm (against numpy), and norm projections."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest
import scipy.linalg

import spectra
from spectra.matrices import chain, grcar, jordan, kahan, random_orthogonal


def _rho(A: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(A))))


def _rotation(angle: float, radius: float = 1.0) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return radius * np.array([[c, -s], [s, c]])


def _quiet_power(A: np.ndarray, **kw: object) -> tuple[spectra.PowerResult, list]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = spectra.power_method(A, **kw)  # type: ignore[arg-type]
    return result, [w for w in caught if issubclass(w.category, spectra.NotConvergedWarning)]


@pytest.mark.parametrize("seed", range(4))
def test_power_method_unique_dominant_eigenvalue(seed: int) -> None:
    n = 20
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n))
    eigenvalues = np.concatenate([[3.0], rng.uniform(-2.0, 2.0, n - 1)])
    A = X @ np.diag(eigenvalues) @ np.linalg.inv(X)  # non-normal, dominant 3 with gap
    result = spectra.power_method(A, seed=seed)
    assert result.converged
    assert isinstance(result.value, float)
    assert result.value == pytest.approx(3.0, rel=1e-8)
    residual = np.linalg.norm(A @ result.vector - result.value * result.vector)
    assert residual <= 1e-9 * abs(result.value)
    assert np.linalg.norm(result.vector) == pytest.approx(1.0)


def test_power_method_symmetric_matches_numpy() -> None:
    S = np.random.default_rng(7).standard_normal((30, 30))
    S = S + S.T
    w = np.linalg.eigvalsh(S)
    dominant = w[np.argmax(np.abs(w))]
    result, _ = _quiet_power(S, maxiter=5000)
    assert result.converged
    assert result.value == pytest.approx(dominant, rel=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_power_method_complex_pair_of_real_matrix(seed: int) -> None:
    rng = np.random.default_rng(seed)
    B = scipy.linalg.block_diag(_rotation(1.0, 1.2), np.diag(rng.uniform(-1.0, 1.0, 8)))
    Q = random_orthogonal(10, seed=seed)
    result, caught = _quiet_power(Q @ B @ Q.T)
    assert result.converged and not caught
    assert abs(result.value) == pytest.approx(1.2, rel=1e-9)
    assert abs(result.value.imag) == pytest.approx(1.2 * np.sin(1.0), rel=1e-8)


@pytest.mark.parametrize("lam", [2.0, -0.5])
def test_power_method_plus_minus_tie(lam: float) -> None:
    Q = random_orthogonal(6, seed=3)
    A = Q @ np.diag([lam, -lam, 0.3 * lam, 0.1, -0.2, 0.0]) @ Q.T
    result, caught = _quiet_power(A)
    assert result.converged and not caught
    assert abs(result.value) == pytest.approx(abs(lam), rel=1e-9)
    assert result.value == pytest.approx(abs(lam), rel=1e-9)  # ties go to the larger real part


def test_power_method_complex_matrix() -> None:
    rng = np.random.default_rng(11)
    A = rng.standard_normal((8, 8)) + 1j * rng.standard_normal((8, 8))
    result, _ = _quiet_power(A, maxiter=5000)
    assert result.converged
    eigenvalues = np.linalg.eigvals(A)
    assert result.value == pytest.approx(eigenvalues[np.argmax(np.abs(eigenvalues))], rel=1e-8)
    tie = np.diag([2j, -2j, 1.0])
    result, _ = _quiet_power(tie)
    assert result.converged and abs(result.value) == pytest.approx(2.0)


@pytest.mark.parametrize(
    "A",
    [random_orthogonal(12, seed=0), jordan(6, 0.5), np.diag([1.0, 1j, -1.0, -1j])],
    ids=["orthogonal", "defective", "four-way tie"],
)
def test_power_method_never_silently_wrong(A: np.ndarray) -> None:
    result, caught = _quiet_power(A)
    assert result.iterations >= 1
    if result.converged:  # a block as large as the matrix is exact
        assert abs(result.value) == pytest.approx(_rho(A), rel=1e-8)
        assert not caught
    else:
        assert caught, "an unconverged run must warn"


def test_power_method_orthogonal_does_not_converge() -> None:
    result, caught = _quiet_power(random_orthogonal(40, seed=2))
    assert not result.converged
    assert caught, "an unconverged run must warn"


def test_power_method_nearly_tied_moduli_converge() -> None:
    # random Gaussian matrices have several eigenvalues of nearly the largest modulus:
    # the growing subspace iterations resolve them instead of giving up
    rng = np.random.default_rng(0)
    for _ in range(10):
        A = rng.standard_normal((64, 64)) / 8.0
        result, caught = _quiet_power(A)
        assert result.converged and not caught
        assert abs(result.value) == pytest.approx(_rho(A), rel=1e-8)


@pytest.mark.parametrize("seed", range(10))
def test_power_method_converged_means_correct(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 40))
    A = rng.standard_normal((n, n))
    result, caught = _quiet_power(A, seed=seed)
    if result.converged:
        assert abs(result.value) == pytest.approx(_rho(A), rel=1e-7)
    else:
        assert caught


def test_power_method_special_cases() -> None:
    assert spectra.power_method([[3]]).value == 3.0
    zero = spectra.power_method(np.zeros((4, 4)))
    assert zero.converged and zero.value == 0.0
    nil = spectra.power_method(chain(5))
    assert nil.converged and nil.value == 0.0
    result = spectra.power_method(np.diag([2.0, 1.0]))
    again = spectra.power_method(np.diag([2.0, 1.0]))
    assert result.iterations == again.iterations  # deterministic with a fixed seed
    data = json.loads(json.dumps(spectra.power_method(_rotation(0.5)).to_dict()))
    assert set(data) == {"value", "vector", "iterations", "converged"}
    assert len(data["value"]) == 2  # complex as [re, im]


@pytest.mark.parametrize(
    ("kw", "match"),
    [({"tol": 0.0}, "tol"), ({"tol": -1.0}, "tol"), ({"maxiter": 0}, "maxiter")],
)
def test_power_method_rejects_bad_options(kw: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        spectra.power_method(np.eye(2), **kw)


def test_power_method_rejects_non_integer_maxiter() -> None:
    with pytest.raises(TypeError, match="maxiter"):
        spectra.power_method(np.eye(2), maxiter=10.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "A",
    [
        np.random.default_rng(0).standard_normal((25, 25)),
        grcar(30),
        kahan(20),
        chain(8, 2.0),
        np.array([[0.0, 1.0], [-0.25, 0.0]]),
        np.diag([1.0, -3.0, 2.0j]),
    ],
    ids=["random", "grcar", "kahan", "chain", "pair", "complex"],
)
def test_spectral_radius_and_norm_against_numpy(A: np.ndarray) -> None:
    assert spectra.spectral_radius(A) == pytest.approx(_rho(A), rel=1e-12, abs=1e-300)
    assert spectra.spectral_norm(A) == pytest.approx(np.linalg.norm(A, 2), rel=1e-12)
    assert spectra.spectral_norm(A, method="power") == pytest.approx(np.linalg.norm(A, 2), rel=1e-9)


def test_spectral_radius_power_agrees_when_converged() -> None:
    for A in (kahan(20), np.diag([1.0, -3.0, 2.0]), _rotation(0.3, 0.7), 2.0 * np.eye(3)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert spectra.spectral_radius(A, method="power") == pytest.approx(_rho(A), rel=1e-8)


def test_spectral_radius_power_warns_when_not_converged() -> None:
    with pytest.warns(spectra.NotConvergedWarning):
        spectra.spectral_radius(random_orthogonal(40, seed=1), method="power")


@pytest.mark.parametrize("func", [spectra.spectral_radius, spectra.spectral_norm])
def test_unknown_method_is_named(func: object) -> None:
    with pytest.raises(ValueError, match="'lanczos'"):
        func(np.eye(2), method="lanczos")  # type: ignore[operator]


def test_radius_and_norm_differ_for_non_normal() -> None:
    W = chain(10, 0.9)
    assert spectra.spectral_radius(W) == 0.0
    assert spectra.spectral_norm(W) == pytest.approx(0.9)


@pytest.mark.parametrize("kind", ["clip", "scale", "radius"])
@pytest.mark.parametrize("bound", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("seed", range(3))
def test_projection_within_bound_and_idempotent(kind: str, bound: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((12, 12))
    P = spectra.project(A, bound, kind=kind)  # type: ignore[arg-type]
    assert P.dtype == np.float64 and P.shape == A.shape
    size = _rho(P) if kind == "radius" else np.linalg.norm(P, 2)
    assert size <= bound * (1 + 1e-12)
    again = spectra.project(P, bound, kind=kind)  # type: ignore[arg-type]
    assert np.allclose(again, P, rtol=1e-10, atol=1e-12 * bound)


@pytest.mark.parametrize("kind", ["clip", "scale", "radius"])
def test_projection_leaves_matrices_inside_unchanged(kind: str) -> None:
    A = 0.5 * random_orthogonal(5, seed=2)
    P = spectra.project(A, kind=kind)  # type: ignore[arg-type]
    assert np.array_equal(P, A) and P is not A


def test_scale_and_radius_reach_the_boundary() -> None:
    A = 3.0 * grcar(10)
    assert np.linalg.norm(spectra.project(A, 2.0, kind="scale"), 2) == pytest.approx(2.0)
    assert _rho(spectra.project(A, 2.0, kind="radius")) == pytest.approx(2.0)
    W = spectra.project(chain(6), kind="radius")  # nilpotent: unchanged
    assert np.array_equal(W, chain(6))


@pytest.mark.parametrize("seed", range(5))
def test_clip_is_the_nearest_matrix_in_the_ball(seed: int) -> None:
    rng = np.random.default_rng(seed)
    A = 2.0 * rng.standard_normal((8, 8))
    bound = 1.5
    P = spectra.project(A, bound)
    sigma = np.linalg.svd(A, compute_uv=False)
    # spectral distance: sigma_1 - bound is the least possible; Frobenius: the clipped values
    assert np.linalg.norm(A - P, 2) == pytest.approx(sigma[0] - bound, rel=1e-10)
    expected_fro = np.sqrt(np.sum(np.maximum(sigma - bound, 0.0) ** 2))
    assert np.linalg.norm(A - P) == pytest.approx(expected_fro, rel=1e-10)
    others = [spectra.project(A, bound, kind="scale")]
    for _ in range(20):  # random feasible competitors
        B = rng.standard_normal((8, 8))
        others.append(B * (rng.uniform(0.1, 1.0) * bound / np.linalg.norm(B, 2)))
    for B in others:
        assert np.linalg.norm(A - P) <= np.linalg.norm(A - B) + 1e-12
        assert np.linalg.norm(A - P, 2) <= np.linalg.norm(A - B, 2) + 1e-12


def test_projection_of_complex_matrix() -> None:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 6)) + 1j * rng.standard_normal((6, 6))
    P = spectra.project(A, 1.0)
    assert P.dtype == np.complex128
    assert np.linalg.norm(P, 2) == pytest.approx(1.0)


@pytest.mark.parametrize("bound", [0.0, -1.0, np.inf, np.nan, "big"])
def test_projection_rejects_bad_bound(bound: object) -> None:
    with pytest.raises(ValueError, match="bound"):
        spectra.project(np.eye(2), bound)  # type: ignore[arg-type]


def test_projection_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="'unit'"):
        spectra.project(np.eye(2), kind="unit")  # type: ignore[arg-type]


def test_positional_arguments_of_the_documented_signatures() -> None:
    A = np.array([[0.5, 2.0], [0.0, 0.25]])
    assert spectra.henrici(A, True) == spectra.henrici(A, relative=True)
    assert spectra.spectral_radius(A, "power") == pytest.approx(0.5, rel=1e-9)
    assert spectra.spectral_norm(A, "power") == pytest.approx(np.linalg.norm(A, 2), rel=1e-9)
    assert np.array_equal(
        spectra.project(A, 1.0, "clip"), spectra.project(A, bound=1.0, kind="clip")
    )


def _banded(n: int) -> np.ndarray:
    """0.5 I + J + J^2: one eigenvalue 0.5 of multiplicity n, a single Jordan block."""
    return 0.5 * np.eye(n) + np.eye(n, k=1) + np.eye(n, k=2)


@pytest.mark.parametrize("n", [12, 32])
def test_power_method_defective_is_not_reported_converged(n: int) -> None:
    # The residual test alone accepted 0.6035 + 0.0232i at n = 12 (and a value 44 % off at
    # n = 32) although the only eigenvalue is 0.5: the forward error of a defective
    # eigenvalue is far above the backward error.
    result, caught = _quiet_power(_banded(n))
    if result.converged:
        assert abs(result.value - 0.5) <= 1e-8
    else:
        assert caught, "an unconverged run must warn"
    assert not result.converged  # no float64 method resolves this eigenvalue to 1e-10


def test_spectral_radius_power_passes_the_warning_on() -> None:
    with pytest.warns(spectra.NotConvergedWarning, match="did not converge") as record:
        spectra.spectral_radius(_banded(12), method="power")
    assert record[0].filename == __file__  # attributed to the caller


@pytest.mark.parametrize("diagonal", ["real", "complex"])
def test_unconverged_warning_states_its_error_bound_in_words(diagonal: str) -> None:
    # a stopped run without a condition estimate used to print "estimated relative error nan"
    A = _banded(12).astype(complex)
    if diagonal == "complex":
        A += np.diag(0.5 * np.exp(1j * np.linspace(0.0, 1.0, 12))) - 0.5 * np.eye(12)
    with pytest.warns(spectra.NotConvergedWarning) as record:
        spectra.power_method(A)
    message = str(record[0].message)
    assert re.search(r"\bnan\b", message.lower()) is None and "error" in message


@pytest.mark.parametrize("coupling", [0.1, 1.0, 10.0, 1e2, 1e3, 1e4])
@pytest.mark.parametrize("seed", range(3))
def test_power_method_near_tie_with_coupling_is_right_or_not_converged(
    coupling: float, seed: int
) -> None:
    # lambda = 1 and 0.999 coupled by c: kappa(1) is about 1000 c, so the residual test
    # accepted values wrong by up to 1e-6 (c = 1e4) with converged=True.
    B = np.diag([1.0, 0.999, 0.5, -0.4, 0.3, 0.2, -0.1, 0.0])
    B[0, 1] = coupling
    Q = random_orthogonal(8, seed=seed)
    result, caught = _quiet_power(Q @ B @ Q.T, seed=seed)
    if result.converged:
        assert abs(result.value - 1.0) <= 1e-10 * (1 + 1e-6)
        assert not caught
    else:
        assert caught
    if coupling <= 1.0:  # well enough conditioned for tol = 1e-10: must converge
        assert result.converged


@pytest.mark.parametrize("seed", range(20))
def test_power_method_converged_means_forward_accurate_on_non_normal(seed: int) -> None:
    # dominant eigenvalues of all conditionings, in a random non-orthogonal basis
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(3, 30))
    X = rng.standard_normal((n, n)) + np.diag(rng.uniform(0.0, 10.0 ** rng.uniform(-2, 2), n))
    eigenvalues = rng.uniform(-1.0, 1.0, n)
    eigenvalues[0] = 1.0
    eigenvalues[1] = 1.0 - 10.0 ** rng.uniform(-4, -1)
    A = X @ np.diag(eigenvalues) @ np.linalg.inv(X)
    result, caught = _quiet_power(A, seed=seed)
    if result.converged:
        assert abs(result.value - 1.0) <= 1e-9
    else:
        assert caught


@pytest.mark.parametrize("n", [300, 512])
def test_power_method_work_is_capped(n: int) -> None:
    # All eigenvalues of an orthogonal matrix share the largest modulus: it cannot converge.
    # The work is capped at N**3 flops of products (2 N**2 each, one or more per iteration);
    # the stages used to run up to 1000 iterations each, 4000+ in all.
    result, caught = _quiet_power(random_orthogonal(n, seed=0))
    assert not result.converged and caught
    assert result.iterations <= max(n**3, 2**26) / (2 * n * n)


def test_power_method_budget_counts_every_product() -> None:
    from spectra import _power

    n = 200
    A = random_orthogonal(n, seed=4)
    calls = []

    def matvec(x: np.ndarray) -> np.ndarray:
        calls.append(1 if x.ndim == 1 else x.shape[1])
        return A @ x

    op = _power.Operator(
        matvec,
        n,
        complex_arithmetic=False,
        flops_per_vector=2.0 * n * n,
        frobenius=n**0.5,
        matrix=A,
    )
    outcome = _power.iterate(op, tol=1e-10, maxiter=1000, seed=0)
    assert not outcome.converged and outcome.reason == "work budget spent"
    assert sum(calls) * 2.0 * n * n <= op.budget
    assert op.budget == max(_power.BUDGET * n**3, _power.MIN_FLOPS)


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e160, 1e300])
def test_power_methods_scale_equivariant_at_extreme_scales(scale: float) -> None:
    # without scaling, diag(2e-200, 1e-200) gave a norm of 0.0 (A^T A underflows) and
    # diag(2e160, 1e160) raised LinAlgError (it overflows)
    D = np.diag([2.0, 1.0])
    assert spectra.spectral_norm(scale * D, method="power") == pytest.approx(2 * scale, rel=1e-9)
    assert spectra.spectral_radius(scale * D, method="power") == pytest.approx(2 * scale, rel=1e-9)
    A = np.random.default_rng(3).standard_normal((10, 10))
    plain = spectra.power_method(A)
    scaled = spectra.power_method(scale * A)
    assert scaled.converged == plain.converged
    assert abs(scaled.value / scale - plain.value) <= 1e-9 * abs(plain.value)
    assert spectra.spectral_norm(scale * A, method="power") / scale == pytest.approx(
        np.linalg.norm(A, 2), rel=1e-9
    )
