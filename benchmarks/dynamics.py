"""Speed of the dynamics layer: analytic step Jacobians and Lyapunov spectra.

1. ``model.step_jacobian`` (analytic for every kind) against ``torch.func.vmap(jacrev)``
   of the same step, per kind, at H = 128, B = 32, float64. Goal: ratio >= 10.
2. The full Lyapunov spectrum (k = 128) and the leading k = 10 exponents of an H = 128 tanh
   rnn over T = 1000 steps, B = 32, on one thread: Jacobians streamed from
   ``models.dynamics.iter_jacobians(..., factored=True)`` (``spectra.RowScaled``, never formed)
   into ``spectra.lyapunov``, with a QR every step (``every=1``, the default) and with runs of
   steps between QRs (``every="auto"``, conditioning held below 1e10; the goals apply to it,
   with its largest difference from the every-step exponents). Goals: <= 10 s and <= 2 s.
   Peers in the same run: the same exponents from the dense ``(B, S, S)`` Jacobians of
   ``step_jacobian``, and from Jacobians computed by ``torch.func.jacrev`` (timed on the first
   100 steps and scaled, as it is slow).

Repetitions are interleaved and the median time is reported.

Run: ``.venv/bin/python benchmarks/dynamics.py [--repeats 5] [--threads 1]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import models
import spectra
from models import dynamics

H, B, F, T = 128, 32, 4, 1000
KINDS = ("rnn", "scornn", "exprnn", "nnrnn", "nru", "lstm", "gru")


def _median(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _model(kind: str) -> models.RecurrentModel:
    options = {"memory_size": 64, "heads": 4} if kind == "nru" else {}
    return models.build(kind, input_size=F, hidden_size=H, output_size=2, **options).double()


def jacobian_ratios(repeats: int) -> None:
    print(f"step_jacobian vs torch.func.vmap(jacrev), H={H}, B={B}, float64")
    print(f"{'kind':8} {'S':>5} {'analytic ms':>12} {'jacrev ms':>10} {'ratio':>7}")
    g = torch.Generator().manual_seed(0)
    for kind in KINDS:
        model = _model(kind).eval()
        for p in model.parameters():
            p.requires_grad_(False)
        state = 0.5 * torch.randn(B, model.state_size, generator=g, dtype=torch.float64)
        x = torch.randn(B, F, generator=g, dtype=torch.float64)

        def one(
            s: torch.Tensor, u: torch.Tensor, model: models.RecurrentModel = model
        ) -> torch.Tensor:
            return model.step(s[None], u[None])[0]

        peer = torch.func.vmap(torch.func.jacrev(one))
        with model.parametrization_cache():
            model.recurrent_weight()
            ours_J, peer_J = model.step_jacobian(state, x), peer(state, x)
            error = float((ours_J - peer_J).norm() / peer_J.norm())
            ours = _median(lambda m=model, s=state, u=x: m.step_jacobian(s, u), repeats)
            theirs = _median(lambda f=peer, s=state, u=x: f(s, u), repeats)
        print(
            f"{kind:8} {model.state_size:5d} {1e3 * ours:12.2f} {1e3 * theirs:10.2f} "
            f"{theirs / ours:7.1f}  rel.err {error:.1e}"
        )


def lyapunov_times(repeats: int) -> None:
    model = models.build(
        "rnn", input_size=F, hidden_size=H, output_size=2, init="glorot", scale=1.5, seed=1
    )
    x = torch.randn(B, T, F, generator=torch.Generator().manual_seed(2))

    def run(
        k: int | None, *, factored: bool = True, every: int | str = 1
    ) -> spectra.LyapunovResult:
        steps = dynamics.iter_jacobians(model, x, factored=factored)
        return spectra.lyapunov(steps if factored else (J.numpy() for J in steps), k=k, every=every)

    print(f"\nLyapunov spectrum, H={H} rnn, T={T}, B={B}, {torch.get_num_threads()} thread(s)")
    full = _median(lambda: run(None), max(1, repeats // 2))
    full_runs = _median(lambda: run(None, every="auto"), max(1, repeats // 2))
    full_dense = _median(lambda: run(None, factored=False), max(1, repeats // 2))
    top = _median(lambda: run(10), repeats)
    top_runs = _median(lambda: run(10, every="auto"), repeats)
    top_dense = _median(lambda: run(10, factored=False), repeats)
    result = run(10)
    gap = float(abs(result.exponents - run(10, factored=False).exponents).max())
    each, runs = run(None), run(None, every="auto")
    full_gap = float(abs(each.exponents - runs.exponents).max())
    top_gap = float(abs(result.exponents - run(10, every="auto").exponents).max())
    # peer: the same QR on Jacobians from torch.func.jacrev, timed on 100 steps and scaled
    peer_steps = 100
    m64 = model.double()

    def peer() -> spectra.LyapunovResult:
        def one(s: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
            return m64.step(s[None], u[None])[0]

        jac = torch.func.vmap(torch.func.jacrev(one))
        xs = x[:, :peer_steps].double()

        def gen():
            s = m64.initial_state(B)
            for t in range(peer_steps):
                J = jac(s, xs[:, t])
                with torch.no_grad():
                    s = m64.step(s, xs[:, t])
                yield J.detach().numpy()

        return spectra.lyapunov(gen(), k=10)

    peer_time = _median(peer, max(1, repeats // 2)) * T / peer_steps
    print(
        f"full spectrum (k={H}), QR every step:  {full:6.2f} s   "
        f"(dense Jacobians {full_dense:6.2f} s, ratio {full_dense / full:.1f})"
    )
    print(
        f"full spectrum (k={H}), every='auto':   {full_runs:6.2f} s   goal <= 10 s   "
        f"(ratio to every step {full / full_runs:.1f}; {runs.factorisations} QR for {T} steps, "
        f"{runs.redone} runs redone; max difference {full_gap:.1e})"
    )
    print(
        f"k=10 exponents, QR every step:        {top:6.2f} s   "
        f"(dense Jacobians {top_dense:6.2f} s, ratio {top_dense / top:.1f}; "
        f"max difference {gap:.1e})"
    )
    print(
        f"k=10 exponents, every='auto':         {top_runs:6.2f} s   goal <= 2 s    "
        f"(ratio to every step {top / top_runs:.1f}; max difference {top_gap:.1e})"
    )
    print(
        f"k=10 with jacrev Jacobians (scaled from {peer_steps} steps): {peer_time:6.2f} s, "
        f"ratio {peer_time / top:.1f}"
    )
    print(
        f"leading exponents: {result.exponents[:3].round(4).tolist()} nats/step "
        f"(stderr {result.stderr[:3].round(4).tolist()})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        threadpool_limits = None
    if threadpool_limits is not None:
        with threadpool_limits(limits=args.threads):
            jacobian_ratios(args.repeats)
            lyapunov_times(args.repeats)
    else:
        jacobian_ratios(args.repeats)
        lyapunov_times(args.repeats)


if __name__ == "__main__":
    main()
