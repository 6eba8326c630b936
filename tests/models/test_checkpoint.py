"""rnnscope checkpoints: save/load round trip, atomic writes, broken directories, and our weights
file met outside its directory (files from elsewhere: ``test_checkpoint_files.py``)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import models
from models.errors import CheckpointError, UnsupportedModelError

# -- fixtures --------------------------------------------------------------------------------


def _model(kind: str = "rnn", seed: int = 1, **options: object) -> models.RecurrentModel:
    model = models.build(kind, input_size=3, hidden_size=6, output_size=2, seed=seed, **options)
    with torch.no_grad():  # move away from the seeded init, so a load must read the file
        gen = torch.Generator().manual_seed(seed + 10)
        for p in model.parameters():
            p.add_(0.01 * torch.randn(p.shape, generator=gen))
    return model.eval()


def _outputs(model: torch.nn.Module) -> torch.Tensor:
    x = torch.randn(4, 7, 3, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return model(x)


# -- rnnscope format: round trip --------------------------------------------------------------


@pytest.mark.parametrize("kind", models.KINDS)
def test_round_trip_gives_identical_outputs(tmp_path: Path, kind: str) -> None:
    model = _model(kind)
    models.save(model, tmp_path / "ckpt", metrics={"accuracy": 0.75})
    ckpt = models.load(tmp_path / "ckpt")
    assert ckpt.format == "rnnscope" and ckpt.kind == kind
    assert ckpt.model is not None and ckpt.model is not model
    assert torch.equal(_outputs(ckpt.model), _outputs(model))
    expected = model.recurrent_matrices()
    assert list(ckpt.matrices) == list(expected)
    for name, matrix in expected.items():
        assert torch.equal(ckpt.matrices[name], matrix)
    assert torch.equal(ckpt.recurrent_matrix(), model.recurrent_matrix())
    json.dumps(ckpt.to_dict())


def test_config_json_contents_and_sorted_keys(tmp_path: Path) -> None:
    model = _model("exprnn", init="cayley")
    out = models.save(
        model,
        tmp_path / "c",
        task={"name": "copy", "params": {"delay": 5}},
        metrics={"loss": np.float32(0.5), "bad": float("nan")},
        note="first run",
    )
    assert out == tmp_path / "c"
    text = (out / "config.json").read_text()
    pairs: list[list[str]] = []
    json.loads(text, object_pairs_hook=lambda kv: pairs.append([k for k, _ in kv]) or dict(kv))
    assert all(keys == sorted(keys) for keys in pairs)
    config = json.loads(text)
    for key, value in model.config.items():
        assert config[key] == value
    assert config["options"]["init"] == "cayley"
    assert config["task"] == {"name": "copy", "params": {"delay": 5}}
    assert config["metrics"] == {"loss": 0.5, "bad": None}
    assert config["note"] == "first run"
    assert config["format"] == "rnnscope"
    assert set(config["versions"]) >= {"torch", "numpy", "rnnscope"}
    assert config["versions"]["torch"] == torch.__version__
    assert models.load(out).config["note"] == "first run"


def test_save_is_deterministic(tmp_path: Path) -> None:
    model = _model("gru")
    models.save(model, tmp_path / "a", seed_note=1)
    models.save(model, tmp_path / "b", seed_note=1)
    for name in ("model.safetensors", "config.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_save_rejects_reserved_metadata_and_foreign_models(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="'kind'"):
        models.save(_model(), tmp_path / "x", kind="lstm")
    with pytest.raises(UnsupportedModelError, match="LSTM"):
        models.save(nn.LSTM(2, 3), tmp_path / "y")
    with pytest.raises(CheckpointError, match="not JSON-serialisable"):
        models.save(_model(), tmp_path / "z", extra=object())


def test_save_refuses_nan_weights(tmp_path: Path) -> None:
    model = _model()
    with torch.no_grad():
        param = next(model.parameters())
        param[(0,) * param.ndim] = float("nan")
    with pytest.raises(CheckpointError, match="non-finite"):
        models.save(model, tmp_path / "nan")
    assert not (tmp_path / "nan" / "model.safetensors").exists()


# -- rnnscope format: atomic writes -----------------------------------------------------------


@pytest.mark.parametrize("fail_on", ["model.safetensors", "config.json"])
def test_failed_save_leaves_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_on: str
) -> None:
    old = _model("rnn", seed=1)
    directory = models.save(old, tmp_path / "ckpt")
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    real_replace = os.replace

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst).name == fail_on and Path(src).name.endswith(".tmp"):
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        models.save(_model("rnn", seed=2), directory)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before
    assert torch.equal(_outputs(models.load(directory).model), _outputs(old))


def test_failure_while_writing_leaves_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = models.save(_model(), tmp_path / "ckpt")
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    calls = {"n": 0}
    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # while writing the second temporary file
            raise OSError("I/O error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="I/O error"):
        models.save(_model(seed=3), directory)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def test_failed_first_save_leaves_no_half_written_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst).name == "config.json":
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        models.save(_model(), tmp_path / "new")
    monkeypatch.undo()
    assert list((tmp_path / "new").iterdir()) == []


# -- rnnscope format: broken directories -------------------------------------------------------


def _edit_config(directory: Path, **changes: object) -> None:
    config = json.loads((directory / "config.json").read_text())
    config.update(changes)
    (directory / "config.json").write_text(json.dumps(config))


def test_missing_path_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"nowhere.*no such file"):
        models.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match=r"directory .*empty has no config\.json"):
        models.load(tmp_path / "empty")
    directory = models.save(_model(), tmp_path / "ckpt")
    (directory / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"ckpt: missing model\.safetensors"):
        models.load(directory)


def test_truncated_weights(tmp_path: Path) -> None:
    directory = models.save(_model(), tmp_path / "ckpt")
    blob = (directory / "model.safetensors").read_bytes()
    (directory / "model.safetensors").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CheckpointError, match=r"model\.safetensors: truncated or corrupt") as info:
        models.load(directory)
    assert "\n" not in str(info.value)


def test_weights_from_another_save_are_detected(tmp_path: Path) -> None:
    a = models.save(_model(seed=1), tmp_path / "a")
    b = models.save(_model(seed=2), tmp_path / "b")
    (a / "model.safetensors").write_bytes((b / "model.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match=r"does not match config\.json"):
        models.load(a)


def test_nan_weights_in_checkpoint(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    directory = models.save(_model(), tmp_path / "ckpt")
    state = load_file(directory / "model.safetensors")
    key = sorted(state)[0]
    state[key].view(-1)[0] = float("nan")
    save_file(state, directory / "model.safetensors")
    _edit_config(directory, weights_sha256=None)
    with pytest.raises(CheckpointError, match="non-finite.*" + re.escape(repr(key))):
        models.load(directory)


def test_unknown_kind_in_config(tmp_path: Path) -> None:
    directory = models.save(_model(), tmp_path / "ckpt")
    _edit_config(directory, kind="transformer")
    with pytest.raises(CheckpointError, match=r"config\.json: unknown kind 'transformer'"):
        models.load(directory)


def test_bad_option_in_config(tmp_path: Path) -> None:
    directory = models.save(_model(), tmp_path / "ckpt")
    _edit_config(directory, options={"init": "bogus"})
    with pytest.raises(CheckpointError, match="cannot rebuild the model"):
        models.load(directory)


def test_shape_mismatch_with_config(tmp_path: Path) -> None:
    directory = models.save(_model(), tmp_path / "ckpt")
    _edit_config(directory, hidden_size=7)
    with pytest.raises(CheckpointError, match=r"shape mismatch for .*\(6, 6\).*hidden_size=7"):
        models.load(directory)


def test_invalid_json_config(tmp_path: Path) -> None:
    directory = models.save(_model(), tmp_path / "ckpt")
    (directory / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="invalid JSON"):
        models.load(directory)


def test_directory_rejects_row_convention(tmp_path: Path) -> None:
    directory = models.save(_model(), tmp_path / "ckpt")
    with pytest.raises(CheckpointError, match="column convention"):
        models.load(directory, convention="row")


def test_directory_with_matrix_reads_named_weights(tmp_path: Path) -> None:
    model = _model("rnn")
    directory = models.save(model, tmp_path / "ckpt")
    square = [t.key for t in models.list_tensors(directory) if t.square]
    ckpt = models.load(directory, matrix=square)
    assert ckpt.format == "named"
    state = model.state_dict()
    for key in square:
        assert torch.equal(ckpt.matrices[key], state[key])


@pytest.mark.parametrize("kind", ["nru", "lstm", "gru"])
def test_our_state_dicts_are_recognised_consistently(tmp_path: Path, kind: str) -> None:
    """The foreign recognisers and our own models agree on the recurrent blocks."""
    model = _model(kind)
    torch.save(model.state_dict(), tmp_path / "state.pt")
    ckpt = models.load(tmp_path / "state.pt")
    assert ckpt.kind == kind
    ours = model.recurrent_matrices()
    theirs = {name.split(".")[-1]: m for name, m in ckpt.matrices.items()}
    assert set(theirs) == set(ours)
    for name, matrix in ours.items():
        torch.testing.assert_close(theirs[name], matrix)


def test_our_weights_file_alone_points_to_the_directory(tmp_path: Path) -> None:
    directory = models.save(_model("rnn"), tmp_path / "ckpt")
    with pytest.raises(CheckpointError, match="load the directory"):
        models.load(directory / "model.safetensors")


def test_list_tensors_every_container(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    np.save(tmp_path / "a.npy", np.zeros((2, 3)))
    np.savez_compressed(tmp_path / "b.npz", X=np.zeros((3, 3)), Y=np.array(["s"]))
    save_file({"k": torch.zeros(5, 5)}, tmp_path / "c.safetensors")
    assert models.list_tensors(tmp_path / "a.npy") == [
        models.TensorInfo("a", (2, 3), False, "float64")
    ]
    assert [(t.key, t.square) for t in models.list_tensors(tmp_path / "b.npz")] == [
        ("X", True),
        ("Y", False),
    ]
    assert models.list_tensors(tmp_path / "c.safetensors")[0].square
    directory = models.save(_model("rnn"), tmp_path / "ckpt")
    listed = {t.key for t in models.list_tensors(directory)}
    assert listed == set(models.load(directory).model.state_dict())  # type: ignore[union-attr]
    with pytest.raises(CheckpointError, match="no such file"):
        models.list_tensors(tmp_path / "missing.pt")
