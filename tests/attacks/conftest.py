"""Small recurrent classifiers and a synthetic sequence task for the attack tests.

The models are written here (not imported from ``models``) so the attack tests
exercise the duck-typed interface on plain torch modules.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import torch
from torch import nn

T, F, C = 10, 3, 4


def make_task(n: int, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy, randomly shifted copies of C smooth prototypes, inputs in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(T, dtype=torch.float64)
    protos = []
    for c in range(C):
        rows = [0.5 + 0.35 * torch.sin(2 * math.pi * (c + 1) * t / (2 * T) + f) for f in range(F)]
        protos.append(torch.stack(rows, dim=1))
    protos = torch.stack(protos)  # (C, T, F)
    y = torch.randint(0, C, (n,), generator=g)
    shift = torch.randint(-1, 2, (n,), generator=g)
    x = torch.stack(
        [torch.roll(protos[int(c)], int(s), dims=0) for c, s in zip(y, shift, strict=True)]
    )
    x = x + 0.08 * torch.randn(x.shape, generator=g, dtype=torch.float64)
    return x.clamp(0, 1).float(), y


class LoopRNN(nn.Module):
    """tanh RNN written as a python loop, with the duck-typed analysis methods."""

    kind = "loop-rnn"

    def __init__(self, hidden: int = 16, *, seed: int = 0, readout: str = "last") -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(hidden, hidden, generator=g))
        self.W = nn.Parameter(q)
        self.U = nn.Parameter(torch.randn(hidden, F, generator=g) / math.sqrt(F))
        self.b = nn.Parameter(torch.zeros(hidden))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.readout = nn.Linear(hidden, C)
        self.readout_mode = readout
        self._override: torch.Tensor | None = None
        self.cache_entries = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        W = self._override if self._override is not None else self.W
        drive = nn.functional.linear(x, self.U, self.b)
        h = x.new_zeros(x.shape[0], self.W.shape[0])
        states = []
        for t in range(x.shape[1]):
            h = torch.tanh(torch.addmm(drive[:, t], h, W.T))
            states.append(h)
        if self.readout_mode == "all":
            return self.readout(torch.stack(states, dim=1))
        return self.readout(h)

    def recurrent_matrix(self) -> torch.Tensor:
        return self.W.detach().clone()

    @contextlib.contextmanager
    def override_recurrent(self, W: torch.Tensor) -> Iterator[None]:
        previous, self._override = self._override, W
        try:
            yield
        finally:
            self._override = previous

    @contextlib.contextmanager
    def parametrization_cache(self) -> Iterator[None]:
        self.cache_entries += 1
        yield

    def lipschitz_parts(self) -> dict:
        return {
            "U": self.U.detach(),
            "W": self.W.detach(),
            "V": self.readout.weight.detach(),
            "nonlinearity": "tanh",
            "modrelu_bias": None,
        }

    def project(self) -> None:
        with torch.no_grad():
            sigma = torch.linalg.matrix_norm(self.W, ord=2)
            self.W.mul_(min(1.0, 1.0 / float(sigma)))


class GRUNet(nn.Module):
    """torch.nn.GRU classifier (no analysis methods)."""

    def __init__(self, hidden: int = 16, *, seed: int = 3) -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.rnn = nn.GRU(F, hidden, batch_first=True)
            self.out = nn.Linear(hidden, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.rnn(x)[0][:, -1])


class TorchRNNNet(nn.Module):
    """Classifier around torch.nn.RNN or torch.nn.LSTM."""

    def __init__(self, cell: type[nn.RNNBase], hidden: int = 8, *, seed: int = 0) -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.rnn = cell(F, hidden, batch_first=True)
            self.out = nn.Linear(hidden, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.rnn(x)[0][:, -1])


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Tiny models run fastest (and reproducibly) on one intra-op thread."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train(model: nn.Module, *, steps: int = 100, project: bool = False, seed: int = 0) -> nn.Module:
    with one_thread(), torch.random.fork_rng(devices=[]):
        return _train(model, steps=steps, project=project, seed=seed)


def _train(model: nn.Module, *, steps: int, project: bool, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    x, y = make_task(1024, seed=seed + 100)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, x.shape[0], (64,), generator=g)
        out = model(x[idx])
        out = out[:, -1] if out.dim() == 3 else out
        loss = nn.functional.cross_entropy(out, y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if project:
            model.project()
    opt.zero_grad(set_to_none=True)
    model.eval()
    return model


@pytest.fixture(autouse=True, scope="module")
def _single_thread() -> Iterator[None]:
    with one_thread():
        yield


@pytest.fixture(scope="session")
def data() -> tuple[torch.Tensor, torch.Tensor]:
    """Test split: 64 sequences (B, T, F) in [0, 1] and labels."""
    return make_task(64, seed=7)


@pytest.fixture(scope="session")
def loop_rnn() -> LoopRNN:
    return train(LoopRNN(seed=1), seed=1)


@pytest.fixture(scope="session")
def projected_rnn() -> LoopRNN:
    return train(LoopRNN(seed=2), project=True, seed=2)


@pytest.fixture(scope="session")
def gru() -> GRUNet:
    return train(GRUNet(seed=3), seed=3)


class _Contiguous(torch.autograd.Function):
    """Identity whose backward returns a contiguous gradient (torchattacks calls .view)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad.contiguous()


class Image4D(nn.Module):
    """Present a (B, T, F) model to image libraries as taking (B, 1, T, F)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(_Contiguous.apply(x).squeeze(1))
        return out[:, -1] if out.dim() == 3 else out


def raw_pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    eps: float | torch.Tensor,
    steps: int,
    alpha: float | torch.Tensor,
    norm: str = "linf",
    start: torch.Tensor | None = None,
    track: bool = False,
    loss: str = "ce",
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Plain torch PGD (Madry et al.): signed / normalised ascent on the summed loss.

    ``eps`` and ``alpha`` may be per-sample tensors of shape (B,); ``start`` is an
    optional random start (already inside the ball and the box). ``loss`` is ``"ce"`` or
    ``"margin"`` (``max_{j != y} z_j - z_y``). With ``track=True`` it also returns which
    samples were misclassified at some iterate (start included).
    """
    shape = (-1, 1, 1)
    eps_t = torch.as_tensor(eps, dtype=x.dtype).reshape(shape) if torch.is_tensor(eps) else eps
    alpha_t = (
        torch.as_tensor(alpha, dtype=x.dtype).reshape(shape) if torch.is_tensor(alpha) else alpha
    )
    x0 = x.detach()
    adv = x0.clone() if start is None else start.detach().clone()
    ever = torch.zeros(x.shape[0], dtype=torch.bool)
    for _ in range(steps):
        probe = adv.clone().requires_grad_(True)
        out = model(probe)
        out = out[:, -1] if out.dim() == 3 else out
        ever |= out.detach().argmax(dim=-1) != y
        if loss == "ce":
            value = nn.functional.cross_entropy(out, y, reduction="sum")
        else:
            true = out.gather(1, y[:, None])[:, 0]
            other = out.scatter(1, y[:, None], -torch.inf).amax(dim=1)
            value = (other - true).sum()
        (grad,) = torch.autograd.grad(value, probe)
        if norm == "linf":
            adv = adv + alpha_t * grad.sign()
            delta = adv - x0
            if torch.is_tensor(eps_t):
                delta = torch.maximum(torch.minimum(delta, eps_t), -eps_t)
            else:
                delta = delta.clamp(-eps_t, eps_t)
            adv = x0 + delta
        else:
            size = grad.flatten(1).norm(dim=1).clamp_min(1e-12).reshape(shape)
            adv = adv + alpha_t * (grad * (1 / size))
            delta = adv - x0
            dsize = delta.flatten(1).norm(dim=1).clamp_min(1e-12).reshape(shape)
            adv = x0 + delta * torch.clamp(eps_t / dsize, max=1.0)
        adv = adv.clamp(0, 1)
    if track:
        ever |= ~accuracy_on(model, adv, y)
        return adv.detach(), ever
    return adv.detach()


def accuracy_on(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-sample correctness (B,) bool."""
    with torch.no_grad():
        out = model(x)
    out = out[:, -1] if out.dim() == 3 else out
    return out.argmax(dim=-1) == y


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """Models, task and reference attacks for the tests."""
    return SimpleNamespace(
        T=T,
        F=F,
        C=C,
        LoopRNN=LoopRNN,
        GRUNet=GRUNet,
        TorchRNNNet=TorchRNNNet,
        Image4D=Image4D,
        make_task=make_task,
        train=train,
        raw_pgd=raw_pgd,
        accuracy_on=accuracy_on,
    )
