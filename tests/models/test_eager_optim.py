"""The eager optimizers are torch's, bit for bit, and train without importing torch._dynamo."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from models._eager_optim import EAGER_OPTIMIZERS

_TORCH = {"rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam, "sgd": torch.optim.SGD}
_OPTIONS = {
    "rmsprop": {"lr": 1e-2, "alpha": 0.9, "momentum": 0.5, "centered": True},
    "adam": {"lr": 1e-2, "weight_decay": 1e-3, "amsgrad": True},
    "sgd": {"lr": 1e-2, "momentum": 0.9, "nesterov": True},
}


def _parameters(seed: int) -> list[torch.nn.Parameter]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(5, 4, generator=generator)) for _ in range(3)]


def _groups(params: list[torch.nn.Parameter]) -> list[dict[str, object]]:
    return [{"params": params[:2]}, {"params": params[2:], "lr": 3e-3}]


def _steps(
    optimizer: torch.optim.Optimizer, params: list[torch.nn.Parameter], first: int, last: int
) -> None:
    for step in range(first, last):
        optimizer.zero_grad(set_to_none=True)
        loss = sum(((p - step / 10) ** 3).sum() for p in params)
        loss.backward()
        optimizer.step()


def _assert_same(first: object, second: object) -> None:
    if isinstance(first, torch.Tensor):
        assert isinstance(second, torch.Tensor)
        assert first.dtype == second.dtype
        assert torch.equal(first, second)
    elif isinstance(first, dict):
        assert isinstance(second, dict)
        assert first.keys() == second.keys()
        for key in first:
            _assert_same(first[key], second[key])
    elif isinstance(first, list | tuple):
        assert type(first) is type(second)
        assert len(first) == len(second)
        for a, b in zip(first, second, strict=True):
            _assert_same(a, b)
    else:
        assert first == second


@pytest.mark.parametrize("name", sorted(EAGER_OPTIMIZERS))
def test_updates_and_state_are_torchs_bit_for_bit(name: str) -> None:
    ours_params, torch_params = _parameters(0), _parameters(0)
    ours = EAGER_OPTIMIZERS[name](_groups(ours_params), **_OPTIONS[name])
    theirs = _TORCH[name](_groups(torch_params), **_OPTIONS[name])
    assert isinstance(ours, _TORCH[name])
    _steps(ours, ours_params, 0, 25)
    _steps(theirs, torch_params, 0, 25)
    for a, b in zip(ours_params, torch_params, strict=True):
        assert torch.equal(a, b)
    _assert_same(ours.state_dict(), theirs.state_dict())


@pytest.mark.parametrize("name", sorted(EAGER_OPTIMIZERS))
@pytest.mark.parametrize("saved_by", ["eager", "torch"])
def test_a_state_saved_by_one_class_resumes_in_the_other(name: str, saved_by: str) -> None:
    classes = {"eager": EAGER_OPTIMIZERS[name], "torch": _TORCH[name]}
    resumed_by = "torch" if saved_by == "eager" else "eager"
    straight_params = _parameters(1)
    straight = classes[resumed_by](_groups(straight_params), **_OPTIONS[name])
    _steps(straight, straight_params, 0, 20)

    first_params = _parameters(1)
    first = classes[saved_by](_groups(first_params), **_OPTIONS[name])
    _steps(first, first_params, 0, 10)
    state = first.state_dict()
    second_params = _parameters(2)
    with torch.no_grad():
        for target, source in zip(second_params, first_params, strict=True):
            target.copy_(source)
    second = classes[resumed_by](_groups(second_params), **_OPTIONS[name])
    second.load_state_dict(state)
    _steps(second, second_params, 10, 20)
    for a, b in zip(second_params, straight_params, strict=True):
        assert torch.equal(a, b)


def test_step_runs_without_gradients_and_keeps_hooks_and_closure() -> None:
    params = _parameters(3)
    optimizer = EAGER_OPTIMIZERS["adam"](params, lr=1e-2)
    seen: list[bool] = []
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: seen.append(True))
    grad_inside: list[bool] = []

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = sum((p**2).sum() for p in params)
        loss.backward()
        return loss

    adam_module = sys.modules["torch.optim.adam"]
    original = adam_module.adam

    def spy(*args: object, **kwargs: object) -> None:
        grad_inside.append(torch.is_grad_enabled())
        original(*args, **kwargs)

    adam_module.adam = spy
    try:
        loss = optimizer.step(closure)
    finally:
        adam_module.adam = original
    assert isinstance(loss, torch.Tensor)
    assert seen == [True]
    assert grad_inside == [False]
    assert torch.is_grad_enabled()


@pytest.mark.parametrize("name", sorted(EAGER_OPTIMIZERS))
def test_training_does_not_import_dynamo(name: str) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        import models
        task = models.tasks.get("digits", permuted=True)
        for kind in ("rnn", "exprnn", "nru"):
            model = models.build(kind, input_size=1, hidden_size=8, output_size=10, seed=0)
            config = models.TrainConfig(steps=3, batch_size=8, optimizer={name!r})
            models.train(model, task, config)
        print("torch._dynamo" in sys.modules, "torch" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert done.stdout.split() == ["False", "True"]
