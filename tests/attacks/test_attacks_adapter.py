"""The foolbox adapter: model state is restored, inputs converted, errors are clear."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

import attacks
from attacks import AttackInputError, UnknownAttackError, UnsupportedModelError


def _snapshot(model):
    return {
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grad": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "params": [p.detach().clone() for p in model.parameters()],
    }


def _same(a, b):
    assert a["training"] == b["training"]
    assert a["requires_grad"] == b["requires_grad"]
    for g1, g2 in zip(a["grad"], b["grad"], strict=True):
        assert (g1 is None and g2 is None) or torch.equal(g1, g2)
    for p1, p2 in zip(a["params"], b["params"], strict=True):
        assert torch.equal(p1, p2)


@pytest.mark.parametrize("attack", ["fgsm", "pgd", "bim", "deepfool", "fmn", "cw"])
def test_model_state_restored(kit, data, attack):
    x, y = data
    model = kit.GRUNet()
    model.train()
    params = list(model.parameters())
    params[0].requires_grad_(False)
    params[1].grad = torch.ones_like(params[1])
    before = _snapshot(model)
    kw = dict(norm="l2", epsilons=[0.5], attacks=(attack,), steps=3)
    attacks.adversarial(model, x[:16], y[:16], **kw)
    _same(before, _snapshot(model))
    assert params[2].grad is None


def test_state_restored_after_an_error(kit, data):
    x, y = data
    model = kit.GRUNet()
    model.train()
    before = _snapshot(model)
    with pytest.raises(AttackInputError):
        attacks.adversarial(model, x, torch.full_like(y, 9), epsilons=[0.1])
    _same(before, _snapshot(model))


def test_numpy_float64_and_int32_are_converted(data, gru):
    x, y = data
    kw = dict(epsilons=[0.05, 0.1], attacks=("fgsm", "pgd"), steps=5)
    ref = attacks.adversarial(gru, x, y, **kw)
    conv = attacks.adversarial(gru, x.double().numpy(), y.numpy().astype(np.int32), **kw)
    assert conv.per_attack == ref.per_attack
    lists = attacks.adversarial(gru, x.tolist(), y.tolist(), **kw)
    assert lists.per_attack == ref.per_attack


class _Counting(nn.Module):
    calls = 0

    def forward(self, A: torch.Tensor) -> torch.Tensor:
        type(self).calls += 1
        return torch.linalg.matrix_exp(A - A.T)


class _ExpRNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.cell = nn.Linear(8, 8, bias=False)
        parametrize.register_parametrization(self.cell, "weight", _Counting())
        self.inp = nn.Linear(3, 8)
        self.out = nn.Linear(8, 4)
        self.cache_entries = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.new_zeros(x.shape[0], 8)
        for t in range(x.shape[1]):
            h = torch.tanh(self.cell(h) + self.inp(x[:, t]))
        return self.out(h)


def test_parametrization_computed_once_per_attack(data):
    x, y = data
    model = _ExpRNN()
    _Counting.calls = 0
    attacks.adversarial(model, x, y, epsilons=[0.1], attacks=("pgd",), steps=10)
    assert _Counting.calls == 1
    assert all(p.requires_grad and p.grad is None for p in model.parameters())


def test_model_parametrization_cache_is_entered(data, loop_rnn):
    x, y = data
    before = loop_rnn.cache_entries
    attacks.adversarial(loop_rnn, x, y, epsilons=[0.1, 0.2], attacks=("fgsm", "pgd"), steps=3)
    assert loop_rnn.cache_entries == before + 1


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        (dict(x=np.zeros((4, 30))), AttackInputError, "3 dimensions"),
        (dict(x=np.full((64, 10, 3), 1.5)), AttackInputError, "bounds"),
        (dict(x=np.full((64, 10, 3), np.nan)), AttackInputError, "NaN"),
        (dict(y=np.zeros(5, dtype=int)), AttackInputError, "match the batch"),
        (dict(y=np.full(64, 4)), AttackInputError, "[0, 3]"),
        (dict(y=np.zeros(64)), AttackInputError, "integer"),
        (dict(epsilons=[-0.1]), AttackInputError, ">= 0"),
        (dict(epsilons=[float("nan")]), AttackInputError, "finite"),
        (dict(epsilons=[]), AttackInputError, "at least one"),
        (dict(attacks=("pgdd",)), UnknownAttackError, "pgdd"),
        (dict(norm="l3"), UnknownAttackError, "l3"),
        (dict(attacks=("cw",)), UnknownAttackError, "norm='l2'"),
        (dict(steps=0), AttackInputError, "steps"),
        (dict(bounds=(1, 0)), AttackInputError, "lo < hi"),
        (dict(step_size=-1.0), AttackInputError, "step_size"),
        (dict(seed=-1), AttackInputError, "seed"),
    ],
)
def test_clear_errors(data, gru, kwargs, error, words):
    x, y = data
    call = dict(x=x, y=y, epsilons=[0.1])
    call.update(kwargs)
    with pytest.raises(error, match=None) as info:
        attacks.adversarial(gru, **call)
    assert words in str(info.value)


def test_model_errors(data):
    x, y = data
    with pytest.raises(UnsupportedModelError, match="Module"):
        attacks.adversarial(lambda t: t, x, y, epsilons=[0.1])
    with pytest.raises(UnsupportedModelError, match="logits tensor"):
        attacks.adversarial(nn.GRU(3, 4, batch_first=True), x, y, epsilons=[0.1])


def test_errors_are_builtin_subclasses():
    assert issubclass(AttackInputError, ValueError)
    assert issubclass(UnknownAttackError, ValueError)
    assert issubclass(UnsupportedModelError, TypeError)


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_one_forward_deepfool_equals_foolbox_deepfool(data, loop_rnn, norm):
    import foolbox
    import foolbox.attacks as fa

    from attacks import _foolbox
    from attacks._model import attack_mode

    x, y = data
    ours_cls = _foolbox._LinfDeepFool if norm == "linf" else _foolbox._L2DeepFool
    theirs_cls = fa.LinfDeepFoolAttack if norm == "linf" else fa.L2DeepFoolAttack
    with attack_mode(loop_rnn) as wrapped:
        fmodel = foolbox.PyTorchModel(wrapped, bounds=(0.0, 1.0))
        runs = []
        for cls in (ours_cls, theirs_cls):
            attack = cls(steps=30, candidates=4, overshoot=0.02, loss="logits")
            adversarial, _, success = attack(fmodel, x, y, epsilons=None)
            runs.append((adversarial, success))
    (ours, ok_ours), (theirs, ok_theirs) = runs
    assert torch.equal(ours, theirs) and torch.equal(ok_ours, ok_theirs)
    assert ok_ours.float().mean() > 0.5  # the attack does work on this model
