"""``rnnscope analyze``: measures against theory and numpy, formats, --list/--matrix/--plots."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
from safetensors.numpy import save_file

import models
from tests.rnnscope.helpers import assert_bad_input, invoke

FIELDS = {
    "name",
    "size",
    "spectral_radius",
    "spectral_radius_power",
    "spectral_norm",
    "spectral_norm_power",
    "henrici",
    "henrici_relative",
    "chain_length",
    "chain_order",
    "chain_order_null",
    "orthogonality_error",
    "eigenvector_condition",
    "kreiss_lower_bound",
    "max_transient_growth",
    "pseudospectral_radius",
    "source_keys",
}


def _analyze_json(*args: object) -> dict:
    result = invoke(["analyze", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_chain_matrix_matches_theory(chain_npy: Path) -> None:
    data = _analyze_json(chain_npy, "--eps", "1e-3,1e-2,1e-1")
    assert data["format"] == "matrix"
    (m,) = data["matrices"]
    assert FIELDS <= set(m)
    assert m["size"] == 6
    # A nilpotent chain: every eigenvalue is 0, ||W||_2 = 1, Henrici = ||W||_F = sqrt(5).
    assert m["spectral_radius"] == pytest.approx(0.0, abs=1e-12)
    assert m["spectral_norm"] == pytest.approx(1.0, abs=1e-12)
    assert m["henrici"] == pytest.approx(math.sqrt(5), rel=1e-12)
    assert m["henrici_relative"] == pytest.approx(1.0, rel=1e-12)
    assert m["chain_length"] == 6
    assert m["chain_order"] == pytest.approx(6.0, rel=0.03)  # slope of sigma_min ~ r**6
    assert m["chain_order"] > m["chain_order_null"] + 1
    assert m["orthogonality_error"] == pytest.approx(1.0, rel=1e-12)
    assert m["max_transient_growth"] == pytest.approx(1.0, rel=1e-12)
    radii = [m["pseudospectral_radius"][k] for k in ("0.001", "0.01", "0.1")]
    # rho(W) + eps <= rho_eps(W) <= ||W||_2 + eps, and rho_eps grows with eps.
    for eps, radius in zip((1e-3, 1e-2, 1e-1), radii, strict=True):
        assert eps - 1e-9 <= radius <= 1.0 + eps + 1e-9
    assert radii == sorted(radii)
    # For a nilpotent Jordan block rho_eps ~ eps^(1/n): far above eps.
    assert radii[0] > 0.1


def test_orthogonal_matrix_is_normal(tmp_path: Path) -> None:
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((8, 8)))
    np.save(tmp_path / "q.npy", q)
    (m,) = _analyze_json(tmp_path / "q.npy", "--eps", "0.05")["matrices"]
    assert m["spectral_radius"] == pytest.approx(1.0, abs=1e-10)
    assert m["spectral_norm"] == pytest.approx(1.0, abs=1e-10)
    assert m["henrici"] == pytest.approx(0.0, abs=1e-6)
    assert m["orthogonality_error"] == pytest.approx(0.0, abs=1e-10)
    assert m["max_transient_growth"] == pytest.approx(1.0, abs=1e-8)
    # For a normal matrix the eps-pseudospectrum is the union of eps-discs around eigenvalues.
    assert m["pseudospectral_radius"]["0.05"] == pytest.approx(1.05, abs=1e-5)


def test_agrees_with_numpy_and_power_method(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    A = np.diag([0.9, 0.5, 0.3, -0.2, 0.1]) + 0.05 * rng.standard_normal((5, 5))
    np.save(tmp_path / "a.npy", A)
    (m,) = _analyze_json(tmp_path / "a.npy")["matrices"]
    assert m["spectral_radius"] == pytest.approx(np.max(np.abs(np.linalg.eigvals(A))), rel=1e-10)
    assert m["spectral_norm"] == pytest.approx(np.linalg.norm(A, 2), rel=1e-10)
    assert m["spectral_radius_power"] == pytest.approx(m["spectral_radius"], rel=1e-6)
    assert m["spectral_norm_power"] == pytest.approx(m["spectral_norm"], rel=1e-6)
    T, _ = scipy.linalg.schur(A, output="complex")
    strict = np.linalg.norm(np.triu(T, 1))
    assert m["henrici"] == pytest.approx(strict, rel=1e-8)
    # Kreiss matrix theorem: 1 <= K(A) <= sup_k ||A^k||_2 (attained early here, rho < 1).
    assert 1.0 - 1e-6 <= m["kreiss_lower_bound"] <= m["max_transient_growth"] + 1e-6
    assert m["eigenvector_condition"] >= 1.0 - 1e-9


def test_rnnscope_checkpoint_table_names_format_and_formula(tiny_runs: dict[str, Path]) -> None:
    result = invoke(["analyze", tiny_runs["lstm"]])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "format: rnnscope" in out
    for gate in ("i", "f", "g", "o"):
        assert f"  {gate}: {gate} = " in out  # one formula line per matrix
    assert "spectral radius" in out and "Henrici" in out


def test_rnnscope_checkpoint_json(tiny_runs: dict[str, Path]) -> None:
    data = _analyze_json(tiny_runs["lstm"])
    assert data["format"] == "rnnscope"
    assert data["kind"] == "lstm"
    assert [m["name"] for m in data["matrices"]] == ["i", "f", "g", "o"]
    loaded = models.load(tiny_runs["lstm"])
    for m in data["matrices"]:
        W = loaded.matrices[m["name"]].double().numpy()
        assert m["spectral_norm"] == pytest.approx(np.linalg.norm(W, 2), rel=1e-9)
        assert m["source_keys"] == loaded.source_keys[m["name"]]


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_json_is_strict_even_with_overflow(tmp_path: Path) -> None:
    np.save(tmp_path / "big.npy", 1e200 * np.eye(3))
    result = invoke(["analyze", tmp_path / "big.npy", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    (m,) = data["matrices"]
    assert m["max_transient_growth"] is None  # ||W^k|| overflows: written as null


def test_skipped_blocks_are_named_on_stderr_and_in_json(tmp_path: Path) -> None:
    path = tmp_path / "weights.npz"
    np.savez(path, W=np.eye(3), U=np.ones((3, 2)))
    result = invoke(["analyze", path, "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [m["name"] for m in data["matrices"]] == ["W"]
    assert "U" in data["skipped"] and "non-square" in data["skipped"]["U"]
    assert "skipped U: non-square" in result.stderr


def test_list_prints_every_tensor(tmp_path: Path) -> None:
    path = tmp_path / "state.safetensors"
    save_file(
        {"enc.rec": np.eye(4, dtype=np.float32), "enc.inp": np.ones((4, 2), np.float32)}, path
    )
    result = invoke(["analyze", path, "--list"])
    assert result.exit_code == 0, result.stderr
    assert "enc.rec" in result.stdout and "4x4" in result.stdout
    assert "enc.inp" in result.stdout and "4x2" in result.stdout
    listed = json.loads(invoke(["analyze", path, "--list", "--json"]).stdout)
    assert {(t["key"], t["square"]) for t in listed["tensors"]} == {
        ("enc.rec", True),
        ("enc.inp", False),
    }


def test_matrix_option_analyzes_named_tensors(tmp_path: Path) -> None:
    path = tmp_path / "state.safetensors"
    rec = np.diag(np.ones(3, np.float32), -1)
    save_file({"enc.rec": rec, "enc.inp": np.ones((4, 2), np.float32)}, path)
    data = _analyze_json(path, "--matrix", "enc.rec")
    assert data["format"] == "named"
    (m,) = data["matrices"]
    assert m["source_keys"] == ["enc.rec"]
    assert m["chain_length"] == 4
    missing = invoke(["analyze", path, "--matrix", "enc.nope"])
    assert_bad_input(missing, "enc.nope", "enc.rec")


def test_convention_row_transposes(tmp_path: Path) -> None:
    path = tmp_path / "kernel.npy"
    np.save(path, np.diag(np.ones(4), 1))
    data = _analyze_json(path, "--convention", "row")
    expected = models.load(path, convention="row")
    assert data["matrices"][0]["formula"] == expected.formulas["W"]
    assert "transposed" in data["matrices"][0]["formula"]
    assert_bad_input(invoke(["analyze", path, "--convention", "diagonal"]), "--convention")


def test_nothing_recognised_suggests_list(tmp_path: Path) -> None:
    path = tmp_path / "classifier.safetensors"
    save_file({"fc.weight": np.ones((3, 5), np.float32), "fc.bias": np.ones(3, np.float32)}, path)
    assert_bad_input(invoke(["analyze", path]), "--list")


def test_plots_writes_three_deterministic_svgs_per_matrix(
    tiny_runs: dict[str, Path], tmp_path: Path
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        result = invoke(["analyze", tiny_runs["lstm"], "--plots", folder, "--grid", "20"])
        assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(
        f"{g}-{fig}.svg" for g in "ifgo" for fig in ("pseudospectrum", "schur", "transient")
    )
    for name in names:
        content = (first / name).read_bytes()
        assert content == (second / name).read_bytes()
        assert content.lstrip().startswith(b"<?xml") and b"<svg" in content


def test_power_method_radius_is_null_when_it_does_not_converge(tmp_path: Path) -> None:
    # every eigenvalue of an orthogonal matrix has modulus 1: no power iteration can single one
    # out, and the report must not print an unconverged estimate as the spectral radius
    q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((40, 40)))
    np.save(tmp_path / "q.npy", q)
    m = _analyze_json(tmp_path / "q.npy", "--eps", "0.1")["matrices"][0]
    assert m["power_converged"] is False and m["spectral_radius_power"] is None
    assert m["spectral_radius"] == pytest.approx(1.0, abs=1e-12)
    # a dominant eigenvalue well separated from the rest converges to the exact radius
    d = np.diag(np.linspace(0.1, 0.8, 40))
    d[0, 0] = 2.0
    np.save(tmp_path / "d.npy", q @ d @ q.T)
    m = _analyze_json(tmp_path / "d.npy", "--eps", "0.1")["matrices"][0]
    assert m["power_converged"] is True
    assert m["spectral_radius_power"] == pytest.approx(2.0, rel=1e-9)


def test_nru_memory_block_is_reported_not_hidden(tmp_path: Path) -> None:
    import torch

    from tests.models.test_formats import _nru_state

    torch.save(_nru_state(inputs=3, hidden=6, memory=4), tmp_path / "model.p")
    data = _analyze_json(tmp_path / "model.p", "--eps", "0.1")
    assert data["format"] == "nru"
    assert [m["name"] for m in data["matrices"]] == ["W"]
    assert data["other_blocks"] == {"memory": [6, 4]}
    result = invoke(["analyze", tmp_path / "model.p", "--eps", "0.1"])
    assert result.exit_code == 0, result.stderr
    assert "memory: 6x4 block" in result.stdout


def test_exprnn_cache_difference_is_printed(tmp_path: Path) -> None:
    import torch

    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 5))
    S = np.triu(A, 1) - np.triu(A, 1).T
    stale = scipy.linalg.expm(S) + 0.01  # a cached _B from before the last optimizer step
    state = {
        "rnn.recurrent_kernel.A": torch.tensor(A),
        "rnn.recurrent_kernel.base": torch.eye(5, dtype=torch.float64),
        "rnn.recurrent_kernel._B": torch.tensor(stale),
    }
    torch.save(state, tmp_path / "exprnn.pt")
    result = invoke(["analyze", tmp_path / "exprnn.pt", "--eps", "0.1"])
    assert result.exit_code == 0, result.stderr
    assert "format: exprnn" in result.stdout
    assert "note:" in result.stdout and "_B" in result.stdout
