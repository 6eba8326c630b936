"""Hostile rnnscope checkpoint directories: sizes checked before building, robust config.json."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

import models
from models import inits
from models.build import MAX_PARAMETERS, state_shapes
from models.errors import CheckpointError


def _small(tmp_path: Path, kind: str = "rnn", **options: object) -> Path:
    model = models.build(kind, input_size=1, hidden_size=2, output_size=2, **options)
    return models.save(model, tmp_path / "ckpt")


def _config(directory: Path) -> dict:
    return json.loads((directory / models.CONFIG_FILE).read_text())


def _write_config(directory: Path, config: object) -> None:
    (directory / models.CONFIG_FILE).write_text(json.dumps(config))


def _one_line_error(path: Path, match: str) -> str:
    for read in (models.load, models.read_config):
        with pytest.raises(CheckpointError, match=match) as info:
            read(path)
        assert "\n" not in str(info.value)
    return str(info.value)


# -- sizes are compared with the stored tensors before anything is built ----------------------


@pytest.mark.parametrize("hidden_size", [8000, 1_000_000])
@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_small_directory_claiming_a_huge_model_fails_before_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, hidden_size: int
) -> None:
    directory = _small(tmp_path, kind)
    config = _config(directory)
    config["hidden_size"] = hidden_size
    _write_config(directory, config)
    assert sum(p.stat().st_size for p in directory.iterdir()) < 2000

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was built before the shapes were checked")

    monkeypatch.setattr(models.base.RecurrentModel, "__init__", no_build)
    with pytest.raises(CheckpointError, match=rf"shape mismatch for .*hidden_size={hidden_size},"):
        models.load(directory, max_size=None)  # without the analysis size limit
    with pytest.raises(CheckpointError, match=rf"hidden_size {hidden_size} is larger than"):
        models.load(directory)


@pytest.mark.parametrize("init", ["orthogonal", "henaff", "cayley"])
def test_loading_skips_the_expensive_initialisation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, init: str
) -> None:
    model = models.build("rnn", input_size=3, hidden_size=6, output_size=2, init=init, seed=4)
    directory = models.save(model, tmp_path / init)

    def expensive(*args: object, **kwargs: object) -> None:
        raise AssertionError("an O(n^3) initialisation ran although the weights are loaded")

    monkeypatch.setattr(torch.linalg, "qr", expensive)
    monkeypatch.setattr(inits, "expm", expensive)
    monkeypatch.setattr(inits, "cayley_map", expensive)
    loaded = models.load(directory).model
    x = torch.randn(5, 9, 3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        # bit-identical: the placeholders keep the memory layout of the real initialisation
        assert torch.equal(loaded(x), model.eval()(x))
    for key, value in model.state_dict().items():
        assert loaded.state_dict()[key].stride() == value.stride(), key


def test_placeholders_are_only_active_inside_the_block() -> None:
    g = torch.Generator().manual_seed(0)
    with inits._placeholders():
        assert not inits.orthogonal(4, generator=g).any()
    Q = inits.orthogonal(4, generator=g)
    assert torch.allclose(Q.T @ Q, torch.eye(4), atol=1e-6)


_KIND_OPTIONS = [
    ("rnn", {}),
    ("rnn", {"nonlinearity": "modrelu"}),
    ("scornn", {"rho": 2}),
    ("exprnn", {}),
    ("nnrnn", {}),
    ("nru", {}),
    ("nru", {"memory_size": 12, "heads": 3}),
    ("lstm", {}),
    ("gru", {}),
]


@pytest.mark.parametrize(("kind", "options"), _KIND_OPTIONS)
@pytest.mark.parametrize("hidden_size", [5, 6])
def test_state_shapes_match_the_built_model(kind: str, options: dict, hidden_size: int) -> None:
    model = models.build(kind, input_size=3, hidden_size=hidden_size, output_size=4, **options)
    built = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    predicted = state_shapes(kind, input_size=3, hidden_size=hidden_size, output_size=4, **options)
    assert predicted == built


def test_build_refuses_a_model_above_the_size_limit_before_allocating() -> None:
    with pytest.raises(models.errors.InvalidOptionError, match=r"model too large.*4e\+10 param"):
        models.build("rnn", input_size=1, hidden_size=200_000, output_size=10)
    shapes = state_shapes("lstm", input_size=1, hidden_size=17_000, output_size=10)
    assert sum(math.prod(s) for s in shapes.values()) > MAX_PARAMETERS
    with pytest.raises(models.errors.InvalidOptionError, match="model too large"):
        models.build("lstm", input_size=1, hidden_size=17_000, output_size=10)
    with pytest.raises(models.errors.InvalidOptionError, match=r"at most 2\*\*64 - 1"):
        models.build("rnn", input_size=1, hidden_size=2, output_size=2, seed=2**70)
    assert models.build("rnn", input_size=1, hidden_size=2, output_size=2, seed=2**64 - 1)


def test_weights_file_far_larger_than_the_config_is_refused_unread(tmp_path: Path) -> None:
    directory = _small(tmp_path)
    with (directory / models.WEIGHTS_FILE).open("r+b") as fh:
        fh.truncate(3 * 2**20)  # sparse: 3 MiB that a 2-unit model cannot need
    with pytest.raises(CheckpointError, match=r"3145728 bytes, far more than the 'rnn' model"):
        models.load(directory)


def test_complex_weights_in_an_rnnscope_directory_are_refused(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    directory = _small(tmp_path)
    state = load_file(directory / models.WEIGHTS_FILE)
    state["W"] = state["W"].to(torch.complex64) * (1 + 1j)
    save_file(state, directory / models.WEIGHTS_FILE)
    config = _config(directory)
    del config["weights_sha256"]
    _write_config(directory, config)
    with pytest.raises(CheckpointError, match=r"'W' in model.safetensors holds complex64 values"):
        models.load(directory)


@pytest.mark.parametrize(
    ("suffix", "dtype"),
    [
        (".npy", torch.complex64),
        (".npy", torch.complex128),
        (".pt", torch.complex64),
        (".pt", torch.complex128),
        (".safetensors", torch.complex64),  # safetensors has no complex128
    ],
)
def test_complex_matrices_keep_their_imaginary_part(
    tmp_path: Path, suffix: str, dtype: torch.dtype
) -> None:
    W = (1 + 1j) * torch.eye(3, dtype=dtype)
    path = tmp_path / f"W{suffix}"
    if suffix == ".npy":
        np.save(path, W.numpy())
    elif suffix == ".pt":
        torch.save({"W": W}, path)
    else:
        from safetensors.torch import save_file

        save_file({"W": W}, path)
    loaded = models.load(path).recurrent_matrix()
    assert loaded.dtype == dtype
    radius = float(torch.linalg.eigvals(loaded.to(torch.complex128)).abs().max())
    assert radius == pytest.approx(math.sqrt(2), rel=1e-6)


# -- config.json from anywhere: one CheckpointError line, never a crash -----------------------


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


_BAD_CONFIGS = {
    "nested 100000 deep": (
        lambda c: json.dumps(c)[:-1] + ', "x": ' + _nested(100_000) + "}",
        r"invalid JSON \(nested too deeply\)|nested .* levels deep",
    ),
    "root nested 100000 deep": (lambda c: _nested(100_000), r"nested too deeply|nested .* deep"),
    "nested 40 deep": (
        lambda c: json.dumps({**c, "x": json.loads(_nested(40))}),
        r"nested 3\d levels deep, more than the 32 allowed",
    ),
    "root is a list": (lambda c: "[1, 2]", "expected a JSON object, got a list"),
    "task.params is a list": (
        lambda c: json.dumps({**c, "task": {"name": "copy", "params": [1]}}),
        r"'task.params' must be a JSON object, got a list",
    ),
    "task is a list": (
        lambda c: json.dumps({**c, "task": ["copy"]}),
        r"'task' must be a JSON object or null, got a list",
    ),
    "task.name missing": (
        lambda c: json.dumps({**c, "task": {"params": {}}}),
        r"'task.name' must be a string, got null",
    ),
    "options is a list": (
        lambda c: json.dumps({**c, "options": ["tanh"]}),
        r"'options' must be a JSON object, got a list",
    ),
    "training is a string": (
        lambda c: json.dumps({**c, "training": "fast"}),
        r"'training' must be a JSON object, got a string",
    ),
    "metrics is a number": (
        lambda c: json.dumps({**c, "metrics": 3}),
        r"'metrics' must be a JSON object, got the number 3",
    ),
    "hidden_size is a string": (
        lambda c: json.dumps({**c, "hidden_size": "2"}),
        r"'hidden_size' must be a positive integer, got '2'",
    ),
    "hidden_size is a float": (
        lambda c: json.dumps({**c, "hidden_size": 2.0}),
        r"'hidden_size' must be a positive integer, got 2.0",
    ),
    "hidden_size is true": (
        lambda c: json.dumps({**c, "hidden_size": True}),
        r"'hidden_size' must be a positive integer, got True",
    ),
    "hidden_size is negative": (
        lambda c: json.dumps({**c, "hidden_size": -2}),
        r"'hidden_size' must be a positive integer, got -2",
    ),
    "kind is a number": (
        lambda c: json.dumps({**c, "kind": 5}),
        r"'kind' must be a string, got the number 5",
    ),
    "seed is negative": (
        lambda c: json.dumps({**c, "seed": -1}),
        r"'seed' must be a non-negative integer, got -1",
    ),
    "sha is a list": (
        lambda c: json.dumps({**c, "weights_sha256": []}),
        r"'weights_sha256' must be a string, got a list",
    ),
    "huge integer": (lambda c: json.dumps(c)[:-1] + ', "x": ' + "9" * 5000 + "}", r"invalid JSON"),
    "not UTF-8": (lambda c: b"\xff\xfe{}", r"invalid JSON"),
    "too large": (
        lambda c: json.dumps({**c, "pad": " " * (17 * 2**20)}),
        r"bytes, more than the 16777216 a configuration may have",
    ),
}


@pytest.mark.parametrize("case", list(_BAD_CONFIGS))
def test_bad_config_is_one_checkpoint_error_line(tmp_path: Path, case: str) -> None:
    directory = _small(tmp_path)
    make, match = _BAD_CONFIGS[case]
    text = make(_config(directory))
    target = directory / models.CONFIG_FILE
    target.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    message = _one_line_error(directory, match)
    assert str(directory) in message


def test_bad_option_values_in_config_are_checkpoint_errors(tmp_path: Path) -> None:
    directory = _small(tmp_path)
    config = _config(directory)
    config["options"]["nonlinearity"] = {"a": 1}
    _write_config(directory, config)
    with pytest.raises(CheckpointError, match=r"cannot rebuild the model \(unknown nonlinearity"):
        models.load(directory)


def test_checkpoint_exposes_task_training_and_metrics(tmp_path: Path) -> None:
    task = models.tasks.get("copy", T=5, test_size=10)
    model = models.build("rnn", input_size=10, hidden_size=4, output_size=9, readout="all")
    directory = models.save(
        model, tmp_path / "c", task=task, training={"lr": 0.5, "step": 3}, metrics={"m": 1.0}
    )
    ckpt = models.load(directory)
    assert ckpt.task == task.to_dict()
    assert models.tasks.get(ckpt.task["name"], **ckpt.task["params"]).params == task.params
    assert ckpt.training == {"lr": 0.5, "step": 3} and ckpt.step == 3
    assert ckpt.metrics == {"m": 1.0}
    assert models.read_config(directory)["training"] == ckpt.training
    bare = tmp_path / "W.npy"
    np.save(bare, np.eye(2))
    plain = models.load(bare)
    assert plain.task is None and plain.training == {} and plain.metrics == {}
    assert plain.step is None
