"""Tests of models.train: learning, determinism, resume, divergence, optimizer groups, files."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
import torch

import models
from models import tasks
from models.errors import InvalidOptionError, TrainingDivergedError
from models.train import METRICS_FILE, STATE_FILE

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def digits() -> tasks.Task:
    return tasks.get("digits", permuted=True)


def _rnn(seed: int = 0, hidden_size: int = 16, **options: object) -> models.RecurrentModel:
    options = {"nonlinearity": "elu", **options}
    return models.build(
        "rnn", input_size=1, hidden_size=hidden_size, output_size=10, seed=seed, **options
    )


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _assert_equal_states(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def _train(
    model: torch.nn.Module,
    task: tasks.Task,
    *,
    out: Path | None = None,
    callback: object = None,
    **settings: object,
) -> models.TrainResult:
    """Train with ``TrainConfig(**settings)``."""
    return models.train(model, task, models.TrainConfig(**settings), out=out, callback=callback)


def _metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / METRICS_FILE).read_text().splitlines()]


# ---------------------------------------------------------------------- learning


def test_training_reduces_loss_on_digits(digits: tasks.Task) -> None:
    model = _rnn(hidden_size=32)
    x, y = digits.test_set()
    with torch.no_grad():
        before = float(digits.loss(model(x), y))
    result = _train(model, digits, steps=150, batch_size=32, lr=1e-3, checkpoint_every=50)
    assert result.steps == 150 and len(result.losses) == 150
    assert [e["step"] for e in result.evaluations] == [50, 100, 150]
    # an untrained model is near the uninformed baseline ln 10; training beats it clearly
    assert before > 0.8 * digits.baseline
    assert result.test_loss < 0.7 * digits.baseline
    assert result.test_metric > 0.4  # chance is 0.1
    # the reported metric is the task metric of the trained model on the test set
    with torch.no_grad():
        assert digits.metric(model(x), y) == pytest.approx(result.test_metric)
    assert result.to_dict() == json.loads(json.dumps(result.to_dict()))


def test_same_seed_gives_identical_weights(digits: tasks.Task) -> None:
    runs = []
    for seed in (3, 3, 4):
        model = _rnn()
        _train(model, digits, steps=8, batch_size=16, lr=1e-3, seed=seed)
        runs.append(_state(model))
    _assert_equal_states(runs[0], runs[1])
    assert not torch.equal(runs[0]["W"], runs[2]["W"])


def test_training_does_not_touch_the_global_generator(digits: tasks.Task) -> None:
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    _train(_rnn(), digits, steps=3, batch_size=8, lr=1e-3)
    assert torch.equal(torch.rand(3), expected)


# ---------------------------------------------------------------------- files and resume


def test_output_directory_contents(tmp_path: Path, digits: tasks.Task) -> None:
    out = tmp_path / "run"
    model = _rnn()
    result = _train(model, digits, steps=12, batch_size=16, lr=1e-3, out=out, checkpoint_every=5)
    records = _metrics(out)
    assert [r["step"] for r in records] == list(range(1, 13))
    assert [r["loss"] for r in records] == list(result.losses)
    evaluated = [r["step"] for r in records if "test_metric" in r]
    assert evaluated == [5, 10, 12]  # every 5 steps and the last one
    assert all(r["metric_name"] == "accuracy" for r in records if "test_metric" in r)
    assert records[-1]["test_metric"] == result.test_metric
    # resume state: plain tensors and containers only
    state = torch.load(out / STATE_FILE, weights_only=True)
    assert state["step"] == 12
    assert isinstance(state["generator"], torch.Tensor)
    # the directory is an rnnscope checkpoint of the final model
    loaded = models.load(out)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value)
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*tmp"))


def test_default_checkpoint_interval_is_a_tenth(tmp_path: Path, digits: tasks.Task) -> None:
    _train(_rnn(), digits, steps=20, batch_size=8, lr=1e-3, out=tmp_path)
    evaluated = [r["step"] for r in _metrics(tmp_path) if "test_metric" in r]
    assert evaluated == list(range(2, 21, 2))


def test_resume_after_stop_is_bit_identical(tmp_path: Path, digits: tasks.Task) -> None:
    kwargs = {"batch_size": 16, "lr": 1e-3, "lr_orth": 1e-4, "clip": 1.0}
    straight = _rnn()
    _train(straight, digits, steps=20, out=tmp_path / "a", **kwargs)

    out = tmp_path / "b"
    _train(_rnn(), digits, steps=10, out=out, **kwargs)
    # a run killed after writing its metrics but before its resume state leaves extra lines
    with (out / METRICS_FILE).open("a") as f:
        f.write(json.dumps({"step": 11, "loss": 123.0}) + "\n")
        f.write('{"step": 12, "lo')
    resumed = _rnn()
    result = _train(resumed, digits, steps=20, out=out, resume=True, **kwargs)
    assert result.resumed_from == 10 and result.steps == 20
    _assert_equal_states(_state(straight), _state(resumed))
    a, b = _metrics(tmp_path / "a"), _metrics(out)
    assert [r["step"] for r in b] == list(range(1, 21))
    assert [r["loss"] for r in a] == [r["loss"] for r in b]


def test_resume_after_a_crash_mid_run(tmp_path: Path, digits: tasks.Task) -> None:
    """A run that dies between checkpoints resumes from the last one, bit-identically."""
    kwargs = {"steps": 15, "batch_size": 16, "lr": 1e-3, "checkpoint_every": 5}
    straight = _rnn()
    _train(straight, digits, **kwargs)

    crashing = _rnn()
    forward = crashing.forward
    calls = {"n": 0}

    def dying_forward(x: torch.Tensor) -> torch.Tensor:
        if crashing.training:
            calls["n"] += 1
            if calls["n"] == 13:
                raise KeyboardInterrupt
        return forward(x)

    crashing.forward = dying_forward  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        _train(crashing, digits, out=tmp_path, **kwargs)
    assert torch.load(tmp_path / STATE_FILE, weights_only=True)["step"] == 10

    resumed = _rnn()
    result = _train(resumed, digits, out=tmp_path, resume=True, **kwargs)
    assert result.resumed_from == 10
    _assert_equal_states(_state(straight), _state(resumed))
    assert [r["step"] for r in _metrics(tmp_path)] == list(range(1, 16))


def test_resume_refuses_a_different_run(tmp_path: Path, digits: tasks.Task) -> None:
    _train(_rnn(), digits, steps=4, batch_size=8, lr=1e-3, out=tmp_path)
    with pytest.raises(InvalidOptionError, match=r"differs in lr"):
        _train(_rnn(), digits, steps=8, batch_size=8, lr=2e-3, out=tmp_path, resume=True)
    with pytest.raises(InvalidOptionError, match=r"differs in model"):
        _train(_rnn(seed=1), digits, steps=8, batch_size=8, lr=1e-3, out=tmp_path, resume=True)


def test_fresh_run_discards_an_old_one(tmp_path: Path, digits: tasks.Task) -> None:
    _train(_rnn(), digits, steps=6, batch_size=8, lr=1e-3, out=tmp_path)
    _train(_rnn(), digits, steps=3, batch_size=8, lr=1e-3, out=tmp_path)
    assert [r["step"] for r in _metrics(tmp_path)] == [1, 2, 3]
    assert torch.load(tmp_path / STATE_FILE, weights_only=True)["step"] == 3


# ---------------------------------------------------------------------- divergence


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(
    tmp_path: Path, digits: tasks.Task
) -> None:
    clean = _rnn()
    _train(clean, digits, steps=6, batch_size=8, lr=1e-3)

    model = _rnn()
    forward = model.forward
    calls = {"n": 0}

    def poisoned(x: torch.Tensor) -> torch.Tensor:
        if model.training:
            calls["n"] += 1
            if calls["n"] >= 8:
                return forward(x) * math.nan
        return forward(x)

    model.forward = poisoned  # type: ignore[method-assign]
    with pytest.raises(TrainingDivergedError, match=r"diverged at step 8: loss is nan.*step 6"):
        _train(model, digits, steps=20, batch_size=8, lr=1e-3, out=tmp_path, checkpoint_every=3)
    assert issubclass(TrainingDivergedError, ArithmeticError)
    assert torch.load(tmp_path / STATE_FILE, weights_only=True)["step"] == 6
    assert [r["step"] for r in _metrics(tmp_path)] == list(range(1, 7))
    saved = models.load(tmp_path).model
    _assert_equal_states(_state(clean), _state(saved))


def test_huge_learning_rate_diverges_without_saving_bad_weights(
    tmp_path: Path, digits: tasks.Task
) -> None:
    with pytest.raises(TrainingDivergedError, match=r"diverged at step \d+"):
        _train(
            _rnn(),
            digits,
            steps=50,
            batch_size=8,
            lr=1e30,
            optimizer="sgd",
            out=tmp_path,
            checkpoint_every=1,
        )
    if (tmp_path / STATE_FILE).exists():
        for value in torch.load(tmp_path / STATE_FILE, weights_only=True)["model"].values():
            assert torch.isfinite(value).all()
        for value in models.load(tmp_path).model.state_dict().values():
            assert torch.isfinite(value).all()


# ---------------------------------------------------------------------- optimizer groups


def _one_sgd_step(model: models.RecurrentModel, task: tasks.Task, **kwargs: object) -> dict:
    """Parameters before, after, and their gradient on the batch train() draws at step 1."""
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    probe = models.build(**model.config)
    x, y = task.batch(8, generator=torch.Generator().manual_seed(0))
    task.loss(probe(x), y).backward()
    grads = {k: v.grad.clone() for k, v in probe.named_parameters()}
    _train(model, task, steps=1, batch_size=8, optimizer="sgd", seed=0, **kwargs)
    after = {k: v.detach().clone() for k, v in model.named_parameters()}
    return {"before": before, "after": after, "grads": grads}


@pytest.mark.parametrize(("lr_orth", "expected"), [(0.003, 0.003), (None, 0.01)])
def test_orthogonal_parameters_use_lr_orth(
    digits: tasks.Task, lr_orth: float | None, expected: float
) -> None:
    model = models.build("exprnn", input_size=1, hidden_size=8, output_size=10)
    orth = {id(p) for p in model.orthogonal_parameters()}
    names = {k for k, p in model.named_parameters() if id(p) in orth}
    assert names  # exprnn has an orthogonal parameter
    s = _one_sgd_step(model, digits, lr=0.1, lr_orth=lr_orth)
    for key, grad in s["grads"].items():
        lr = expected if key in names else 0.1
        assert torch.allclose(s["after"][key], s["before"][key] - lr * grad, atol=1e-7), key


def test_gradient_clipping_bounds_the_step(digits: tasks.Task) -> None:
    clip, lr = 1e-3, 0.5
    s = _one_sgd_step(_rnn(), digits, lr=lr, clip=clip)
    grad_norm = math.sqrt(sum(float((g**2).sum()) for g in s["grads"].values()))
    assert grad_norm > clip
    step = math.sqrt(sum(float(((s["after"][k] - s["before"][k]) ** 2).sum()) for k in s["before"]))
    assert step == pytest.approx(lr * clip, rel=1e-3)


# ---------------------------------------------------------------------- constraints


@pytest.mark.parametrize("constrain", ["radius", "norm"])
def test_constrained_training_keeps_the_bound(digits: tasks.Task, constrain: str) -> None:
    model = _rnn(init="identity", scale=1.0, constrain=constrain)
    _train(model, digits, steps=20, batch_size=16, lr=1e-2, constrain=constrain)
    W = model.recurrent_matrix().double()
    if constrain == "radius":
        assert float(torch.linalg.eigvals(W).abs().max()) <= 1 + 1e-5
    else:
        assert float(torch.linalg.matrix_norm(W, 2)) <= 1 + 1e-5
    # the same run without the constraint leaves the bound
    free = _rnn(init="identity", scale=1.0)
    _train(free, digits, steps=20, batch_size=16, lr=1e-2)
    assert float(torch.linalg.matrix_norm(free.recurrent_matrix().double(), 2)) > 1 + 1e-3


def test_constrain_must_match_the_model(digits: tasks.Task) -> None:
    with pytest.raises(InvalidOptionError, match=r"built with constrain=None.*constrain='radius'"):
        _train(_rnn(), digits, steps=1, batch_size=4, lr=1e-3, constrain="radius")
    lstm = models.build("lstm", input_size=1, hidden_size=4, output_size=10)
    with pytest.raises(InvalidOptionError, match=r"not supported by kind 'lstm'"):
        _train(lstm, digits, steps=1, batch_size=4, lr=1e-3, constrain="norm")


# ---------------------------------------------------------------------- arguments and output


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steps": 0}, "steps must be a positive integer, got 0"),
        ({"batch_size": 2.0}, "batch_size must be a positive integer"),
        ({"lr": -1.0}, "lr must be a positive finite number"),
        ({"lr_orth": math.inf}, "lr_orth must be a positive finite number"),
        ({"clip": 0}, "clip must be a positive finite number"),
        ({"optimizer": "adagrad"}, "unknown optimizer 'adagrad'; valid optimizers: rmsprop"),
        ({"constrain": "spectral"}, "unknown constrain 'spectral'"),
        ({"checkpoint_every": 0}, "checkpoint_every must be a positive integer"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"resume": True}, r"resume=True needs an output directory"),
    ],
)
def test_invalid_arguments(digits: tasks.Task, kwargs: dict, match: str) -> None:
    args = {"steps": 1, "batch_size": 4, "lr": 1e-3, **kwargs}
    with pytest.raises(InvalidOptionError, match=match):
        _train(_rnn(), digits, **args)


def test_model_must_fit_the_task(digits: tasks.Task) -> None:
    wrong_out = models.build("rnn", input_size=1, hidden_size=4, output_size=9)
    with pytest.raises(InvalidOptionError, match="output_size=10, got a model with output_size=9"):
        _train(wrong_out, digits, steps=1, batch_size=4, lr=1e-3)
    copy = tasks.get("copy", T=5)
    last = models.build("rnn", input_size=10, hidden_size=4, output_size=9)
    with pytest.raises(InvalidOptionError, match="readout='all'"):
        _train(last, copy, steps=1, batch_size=4, lr=1e-3)


def test_library_prints_nothing(digits: tasks.Task, capsys: pytest.CaptureFixture[str]) -> None:
    _train(_rnn(), digits, steps=3, batch_size=4, lr=1e-3, callback=lambda step: None)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_callback_sees_every_step_with_its_evaluations(tmp_path: Path, digits: tasks.Task) -> None:
    seen: list[models.TrainStep] = []
    result = _train(
        _rnn(),
        digits,
        steps=6,
        batch_size=4,
        lr=1e-3,
        checkpoint_every=3,
        out=tmp_path,
        callback=seen.append,
    )
    assert [s.step for s in seen] == [1, 2, 3, 4, 5, 6]
    assert [s.loss for s in seen] == list(result.losses)
    assert [s.saved for s in seen] == [False, False, True, False, False, True]
    assert [s.evaluated for s in seen] == [s.saved for s in seen]
    assert [(s.step, s.test_loss, s.test_metric) for s in seen if s.evaluated] == [
        (e["step"], e["test_loss"], e["test_metric"]) for e in result.evaluations
    ]
    assert seen[-1].metrics == {
        "loss": result.losses[-1],
        "test_loss": result.test_loss,
        "accuracy": result.test_metric,
    }
    assert all(s.steps == 6 and s.resumed_from == 0 for s in seen)
    with pytest.raises(dataclasses.FrozenInstanceError):
        seen[0].loss = 0.0  # type: ignore[misc]
    resumed: list[models.TrainStep] = []
    _train(
        _rnn(),
        digits,
        steps=8,
        batch_size=4,
        lr=1e-3,
        checkpoint_every=3,
        out=tmp_path,
        resume=True,
        callback=resumed.append,
    )
    assert [s.step for s in resumed] == [7, 8] and resumed[0].resumed_from == 6


def test_a_failing_callback_stops_the_run_and_keeps_the_checkpoint(
    tmp_path: Path, digits: tasks.Task
) -> None:
    def stop_at_4(step: models.TrainStep) -> None:
        if step.step == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _train(
            _rnn(),
            digits,
            steps=6,
            batch_size=4,
            lr=1e-3,
            checkpoint_every=2,
            out=tmp_path,
            callback=stop_at_4,
        )
    assert models.load(tmp_path).step == 4
    assert [r["step"] for r in _metrics(tmp_path)] == [1, 2, 3, 4]


def test_keyword_settings_still_work_with_a_deprecation_warning(digits: tasks.Task) -> None:
    new = _rnn()
    expected = _train(new, digits, steps=3, batch_size=4, lr=1e-3, seed=2)
    old = _rnn()
    with pytest.warns(DeprecationWarning, match=r"models\.TrainConfig"):
        result = models.train(old, digits, steps=3, batch_size=4, lr=1e-3, seed=2)
    assert result == expected
    _assert_equal_states(_state(old), _state(new))
    with pytest.warns(DeprecationWarning, match="progress= is ignored"):
        models.train(_rnn(), digits, steps=1, batch_size=4, lr=1e-3, progress=True)
    with pytest.raises(TypeError, match="not both"):
        models.train(_rnn(), digits, models.TrainConfig(steps=1), steps=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'stepz'"):
        models.train(_rnn(), digits, stepz=1)
    with pytest.raises(TypeError, match=r"must be a models\.TrainConfig"):
        models.train(_rnn(), digits, {"steps": 1})


def test_train_config_is_validated_frozen_and_serialisable() -> None:
    config = models.TrainConfig(steps=20, lr=1, clip=2)
    assert config.lr == 1.0 and isinstance(config.lr, float) and config.clip == 2.0
    assert config.every == 2 and config.lr_orth_value == pytest.approx(0.1)
    assert models.TrainConfig(**config.to_dict()) == config
    json.dumps(config.to_dict())
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.steps = 3  # type: ignore[misc]
    with pytest.raises(InvalidOptionError, match=r"seed must be .* at most 2\*\*64 - 1, got 1180"):
        models.TrainConfig(seed=2**70)
    assert models.TrainConfig(seed=2**64 - 1).seed == 2**64 - 1
    with pytest.raises(InvalidOptionError, match="resume must be True or False, got 'yes'"):
        models.TrainConfig(resume="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionError, match="steps must be a positive integer, got True"):
        models.TrainConfig(steps=True)


def test_trains_copy_and_adding_readouts() -> None:
    """Per-step readout (copy) and regression (adding) run through the same loop."""
    copy = tasks.get("copy", T=5, test_size=50)
    model = models.build("exprnn", input_size=10, hidden_size=16, output_size=9, readout="all")
    result = _train(model, copy, steps=30, batch_size=32, lr=3e-3)
    assert result.metric_name == "recall_accuracy" and 0.0 <= result.test_metric <= 1.0
    assert result.losses[-1] < result.losses[0]
    adding = tasks.get("adding", T=10, test_size=50)
    model = models.build("rnn", input_size=2, hidden_size=8, output_size=1, nonlinearity="relu")
    result = _train(model, adding, steps=30, batch_size=32, lr=1e-3, optimizer="adam")
    assert result.metric_name == "mse" and result.test_metric == pytest.approx(result.test_loss)


class _PlainGRU(torch.nn.Module):
    """Any module mapping (B, T, F) to logits can be trained (without saving)."""

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.gru = torch.nn.GRU(1, 8, batch_first=True)
        self.head = torch.nn.Linear(8, 10)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.gru(x)[0][:, -1])


def test_plain_module_trains_but_needs_a_built_model_to_save(
    tmp_path: Path, digits: tasks.Task
) -> None:
    model = _PlainGRU()
    result = _train(model, digits, steps=40, batch_size=32, lr=3e-3, optimizer="adam")
    assert result.losses[-1] < result.losses[0]
    with pytest.raises(models.errors.UnsupportedModelError, match=r"out=.*_PlainGRU"):
        _train(_PlainGRU(), digits, steps=2, batch_size=4, lr=1e-3, out=tmp_path)
    assert not any(tmp_path.iterdir())  # refused before training or writing anything
    with pytest.raises(InvalidOptionError, match=r"needs a model built by models\.build"):
        _train(_PlainGRU(), digits, steps=2, batch_size=4, lr=1e-3, constrain="norm")


@pytest.mark.parametrize("constrain", ["radius", "norm"])
def test_constrained_divergence_is_reported_not_a_lapack_error(
    digits: tasks.Task, constrain: str
) -> None:
    model = _rnn(constrain=constrain)
    model.W.register_hook(lambda g: torch.full_like(g, math.nan))  # finite loss, NaN gradient
    with pytest.raises(TrainingDivergedError, match="diverged at step 2"):
        _train(
            model, digits, steps=3, batch_size=8, lr=1e-3, constrain=constrain, checkpoint_every=3
        )
