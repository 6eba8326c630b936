"""Complex-valued matrices are analysed in complex128, never as their real part."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch

from rnnscope.analysis import as_numpy
from rnnscope.jsonio import dumps, jsonable
from rnnscope.settings import TRANSIENT_STEPS
from tests.rnnscope.helpers import invoke


def _strict(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def _analyze_json(*args: object) -> dict:
    result = invoke(["analyze", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    assert "imaginary" not in result.stderr, result.stderr
    return _strict(result.stdout)


def _random_complex(n: int, seed: int, radius: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    return radius * A / np.max(np.abs(np.linalg.eigvals(A)))


def test_one_plus_i_times_identity(tmp_path: Path) -> None:
    np.save(tmp_path / "w.npy", (1 + 1j) * np.eye(4))
    (m,) = _analyze_json(tmp_path / "w.npy", "--eps", "0.01,0.1")["matrices"]
    root2 = math.sqrt(2.0)
    assert m["spectral_radius"] == pytest.approx(root2, rel=1e-12)
    assert m["spectral_radius_power"] == pytest.approx(root2, rel=1e-8)
    assert m["spectral_norm"] == pytest.approx(root2, rel=1e-12)
    assert m["spectral_norm_power"] == pytest.approx(root2, rel=1e-8)
    assert m["henrici"] == pytest.approx(0.0, abs=1e-12)
    assert m["chain_length"] == 1
    # W^H W - I = I, so the Frobenius norm is sqrt(N); the real part (I) would give 0.
    assert m["orthogonality_error"] == pytest.approx(2.0, rel=1e-12)
    assert m["eigenvector_condition"] == pytest.approx(1.0, rel=1e-12)
    assert m["max_transient_growth"] == pytest.approx(root2**TRANSIENT_STEPS, rel=1e-9)
    # A normal matrix: its eps-pseudospectrum is the union of eps-discs around the eigenvalues.
    assert m["pseudospectral_radius"]["0.01"] == pytest.approx(root2 + 0.01, rel=1e-6)
    assert m["pseudospectral_radius"]["0.1"] == pytest.approx(root2 + 0.1, rel=1e-6)


def test_one_plus_i_terminal_table(tmp_path: Path) -> None:
    np.save(tmp_path / "w.npy", (1 + 1j) * np.eye(3))
    result = invoke(["analyze", tmp_path / "w.npy"])
    assert result.exit_code == 0, result.stderr
    assert "imaginary" not in result.stderr
    (row,) = [line for line in result.stdout.splitlines() if "spectral radius ρ" in line]
    assert row.split()[-1] == "1.414"


def test_random_complex_matrix_agrees_with_numpy(tmp_path: Path) -> None:
    A = _random_complex(7, seed=3, radius=0.9)
    np.save(tmp_path / "a.npy", A)
    (m,) = _analyze_json(tmp_path / "a.npy")["matrices"]
    eigenvalues = np.linalg.eigvals(A)
    assert m["spectral_radius"] == pytest.approx(np.max(np.abs(eigenvalues)), rel=1e-10)
    assert m["spectral_radius_power"] == pytest.approx(m["spectral_radius"], rel=1e-6)
    assert m["spectral_norm"] == pytest.approx(np.linalg.norm(A, 2), rel=1e-10)
    assert m["spectral_norm_power"] == pytest.approx(m["spectral_norm"], rel=1e-6)
    # Henrici departure: sqrt(||A||_F^2 - sum |lambda|^2) = ||strict upper part of Schur T||_F.
    T, _ = scipy.linalg.schur(A, output="complex")
    assert m["henrici"] == pytest.approx(np.linalg.norm(np.triu(T, 1)), rel=1e-8)
    assert m["henrici"] == pytest.approx(
        math.sqrt(np.linalg.norm(A) ** 2 - np.sum(np.abs(eigenvalues) ** 2)), rel=1e-6
    )
    assert m["orthogonality_error"] == pytest.approx(
        np.linalg.norm(A.conj().T @ A - np.eye(7)), rel=1e-10
    )
    _, V = np.linalg.eig(A)
    assert m["eigenvector_condition"] >= 1.0
    assert m["eigenvector_condition"] <= np.linalg.cond(V) * (1 + 1e-8)
    powers = [np.linalg.norm(np.linalg.matrix_power(A, k), 2) for k in range(TRANSIENT_STEPS + 1)]
    assert m["max_transient_growth"] == pytest.approx(max(powers), rel=1e-8)
    assert 1.0 - 1e-6 <= m["kreiss_lower_bound"] <= m["max_transient_growth"] + 1e-6
    for eps, radius in m["pseudospectral_radius"].items():
        assert m["spectral_radius"] + float(eps) - 1e-9 <= radius
        assert radius <= m["spectral_norm"] + float(eps) + 1e-9
    # The real part alone has a different spectrum: the numbers above are not its numbers.
    assert m["spectral_radius"] != pytest.approx(np.max(np.abs(np.linalg.eigvals(A.real))))


@pytest.mark.parametrize("writer", ["torch", "safetensors", "npz"])
def test_complex_tensors_in_other_files(tmp_path: Path, writer: str) -> None:
    W = torch.tensor((1 + 1j) * np.eye(3), dtype=torch.complex64)
    if writer == "torch":
        path = tmp_path / "w.pt"
        torch.save({"W": W}, path)
    elif writer == "safetensors":
        from safetensors.torch import save_file

        path = tmp_path / "w.safetensors"
        save_file({"W": W}, str(path))
    else:
        path = tmp_path / "w.npz"
        np.savez(path, W=W.numpy())
    (m,) = _analyze_json(path)["matrices"]
    assert m["spectral_radius"] == pytest.approx(math.sqrt(2.0), rel=1e-6)
    assert m["spectral_norm"] == pytest.approx(math.sqrt(2.0), rel=1e-6)


def test_row_convention_transposes_without_conjugating(tmp_path: Path) -> None:
    A = _random_complex(5, seed=4, radius=0.8) + 2j * np.diag(np.ones(4), 1)
    np.save(tmp_path / "a.npy", A)
    column = _analyze_json(tmp_path / "a.npy")["matrices"][0]
    row = _analyze_json(tmp_path / "a.npy", "--convention", "row")["matrices"][0]
    # A and A^T share eigenvalues, singular values and departure from normality.
    for key in ("spectral_radius", "spectral_norm", "henrici"):
        assert row[key] == pytest.approx(column[key], rel=1e-9)
    assert row["orthogonality_error"] == pytest.approx(
        np.linalg.norm(A.conj() @ A.T - np.eye(5)), rel=1e-10
    )


def test_pseudospectrum_figure_uses_imaginary_part(tmp_path: Path) -> None:
    np.save(tmp_path / "c.npy", (1 + 1j) * np.eye(3))
    np.save(tmp_path / "r.npy", np.eye(3))
    for stem in ("c", "r"):
        result = invoke(
            [
                "pseudospectrum",
                tmp_path / f"{stem}.npy",
                "--grid",
                "20",
                "--out",
                tmp_path / f"{stem}.svg",
            ]
        )
        assert result.exit_code == 0, result.stderr
        assert "imaginary" not in result.stderr
    assert (tmp_path / "c.svg").read_bytes() != (tmp_path / "r.svg").read_bytes()


def test_as_numpy_keeps_complex_tensors() -> None:
    W = torch.tensor([[1 + 2j, 3j], [0, -1j]], dtype=torch.complex64)
    for tensor in (W, W.conj(), -W.conj()):
        arr = as_numpy(tensor)
        assert arr.dtype == np.complex128
        expected = tensor.resolve_conj().resolve_neg().to(torch.complex128).numpy()
        np.testing.assert_array_equal(arr, expected)
    assert as_numpy(torch.eye(2, dtype=torch.bfloat16)).dtype == np.float64
    assert as_numpy(np.eye(2, dtype=np.complex64)).dtype == np.complex128


def test_complex_scalars_serialise_as_pairs() -> None:
    data = {"eig": np.complex128(1 + 2j), "eigs": np.array([1j, np.inf + 0j]), "z": 3 - 1j}
    assert jsonable(data) == {
        "eig": [1.0, 2.0],
        "eigs": [[0.0, 1.0], [None, 0.0]],
        "z": [3.0, -1.0],
    }
    assert _strict(dumps(data)) == jsonable(data)
