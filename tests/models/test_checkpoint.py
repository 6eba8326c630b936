"""rnnscope checkpoints (save/load round trip, atomic writes, broken directories), bare and
named matrices, list_tensors, and refusal of files that need code to be unpickled."""

from __future__ import annotations

import builtins
import json
import os
import pickle
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


class _Payload:
    """Pickles to a call of exec that writes a marker file when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (builtins.exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


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


# -- unsafe files ----------------------------------------------------------------------------


def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    # the payload is real: unpickling it with pickle runs the code
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Payload(probe), protocol=2))
    assert probe.exists()

    marker = tmp_path / "pwned"
    raw = tmp_path / "evil.pt"
    raw.write_bytes(pickle.dumps({"weight_hh_l0": _Payload(marker)}, protocol=2))
    zipped = tmp_path / "evil_zip.pth"
    torch.save({"state_dict": {"w": _Payload(marker)}}, zipped)
    for path in (raw, zipped):
        with pytest.raises(CheckpointError, match="refused to unpickle") as info:
            models.load(path)
        assert str(path) in str(info.value)
        with pytest.raises(CheckpointError, match="refused to unpickle"):
            models.list_tensors(path)
    assert not marker.exists()


def test_npy_object_array_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    array = np.empty(1, dtype=object)
    array[0] = _Payload(marker)
    np.save(tmp_path / "obj.npy", array, allow_pickle=True)
    with pytest.raises(CheckpointError, match=r"obj\.npy.*object array.*refused"):
        models.load(tmp_path / "obj.npy")
    assert not marker.exists()


def test_npz_object_member_is_skipped(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    array = np.empty(1, dtype=object)
    array[0] = _Payload(marker)
    np.savez(tmp_path / "mix.npz", W=np.eye(3), obj=array)
    ckpt = models.load(tmp_path / "mix.npz")
    assert list(ckpt.matrices) == ["W"]
    assert "object array" in ckpt.skipped["obj"]
    assert not marker.exists()


def test_truncated_and_corrupt_files(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    save_file({"a": torch.eye(4), "b": torch.ones(4, 3)}, tmp_path / "w.safetensors")
    blob = (tmp_path / "w.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(blob[:-10])
    with pytest.raises(CheckpointError, match=r"cut\.safetensors: truncated or corrupt"):
        models.load(tmp_path / "cut.safetensors")
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        models.list_tensors(tmp_path / "cut.safetensors")
    torch.save(nn.RNN(2, 3).state_dict(), tmp_path / "r.pt")
    blob = (tmp_path / "r.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CheckpointError, match=r"cut\.pt: .*truncated"):
        models.load(tmp_path / "cut.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        models.load(tmp_path / "empty.pt")


# -- bare matrices ---------------------------------------------------------------------------


def _pulse_reaches(w: torch.Tensor, steps: int) -> torch.Tensor:
    h = torch.zeros(w.shape[0], dtype=w.dtype)
    h[0] = 1.0
    for _ in range(steps):
        h = w @ h
    return h


def test_row_convention_chain_propagates_forward(tmp_path: Path) -> None:
    """A Keras chain (h @ U, U[i, i+1] = 1) moves unit 0 to unit n-1 once transposed."""
    n = 6
    keras_kernel = np.diag(np.ones(n - 1), 1)
    np.save(tmp_path / "kernel.npy", keras_kernel)
    w = models.load(tmp_path / "kernel.npy", convention="row").recurrent_matrix()
    assert torch.equal(torch.diagonal(w, -1), torch.ones(n - 1, dtype=w.dtype))
    assert float(_pulse_reaches(w, n - 1)[n - 1]) == 1.0
    # read as the column convention, the same array sends the pulse the other way (it dies)
    w_col = models.load(tmp_path / "kernel.npy").recurrent_matrix()
    assert float(_pulse_reaches(w_col, 1).abs().sum()) == 0.0


def test_npy_bare_matrix(tmp_path: Path) -> None:
    w = np.random.default_rng(0).standard_normal((5, 5))
    np.save(tmp_path / "W.npy", w)
    ckpt = models.load(tmp_path / "W.npy")
    assert ckpt.format == "matrix" and ckpt.kind is None and ckpt.model is None
    np.testing.assert_array_equal(ckpt.recurrent_matrix().numpy(), w)
    assert ckpt.source_keys == {"W": ["W"]}


def test_npy_problems(tmp_path: Path) -> None:
    np.save(tmp_path / "rect.npy", np.ones((3, 4)))
    with pytest.raises(CheckpointError, match=r"rect\.npy.*non-square: shape \(3, 4\)"):
        models.load(tmp_path / "rect.npy")
    bad = np.eye(3)
    bad[1, 1] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(CheckpointError, match=r"nan\.npy.*'nan'.*non-finite"):
        models.load(tmp_path / "nan.npy")
    np.save(tmp_path / "text.npy", np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(CheckpointError, match="non-numeric"):
        models.load(tmp_path / "text.npy")


def test_npz_every_square_array_with_skips(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    w, v = rng.standard_normal((4, 4)), rng.standard_normal((3, 3))
    nan = np.eye(2)
    nan[0, 1] = np.inf
    np.savez(tmp_path / "arrays.npz", W=w, V=v, U=np.ones((4, 2)), T=np.ones((2, 2, 2)), N=nan)
    ckpt = models.load(tmp_path / "arrays.npz", convention="row")
    assert list(ckpt.matrices) == ["W", "V"]
    assert ckpt.principal == "W"
    np.testing.assert_array_equal(ckpt.matrices["V"].numpy(), v.T)
    assert "non-square" in ckpt.skipped["U"]
    assert "not a matrix" in ckpt.skipped["T"]
    assert "non-finite" in ckpt.skipped["N"]
    assert "ᵀ" in ckpt.formulas["W"]


def test_single_tensor_files_are_bare_matrices(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    w = torch.randn(4, 4)
    save_file({"kernel": w}, tmp_path / "k.safetensors")
    torch.save(w, tmp_path / "w.pt")
    torch.save({"rec": w}, tmp_path / "d.pt")
    for name in ("k.safetensors", "w.pt", "d.pt"):
        ckpt = models.load(tmp_path / name)
        assert ckpt.format == "matrix"
        assert torch.equal(ckpt.matrices["W"], w)


def test_unrecognised_file_suggests_list(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    save_file({"a": torch.eye(3), "b": torch.ones(3, 2)}, tmp_path / "x.safetensors")
    with pytest.raises(CheckpointError, match=r"x\.safetensors: no recurrent weights .*--list"):
        models.load(tmp_path / "x.safetensors")


def test_our_weights_file_alone_points_to_the_directory(tmp_path: Path) -> None:
    directory = models.save(_model("rnn"), tmp_path / "ckpt")
    with pytest.raises(CheckpointError, match="load the directory"):
        models.load(directory / "model.safetensors")


# -- named matrices --------------------------------------------------------------------------


def test_named_keys(tmp_path: Path) -> None:
    state = {"cell.rec": torch.randn(4, 4), "cell.inp": torch.randn(4, 2), "x": torch.randn(3, 3)}
    torch.save({"state_dict": state}, tmp_path / "custom.pt")
    ckpt = models.load(tmp_path / "custom.pt", matrix="state_dict.cell.rec")
    assert ckpt.format == "named"
    assert torch.equal(ckpt.recurrent_matrix(), state["cell.rec"])
    ckpt = models.load(
        tmp_path / "custom.pt", matrix=["state_dict.x", "state_dict.cell.rec"], convention="row"
    )
    assert list(ckpt.matrices) == ["state_dict.x", "state_dict.cell.rec"]
    assert torch.equal(ckpt.matrices["state_dict.x"], state["x"].T)
    with pytest.raises(CheckpointError, match=r"no tensor named 'rec'.*'state_dict\.cell\.rec'"):
        models.load(tmp_path / "custom.pt", matrix="rec")
    with pytest.raises(CheckpointError, match=r"'state_dict\.cell\.inp'.*\(4, 2\)"):
        models.load(tmp_path / "custom.pt", matrix=["state_dict.cell.inp"])


def test_named_nan_is_an_error(tmp_path: Path) -> None:
    w = torch.eye(3)
    w[2, 0] = float("nan")
    torch.save({"a": w, "b": torch.eye(2)}, tmp_path / "n.pt")
    with pytest.raises(CheckpointError, match=r"'a'.*non-finite"):
        models.load(tmp_path / "n.pt", matrix="a")


def test_invalid_arguments(tmp_path: Path) -> None:
    np.save(tmp_path / "w.npy", np.eye(2))
    with pytest.raises(CheckpointError, match="unknown convention 'rows'"):
        models.load(tmp_path / "w.npy", convention="rows")
    with pytest.raises(CheckpointError, match="matrix="):
        models.load(tmp_path / "w.npy", matrix=[])


# -- list_tensors ----------------------------------------------------------------------------


def test_list_tensors_nested_torch_file(tmp_path: Path) -> None:
    state = {"rnn.P": torch.eye(4), "rnn.U.weight": torch.ones(4, 1)}
    torch.save(
        {"state_dict": state, "optimizer": {"state": {0: {"m": torch.ones(2)}}}}, tmp_path / "f"
    )
    infos = models.list_tensors(tmp_path / "f")
    by_key = {t.key: t for t in infos}
    assert by_key["state_dict.rnn.P"].shape == (4, 4) and by_key["state_dict.rnn.P"].square
    assert not by_key["state_dict.rnn.U.weight"].square
    assert by_key["optimizer.state.0.m"].shape == (2,)
    assert by_key["state_dict.rnn.P"].dtype == "float32"
    json.dumps([t.to_dict() for t in infos])


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


def test_principal_block_is_chosen_by_name_when_blocks_are_equal(tmp_path: Path) -> None:
    model = models.build("lstm", input_size=1, hidden_size=3, output_size=1)
    with torch.no_grad():
        model.rnn.weight_hh_l0.zero_()  # all four gate blocks equal
    ckpt = models.load(models.save(model, tmp_path / "ckpt"))
    assert ckpt.principal == "g"


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_big_endian_numpy_matrix(tmp_path: Path, suffix: str) -> None:
    W = np.arange(9.0).reshape(3, 3).astype(">f4")
    path = tmp_path / f"W{suffix}"
    if suffix == ".npy":
        np.save(path, W)
    else:
        np.savez(path, W=W)
    assert np.array_equal(models.load(path).recurrent_matrix().numpy(), W)
