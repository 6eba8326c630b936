"""``rnnscope pseudospectrum``: figure formats, matrix choice, deterministic output."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rnnscope.helpers import assert_bad_input, invoke

MAGIC = {".svg": b"<?xml", ".png": b"\x89PNG", ".pdf": b"%PDF"}


@pytest.mark.parametrize("suffix", sorted(MAGIC))
def test_formats(chain_npy: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"ps{suffix}"
    result = invoke(
        ["pseudospectrum", chain_npy, "--grid", "20", "--eps", "0.01,0.1", "--out", out]
    )
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().startswith(MAGIC[suffix])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_same_input_gives_the_same_svg(chain_npy: Path, tmp_path: Path) -> None:
    outs = [tmp_path / "a.svg", tmp_path / "b.svg"]
    for out in outs:
        assert invoke(["pseudospectrum", chain_npy, "--grid", "20", "--out", out]).exit_code == 0
    assert outs[0].read_bytes() == outs[1].read_bytes()


def test_matrix_choice(tiny_runs: dict[str, Path], tmp_path: Path) -> None:
    out_g, out_f = tmp_path / "g.svg", tmp_path / "f.svg"
    default = tmp_path / "default.svg"
    lstm = tiny_runs["lstm"]
    for args, out in ((["--matrix", "g"], out_g), (["--matrix", "f"], out_f), ([], default)):
        result = invoke(["pseudospectrum", lstm, *args, "--grid", "20", "--out", out])
        assert result.exit_code == 0, result.stderr
    assert default.read_bytes() == out_g.read_bytes()  # the principal LSTM matrix is g
    assert out_f.read_bytes() != out_g.read_bytes()
    bad = invoke(["pseudospectrum", lstm, "--matrix", "zz", "--out", tmp_path / "z.svg"])
    assert_bad_input(bad, "zz")
    assert not (tmp_path / "z.svg").exists()


def test_matrix_names_a_key_of_a_file_of_unrecognised_tensors(tmp_path: Path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    path = tmp_path / "t.safetensors"
    save_file({"$\\foo$": 0.5 * np.eye(3), "b": np.diag([1.0, 2.0, 3.0]), "v": np.ones(3)}, path)
    outs = {key: tmp_path / f"{stem}.svg" for key, stem in (("$\\foo$", "foo"), ("b", "b"))}
    for key, out in outs.items():
        result = invoke(["pseudospectrum", path, "--matrix", key, "--grid", "20", "--out", out])
        assert result.exit_code == 0, result.stderr
        assert out.read_bytes().startswith(b"<?xml")
    assert outs["b"].read_bytes() != outs["$\\foo$"].read_bytes()
    bad = invoke(["pseudospectrum", path, "--matrix", "v", "--out", tmp_path / "v.svg"])
    assert_bad_input(bad, "v")
    assert not (tmp_path / "v.svg").exists()
    # Without --matrix the file is still refused with the hint to name a key.
    bad = invoke(["pseudospectrum", path, "--out", tmp_path / "n.svg"])
    assert_bad_input(bad, "--matrix")
