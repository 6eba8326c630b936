"""Sweep SPECs: parsing, the product of settings, stable ids, and one clear error before any run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rnnscope.sweep import (
    SweepSpecError,
    load_spec,
    parse_spec,
    plan_sweep,
)
from tests.rnnscope.helpers import assert_bad_input, invoke

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "orhan_pitkow_digits.toml"

BASE = """
[task]
name = "digits"
params = { permuted = true }
[model]
hidden = 8
"""


def _spec(grid: str, extra: str = "") -> str:
    return BASE + "[grid]\n" + grid + "\n" + extra


def test_product_of_settings_with_per_init_options() -> None:
    spec = parse_spec(
        _spec(
            'kind = ["rnn"]\nseed = [0, 1]\nlr = [1e-3, 1e-2]\n'
            'init = ["orthogonal", { name = "chain", alpha = [0.9, 1.1] }, '
            '{ name = "fbchain", alpha = 1.0, beta = [0.01, 0.05] }]'
        )
    )
    plan = plan_sweep(spec)
    # inits expand to orthogonal + 2 chains + 2 fbchains = 5 option sets, times 2 lr, 2 seeds
    assert len(plan.points) == 5 * 2 * 2
    assert len({p.id for p in plan.points}) == len(plan.points)
    chains = [p for p in plan.points if p.options.get("init") == "chain"]
    assert sorted({p.options["alpha"] for p in chains}) == [0.9, 1.1]
    assert all("scale" not in p.options and "beta" not in p.options for p in chains)
    fb = {(p.options["alpha"], p.options["beta"]) for p in plan.points if "beta" in p.options}
    assert fb == {(1.0, 0.01), (1.0, 0.05)}
    # seeds vary fastest, so each group's seeds are adjacent and groups share settings
    assert [p.seed for p in plan.points[:4]] == [0, 1, 0, 1]
    assert plan.points[0].group() == plan.points[1].group()
    assert plan.points[0].group() != plan.points[2].group()


def test_ids_are_stable_and_depend_on_every_setting() -> None:
    text = _spec('kind = ["rnn"]\nseed = [0, 1]')
    first = [p.id for p in plan_sweep(parse_spec(text)).points]
    again = [p.id for p in plan_sweep(parse_spec(text, source="other.toml")).points]
    assert first == again
    assert first[0].startswith("rnn-h8-s0-")
    longer = _spec('kind = ["rnn"]\nseed = [0, 1]', "[train]\nsteps = 7\n")
    assert not set(first) & {p.id for p in plan_sweep(parse_spec(longer)).points}
    # the order of keys in the file does not matter
    swapped = BASE.replace("hidden = 8", "hidden = 8\n") + "[grid]\nseed = [0, 1]\nkind = ['rnn']\n"
    assert [p.id for p in plan_sweep(parse_spec(swapped)).points] == first


def test_example_spec_is_the_orhan_pitkow_grid() -> None:
    plan = plan_sweep(load_spec(EXAMPLE))
    inits = {p.options["init"] for p in plan.points}
    assert inits == {"chain", "fbchain", "orthogonal", "identity"}
    assert {p.seed for p in plan.points} == {0, 1, 2}
    assert len(plan.points) == 4 * 3 * 3
    gains: dict[str, set[float]] = {}
    for p in plan.points:
        gain = p.options["alpha"] if "chain" in p.options["init"] else p.options["scale"]
        gains.setdefault(p.options["init"], set()).add(gain)
    assert all(len(values) == 3 for values in gains.values())
    assert plan.spec.attack is not None and plan.spec.analyze is not None


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("[task]\nname = 'digits'\n[grid]\nkind = []\n", ["grid.kind", "empty", "no points"]),
        (
            "[task]\nname = 'digits'\n[grid]\nkind = ['rnn']\ninit = [{name='chain', alpha=[]}]\n",
            ["alpha", "empty"],
        ),
        (
            "[task]\nname = 'digits'\n[grid]\nkind = ['rnn']\nhidden = ['32']\n",
            ["grid.hidden", "integer", "'32'"],
        ),
        ("[task]\nname = 'digits'\n[grid]\nkind = 'rnn'\n", ["grid.kind", "list"]),
        ("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\nlr = -1\n", ["model.lr", "positive"]),
        ("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\nseed = true\n", ["model.seed", "bool"]),
        ("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\n[train]\nstep = 3\n", ["'step'"]),
        ("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\n[attack]\nnorms = ['l1']\n", ["'l1'"]),
        ("[task]\nname = 'digits'\n[models]\nkind = 'rnn'\n", ["'models'"]),
        ("[task]\nname = 'digits'\n", ["no model kind"]),
        ("[task\nname = 'digits'\n", ["invalid TOML"]),
        (
            "[task]\nname = 'digits'\n[model]\nkind = 'rnn'\n[grid]\nkind = ['gru']\n",
            ["kind", "both"],
        ),
        ("[task]\nname = 'digits'\n[grid]\nkind = ['rnn', 'rnn']\n", ["twice"]),
    ],
)
def test_malformed_specs(text: str, fragments: list[str]) -> None:
    with pytest.raises(SweepSpecError) as info:
        plan_sweep(parse_spec(text, source="s.toml"))
    message = str(info.value)
    assert message.startswith("s.toml: ")
    for fragment in fragments:
        assert fragment.lower() in message.lower(), message


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("[task]\nname = 'digit'\n[model]\nkind = 'rnn'\n", ["task", "'digit'"]),
        (
            "[task]\nname = 'digits'\nparams = {permute = true}\n[model]\nkind = 'rnn'\n",
            ["permute"],
        ),
        (
            "[task]\nname = 'digits'\n[model]\nkind = 'rnn'\n[grid]\n"
            "init = [{name = 'chain', alpha = ['big']}]\n",
            ["alpha", "real number", "'big'"],
        ),
        ("[task]\nname = 'digits'\n[grid]\nkind = ['lstm']\ninit = ['chain']\n", ["lstm"]),
        (
            "[task]\nname = 'digits'\n[grid]\nkind = ['gru']\nconstrain = ['radius']\n",
            ["constrain"],
        ),
    ],
)
def test_invalid_points_are_caught_when_planning(text: str, fragments: list[str]) -> None:
    spec = parse_spec(text, source="s.toml")
    with pytest.raises(SweepSpecError) as info:
        plan_sweep(spec)
    for fragment in fragments:
        assert fragment.lower() in str(info.value).lower(), str(info.value)


@pytest.mark.parametrize(
    ("grid", "fragments"),
    [
        ('kind = ["rnn", "transformer"]', ["'transformer'", "valid kinds"]),
        ('kind = ["rnn"]\nhidden = [8, "wide"]', ["grid.hidden", "integer", "'wide'"]),
        ('kind = ["rnn"]\nseed = []', ["grid.seed", "empty list"]),
    ],
)
def test_cli_reports_one_error_and_starts_nothing(
    tmp_path: Path, grid: str, fragments: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import rnnscope.sweep.server

    started: list[bool] = []
    monkeypatch.setattr(rnnscope.sweep.server, "start_worker_server", lambda: started.append(True))
    spec = tmp_path / "bad.toml"
    spec.write_text("[task]\nname = 'digits'\n[model]\n[grid]\n" + grid + "\n[train]\nsteps = 2\n")
    out = tmp_path / "sweep"
    result = invoke(["sweep", spec, "--out", out])
    assert_bad_input(result, "bad.toml", *fragments)
    assert not out.exists()
    assert not started  # not even the worker server


def test_unknown_kind_is_caught_when_reading() -> None:
    with pytest.raises(SweepSpecError) as info:
        parse_spec("[task]\nname = 'digits'\n[grid]\nkind = ['rnn', 'rnnn']\n", source="s.toml")
    assert str(info.value).startswith("s.toml: grid.kind 'rnnn' is not a model kind; valid kinds: ")
    assert "rnn, scornn, exprnn" in str(info.value)


def test_reading_a_spec_does_not_import_torch(tmp_path: Path) -> None:
    """The CLI starts the worker server once the SPEC is read; torch must not come first."""
    spec = tmp_path / "s.toml"
    attack = "[attack]\nnorms = ['linf']\nattacks = ['fgsm', 'pgd']\n"
    spec.write_text(_spec('kind = ["rnn", "gru"]\nseed = [0, 1]', "[train]\nsteps = 5\n" + attack))
    code = (
        "import sys; from rnnscope.sweep.spec import load_spec;"
        f"spec = load_spec({str(spec)!r}); assert len(spec.combinations()) == 4;"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('torch', 'sklearn', 'scipy')];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_cli_rejects_missing_spec_and_workers_with_scheduler(tmp_path: Path) -> None:
    assert_bad_input(
        invoke(["sweep", tmp_path / "none.toml", "--out", tmp_path / "o"]), "none.toml"
    )
    result = invoke(
        [
            "sweep",
            EXAMPLE,
            "--out",
            tmp_path / "o",
            "--scheduler",
            "tcp://127.0.0.1:1",
            "--workers",
            "2",
        ]
    )
    assert_bad_input(result, "--workers", "--scheduler")
    assert not (tmp_path / "o").exists()


def test_dry_run_lists_points_and_cost_without_writing(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(_spec('kind = ["rnn", "gru"]\nseed = [0, 1]', "[train]\nsteps = 5\n"))
    out = tmp_path / "sweep"
    result = invoke(["sweep", spec, "--out", out, "--dry-run"])
    assert result.exit_code == 0, result.stderr
    ids = [p.id for p in plan_sweep(load_spec(spec)).points]
    for point_id in ids:
        assert point_id in result.stdout
    assert "4 point(s), 0 finished, 4 to run: estimated" in result.stdout
    assert not out.exists()


def test_importing_rnnscope_does_not_import_dask() -> None:
    code = (
        "import sys, rnnscope, rnnscope.cli, rnnscope.sweep, rnnscope.sweep.command;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_defaults_are_those_of_the_commands() -> None:
    from rnnscope.settings import DynamicsSettings, EvaluationSettings, TrainSettings
    from rnnscope.sweep.spec import DEFAULTS

    spec = parse_spec(
        "[task]\nname = 'digits'\n[model]\nkind = 'rnn'\n[analyze]\n[attack]\n[dynamics]\n"
    )
    train, evaluation = TrainSettings(), EvaluationSettings()
    point = spec.combinations()[0]
    assert (point["hidden"], point["lr"], point["seed"]) == (train.hidden, train.lr, train.seed)
    assert DEFAULTS["hidden"] == train.hidden
    assert (spec.train.steps, spec.train.batch_size) == (train.steps, train.batch_size)
    assert spec.attack is not None and spec.dynamics is not None
    assert spec.attack.eps["linf"] == tuple(evaluation.linf_eps)
    assert spec.attack.eps["l2"] == tuple(evaluation.l2_eps)
    assert (spec.attack.samples, spec.attack.steps) == (evaluation.samples, evaluation.steps)
    assert spec.attack.attacks == tuple(evaluation.attacks)
    assert spec.dynamics.to_dict() == {
        "lyapunov": DynamicsSettings().lyapunov,
        "fixed_points": DynamicsSettings().fixed_points,
        "samples": DynamicsSettings().samples,
        "seed": DynamicsSettings().seed,
    }


def test_dynamics_table_is_stored_only_when_asked_for() -> None:
    plain = parse_spec("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\n")
    assert plain.dynamics is None and "dynamics" not in plain.evaluation()
    spec = parse_spec(
        "[task]\nname = 'digits'\n[model]\nkind = 'rnn'\n"
        "[dynamics]\nlyapunov = 3\nfixed_points = true\nsamples = 8\nseed = 2\n"
    )
    assert spec.evaluation()["dynamics"] == {
        "lyapunov": 3,
        "fixed_points": True,
        "samples": 8,
        "seed": 2,
    }


@pytest.mark.parametrize(
    ("table", "fragments"),
    [
        ("lyapunov = 0", ["dynamics.lyapunov", ">= 1"]),
        ("lyapunov = 2.5", ["dynamics.lyapunov", "integer"]),
        ("fixed_points = 'yes'", ["dynamics.fixed_points", "true or false"]),
        ("samples = 0", ["dynamics.samples", ">= 1"]),
        ("exponents = 3", ["'exponents'", "lyapunov"]),
    ],
)
def test_malformed_dynamics_tables(table: str, fragments: list[str]) -> None:
    text = "[task]\nname = 'digits'\n[model]\nkind = 'rnn'\n[dynamics]\n" + table + "\n"
    with pytest.raises(SweepSpecError) as info:
        parse_spec(text, source="s.toml")
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_planning_runs_with_the_collector_paused_and_restores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    import rnnscope.sweep.plan
    from rnnscope.sweep.command import read_and_plan

    spec = tmp_path / "s.toml"
    spec.write_text(_spec('kind = ["rnn"]\nseed = [0, 1]', ""))
    seen: list[bool] = []
    real = rnnscope.sweep.plan.plan_sweep

    def watched(parsed: object) -> object:
        seen.append(gc.isenabled())
        return real(parsed)

    def failing(parsed: object) -> object:
        seen.append(gc.isenabled())
        raise SweepSpecError("s.toml: bad")

    monkeypatch.setattr(rnnscope.sweep.plan, "plan_sweep", watched)
    assert len(read_and_plan(spec, start_server=False).points) == 2
    monkeypatch.setattr(rnnscope.sweep.plan, "plan_sweep", failing)
    with pytest.raises(SweepSpecError):
        read_and_plan(spec, start_server=False)
    assert seen == [False, False]
    assert gc.isenabled()
    gc.disable()
    try:
        monkeypatch.setattr(rnnscope.sweep.plan, "plan_sweep", watched)
        read_and_plan(spec, start_server=False)
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
