"""Hostile and huge foreign files: declared sizes are checked against the bytes and the size
limits before anything is allocated, and non-regular files are refused without reading."""

from __future__ import annotations

import io
import json
import os
import struct
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import models
from models.errors import CheckpointError, ModelsError
from models.formats import (
    DEFAULT_MAX_SIZE,
    FormatError,
    NotRegularFileError,
    SizeLimitError,
    _files,
)


def _npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue()


def _sparse_npy(path: Path, n: int) -> None:
    """A genuine n×n float64 .npy file whose data pages are never written (a sparse file)."""
    with open(path, "wb") as fh:
        fh.write(_npy_header((n, n)))
        fh.truncate(fh.tell() + n * n * 8)


def _deep(depth: int) -> object:
    obj: object = torch.eye(2)
    for _ in range(depth):
        obj = {"a": obj}
    return obj


def test_errors_are_models_errors() -> None:
    for cls in (FormatError, SizeLimitError, NotRegularFileError):
        assert issubclass(cls, ModelsError) and issubclass(cls, ValueError)
    assert DEFAULT_MAX_SIZE == 4096


def test_npy_header_claiming_1e62_elements(tmp_path: Path) -> None:
    path = tmp_path / "claim.npy"
    path.write_bytes(_npy_header((10**31, 10**31)) + bytes(64))
    assert path.stat().st_size < 300
    with pytest.raises(CheckpointError, match=r"claim\.npy: truncated or corrupt \.npy file"):
        models.load(path)
    with pytest.raises(CheckpointError, match="declares about 1e62 bytes"):
        models.list_tensors(path)


def test_truncated_npy_data(tmp_path: Path) -> None:
    path = tmp_path / "cut.npy"
    path.write_bytes(_npy_header((3, 3)) + bytes(8 * 9 - 1))
    with pytest.raises(CheckpointError, match="declares 72 bytes but the file holds only 71"):
        models.load(path)


def test_real_matrix_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.npy"
    _sparse_npy(path, 20000)  # 3.2 GB declared and present (sparse)
    with pytest.raises(CheckpointError, match=r"shape \(20000, 20000\).*--max-size"):
        models.load(path)
    # listing reads the header only and applies no limit
    assert [(i.key, i.shape) for i in models.list_tensors(path)] == [("big", (20000, 20000))]


def test_limit_is_configurable_and_exact(tmp_path: Path) -> None:
    path = tmp_path / "w.npy"
    np.save(path, np.eye(65))
    with pytest.raises(SizeLimitError, match=r"larger than 64×64"):
        _files.read(path, max_size=64)
    assert _files.read(path, max_size=65).tensors["w"].shape == (65, 65)
    assert _files.read(path, max_size=None).tensors["w"].shape == (65, 65)
    # non-square: the smaller side counts (an LSTM's (4H, H) block has N = H)
    np.save(path, np.ones((4 * 64, 64)))
    assert _files.read(path, max_size=64).tensors["w"].shape == (256, 64)


def test_total_byte_budget(tmp_path: Path) -> None:
    path = tmp_path / "many.npz"
    # 20 arrays of 100x50 float64 = 800 000 bytes > 128 * 64**2 = 524 288, each within N = 64
    np.savez(path, **{f"a{i}": np.ones((100, 50)) for i in range(20)})
    with pytest.raises(SizeLimitError, match="inflates to"):
        _files.read(path, max_size=64)
    assert len(_files.read(path, max_size=128).tensors) == 20


def test_npz_that_inflates_is_refused_from_the_zip_directory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, W=np.zeros((4200, 4200), dtype=np.float32))
    assert path.stat().st_size < 200_000  # 70 MB of zeros compress to almost nothing
    with pytest.raises(CheckpointError, match=r"'W' has shape \(4200, 4200\)"):
        models.load(path)
    with pytest.raises(SizeLimitError, match="inflates to 70560"):
        _files.read(path, max_size=200)


def test_npz_member_header_larger_than_member(tmp_path: Path) -> None:
    path = tmp_path / "lie.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("W.npy", _npy_header((10**6, 10**6)) + bytes(32))
    with pytest.raises(CheckpointError, match=r"truncated or corrupt \.npz archive"):
        models.load(path)
    with pytest.raises(CheckpointError, match=r"array 'W' \(shape \(1000000, 1000000\)"):
        models.list_tensors(path)


def test_stored_zip_member_with_inflated_size(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    np.savez(path, W=np.eye(3))
    blob = bytearray(path.read_bytes())
    # patch the uncompressed size in the central directory entry of the stored member
    cd = blob.rindex(b"PK\x01\x02")
    blob[cd + 24 : cd + 28] = struct.pack("<I", 10**9)
    path.write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match="stored uncompressed but declares 1000000000"):
        models.load(path)


def test_torch_zero_stride_tensor(tmp_path: Path) -> None:
    path = tmp_path / "zs.pt"
    torch.save({"weight_hh_l0": torch.zeros(1).as_strided((10**6, 10**6), (0, 0))}, path)
    assert path.stat().st_size < 4000
    with pytest.raises(CheckpointError, match=r"'weight_hh_l0' has shape \(1000000, 1000000\)"):
        models.load(path)
    # the listing maps the file and shows the declared shape
    assert models.list_tensors(path)[0].shape == (10**6, 10**6)


def test_torch_zero_stride_vector_over_byte_budget(tmp_path: Path) -> None:
    path = tmp_path / "zv.pt"
    torch.save({"v": torch.zeros(1).as_strided((10**12,), (0,))}, path)
    with pytest.raises(CheckpointError, match=r"declare 3\.6 TiB in all"):
        models.load(path)


def test_torch_storage_claiming_more_than_the_file(tmp_path: Path) -> None:
    src = tmp_path / "s.pt"
    torch.save({"W": torch.ones(7, 7)}, src)
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    name = next(n for n in members if n.endswith("data.pkl"))
    pkl = members[name]
    at = pkl.index(b"X\x03\x00\x00\x00cpu") + 10  # after the string and its BINPUT
    assert pkl[at : at + 2] == b"K\x31"  # the storage's element count, 49
    # claim 10**9 elements in the storage and a 4000 x 250000 view of it
    pkl = pkl[:at] + b"J" + struct.pack("<i", 10**9) + pkl[at + 2 :]
    pkl = pkl.replace(b"K\x07K\x07\x86", b"M\xa0\x0fJ\x90\xd0\x03\x00\x86", 1)
    pkl = pkl.replace(b"K\x07K\x01\x86", b"J\x90\xd0\x03\x00K\x01\x86", 1)
    members[name] = pkl
    path = tmp_path / "lie.pt"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    with pytest.raises(CheckpointError, match=r"lie\.pt"):
        models.load(path)


def test_torch_file_nested_3000_deep(tmp_path: Path) -> None:
    path = tmp_path / "deep.pt"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)
    try:
        torch.save(_deep(3000), path)
    finally:
        sys.setrecursionlimit(limit)
    with pytest.raises(CheckpointError, match="nested more than 100 levels deep"):
        models.load(path)
    with pytest.raises(CheckpointError, match="nested more than 100 levels deep"):
        models.list_tensors(path)
    torch.save(_deep(50), path)  # moderate nesting still loads
    assert models.load(path).recurrent_matrix().shape == (2, 2)


@pytest.mark.parametrize(
    ("dtype", "label"), [(torch.float8_e4m3fn, "F8_E4M3"), (torch.float8_e5m2, "F8_E5M2")]
)
def test_fp8_safetensors(tmp_path: Path, dtype: torch.dtype, label: str) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "fp8.safetensors"
    w = torch.tensor([[0.5, -1.0], [2.0, 0.25]])
    save_file({"W": w.to(dtype)}, path)
    ckpt = models.load(path)
    assert ckpt.recurrent_matrix().dtype == torch.float32
    torch.testing.assert_close(ckpt.recurrent_matrix(), w)  # exactly representable in fp8
    assert [(i.key, i.shape, i.dtype) for i in models.list_tensors(path)] == [("W", (2, 2), label)]


def test_fp8_with_infinity_is_reported_not_crashing(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "inf.safetensors"
    w = torch.tensor([[float("inf"), 0.0], [0.0, 1.0]]).to(torch.float8_e5m2)
    save_file({"W": w}, path)
    with pytest.raises(CheckpointError, match=r"non-finite"):
        models.load(path)


_BAD = "truncated or corrupt safetensors file.*"


def _safetensors(header: object, data: bytes = b"") -> bytes:
    raw = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return struct.pack("<Q", len(raw)) + raw + data


@pytest.mark.parametrize(
    ("blob", "match"),
    [
        (
            struct.pack("<Q", 10**15) + b"{}",
            _BAD + "header length declares",
        ),
        (
            _safetensors(
                {"W": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 16]}},
                bytes(16),
            ),
            _BAD + r"tensor 'W' \(shape \(1000000, 1000000\), F32\) declares",
        ),
        (
            _safetensors(
                {"W": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}}, bytes(16)
            ),
            _BAD + "do not match shape",
        ),
        (
            _safetensors(b"[" * 100000 + b"]" * 100000),
            _BAD + "header",
        ),
        (
            _safetensors({"W": {"dtype": "F32", "shape": "x"}}),
            _BAD + "header entry 'W'",
        ),
        (
            _safetensors({"W": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 1]}}, b"\0"),
            "unsupported safetensors dtype 'Q9'",
        ),
    ],
    ids=["length", "shape", "offsets", "deep-json", "entry", "dtype"],
)
def test_hostile_safetensors_headers(tmp_path: Path, blob: bytes, match: str) -> None:
    path = tmp_path / "h.safetensors"
    path.write_bytes(blob)
    for call in (models.load, models.list_tensors):
        with pytest.raises(CheckpointError, match=match):
            call(path)


def test_own_safetensors_header_check(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "model.safetensors"
    save_file({"cell.weight_hh": torch.zeros(70, 70)}, path)
    _files.check_safetensors(path, max_size=70)
    with pytest.raises(SizeLimitError, match=r"'cell.weight_hh' has shape \(70, 70\)"):
        _files.check_safetensors(path, max_size=69)


def _finishes(call, path: Path) -> BaseException | None:
    """Run ``call(path)`` in a thread; fail if it blocks (a FIFO open would)."""
    box: list[BaseException | None] = [None]

    def target() -> None:
        try:
            call(path)
        except BaseException as err:  # handed to the test
            box[0] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=20)
    if thread.is_alive():  # unblock the reader so that the test process can end
        with open(path, "wb"):
            pass
        pytest.fail(f"{call.__name__} blocked on {path}")
    return box[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "weights.npy"
    os.mkfifo(fifo)
    for call in (models.load, models.list_tensors):
        err = _finishes(call, fifo)
        assert isinstance(err, CheckpointError), err
        assert "a FIFO, not a regular file" in str(err)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_device_is_refused() -> None:
    err = _finishes(models.load, Path("/dev/zero"))
    assert isinstance(err, CheckpointError) and "a device, not a regular file" in str(err)


def test_own_checkpoint_size_limit(tmp_path: Path) -> None:
    model = models.build("rnn", input_size=2, hidden_size=8, output_size=3, seed=0)
    path = models.save(model, tmp_path / "run")
    with pytest.raises(CheckpointError, match="hidden_size 8 is larger than the size limit 7"):
        models.load(path, max_size=7)
    assert models.load(path, max_size=8).recurrent_matrix().shape == (8, 8)
    # a config that claims a huge hidden size is refused before any model is built
    config = json.loads((path / "config.json").read_text())
    config["hidden_size"] = 1_000_000
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="hidden_size 1000000 is larger"):
        models.load(path)
