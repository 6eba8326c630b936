"""The analysis of one matrix (``rnnscope analyze``) against the floor of its decompositions.

For each size N one seeded matrix with the entries of a default-initialised ``torch.nn.RNN``
(uniform on [-1/sqrt(N), 1/sqrt(N)]; ``--matrix gaussian``: randn/sqrt(N); ``--matrix
orthogonal``: a random orthogonal matrix plus 1e-3 noise) goes to

* ``rnnscope.analysis.analyze_matrix`` (every registered measure of ``rnnscope analyze``,
  default eps), and
* the floor: one real Schur form with its basis (``scipy.linalg.schur``) + ``rsf2csf`` + one
  eigenvector decomposition (``numpy.linalg.eig``) + one ``scipy.linalg.svdvals``, the least
  any analysis of these measures must do.

Both run with one BLAS thread (threadpoolctl); times are process CPU seconds (wall seconds in
parentheses). ``--breakdown`` adds the CPU seconds of each measure (a decomposition shared by
several measures counts for the first one that needs it).

``--lstm`` instead times ``rnnscope analyze`` of a seeded 3-layer ``torch.nn.LSTM(400, 1150)``
state dict (12 gate matrices of 1150 x 1150) in wall seconds, with the default worker
processes (one per core, one BLAS thread each). It is heavy: run it on a quiet machine.

Usage::

    python benchmarks/analyze.py [--sizes 128 256 512 1024] [--breakdown]
    python benchmarks/analyze.py --lstm
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits


def _matrix(n: int, kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        return rng.standard_normal((n, n)) / np.sqrt(n)
    if kind == "orthogonal":
        Q, R = np.linalg.qr(rng.standard_normal((n, n)))
        return Q * np.sign(np.diag(R)) + 1e-3 * rng.standard_normal((n, n)) / np.sqrt(n)
    bound = 1.0 / np.sqrt(n)
    return rng.uniform(-bound, bound, (n, n))


def _cpu(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - w0


def _floor(A: np.ndarray) -> None:
    T, Z = scipy.linalg.schur(A, output="real")
    scipy.linalg.rsf2csf(T, Z)
    np.linalg.eig(A)
    scipy.linalg.svdvals(A)


def _breakdown(A: np.ndarray) -> list[tuple[str, float]]:
    from rnnscope.measures import MatrixContext, measures

    ctx = MatrixContext(A)
    out = []
    for measure in measures():
        c0 = time.process_time()
        measure.compute(ctx)
        out.append((measure.key, time.process_time() - c0))
    return out


def run_sizes(sizes: list[int], kind: str, seed: int, breakdown: bool) -> None:
    from rnnscope.analysis import analyze_matrix

    print(
        f"# rnnscope analyze of one matrix vs the floor (real Schur + rsf2csf + eig + svdvals), "
        f"matrix={kind}, seed={seed}, 1 BLAS thread; CPU seconds (wall in parentheses)"
    )
    print(f"{'N':>5} {'floor s':>16} {'analyze s':>18} {'ratio':>7}")
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in sizes:
            A = _matrix(n, kind, seed)
            floor_cpu, floor_wall = min(_cpu(lambda A=A: _floor(A)) for _ in range(2))
            ours_cpu, ours_wall = _cpu(lambda A=A: analyze_matrix("W", A))
            print(
                f"{n:>5} {floor_cpu:>7.2f} ({floor_wall:>6.2f}) "
                f"{ours_cpu:>8.2f} ({ours_wall:>7.2f}) {ours_cpu / floor_cpu:>6.2f}x",
                flush=True,
            )
            if breakdown:
                parts = _breakdown(A)
                print("      " + ", ".join(f"{k} {t:.2f}" for k, t in parts if t >= 0.005))


def run_lstm(seed: int) -> None:
    import torch

    import models
    from rnnscope.analysis import analyze_checkpoint

    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(400, 1150, num_layers=3)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lstm.pt"
        torch.save(lstm.state_dict(), path)
        checkpoint = models.load(path)
        shapes = {tuple(W.shape) for W in checkpoint.matrices.values()}
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        print(
            f"# rnnscope analyze of a 3-layer nn.LSTM(400, 1150) state dict: "
            f"{len(checkpoint.matrices)} matrices {sorted(shapes)}, {cores} cores"
        )
        w0 = time.perf_counter()
        result = analyze_checkpoint(checkpoint)
        wall = time.perf_counter() - w0
    print(
        f"wall {wall:.1f} s for {len(result.matrices)} matrices "
        f"({wall / len(result.matrices):.1f} s per matrix); goal <= 180 s: "
        f"{'met' if wall <= 180 else 'missed'}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512, 1024])
    parser.add_argument("--matrix", choices=["rnn", "gaussian", "orthogonal"], default="rnn")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--breakdown", action="store_true", help="CPU seconds per measure")
    parser.add_argument("--lstm", action="store_true", help="time a 3-layer LSTM(…, 1150)")
    args = parser.parse_args(argv)
    if args.lstm:
        run_lstm(args.seed)
    else:
        run_sizes(args.sizes, args.matrix, args.seed, args.breakdown)


if __name__ == "__main__":
    main()
