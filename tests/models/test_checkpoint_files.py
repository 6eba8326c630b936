"""Files from elsewhere: refusal of code in pickles and object arrays, bare and named matrices in
torch, numpy and safetensors files, and list_tensors."""

from __future__ import annotations

import builtins
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import models
from models.errors import CheckpointError


class _Payload:
    """Pickles to a call of exec that writes a marker file when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (builtins.exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


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
