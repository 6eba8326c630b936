"""Sweeps on a 2-worker Dask LocalCluster: results, reruns, a killed worker, the fallback."""

from __future__ import annotations

import csv
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from rnnscope.sweep import (
    SweepListener,
    load_spec,
    parse_spec,
    plan_sweep,
    run_points,
    run_sweep,
)
from rnnscope.sweep.server import WORKER_MODULES, WORKER_START_METHOD
from tests.rnnscope.helpers import invoke

distributed = pytest.importorskip("distributed")

STEPS = 40
SPEC = f"""
name = "tiny"
[task]
name = "digits"
params = {{ permuted = true }}
[model]
kind = "rnn"
hidden = 8
nonlinearity = "tanh"
[grid]
init = ["orthogonal", {{ name = "chain", alpha = [1.0] }}]
seed = [0, 1]
[train]
steps = {STEPS}
batch_size = 16
[analyze]
eps = [0.01, 0.1]
[attack]
norms = ["linf"]
linf_eps = [0.03, 0.1, 0.3]
attacks = ["fgsm", "pgd"]
samples = 16
steps = 5
"""


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "tiny.toml"
    path.write_text(SPEC)
    return path


@pytest.fixture(scope="module")
def cluster() -> Any:
    """A 2-worker LocalCluster shared by the tests of this module, and a client of it.

    Its workers come from the worker server, as those of ``rnnscope sweep`` do: a killed
    worker is forked from it again.
    """
    import dask.config

    from rnnscope.sweep.runner import LOCAL_CLUSTER_CONFIG
    from rnnscope.sweep.server import start_worker_server

    start_worker_server()
    with (
        dask.config.set(LOCAL_CLUSTER_CONFIG),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as local,
        distributed.Client(local) as client,
    ):
        yield local, client


@pytest.fixture(scope="module")
def dask_sweep(
    spec_file: Path, cluster: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The 4-point sweep run by the CLI on the 2-worker LocalCluster."""
    out = tmp_path_factory.mktemp("sweep") / "dask"
    result = invoke(["sweep", spec_file, "--out", out, "--scheduler", cluster[0].scheduler_address])
    return {"out": out, "result": result}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_local_cluster_runs_every_point(spec_file: Path, dask_sweep: dict[str, Any]) -> None:
    result, out = dask_sweep["result"], dask_sweep["out"]
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "Dask scheduler tcp://" in result.stderr
    assert "not installed" not in result.stderr
    plan = plan_sweep(load_spec(spec_file))
    rows = _rows(out / "results.csv")
    assert [row["id"] for row in rows] == [p.id for p in plan.points]
    for row in rows:
        assert row["status"] == "ok", row
        assert int(row["steps"]) == STEPS
        assert 0.0 <= float(row["test_metric"]) <= 1.0
        assert float(row["spectral_radius"]) > 0
        assert float(row["spectral_norm"]) >= float(row["spectral_radius"]) - 1e-9
        # the pseudospectral radius is at least rho + eps for any matrix
        for eps in ("0.01", "0.1"):
            assert float(row[f"pseudospectral_radius_{eps}"]) >= (
                float(row["spectral_radius"]) + float(eps) - 1e-6
            )
        curve = [float(row[f"linf_robust_{e}"]) for e in ("0.03", "0.1", "0.3")]
        assert curve == sorted(curve, reverse=True)
        assert curve[0] <= float(row["linf_clean_accuracy"])
        folder = out / "runs" / row["id"]
        for name in ("model.safetensors", "config.json", "train_state.pt", "result.json"):
            assert (folder / name).is_file(), (folder, name)
    chains = [row for row in rows if row["init"] == "chain"]
    assert {row["alpha"] for row in chains} == {"1.0"}
    assert all(row["chain_length"] for row in chains)
    data = json.loads((out / "results.json").read_text())
    assert data["sweep"]["points"] == data["sweep"]["finished"] == 4
    assert str(out) not in (out / "results.json").read_text()  # no absolute paths


def test_rerun_skips_finished_points_and_is_byte_identical(
    spec_file: Path, dask_sweep: dict[str, Any]
) -> None:
    out = dask_sweep["out"]
    before = {name: (out / name).read_bytes() for name in ("results.csv", "results.json")}
    stamps = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/result.json")}
    result = invoke(["sweep", spec_file, "--out", out, "--workers", "2"])
    assert result.exit_code == 0, result.stderr
    assert "4 finished earlier, 0 run now" in result.stdout
    assert "LocalCluster" not in result.stderr  # nothing to run: no cluster is started
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    for name, data in before.items():
        assert (out / name).read_bytes() == data


def test_same_sweep_from_scratch_in_process_is_byte_identical(
    spec_file: Path, dask_sweep: dict[str, Any], tmp_path: Path
) -> None:
    plan = plan_sweep(load_spec(spec_file))
    outcome = run_sweep(plan, tmp_path / "inline", in_process=True)
    assert set(outcome.statuses.values()) == {"ok"}
    for name in ("results.csv", "results.json"):
        assert (tmp_path / "inline" / name).read_bytes() == (dask_sweep["out"] / name).read_bytes()


def _kill_mid_training(client: Any, runs: Path, killed: list[str], stop: threading.Event) -> None:
    """Kill the worker process that is training a point between two checkpoints."""
    while not stop.is_set():
        for address, keys in client.processing().items():
            for key in keys:
                folder = runs / str(key).removeprefix("rnnscope-sweep-").rsplit("-", 1)[0]
                try:
                    config = json.loads((folder / "config.json").read_text())
                except (OSError, ValueError):
                    continue
                if (folder / "train_state.pt").exists() and config["training"]["step"] < STEPS:
                    pid = client.run(os.getpid, workers=[address])[address]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(folder.name)
                    return
        time.sleep(0.02)


def test_killed_worker_loses_no_point(
    spec_file: Path, dask_sweep: dict[str, Any], cluster: Any, tmp_path: Path
) -> None:
    plan = plan_sweep(load_spec(spec_file))
    out = tmp_path / "killed"
    killed: list[str] = []
    stop = threading.Event()
    listener = SweepListener()
    local, client = cluster
    killer = threading.Thread(
        target=_kill_mid_training, args=(client, out / "runs", killed, stop), daemon=True
    )
    killer.start()
    try:
        outcome = run_sweep(plan, out, scheduler=local.scheduler_address, listener=listener)
    finally:
        stop.set()
        killer.join(timeout=10)
    assert killed, "no point was caught between two checkpoints"
    assert set(outcome.statuses.values()) == {"ok"}, outcome.statuses
    assert listener.retries_of(killed[0]) >= 1
    assert outcome.retried >= 1
    for name in ("results.csv", "results.json"):
        assert (out / name).read_bytes() == (dask_sweep["out"] / name).read_bytes()


def test_cli_starts_its_own_local_cluster(tmp_path: Path) -> None:
    spec = tmp_path / "one.toml"
    spec.write_text(
        "[task]\nname = 'digits'\n[model]\nkind = 'rnn'\nhidden = 4\n[train]\nsteps = 2\n"
    )
    result = invoke(["sweep", spec, "--out", tmp_path / "out", "--workers", "1"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "Dask LocalCluster with 1 worker(s), one thread each; dashboard: http://" in (
        result.stderr
    )
    assert _rows(tmp_path / "out" / "results.csv")[0]["status"] == "ok"


def _worker_settings(dask_worker: Any) -> dict[str, Any]:
    import dask.config

    callbacks = dask_worker.periodic_callbacks
    return {
        "profile": dask.config.get("distributed.worker.profile.enabled"),
        "profile_callbacks": sorted(name for name in callbacks if "profile" in name),
        "memory_monitor": dask.config.get("distributed.worker.memory.monitor-interval"),
        "malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
        "fast_exit": "rnnscope-fast-exit" in dask_worker.plugins,
    }


def test_embedded_cluster_spares_the_cores_for_the_points(monkeypatch: pytest.MonkeyPatch) -> None:
    """The LocalCluster of a sweep runs without Dask's profiler, with slow monitors and with
    glibc's own malloc thresholds; this process's environment is left as it was."""
    import dask.config

    from rnnscope.sweep.runner import LOCAL_CLUSTER_CONFIG, _client

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    environment = dict(os.environ)
    before = dask.config.get("distributed.worker.profile.enabled")
    # a user's own entry of Dask's pre-spawn-environ is undone here too
    user = {"distributed.nanny.pre-spawn-environ.RNNSCOPE_TEST_SPAWN": "1"}
    with dask.config.set(user), _client(None, 1, lambda message: None) as client:
        (settings,) = client.run(_worker_settings).values()
        assert os.environ.get("RNNSCOPE_TEST_SPAWN") == "1"  # what the nanny leaves behind
    assert settings == {
        "profile": False,
        "profile_callbacks": [],
        "memory_monitor": LOCAL_CLUSTER_CONFIG["distributed.worker.memory.monitor-interval"],
        "malloc_trim": None,  # Dask's default, 65536, makes every large buffer an mmap
        "fast_exit": True,
    }
    assert dask.config.get("distributed.worker.profile.enabled") == before  # restored here
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ and "PYTHONHASHSEED" not in os.environ
    assert dict(os.environ) == environment


def _worker_process() -> dict[str, Any]:
    import gc

    server = os.getppid()
    threads = Path(f"/proc/{server}/task")
    return {
        "imported": [name for name in WORKER_MODULES[1:] if name in sys.modules],
        "frozen": gc.get_freeze_count(),
        "collecting": gc.isenabled(),
        "server_threads": len(list(threads.iterdir())) if threads.is_dir() else None,
        "server": server,
        "threads_variable": os.environ.get("OMP_NUM_THREADS"),
    }


@pytest.mark.skipif(WORKER_START_METHOD != "forkserver", reason="workers are spawned here")
def test_workers_are_forked_from_a_single_threaded_server_that_imported_their_modules() -> None:
    """A worker starts with torch, foolbox and rnnscope imported and their
    objects frozen, from a server process with one thread; a second cluster reuses it."""
    from rnnscope.sweep.runner import _client

    environment = dict(os.environ)
    with _client(None, 2, lambda message: None) as client:
        first = list(client.run(_worker_process).values())
    assert dict(os.environ) == environment  # the server's variables were set for it only
    with _client(None, 1, lambda message: None) as client:
        (again,) = client.run(_worker_process).values()
    for worker in first:
        assert worker["imported"] == list(WORKER_MODULES[1:])
        assert worker["frozen"] > 100_000  # the objects of those imports
        assert worker["collecting"]  # off in the server while it imported, on again since
        assert worker["threads_variable"] == "1"
        if sys.platform.startswith("linux"):
            assert worker["server_threads"] == 1  # forking it copies no other thread's state
    assert {worker["server"] for worker in first} == {again["server"]} != {os.getpid()}


@pytest.mark.parametrize(("marked", "frozen"), [(False, False), (True, True)])
def test_the_server_modules_pause_and_freeze_only_the_worker_server(
    marked: bool, frozen: bool
) -> None:
    import subprocess

    environment = {k: v for k, v in os.environ.items() if k != "RNNSCOPE_WORKER_SERVER"}
    if marked:
        environment["RNNSCOPE_WORKER_SERVER"] = "1"
    code = (
        "import gc, rnnscope.sweep._server_start; paused = not gc.isenabled();"
        "import json; import rnnscope.sweep._server_freeze;"
        "print(paused, gc.get_freeze_count() > 0, gc.isenabled())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == [str(frozen), str(frozen), "True"]


def test_sweep_command_starts_the_worker_server_only_for_a_local_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rnnscope.sweep.server

    calls: list[str] = []
    monkeypatch.setattr(rnnscope.sweep.server, "start_worker_server", lambda: calls.append("s"))
    spec = tmp_path / "one.toml"
    spec.write_text("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\nhidden = 4\n")
    bad = tmp_path / "bad.toml"
    bad.write_text("[task]\nname = 'digits'\n[model]\nkind = 'nope'\n")
    assert invoke(["sweep", spec, "--out", tmp_path / "a", "--dry-run"]).exit_code == 0
    assert invoke(["sweep", bad, "--out", tmp_path / "b"]).exit_code == 2
    assert calls == []  # a dry run starts nothing; a SPEC that fails to read neither
    result = invoke(["sweep", spec, "--out", tmp_path / "c", "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2 and calls == []  # a remote cluster has its own workers
    assert "cannot reach the Dask scheduler" in result.stderr
    assert not (tmp_path / "c").exists()


def test_an_unreachable_scheduler_leaves_no_folder_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rnnscope.sweep.run
    from rnnscope.sweep import SweepError, parse_spec, plan_sweep, run_sweep

    def unreachable(points, root, *args, **kwargs):
        Path(root, "data").mkdir()  # run_points writes the task data before it connects
        raise SweepError("cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'")

    monkeypatch.setattr(rnnscope.sweep.run, "run_points", unreachable)
    plan = plan_sweep(parse_spec("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\nhidden = 4\n"))
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine")
    (kept / "runs").mkdir()
    (kept / "runs" / "old.txt").write_text("a run of mine")
    outs = [tmp_path / "new" / "deeper", kept, tmp_path / "new" / ".." / "kept", kept / "runs"]
    for out in outs:
        with pytest.raises(SweepError, match="cannot reach"):
            run_sweep(plan, out, scheduler="tcp://127.0.0.1:1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]
    assert sorted(p.name for p in kept.iterdir()) == ["notes.txt", "runs"]
    assert sorted(p.name for p in (kept / "runs").iterdir()) == ["old.txt"]


def test_workers_freeze_the_garbage_collector_only_when_they_close() -> None:
    import gc
    import types

    from distributed.core import Status

    from rnnscope.sweep._exit import FastExit

    assert gc.get_freeze_count() == 0
    plugin = FastExit()
    try:
        plugin.teardown(types.SimpleNamespace(status=Status.running))  # plugin removed only
        assert gc.get_freeze_count() == 0
        plugin.teardown(types.SimpleNamespace(status=Status.closing))
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_without_dask_runs_in_process_and_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    spec = parse_spec(
        "[task]\nname = 'digits'\n[model]\nkind = 'rnn'\nhidden = 4\n[grid]\nseed = [0, 1]\n"
        "[train]\nsteps = 2\n"
    )
    plan = plan_sweep(spec)
    messages: list[str] = []
    statuses = run_points(plan.points, tmp_path, spec.evaluation(), notify=messages.append)
    assert statuses == {p.id: "ok" for p in plan.points}
    assert len(messages) == 1
    assert "not installed" in messages[0] and "in this process" in messages[0]


def test_diverging_point_is_recorded_as_failed(tmp_path: Path) -> None:
    spec = parse_spec(
        "[task]\nname = 'digits'\n[model]\nkind = 'rnn'\nhidden = 4\nnonlinearity = 'relu'\n"
        "[grid]\ninit = [{name = 'identity', scale = [1.0, 1e30]}]\n[train]\nsteps = 3\n"
    )
    plan = plan_sweep(spec)
    outcome = run_sweep(plan, tmp_path, in_process=True)
    statuses = [outcome.statuses[p.id] for p in plan.points]
    assert statuses == ["ok", "failed"]
    rows = _rows(tmp_path / "results.csv")
    assert rows[1]["status"] == "failed" and "diverge" in rows[1]["error"].lower()
    # a recorded failure is final: the rerun skips it
    assert run_sweep(plan, tmp_path, in_process=True).skipped == 2


def test_dynamics_summary_reaches_the_rows(tmp_path: Path) -> None:
    from rnnscope.dynamics import analyze_dynamics

    spec = parse_spec(
        "[task]\nname = 'digits'\nparams = { permuted = true }\n"
        "[model]\nkind = 'rnn'\nhidden = 6\n[grid]\nseed = [0, 1]\n[train]\nsteps = 3\n"
        "[dynamics]\nlyapunov = 3\nsamples = 4\n"
    )
    plan = plan_sweep(spec)
    outcome = run_sweep(plan, tmp_path, in_process=True)
    assert set(outcome.statuses.values()) == {"ok"}
    rows = _rows(tmp_path / "results.csv")
    assert {"top_exponent", "gradient_flow_log10", "chain_like", "stable_fixed_points"} <= set(
        rows[0]
    )
    for point, row in zip(plan.points, rows, strict=True):
        direct = analyze_dynamics(tmp_path / "runs" / point.id, lyapunov=3, samples=4).summary
        assert float(row["top_exponent"]) == direct["top_exponent"]
        assert float(row["gradient_flow_log10"]) == direct["gradient_flow"]["norm_median_log10"][-1]
        assert row["fixed_points"] == ""  # not asked for
    results = json.loads((tmp_path / "results.json").read_text())
    detail = results["runs"][0]["dynamics"]["detail"]["lyapunov"]
    assert len(detail["exponents"]) == 3
    assert detail["exponents"] == sorted(detail["exponents"], reverse=True)
