"""A table of hostile and huge inputs through every command: exit code 2, exactly one
``error:`` line on stderr without a traceback or a raw control character, and no new files.

Every input is built here, in ``tmp_path``; the commands run in-process.
"""

from __future__ import annotations

import io
import json
import os
import struct
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.rnnscope.helpers import assert_bad_input, invoke

Builder = Callable[[Path], list[object]]


# -- hostile files ---------------------------------------------------------------------------


def _npy_header(shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def claim_npy(d: Path) -> Path:
    """192 bytes whose header claims 10**62 elements."""
    path = d / "claim.npy"
    path.write_bytes(_npy_header((10**31, 10**31)) + bytes(64))
    return path


def huge_npy(d: Path) -> Path:
    """A genuine 20000 x 20000 float64 .npy (sparse on disk)."""
    path = d / "huge.npy"
    with open(path, "wb") as fh:
        fh.write(_npy_header((20000, 20000)))
        fh.truncate(fh.tell() + 20000 * 20000 * 8)
    return path


def bomb_npz(d: Path) -> Path:
    """A small .npz whose zeros inflate to 71 MB: a 4200 x 4200 matrix."""
    path = d / "bomb.npz"
    np.savez_compressed(path, W=np.zeros((4200, 4200), dtype=np.float32))
    return path


def lying_npz(d: Path) -> Path:
    path = d / "lie.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("W.npy", _npy_header((10**6, 10**6)) + bytes(32))
    return path


def zero_stride_pt(d: Path) -> Path:
    path = d / "zs.pt"
    torch.save({"weight_hh_l0": torch.zeros(1).as_strided((10**6, 10**6), (0, 0))}, path)
    return path


def deep_pt(d: Path) -> Path:
    path = d / "deep.pt"
    obj: object = torch.eye(2)
    for _ in range(3000):
        obj = {"a": obj}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)
    try:
        torch.save(obj, path)
    finally:
        sys.setrecursionlimit(limit)
    return path


def pickle_pt(d: Path) -> Path:
    """A torch file whose pickle calls os.system: must be refused, never run."""

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {d / 'pwned'}",))

    path = d / "evil.pt"
    torch.save({"state_dict": {"w": torch.eye(2)}, "x": Payload()}, path)
    return path


def fp8_inf(d: Path) -> Path:
    from safetensors.torch import save_file

    path = d / "inf.safetensors"
    w = torch.tensor([[float("inf"), 0.0], [0.0, 1.0]]).to(torch.float8_e5m2)
    save_file({"W": w}, path)
    return path


def st_blob(name: str, header: object, data: bytes = b"") -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        raw = header if isinstance(header, bytes) else json.dumps(header).encode()
        path = d / name
        path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
        return path

    return build


def st_huge_length(d: Path) -> Path:
    path = d / "len.safetensors"
    path.write_bytes(struct.pack("<Q", 10**15) + b"{}")
    return path


st_deep = st_blob("deep.safetensors", b"[" * 100000 + b"]" * 100000)
st_offsets = st_blob(
    "off.safetensors",
    {"W": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 16]}},
    bytes(16),
)


def fifo(d: Path) -> Path:
    path = d / "pipe.npy"
    os.mkfifo(path)
    return path


def empty(d: Path) -> Path:
    path = d / "empty.pt"
    path.write_bytes(b"")
    return path


def truncated_pt(d: Path) -> Path:
    path = d / "cut.pt"
    torch.save(torch.nn.RNN(2, 3).state_dict(), path)
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    return path


def escape_npy(d: Path) -> Path:
    path = d / "w.npy"
    np.save(path, np.eye(2))
    return path


def regular_file(d: Path, name: str = "file.txt") -> Path:
    path = d / name
    path.write_text("not a folder")
    return path


def report_with_file_figures(d: Path) -> Path:
    out = d / "rep"
    out.mkdir()
    (out / "figures").write_text("a regular file where the report keeps its figures")
    return out


LONG = "n" * 300
ESC = "\x1b]0;owned\x07\x1b[2J"


def _w(d: Path) -> Path:
    return escape_npy(d)


# -- the table -------------------------------------------------------------------------------

CASES: dict[str, tuple[Builder, str]] = {
    # analyze: foreign files
    "analyze-npy-claims-1e62": (lambda d: ["analyze", claim_npy(d)], "truncated or corrupt"),
    "analyze-npy-20000": (lambda d: ["analyze", huge_npy(d)], "--max-size"),
    "analyze-npz-bomb": (lambda d: ["analyze", bomb_npz(d)], "(4200, 4200)"),
    "analyze-npz-member-lies": (lambda d: ["analyze", lying_npz(d)], "corrupt"),
    "analyze-list-npz-member-lies": (lambda d: ["analyze", "--list", lying_npz(d)], "corrupt"),
    "analyze-torch-zero-stride": (lambda d: ["analyze", zero_stride_pt(d)], "(1000000, 1000000)"),
    "analyze-torch-deep": (lambda d: ["analyze", deep_pt(d)], "nested more than 100"),
    "analyze-list-torch-deep": (lambda d: ["analyze", "--list", deep_pt(d)], "nested"),
    "analyze-torch-pickle": (lambda d: ["analyze", pickle_pt(d)], "refused to unpickle"),
    "analyze-list-torch-pickle": (lambda d: ["analyze", "--list", pickle_pt(d)], "unpickle"),
    "analyze-fp8-inf": (lambda d: ["analyze", fp8_inf(d)], "non-finite"),
    "analyze-st-length": (lambda d: ["analyze", st_huge_length(d)], "header length"),
    "analyze-st-deep-json": (lambda d: ["analyze", st_deep(d)], "corrupt"),
    "analyze-list-st-offsets": (lambda d: ["analyze", "--list", st_offsets(d)], "declares"),
    "analyze-fifo": (lambda d: ["analyze", fifo(d)], "FIFO"),
    "analyze-list-fifo": (lambda d: ["analyze", "--list", fifo(d)], "FIFO"),
    "analyze-device": (lambda d: ["analyze", "/dev/zero"], "device"),
    "analyze-empty": (lambda d: ["analyze", empty(d)], "empty"),
    "analyze-truncated-torch": (lambda d: ["analyze", truncated_pt(d)], "cut.pt"),
    # analyze: options
    "analyze-eps-empty-item": (lambda d: ["analyze", _w(d), "--eps", "0.1,,0.2"], "empty item"),
    "analyze-eps-trailing": (lambda d: ["analyze", _w(d), "--eps", "0.1,"], "empty item"),
    "analyze-eps-nan": (lambda d: ["analyze", _w(d), "--eps", "nan"], "--eps"),
    "analyze-matrix-escape": (lambda d: ["analyze", _w(d), "--matrix", ESC], "no tensor named"),
    "analyze-plots-file": (
        lambda d: ["analyze", _w(d), "--plots", regular_file(d)],
        "not a folder",
    ),
    "analyze-plots-long": (lambda d: ["analyze", _w(d), "--plots", d / LONG], "too long"),
    "analyze-max-size-0": (lambda d: ["analyze", _w(d), "--max-size", "0"], "--max-size"),
    "analyze-max-size-over": (lambda d: ["analyze", _w(d), "--max-size", "1"], "(2, 2)"),
    # pseudospectrum
    "ps-out-long": (
        lambda d: ["pseudospectrum", _w(d), "--out", d / f"{LONG}.svg"],
        "too long",
    ),
    "ps-out-suffix": (lambda d: ["pseudospectrum", _w(d), "--out", d / "x.jpg"], ".svg"),
    "ps-out-missing-folder": (
        lambda d: ["pseudospectrum", _w(d), "--out", d / "no" / "x.svg"],
        "does not exist",
    ),
    "ps-npy-20000": (
        lambda d: ["pseudospectrum", huge_npy(d), "--out", d / "x.svg"],
        "--max-size",
    ),
    "ps-eps-empty-item": (
        lambda d: ["pseudospectrum", _w(d), "--out", d / "x.svg", "--eps", "1e-3,,1e-1"],
        "empty item",
    ),
    "ps-fifo": (lambda d: ["pseudospectrum", fifo(d), "--out", d / "x.svg"], "FIFO"),
    "ps-matrix-missing": (
        lambda d: ["pseudospectrum", _w(d), "--out", d / "x.svg", "--matrix", ESC],
        "no tensor named",
    ),
    # attack
    "attack-attacks-empty-item": (
        lambda d: ["attack", _w(d), "--attacks", "pgd,,fgsm"],
        "empty item",
    ),
    "attack-eps-empty-item": (lambda d: ["attack", _w(d), "--eps", ",0.1"], "empty item"),
    "attack-norm": (lambda d: ["attack", _w(d), "--norm", "l7"], "--norm"),
    "attack-deep-torch": (lambda d: ["attack", deep_pt(d)], "nested"),
    "attack-fifo": (lambda d: ["attack", fifo(d)], "FIFO"),
    # report
    "report-figures-is-file": (
        lambda d: ["report", _w(d), "--out", report_with_file_figures(d)],
        "figures",
    ),
    "report-out-is-file": (
        lambda d: ["report", _w(d), "--out", regular_file(d)],
        "not a folder",
    ),
    "report-out-long": (lambda d: ["report", _w(d), "--out", d / LONG], "too long"),
    "report-linf-empty-item": (
        lambda d: ["report", _w(d), "--out", d / "r", "--linf-eps", "0.1,,0.3"],
        "empty item",
    ),
    "report-fifo": (lambda d: ["report", fifo(d), "--out", d / "r"], "FIFO"),
    "report-npy-20000": (lambda d: ["report", huge_npy(d), "--out", d / "r"], "--max-size"),
    "report-deep-torch": (lambda d: ["report", deep_pt(d), "--out", d / "r"], "nested"),
    # train
    "train-seed-2**70": (
        lambda d: ["train", "rnn", "copy", "--out", d / "t", "--seed", str(2**70)],
        "--seed",
    ),
    "train-hidden-200000": (
        lambda d: ["train", "rnn", "copy", "--out", d / "t", "--hidden", "200000"],
        "--hidden",
    ),
    "train-task-param": (
        lambda d: ["train", "rnn", "copy", "--out", d / "t", "--task-param", "x"],
        "KEY=VALUE",
    ),
    "train-lr-nan": (lambda d: ["train", "rnn", "copy", "--out", d / "t", "--lr", "nan"], "--lr"),
    "train-out-long": (lambda d: ["train", "rnn", "copy", "--out", d / LONG], "too long"),
    "train-out-file": (
        lambda d: ["train", "rnn", "copy", "--out", regular_file(d)],
        "not a folder",
    ),
    # demo
    "demo-out-file": (lambda d: ["demo", "--quick", "--out", regular_file(d)], "not a folder"),
    "demo-out-long": (lambda d: ["demo", "--quick", "--out", d / LONG], "too long"),
}


# -- rnnscope checkpoint folders and training runs ------------------------------------------


def own_run(
    d: Path, edit: Callable[[dict], object] | None = None, *, text: str | None = None
) -> Path:
    """A small rnnscope checkpoint folder whose config.json is edited or replaced."""
    import models

    model = models.build("rnn", input_size=2, hidden_size=2, output_size=2, seed=0)
    path = models.save(model, d / "run")
    config_path = path / "config.json"
    if text is not None:
        config_path.write_text(text)
    elif edit is not None:
        config = json.loads(config_path.read_text())
        edit(config)
        config_path.write_text(json.dumps(config))
    return path


def _set(**values: object) -> Callable[[dict], object]:
    return lambda config: config.update(values)


def _task_params_list(config: dict) -> None:
    config["task"] = {"name": "digits", "params": [1, 2]}


def resume_run(d: Path, state: bytes) -> Path:
    out = d / "t"
    out.mkdir()
    (out / "train_state.pt").write_bytes(state)
    return out


def _pickled_state() -> bytes:
    buf = io.BytesIO()
    torch.save({"step": 1, "x": Path("/")}, buf)
    return buf.getvalue()


_DEEP_CONFIG = '{"a":' * 100000 + "1" + "}" * 100000
_TRAIN = ["train", "rnn", "copy", "--hidden", "4"]

CASES.update(
    {
        "analyze-config-hidden-3000": (
            lambda d: ["analyze", own_run(d, _set(hidden_size=3000))],
            "shape mismatch",
        ),
        "analyze-config-hidden-8000": (
            lambda d: ["analyze", own_run(d, _set(hidden_size=8000))],
            "size limit",
        ),
        "attack-config-hidden-1e6": (
            lambda d: ["attack", own_run(d, _set(hidden_size=10**6))],
            "hidden_size 1000000",
        ),
        "ps-config-nested": (
            lambda d: ["pseudospectrum", own_run(d, text=_DEEP_CONFIG), "--out", d / "x.svg"],
            "nested too deeply",
        ),
        "report-config-task-params-list": (
            lambda d: ["report", own_run(d, _task_params_list), "--out", d / "r"],
            "task.params",
        ),
        "train-batch-size-1e9": (
            lambda d: [*_TRAIN, "--out", d / "t", "--batch-size", "1000000000"],
            "limit",
        ),
        "train-task-param-T-1e9": (
            lambda d: [*_TRAIN, "--out", d / "t", "--task-param", "T=1000000000"],
            "limit",
        ),
        "train-resume-empty-state": (
            lambda d: [*_TRAIN, "--out", resume_run(d, b""), "--resume"],
            "empty",
        ),
        "train-resume-truncated-state": (
            lambda d: [*_TRAIN, "--out", resume_run(d, _pickled_state()[:50]), "--resume"],
            "train_state.pt",
        ),
        "train-resume-pickled-state": (
            lambda d: [*_TRAIN, "--out", resume_run(d, _pickled_state()), "--resume"],
            "never unpickled",
        ),
    }
)


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_table_covers_every_command() -> None:
    commands = {name.split("-")[0] for name in CASES}
    assert len(CASES) >= 40
    assert commands == {"analyze", "ps", "attack", "report", "train", "demo"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_input(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build, fragment = CASES[case]
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    args = build(work)
    before = _tree(work)
    result = invoke(args)
    assert_bad_input(result, fragment)
    line = result.stderr.strip()
    assert all(c.isprintable() for c in line), repr(line)
    assert _tree(work) == before, sorted(_tree(work) - before)
    assert not (work / "pwned").exists()


def test_cli_default_size_limit_is_the_loaders() -> None:
    import models.formats
    from rnnscope.options import DEFAULT_MAX_SIZE

    assert DEFAULT_MAX_SIZE == models.formats.DEFAULT_MAX_SIZE == 4096


def test_max_size_raises_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "w.npy"
    np.save(path, np.eye(3))
    assert_bad_input(invoke(["analyze", path, "--max-size", "2"]), "--max-size")
    result = invoke(["analyze", path, "--max-size", "3", "--json", "--eps", "0.1"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["matrices"][0]["size"] == 3


def test_second_train_into_a_locked_folder(tmp_path: Path) -> None:
    from models.checkpoint.lock import folder_lock

    out = tmp_path / "run"
    out.mkdir()
    with folder_lock(out):
        before = _tree(tmp_path)
        result = invoke(["train", "rnn", "copy", "--hidden", "4", "--steps", "1", "--out", out])
        assert_bad_input(result, str(out), str(os.getpid()))
        assert _tree(tmp_path) == before
