"""Cost of the tight certified radii against a plain bisection in the same run.

A demo-sized vanilla cell (H = 64, T = 64, F = 1, ELU, a recurrent matrix with
:math:`\\sigma_{max} = 1.05`) and ``B`` random sequences: :func:`attacks._cell.tight_radii`
(interval bound by bisection on the unconverged samples, Jacobian bound by its secant search)
against the plain search it replaces (24 bisection rounds in log scale over the whole batch for
each bound). Both run on one thread; printed: seconds, evaluations of the Jacobian bound, the
time ratio and the largest relative difference of the radii (both are certified and within
their precision below the same largest radius).

Run: ``.venv/bin/python benchmarks/certified.py [--samples 64] [--norm l2]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attacks._cell import Cell, tight_radii

H, T, F, C = 64, 64, 1, 10


def _cell(seed: int) -> Cell:
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(H, H, generator=g, dtype=torch.float64))
    W = 1.05 * q
    U = torch.randn(H, F, generator=g, dtype=torch.float64)
    V = torch.randn(C, H, generator=g, dtype=torch.float64) / 4
    b = 0.1 * torch.randn(H, generator=g, dtype=torch.float64)
    return Cell(U, W, V, b, torch.zeros(C, dtype=torch.float64), "elu", None)


def _plain(cell, x, y, ok, *, norm, upper):  # the former search: 24 rounds over the batch
    out = {}
    for name, test in (("ibp", cell.ibp_certified), ("jacobian", cell.jacobian_certified)):
        hi = upper.clone()
        floor = hi * 1e-12
        good = test(x, y, floor, norm=norm, bounds=(0.0, 1.0)) & ok
        lo = torch.where(good, floor, torch.zeros_like(floor))
        for _ in range(24):
            mid = torch.sqrt(lo * hi)
            live = good & (hi > lo * (1 + 1e-6))
            if not bool(live.any()):
                break
            passed = test(x, y, torch.where(live, mid, lo), norm=norm, bounds=(0.0, 1.0))
            lo = torch.where(live & passed, mid, lo)
            hi = torch.where(live & ~passed, mid, hi)
        out[name] = torch.where(ok, lo, torch.zeros_like(lo))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--norm", choices=("linf", "l2"), default="l2")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cell = _cell(0)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(args.samples, T, F, generator=g, dtype=torch.float64)
    y = cell.logits(x).argmax(dim=1)
    ok = torch.ones(args.samples, dtype=torch.bool)
    upper = torch.full((args.samples,), 1.0 if args.norm == "linf" else 8.0, dtype=torch.float64)
    calls = [0]
    original = cell.jacobian_lipschitz

    def counted(*a, **k):
        calls[0] += 1
        return original(*a, **k)

    cell.jacobian_lipschitz = counted
    start = time.perf_counter()
    new = tight_radii(cell, x, y, ok, norm=args.norm, bounds=(0.0, 1.0),
                      lower=torch.zeros_like(upper), upper=upper)  # fmt: skip
    t_new, n_new = time.perf_counter() - start, calls[0]
    calls[0] = 0
    start = time.perf_counter()
    old = _plain(cell, x, y, ok, norm=args.norm, upper=upper)
    t_old, n_old = time.perf_counter() - start, calls[0]
    print(f"tight radii, {args.samples} samples, {args.norm}, H={H}, T={T}")
    print(f"  plain bisection: {t_old:8.2f} s  ({n_old} Jacobian-bound evaluations of the batch)")
    print(f"  tight_radii:     {t_new:8.2f} s  ({n_new} evaluations of the unconverged samples)")
    print(f"  ratio tight_radii / plain: {t_new / t_old:.3f}")
    for name in ("ibp", "jacobian"):
        a, b = new[name], old[name]
        both = (a > 0) & (b > 0)
        rel = float(((a[both] - b[both]).abs() / b[both]).max()) if bool(both.any()) else 0.0
        print(f"  {name}: median radius {float(a.median()):.4g}, max relative difference {rel:.1e}")


if __name__ == "__main__":
    main()
