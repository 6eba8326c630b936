"""Training-step time of every model kind relative to ``torch.nn.RNN`` (tanh).

One step is forward + cross-entropy over every step + backward + RMSprop step (+ ``after_step``)
on a copy-like batch: hidden 128, T = 120, batch 32, 10 inputs, 9 classes. Repetitions are
interleaved across models. Each step is timed twice: by the CPU time of the (single) compute thread,
which other processes on a shared machine do not inflate, and by wall-clock time. Ratios use the
minimum over repetitions; medians are shown alongside.

Usage: ``python benchmarks/training.py [--repeats N]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

import models

HIDDEN, STEPS, BATCH, INPUTS, CLASSES = 128, 120, 32, 10, 9
KINDS = ("rnn", "scornn", "exprnn", "nnrnn", "nru", "lstm", "gru")


class TorchRNN(nn.Module):
    """Peer: fused ``nn.RNN`` (tanh) plus a linear readout at every step."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.RNN(INPUTS, HIDDEN, batch_first=True)
        self.readout = nn.Linear(HIDDEN, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.rnn(x)[0])


def _optimizer(model: nn.Module) -> torch.optim.Optimizer:
    orth = model.orthogonal_parameters() if hasattr(model, "orthogonal_parameters") else []
    ids = {id(p) for p in orth}
    rest = [p for p in model.parameters() if id(p) not in ids]
    groups = [{"params": rest, "lr": 1e-3}]
    if orth:
        groups.append({"params": orth, "lr": 1e-4})
    return torch.optim.RMSprop(groups)


def _step(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
    opt.zero_grad(set_to_none=True)
    logits = model(x)
    loss = nn.functional.cross_entropy(logits.reshape(-1, CLASSES), y.reshape(-1))
    loss.backward()
    opt.step()
    if hasattr(model, "after_step"):
        model.after_step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.nn.functional.one_hot(
        torch.randint(0, INPUTS, (BATCH, STEPS), generator=g), INPUTS
    ).float()
    y = torch.randint(0, CLASSES, (BATCH, STEPS), generator=g)

    entries: dict[str, nn.Module] = {"nn.RNN": TorchRNN()}
    for kind in KINDS:
        entries[kind] = models.build(
            kind,
            input_size=INPUTS,
            hidden_size=HIDDEN,
            output_size=CLASSES,
            readout="all",
        )
    opts = {name: _optimizer(m) for name, m in entries.items()}
    for name, model in entries.items():
        for _ in range(2):
            _step(model, opts[name], x, y)
    cpu: dict[str, list[float]] = {name: [] for name in entries}
    wall: dict[str, list[float]] = {name: [] for name in entries}
    for _ in range(args.repeats):
        for name, model in entries.items():
            start_cpu, start_wall = time.thread_time(), time.perf_counter()
            _step(model, opts[name], x, y)
            cpu[name].append(time.thread_time() - start_cpu)
            wall[name].append(time.perf_counter() - start_wall)
    best = {name: min(t) for name, t in cpu.items()}
    best_wall = {name: min(t) for name, t in wall.items()}
    print(
        f"training step (forward+backward+RMSprop), hidden {HIDDEN}, T={STEPS}, batch {BATCH}, "
        f"inputs {INPUTS}, classes {CLASSES}; torch {torch.__version__}, "
        f"torch.set_num_threads(1), {args.repeats} interleaved repeats"
    )
    print("ratios: min thread CPU time over repeats (wall-clock min / median in brackets)")
    for name in entries:
        print(
            f"{name:>8s}: cpu {1e3 * best[name]:7.2f} ms "
            f"[wall {1e3 * best_wall[name]:7.2f} / {1e3 * statistics.median(wall[name]):7.2f} ms]"
            f"  ratio vs nn.RNN {best[name] / best['nn.RNN']:5.2f}x "
            f"(wall {best_wall[name] / best_wall['nn.RNN']:5.2f}x)"
        )
    for ref, kinds, target in (("nn.RNN", ("rnn",), 1.5), ("rnn", ("scornn", "exprnn"), 1.2)):
        for kind in kinds:
            print(
                f"target {kind} <= {target}x {ref}: {best[kind] / best[ref]:.2f}x "
                f"(wall {best_wall[kind] / best_wall[ref]:.2f}x)"
            )


if __name__ == "__main__":
    main()
