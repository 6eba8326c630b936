"""Cost of the power method and of chain_order next to one dense decomposition, one run.

For each size N the same seeded matrices go to

* ``scipy.linalg.schur`` (real Schur form with its basis): the peer, one dense decomposition;
* ``spectra.power_method`` and ``spectra.spectral_norm(method="power")`` on a Gaussian matrix
  ``randn(N, N) / sqrt(N)`` (many eigenvalues of nearly the largest modulus: the work budget
  decides) and on the same matrix with a dominant eigenvalue 1.5 planted by a rank-one term
  (the iteration converges);
* ``spectra.chain_order`` on a chain of 8 (coupling 0.3) planted in an orthogonal matrix, given
  the shared ``spectra.schur`` form, once with the Gaussian null control computed (first call
  for that size) and once with it cached.

Times are process CPU seconds (``time.process_time``) with every BLAS limited to one thread
(``--threads``); the ratio divides by the Schur time of the same matrix in the same run.

Usage::

    python benchmarks/power_chain_order.py [--sizes 128 256 512 1024]
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

import spectra
from spectra import local_order
from spectra.matrices import chain, random_orthogonal


def _cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    c0 = time.process_time()
    out = fn()
    return time.process_time() - c0, out


def _planted_chain(n: int, seed: int) -> np.ndarray:
    B = scipy.linalg.block_diag(random_orthogonal(n - 8, seed=seed + 1), chain(8, 0.3))
    Q = random_orthogonal(n, seed=seed)
    return Q @ B @ Q.T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512, 1024])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    warnings.simplefilter("ignore", spectra.NotConvergedWarning)
    header = (
        f"{'N':>5} {'schur s':>8} | {'power G':>8} {'ratio':>6} {'conv':>5} | "
        f"{'power P':>8} {'ratio':>6} {'conv':>5} | {'norm G':>7} {'ratio':>6} | "
        f"{'chain+null':>10} {'ratio':>6} {'chain':>7} {'ratio':>6} {'order':>6} {'null':>5}"
    )
    print(header)
    with threadpool_limits(args.threads):
        for n in args.sizes:
            rng = np.random.default_rng(n)
            G = rng.standard_normal((n, n)) / np.sqrt(n)
            u = rng.standard_normal(n)
            P = G + 1.5 * np.outer(u, u) / (u @ u)
            t_schur, _ = _cpu(lambda G=G: scipy.linalg.schur(G))
            t_pg, rg = _cpu(lambda G=G: spectra.power_method(G))
            t_pp, rp = _cpu(lambda P=P: spectra.power_method(P))
            t_ng, _ = _cpu(lambda G=G: spectra.spectral_norm(G, method="power"))
            A = _planted_chain(n, seed=n)
            sf = spectra.schur(A)
            local_order._null_orders.cache_clear()
            t_c1, _ = _cpu(lambda A=A, sf=sf: spectra.chain_order(A, schur_form=sf))
            t_c2, co = _cpu(lambda A=A, sf=sf: spectra.chain_order(A, schur_form=sf))
            print(
                f"{n:>5} {t_schur:>8.3f} | {t_pg:>8.3f} {t_pg / t_schur:>6.2f} "
                f"{rg.converged!s:>5} | {t_pp:>8.3f} {t_pp / t_schur:>6.2f} "
                f"{rp.converged!s:>5} | {t_ng:>7.3f} {t_ng / t_schur:>6.2f} | "
                f"{t_c1:>10.3f} {t_c1 / t_schur:>6.2f} {t_c2:>7.3f} {t_c2 / t_schur:>6.2f} "
                f"{co.order:>6.2f} {co.null_order:>5.2f}"
            )


if __name__ == "__main__":
    main()
