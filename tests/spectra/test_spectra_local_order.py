"""Local order of the resolvent (chain_order): planted chains, null control, invariances."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import scipy.linalg

import spectra
from spectra import local_order as chain_order_module
from spectra.matrices import chain, random_orthogonal

EPS = np.finfo(np.float64).eps


def _planted(n: int, k: int, alpha: float, seed: int, mu: float = 0.0) -> np.ndarray:
    """A chain of k modes (coupling alpha, eigenvalue mu) next to an orthogonal block."""
    B = scipy.linalg.block_diag(
        random_orthogonal(n - k, seed=seed + 1), mu * np.eye(k) + chain(k, alpha)
    )
    Q = random_orthogonal(n, seed=seed)
    return Q @ B @ Q.T


def _floor_radius(k: int, alpha: float) -> float:
    """Radius of the ring into which float64 rounding splits a chain's eigenvalue."""
    return (EPS * alpha ** (k - 1)) ** (1.0 / k)


CASES = [(k, a, mu) for k in (4, 8, 16) for a in (0.1, 0.3, 1.0) for mu in (0.0, 0.5)]


@pytest.mark.parametrize(
    ("k", "alpha", "mu"), [c for c in CASES if not (c[0] == 16 and c[1] == 1.0 and c[2] == 0.5)]
)
def test_planted_chain_found_with_its_order(k: int, alpha: float, mu: float) -> None:
    result = spectra.chain_order(_planted(64, k, alpha, seed=k, mu=mu))
    # the order is measured above the float64 floor, which bends the slope down by at most
    # a few per cent for k = 16
    assert abs(result.order - k) <= 0.06 * k
    assert result.cluster_size == k
    assert abs(result.eigenvalue - mu) <= 1e-6
    lo, hi = result.radii
    assert _floor_radius(k, alpha) < lo < hi <= 0.6 * max(alpha, 0.5)
    assert hi / lo >= 2.0
    assert result.exceeds_null and result.order > result.null_order + 1.5


def test_chain_beyond_the_float64_floor_is_documented_as_not_separable() -> None:
    # k = 16 with alpha = 1: its eigenvalue splits into a ring of radius about 0.1, which is
    # not isolated from the orthogonal block's eigenvalues at distance 0.5
    assert _floor_radius(16, 1.0) > 0.5 / chain_order_module.ISOLATION
    result = spectra.chain_order(_planted(64, 16, 1.0, seed=16, mu=0.5))
    assert result.order < 4


@pytest.mark.parametrize("k", [3, 6])
def test_planted_chain_in_a_complex_matrix(k: int) -> None:
    rng = np.random.default_rng(k)
    n, mu = 40, 0.3 + 0.2j
    U = scipy.linalg.qr(
        rng.standard_normal((n - k, n - k)) + 1j * rng.standard_normal((n - k, n - k))
    )[0]
    B = scipy.linalg.block_diag(U, mu * np.eye(k) + chain(k, 0.5))
    Q = scipy.linalg.qr(rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n)))[0]
    result = spectra.chain_order(Q @ B @ Q.conj().T)
    assert abs(result.order - k) <= 0.05 * k
    assert abs(result.eigenvalue - mu) <= 1e-6
    assert result.exceeds_null


def test_bare_chains_and_jordan_blocks() -> None:
    for k in (2, 5, 8):
        assert spectra.chain_order(chain(k, 0.7)).order == pytest.approx(k, rel=0.03)
        J = spectra.matrices.jordan(k, 0.25)
        result = spectra.chain_order(J)
        assert result.order == pytest.approx(k, rel=0.03)
        assert result.eigenvalue == pytest.approx(0.25, abs=1e-8)


@pytest.mark.parametrize(
    "A",
    [
        np.diag(np.linspace(-1.0, 2.0, 30)),
        random_orthogonal(50, seed=3),
        np.eye(6),
        (lambda S: S + S.T)(np.random.default_rng(2).standard_normal((40, 40))),
        np.array([[2.5]]),
        np.zeros((4, 4)),
    ],
    ids=["diagonal", "orthogonal", "identity", "symmetric", "scalar", "zero"],
)
def test_normal_matrices_have_order_one(A: np.ndarray) -> None:
    result = spectra.chain_order(A)
    assert result.order == pytest.approx(1.0, abs=1e-4)
    assert not result.exceeds_null


def test_simple_eigenvalues_of_a_non_normal_matrix_have_order_one() -> None:
    # sigma_min(zI - A) ~ |z - lambda| / kappa(lambda) near a simple eigenvalue
    assert spectra.chain_order([[0.0, 10.0], [0.0, 1.0]]).order == pytest.approx(1.0, abs=1e-3)
    rng = np.random.default_rng(4)
    n = 30
    T = np.diag(np.exp(2j * np.pi * np.arange(n) / n))  # spacing 0.21
    T += np.triu(0.05 * rng.standard_normal((n, n)), 1)  # couplings, no chain
    Q = scipy.linalg.qr(rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n)))[0]
    A = Q @ T @ Q.conj().T
    assert spectra.henrici(A, relative=True) > 0.1
    result = spectra.chain_order(A)
    assert result.order == pytest.approx(1.0, abs=0.05)
    assert result.cluster_size == 1


@pytest.mark.parametrize("n", [64, 128])
@pytest.mark.parametrize("seed", range(4))
def test_gaussian_matrices_do_not_exceed_the_null(n: int, seed: int) -> None:
    A = np.random.default_rng(seed).standard_normal((n, n)) / np.sqrt(n)
    result = spectra.chain_order(A, seed=seed)
    assert result.order <= result.null_order + chain_order_module.NULL_MARGIN
    assert not result.exceeds_null
    assert result.order < 2.5


@pytest.mark.parametrize("seed", range(4))
def test_orthogonal_plus_noise_and_orthogonal_like_do_not_exceed_the_null(seed: int) -> None:
    n = 96
    rng = np.random.default_rng(seed)
    noisy = random_orthogonal(n, seed=seed) + 1e-3 * rng.standard_normal((n, n))
    # orthogonal-like, as after training an orthogonally initialised network: singular
    # values spread around 1 and a non-normal part of a few per cent
    s = rng.uniform(0.85, 1.05, n)
    trained = (
        random_orthogonal(n, seed=seed + 10) @ np.diag(s) @ random_orthogonal(n, seed=seed + 20)
    )
    float32 = random_orthogonal(n, seed=seed + 30).astype(np.float32)
    for A in (noisy, trained, float32):
        result = spectra.chain_order(A)
        assert not result.exceeds_null
        assert result.order <= result.null_order + chain_order_module.NULL_MARGIN


def test_invariant_under_unitary_similarity_and_scale() -> None:
    for A in (_planted(48, 6, 0.4, seed=2), np.random.default_rng(9).standard_normal((48, 48))):
        base = spectra.chain_order(A)
        Q = random_orthogonal(48, seed=11)
        rotated = spectra.chain_order(Q @ A @ Q.T)
        # equal up to rounding: the computed ring of a chain's eigenvalue depends on the basis
        assert rotated.order == pytest.approx(base.order, rel=1e-2)
        assert rotated.cluster_size == base.cluster_size
        for scale in (1e-150, 1e150, 1e-300):
            scaled = spectra.chain_order(scale * A)
            assert scaled.order == pytest.approx(base.order, rel=1e-2)
            assert scaled.eigenvalue / scale == pytest.approx(base.eigenvalue, abs=1e-6)
            # the ends of the range are grid radii, which may move by a step
            assert scaled.radii[0] / scale == pytest.approx(base.radii[0], rel=0.3)


def test_shared_schur_form_gives_the_same_result() -> None:
    A = _planted(40, 5, 0.5, seed=7)
    sf = spectra.schur(A)
    assert spectra.chain_order(A, schur_form=sf).to_dict() == spectra.chain_order(A).to_dict()
    with pytest.raises(spectra.ShapeMismatchError, match=r"\(40, 40\).*\(3, 3\)"):
        spectra.chain_order(np.eye(3), schur_form=sf)
    with pytest.raises(TypeError, match="SchurForm"):
        spectra.chain_order(A, schur_form=sf.T)  # type: ignore[arg-type]


def test_sigma_evaluations_are_few_and_batched(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = chain_order_module.ResolventSolver.sigma

    def counting(self, z, **kw):  # type: ignore[no-untyped-def]
        calls.append(int(np.size(z)))
        return original(self, z, **kw)

    monkeypatch.setattr(chain_order_module.ResolventSolver, "sigma", counting)
    chain_order_module._null_orders.cache_clear()
    spectra.chain_order(_planted(64, 8, 0.3, seed=1), null_samples=2)
    per_matrix = (
        chain_order_module.CANDIDATES * chain_order_module.RADII * 2 * chain_order_module.ANGLES
    )
    assert len(calls) == 3  # one batched call for A and one per null sample
    assert all(c <= per_matrix for c in calls) and per_matrix <= 336
    calls.clear()
    spectra.chain_order(_planted(64, 4, 0.3, seed=2), null_samples=2)
    assert len(calls) == 1  # the null control is cached per size, type and seed


def test_result_is_frozen_serialisable_and_deterministic() -> None:
    A = _planted(32, 4, 0.5, seed=3)
    result = spectra.chain_order(A, seed=5)
    with pytest.raises(AttributeError):
        result.order = 2.0  # type: ignore[misc]
    data = json.loads(json.dumps(result.to_dict()))
    assert set(data) == {
        "order",
        "eigenvalue",
        "radii",
        "cluster_size",
        "null_order",
        "exceeds_null",
    }
    assert len(data["eigenvalue"]) == 2 and len(data["radii"]) == 2
    assert isinstance(result.order, float) and isinstance(result.eigenvalue, complex)
    assert spectra.chain_order(A, seed=5).to_dict() == result.to_dict()


@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"seed": True}, TypeError, "seed"),
        ({"null_samples": 0}, ValueError, "null_samples"),
        ({"null_samples": "2"}, TypeError, "null_samples"),
    ],
)
def test_bad_options_are_named(kw: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        spectra.chain_order(np.eye(3), **kw)


@pytest.mark.parametrize("k", [2, 3, 7, 16, 20, 32, 64])
def test_pure_jordan_blocks_have_their_size_as_order_without_warnings(k: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        results = [
            spectra.chain_order(chain(k)),
            spectra.chain_order(np.eye(k, k=1)),
            spectra.chain_order(spectra.matrices.jordan(k, -0.25)),
            spectra.chain_order(0.3 * np.eye(k, k=1) * 1e-200),
        ]
    for result in results:
        assert result.order == k and result.cluster_size == k
        lo, hi = result.radii
        assert 0.0 <= lo <= hi
    assert results[2].eigenvalue == -0.25
    # below the floor radius the sampled sigma_min of the block is under 1e3 eps ||A||_F,
    # and the slope k holds up to half the coupling (sigma_min(rI - J) <= r^k exactly)
    lo, hi = results[1].radii
    assert hi == pytest.approx(0.5)
    floor = 1e3 * np.finfo(float).eps * np.sqrt(k - 1)
    assert lo == pytest.approx(min(floor ** (1.0 / k), 0.5), rel=1e-9)
    if lo < hi:
        r = np.geomspace(lo, hi, 5)
        s = [scipy.linalg.svdvals(x * np.eye(k) - np.eye(k, k=1))[-1] for x in r]
        slopes = np.diff(np.log(s)) / np.diff(np.log(r))
        assert np.all(np.abs(slopes - k) <= 0.1 * k + 1.0)


def test_exact_nilpotent_structure_reports_the_largest_block() -> None:
    B = scipy.linalg.block_diag(np.eye(5, k=1), 2.0 * np.eye(3, k=1), np.zeros((2, 2)))
    result = spectra.chain_order(B)
    assert result.order == 5 and result.eigenvalue == 0


def test_hidden_long_chain_gives_no_runtime_warning() -> None:
    Q = random_orthogonal(32, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = spectra.chain_order(Q @ chain(32) @ Q.T)
    assert np.isnan(result.order) or result.order >= 1.0
