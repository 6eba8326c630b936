"""Attack cost against peers in the same run.

1. ``attacks.adversarial`` (PGD through foolbox) against a plain torch PGD loop: same model,
   inputs, epsilon, steps and absolute step size, deterministic start; repetitions are
   interleaved and the median time is reported. The plain loop is given the same advantages
   the adapter takes (evaluation mode, frozen parameters, the model's parametrization cache),
   so the ratio measures the adapter's overhead; a naive loop (trainable parameters, no
   cache) is shown for reference. Target: ratio <= 1.15.
2. The default ensemble at ``standard`` strength (APGD-CE and APGD-DLR, 5 x 100 steps, Square
   1000 queries; Linf) against the same three attacks called directly through torchattacks
   3.5.1 on the same model and inputs (``(B, 1, T, F)`` view). Target: ratio <= 1.15.
3. ``--report DIR``: wall time of ``rnnscope report`` on the demo's seven models (the
   checkpoints in ``DIR/models``, as ``rnnscope demo --out DIR`` writes them, or ``DIR/runs``)
   at ``quick`` and ``standard`` strength.

Run: ``.venv/bin/python benchmarks/attacks.py [--repeats 7] [--threads 1] [--report DIR]``
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import attacks
import models

BATCH, STEPS_T, FEATURES, HIDDEN, CLASSES = 128, 64, 1, 64, 10
EPS, PGD_STEPS = 0.05, 50
ENS_EPS, ENS_BATCH = 0.03, 64
ALPHA = 2.5 * EPS / PGD_STEPS


@contextlib.contextmanager
def frozen(model: torch.nn.Module) -> Iterator[None]:
    flags = [p.requires_grad for p in model.parameters()]
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        with model.parametrization_cache():
            yield
    finally:
        for p, flag in zip(model.parameters(), flags, strict=True):
            p.requires_grad_(flag)


def plain_pgd(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Madry PGD, Linf, summed cross-entropy; returns robust accuracy."""
    adv = x.clone()
    for _ in range(PGD_STEPS):
        probe = adv.clone().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(model(probe), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, probe)
        adv = adv + ALPHA * grad.sign()
        adv = (x + (adv - x).clamp(-EPS, EPS)).clamp(0, 1)
    with torch.no_grad():
        ok = (model(x).argmax(-1) == y) & (model(adv).argmax(-1) == y)
    return float(ok.double().mean())


def run_plain(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with frozen(model):
        return plain_pgd(model, x, y)


def run_naive(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    return plain_pgd(model, x, y)


def run_ours(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    curve = attacks.adversarial(
        model,
        x,
        y,
        epsilons=[EPS],
        attacks=("pgd",),
        steps=PGD_STEPS,
        step_size=ALPHA,
        random_start=False,
    )
    return curve.robust_accuracy[0]


class _Contiguous(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad.contiguous()


class Image4D(torch.nn.Module):
    """(B, 1, T, F) view of a sequence model for image libraries."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(_Contiguous.apply(x).squeeze(1))
        return out[:, -1] if out.dim() == 3 else out


def run_ensemble(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    curve = attacks.adversarial(model, x, y, epsilons=[ENS_EPS], strength="standard")
    return curve.robust_accuracy[0]


def run_torchattacks(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    import torchattacks

    with frozen(model):
        net = Image4D(model)
        alive = net(x[:, None]).argmax(-1) == y
        for atk in (
            torchattacks.APGD(net, norm="Linf", eps=ENS_EPS, steps=100, n_restarts=5, loss="ce"),
            torchattacks.APGD(net, norm="Linf", eps=ENS_EPS, steps=100, n_restarts=5, loss="dlr"),
            torchattacks.Square(net, norm="Linf", eps=ENS_EPS, n_queries=1000, n_restarts=1),
        ):
            adv = atk(x[:, None], y)
            with torch.no_grad():
                alive &= net(adv).argmax(-1) == y
    return float(alive.double().mean())


def ensemble_benchmark(repeats: int) -> None:
    try:
        import torchattacks  # noqa: F401
    except ImportError:
        print("ensemble vs torchattacks: skipped (torchattacks is not installed)")
        return
    print(
        f"default ensemble (standard, Linf eps={ENS_EPS}) vs torchattacks APGD-CE + APGD-DLR "
        f"(5 x 100) + Square (1000 queries), batch {ENS_BATCH}, T={STEPS_T}, F={FEATURES}, "
        f"H={HIDDEN}"
    )
    g = torch.Generator().manual_seed(1)
    x = torch.rand(ENS_BATCH, STEPS_T, FEATURES, generator=g)
    for kind in ("rnn", "lstm"):
        model = models.build(
            kind, input_size=FEATURES, hidden_size=HIDDEN, output_size=CLASSES, seed=0
        )
        model.eval()
        with torch.no_grad():
            y = model(x).argmax(-1)
        times: dict[str, list[float]] = {"ours": [], "torchattacks": []}
        robust: dict[str, float] = {}
        for _ in range(repeats):
            for name, fn in (("ours", run_ensemble), ("torchattacks", run_torchattacks)):
                start = time.process_time()
                robust[name] = fn(model, x, y)
                times[name].append(time.process_time() - start)
        best = {name: min(values) for name, values in times.items()}
        ratio = best["ours"] / best["torchattacks"]
        verdict = "ok" if ratio <= 1.15 else "ABOVE TARGET"
        print(
            f"{kind:7s} ensemble {best['ours']:.2f} s, torchattacks {best['torchattacks']:.2f} s "
            f"(CPU time, min of {repeats}), ratio {ratio:.3f} (target <= 1.15: {verdict}); "
            f"robust accuracy {robust['ours']:.4f} vs {robust['torchattacks']:.4f}"
        )


def report_benchmark(root: Path) -> None:
    import subprocess

    folder = next((root / d for d in ("models", "runs") if (root / d).is_dir()), None)
    if folder is None:
        print(f"rnnscope report: skipped ({root} has no models/ or runs/ folder)")
        return
    runs = sorted(str(p) for p in folder.iterdir() if (p / "config.json").is_file())
    for strength in ("quick", "standard"):
        out = root / f"report-{strength}"
        start = time.perf_counter()
        cmd = [sys.executable, "-m", "rnnscope", "report", *runs, "--out", str(out)]
        cmd += ["--strength", strength]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        status = "ok" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr[-300:]}"
        print(
            f"rnnscope report, {len(runs)} demo models, --strength {strength}: {wall:.1f} s "
            f"wall ({status})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ensemble-repeats", type=int, default=3)
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        help="demo folder with models/ (rnnscope demo) or runs/",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ensemble_benchmark(args.ensemble_repeats)
    if args.report is not None:
        report_benchmark(args.report)
    print(
        f"PGD Linf eps={EPS}, {PGD_STEPS} steps, batch {BATCH}, T={STEPS_T}, F={FEATURES}, "
        f"H={HIDDEN}, torch {torch.__version__}, {args.threads} thread(s), "
        f"median of {args.repeats} interleaved repeats"
    )
    g = torch.Generator().manual_seed(0)
    x = torch.rand(BATCH, STEPS_T, FEATURES, generator=g)
    methods: dict[str, Callable[..., float]] = {
        "attacks.adversarial": run_ours,
        "plain torch loop": run_plain,
        "naive torch loop": run_naive,
    }
    for kind in ("rnn", "exprnn"):
        model = models.build(
            kind, input_size=FEATURES, hidden_size=HIDDEN, output_size=CLASSES, seed=0
        )
        model.eval()
        with torch.no_grad():
            y = model(x).argmax(-1)  # clean accuracy 1: every sample is attacked
        times: dict[str, list[float]] = {name: [] for name in methods}
        cpu: dict[str, list[float]] = {name: [] for name in methods}
        robust: dict[str, float] = {}
        run_ours(model, x, y)  # warm-up
        for _ in range(args.repeats):
            for name, fn in methods.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                robust[name] = fn(model, x, y)
                times[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
        med = {name: statistics.median(values) for name, values in times.items()}
        med_cpu = {name: statistics.median(values) for name, values in cpu.items()}
        ratio = med["attacks.adversarial"] / med["plain torch loop"]
        ratio_cpu = med_cpu["attacks.adversarial"] / med_cpu["plain torch loop"]
        naive = med["naive torch loop"] / med["plain torch loop"]
        verdict = "ok" if ratio <= 1.15 else "ABOVE TARGET"
        print(
            f"{kind:7s} attacks.adversarial {med['attacks.adversarial']:.3f} s, plain torch PGD "
            f"{med['plain torch loop']:.3f} s, ratio {ratio:.3f} (target <= 1.15: {verdict}; "
            f"CPU-time ratio {ratio_cpu:.3f}); naive loop {naive:.2f}x plain; robust accuracy "
            f"{robust['attacks.adversarial']:.4f} vs {robust['plain torch loop']:.4f}"
        )


if __name__ == "__main__":
    main()
