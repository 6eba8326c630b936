"""Bad input: exit code 2, one ``error:`` line on stderr, and nothing half-written."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file, save_file

from tests.rnnscope.helpers import assert_bad_input, invoke


def _copy_run(run: Path, tmp_path: Path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(run, target)
    return target


def test_missing_path(tmp_path: Path) -> None:
    for command in (["analyze"], ["attack"], ["pseudospectrum", "--out", tmp_path / "x.svg"]):
        result = invoke([*command, tmp_path / "missing"])
        assert_bad_input(result, "missing")
    assert not (tmp_path / "x.svg").exists()


def test_directory_without_config(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert_bad_input(invoke(["analyze", tmp_path / "empty"]), "config.json")


def test_truncated_safetensors(tiny_rnn: Path, tmp_path: Path) -> None:
    data = (tiny_rnn / "model.safetensors").read_bytes()
    path = tmp_path / "truncated.safetensors"
    path.write_bytes(data[: len(data) // 2])
    assert_bad_input(invoke(["analyze", path]), str(path.name))


def test_corrupted_safetensors(tmp_path: Path) -> None:
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all" + os.urandom(64))
    assert_bad_input(invoke(["analyze", path]), path.name)


def test_corrupted_weights_in_checkpoint_folder(tiny_rnn: Path, tmp_path: Path) -> None:
    run = _copy_run(tiny_rnn, tmp_path)
    weights = run / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-16])
    assert_bad_input(invoke(["analyze", run]))
    assert_bad_input(invoke(["attack", run]))


def _edit_config(run: Path, **changes: object) -> None:
    config = json.loads((run / "config.json").read_text())
    config.update(changes)
    (run / "config.json").write_text(json.dumps(config))


def test_unknown_kind_in_config(tiny_rnn: Path, tmp_path: Path) -> None:
    run = _copy_run(tiny_rnn, tmp_path)
    _edit_config(run, kind="transformer")
    assert_bad_input(invoke(["analyze", run]), "transformer")


def test_mismatched_shapes_in_config(tiny_rnn: Path, tmp_path: Path) -> None:
    run = _copy_run(tiny_rnn, tmp_path)
    _edit_config(run, hidden_size=9)
    assert_bad_input(invoke(["analyze", run]))


def test_nan_weights_in_checkpoint(tiny_rnn: Path, tmp_path: Path) -> None:
    run = _copy_run(tiny_rnn, tmp_path)
    state = load_file(run / "model.safetensors")
    key = next(k for k, v in state.items() if v.ndim == 2 and v.shape[0] == v.shape[1])
    state[key][0, 0] = np.nan
    save_file(state, run / "model.safetensors", metadata={"format": "rnnscope"})
    config = json.loads((run / "config.json").read_text())
    config.pop("weights_sha256", None)
    (run / "config.json").write_text(json.dumps(config))
    assert_bad_input(invoke(["analyze", run]), "nan")


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_matrix(tmp_path: Path, value: float) -> None:
    W = np.eye(3)
    W[1, 2] = value
    np.save(tmp_path / "w.npy", W)
    assert_bad_input(invoke(["analyze", tmp_path / "w.npy"]))
    assert_bad_input(invoke(["pseudospectrum", tmp_path / "w.npy", "--out", tmp_path / "p.svg"]))
    assert not (tmp_path / "p.svg").exists()


def test_non_square_matrix(tmp_path: Path) -> None:
    np.save(tmp_path / "w.npy", np.ones((3, 4)))
    assert_bad_input(invoke(["analyze", tmp_path / "w.npy"]), "3, 4")


class _Marker:
    """Unpickling this object would create a file (it must never happen)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.path, "w"))


def test_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    torch.save({"weight_hh_l0": torch.eye(3), "payload": _Marker(marker)}, path)
    assert not marker.exists()
    for command in (["analyze", path], ["analyze", path, "--list"], ["attack", path]):
        assert_bad_input(invoke(command))
    assert not marker.exists()


def test_unknown_names(tiny_rnn: Path, tmp_path: Path) -> None:
    assert_bad_input(invoke(["train", "rnn", "sudoku", "--out", tmp_path / "r"]), "sudoku")
    assert_bad_input(invoke(["train", "transformer", "digits", "--out", tmp_path / "r"]))
    assert not (tmp_path / "r").exists()
    assert_bad_input(invoke(["attack", tiny_rnn, "--norm", "l3"]), "l3")
    assert_bad_input(invoke(["attack", tiny_rnn, "--attacks", "pgd,telepathy"]), "telepathy")
    assert_bad_input(invoke(["attack", tiny_rnn, "--task", "sudoku"]), "sudoku")
    assert_bad_input(invoke(["train", "rnn", "digits", "--out", tmp_path / "r", "--lr", "-1"]))
    assert_bad_input(
        invoke(["train", "rnn", "digits", "--out", tmp_path / "r", "--constrain", "x"]), "x"
    )


@pytest.mark.parametrize("eps", ["-0.1", "0.1,abc", "nan", "inf", "0", ""])
def test_bad_eps(tiny_rnn: Path, chain_npy: Path, tmp_path: Path, eps: str) -> None:
    assert_bad_input(invoke(["analyze", chain_npy, "--eps", eps]), "--eps")
    assert_bad_input(invoke(["attack", tiny_rnn, "--eps", eps]), "--eps")
    out = tmp_path / "p.svg"
    assert_bad_input(invoke(["pseudospectrum", chain_npy, "--eps", eps, "--out", out]), "--eps")
    assert_bad_input(invoke(["report", tiny_rnn, "--linf-eps", eps, "--out", tmp_path / "r"]))
    assert not out.exists() and not (tmp_path / "r").exists()


def test_output_in_missing_folder(chain_npy: Path, tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "p.svg"
    assert_bad_input(invoke(["pseudospectrum", chain_npy, "--out", out]), "does not exist")
    assert not (tmp_path / "no").exists()


def test_output_suffix(chain_npy: Path, tmp_path: Path) -> None:
    before = sorted(tmp_path.iterdir())
    assert_bad_input(invoke(["pseudospectrum", chain_npy, "--out", tmp_path / "p.jpg"]), ".jpg")
    assert sorted(tmp_path.iterdir()) == before


def test_output_folder_under_a_file(tiny_rnn: Path, chain_npy: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_bad_input(invoke(["report", tiny_rnn, "--out", blocker / "report"]))
    assert_bad_input(invoke(["analyze", chain_npy, "--plots", blocker / "plots"]))
    assert_bad_input(invoke(["train", "rnn", "digits", "--steps", "1", "--out", blocker / "r"]))
    assert_bad_input(invoke(["demo", "--out", blocker]), "not a folder")
    assert_bad_input(invoke(["pseudospectrum", chain_npy, "--out", blocker / "p.svg"]))
    assert blocker.read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_output_folder_not_writable(chain_npy: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = invoke(["pseudospectrum", chain_npy, "--out", locked / "p.svg"])
        assert_bad_input(result, "not writable")
        assert_bad_input(invoke(["report", chain_npy, "--out", locked / "r"]))
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_output_folder_not_writable_even_for_root(chain_npy: Path) -> None:
    # /proc/self is a folder in which nobody, not even root, can create files.
    result = invoke(["pseudospectrum", chain_npy, "--out", "/proc/self/p.svg"])
    assert_bad_input(result, "not writable")


def test_report_with_one_bad_checkpoint_writes_nothing(tiny_rnn: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.npy"
    np.save(bad, np.ones((2, 3)))
    out = tmp_path / "report"
    assert_bad_input(invoke(["report", tiny_rnn, bad, "--out", out, "--samples", "4"]))
    assert not out.exists() or list(out.iterdir()) == []
