"""One compute thread per job, whatever the ambient thread settings and the number of workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnscope.parallel import map_jobs, single_thread
from rnnscope.report import ReportSettings, build_report, write_report

AMBIENT = {"OMP_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "3", "MKL_NUM_THREADS": "3"}

# scipy ships its own OpenBLAS, loaded only with scipy.linalg: first imported inside the
# block, it must still run with one thread.
_LATE_IMPORT = """
import sys
from rnnscope.parallel import single_thread
assert "scipy.linalg" not in sys.modules
with single_thread():
    import scipy.linalg
    import torch
    from threadpoolctl import threadpool_info
    counts = {i["filepath"]: i["num_threads"] for i in threadpool_info()}
    print(torch.get_num_threads(), counts)
    assert torch.get_num_threads() == 1
    assert any("scipy_openblas" in p for p in counts), counts
    assert set(counts.values()) == {1}, counts
"""


def _thread_counts(job: int) -> tuple[int, int, dict[str, int]]:
    """Thread counts seen by a job inside `single_thread` (module level: pickled for workers)."""
    with single_thread():
        import torch
        from threadpoolctl import threadpool_info

        counts = {i["filepath"]: i["num_threads"] for i in threadpool_info()}
        return job, torch.get_num_threads(), counts


def test_libraries_loaded_inside_the_block_get_one_thread() -> None:
    env = {**os.environ, **AMBIENT, "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", _LATE_IMPORT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_every_job_runs_with_one_thread(workers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AMBIENT.items():
        monkeypatch.setenv(name, value)
    results = sorted(map_jobs(_thread_counts, [(1,), (2,), (3,)], workers=workers))
    assert [job for job, _, _ in results] == [1, 2, 3]
    for _, torch_threads, counts in results:
        assert torch_threads == 1
        assert counts and set(counts.values()) == {1}, counts


def _report_bytes(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "timings.json"
    }


def test_report_is_byte_identical_across_workers_and_ambient_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    sources = []
    for name in ("a", "b"):
        # non-normal, so that the pseudospectra and transients depend on every rounding
        matrix = np.triu(rng.standard_normal((12, 12)), 1) + np.diag(rng.uniform(-0.9, 0.9, 12))
        np.save(tmp_path / f"{name}.npy", matrix)
        sources.append(tmp_path / f"{name}.npy")
    settings = ReportSettings(grid=16)
    outputs = []
    for workers, ambient in ((1, 2), (2, 3)):
        for name in AMBIENT:
            monkeypatch.setenv(name, str(ambient))
        before = torch.get_num_threads()
        torch.set_num_threads(ambient)
        try:
            with threadpool_limits(limits=ambient):
                report = build_report(sources, settings, workers=workers)
        finally:
            torch.set_num_threads(before)
        out = tmp_path / f"out-{workers}-{ambient}"
        out.mkdir()
        write_report(report, out)
        outputs.append(_report_bytes(out))
    assert "index.html" in outputs[0]
    assert any(name.startswith("figures") for name in outputs[0])
    for other in outputs[1:]:
        assert other.keys() == outputs[0].keys()
        for name, data in outputs[0].items():
            assert other[name] == data, name
