"""Pseudospectra on a grid: spectra.pseudospectrum against pseudopy and dense SVD, one run.

For each size N the same seeded matrix and the same grid go to

* ``spectra.pseudospectrum`` (complex Schur form, then batched inverse Lanczos; default tol),
* pseudopy's ``NonnormalMeshgrid`` (one dense SVD per grid point), timed on an evenly spaced
  sub-grid of the same box, because a full grid would take hours at N = 1024,
* ``scipy.linalg.svdvals(z I - A)`` on a random sample of grid points: the accuracy reference.

Times are process CPU seconds (``time.process_time``; best of 3 runs for N <= 256, one run
above) with every BLAS limited to the same number of threads (``--threads``, default 1) for all
methods; wall seconds are printed alongside. ``spectra`` runs its own sweeps single-threaded
whatever the setting.
The ratio compares the cost per grid point. The matrix is ``randn(N, N) / sqrt(N)`` plus a
superdiagonal of ones (``--matrix nonnormal``, a random bulk with a hidden feed-forward chain,
as in trained recurrent weights), or the plain Gaussian matrix (``--matrix gaussian``). The box
is the eigenvalue bounding box plus 0.5, symmetric about the real axis.

Usage::

    python benchmarks/pseudospectra.py [--sizes 64 128 256 512 1024] [--grid 100]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

import spectra


def _matrix(n: int, kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    if kind == "nonnormal":
        A += np.eye(n, k=1)
    return A


def _timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, float, Any]:
    """Best CPU and wall seconds over `repeat` calls, and the last result."""
    best_cpu = best_wall = np.inf
    out = None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    return best_cpu, best_wall, out


def _import_pseudopy() -> Any:
    import shapely.ops

    if not hasattr(shapely.ops, "cascaded_union"):  # removed in shapely 2; pseudopy imports it
        shapely.ops.cascaded_union = shapely.ops.unary_union
    import pseudopy

    return pseudopy


def _sub_grid_size(n: int) -> int:
    """Side of pseudopy's sub-grid: a few seconds of dense SVDs per size."""
    if n <= 128:
        return 8
    if n <= 256:
        return 6
    if n <= 512:
        return 4
    return 3


def run_case(n: int, grid: int, kind: str, seed: int, pseudopy: Any) -> dict[str, float]:
    A = _matrix(n, kind, seed)
    lam = np.linalg.eigvals(A)
    re = (float(lam.real.min()) - 0.5, float(lam.real.max()) + 0.5)
    top = float(np.abs(lam.imag).max()) + 0.5
    im = (-top, top)
    points = grid * grid

    repeat = 3 if n <= 256 else 1  # best of `repeat` for both methods
    ours_cpu, ours_wall, ps = _timed(
        lambda: spectra.pseudospectrum(A, re=re, im=im, n=grid), repeat=repeat
    )

    k = _sub_grid_size(n)
    peer_cpu, _, peer = _timed(
        lambda: pseudopy.NonnormalMeshgrid(A, re[0], re[1], k, im[0], im[1], k), repeat=repeat
    )
    peer_points = peer.Vals.size
    ours_on_peer = spectra.sigma_min(A, peer.Real + 1j * peer.Imag)

    rng = np.random.default_rng(seed + 1)
    sample = rng.choice(points, size=min(points, 40 if n <= 256 else 12), replace=False)
    rows, cols = np.unravel_index(sample, ps.sigma.shape)
    z = ps.re[cols] + 1j * ps.im[rows]
    svd_cpu, _, ref = _timed(
        lambda: np.array([scipy.linalg.svdvals(p * np.eye(n) - A)[-1] for p in z])
    )
    norm = float(np.linalg.norm(A, 2))
    keep = ref > 1e-8 * norm
    rel_err = float(np.max(np.abs(ps.sigma[rows, cols] - ref)[keep] / ref[keep]))
    peer_keep = peer.Vals > 1e-8 * norm
    peer_diff = float(np.max(np.abs(ours_on_peer - peer.Vals)[peer_keep] / peer.Vals[peer_keep]))

    ours_pp = ours_cpu / points
    peer_pp = peer_cpu / peer_points
    return {
        "n": n,
        "grid": grid,
        "ours_cpu": ours_cpu,
        "ours_wall": ours_wall,
        "ours_pp": ours_pp,
        "peer_pp": peer_pp,
        "peer_points": peer_points,
        "svd_pp": svd_cpu / z.size,
        "ratio": peer_pp / ours_pp,
        "ratio_svd": (svd_cpu / z.size) / ours_pp,
        "rel_err": rel_err,
        "peer_diff": peer_diff,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    parser.add_argument("--grid", type=int, default=100, help="points per axis (default 100)")
    parser.add_argument("--matrix", choices=["nonnormal", "gaussian"], default="nonnormal")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for every method")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    pseudopy = _import_pseudopy()
    print(
        f"# spectra.pseudospectrum (default tol) vs pseudopy NonnormalMeshgrid, "
        f"matrix={args.matrix}, seed={args.seed}, BLAS threads={args.threads}; "
        "times are CPU seconds (wall in parentheses); pp = per grid point"
    )
    header = (
        f"{'N':>5} {'grid':>8} {'ours s':>15} {'ours pp':>9} {'pseudopy pp':>16} "
        f"{'svdvals pp':>10} {'ratio pp':>9} {'vs svdvals':>10} {'max rel err':>11} "
        f"{'vs pseudopy':>11}"
    )
    print(header)
    with threadpool_limits(limits=args.threads):
        for n in args.sizes:
            r = run_case(n, args.grid, args.matrix, args.seed, pseudopy)
            print(
                f"{r['n']:>5} {r['grid']:>3}x{r['grid']:<4} "
                f"{r['ours_cpu']:>6.3f} ({r['ours_wall']:>6.3f}) {r['ours_pp'] * 1e3:>7.4f}ms "
                f"{r['peer_pp'] * 1e3:>9.3f}ms ({r['peer_points']:>3}) "
                f"{r['svd_pp'] * 1e3:>8.3f}ms {r['ratio']:>8.1f}x {r['ratio_svd']:>9.1f}x "
                f"{r['rel_err']:>11.1e} {r['peer_diff']:>11.1e}",
                flush=True,
            )


if __name__ == "__main__":
    main()
