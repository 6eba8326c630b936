"""One registry drives every table: a measure or section registered here shows up everywhere."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import typer

from rnnscope.cli import app
from rnnscope.measures import MatrixContext, get_measure, register_measure, unregister_measure
from rnnscope.report import (
    ReportSettings,
    Section,
    build_report,
    register_section,
    render_html,
    render_json,
    render_markdown,
    unregister_section,
)
from rnnscope.report.sections import Column
from rnnscope.settings import (
    AnalysisSettings,
    AttackSettings,
    DynamicsSettings,
    TrainSettings,
    default,
    eps_text,
)
from tests.rnnscope.helpers import invoke

KEY = "numerical_abscissa"
LABEL = "numerical abscissa ω(W)"
SHORT = "ω(W)"


def _abscissa(ctx: MatrixContext) -> float:
    return float(np.linalg.eigvalsh((ctx.A + ctx.A.T) / 2).max())


@pytest.fixture
def abscissa() -> Iterator[None]:
    register_measure(KEY, LABEL, _abscissa, short_label=SHORT, comparison=True, compact=True)
    try:
        yield
    finally:
        unregister_measure(KEY)


def test_a_registered_measure_reaches_every_table(
    abscissa: None, chain_npy: Path, tmp_path: Path
) -> None:
    # The 6 x 6 shift: (W + W^T)/2 is tridiagonal with 1/2 off the diagonal, so its largest
    # eigenvalue is cos(pi / 7).
    expected = math.cos(math.pi / 7)
    data = json.loads(invoke(["analyze", chain_npy, "--json", "--eps", "0.1"]).stdout)
    assert data["matrices"][0][KEY] == pytest.approx(expected, rel=1e-12)
    table = invoke(["analyze", chain_npy, "--eps", "0.1"])
    assert table.exit_code == 0, table.stderr
    assert any(
        line.split(LABEL)[-1].split() == [f"{expected:.4g}"]
        for line in table.stdout.splitlines()
        if LABEL in line
    )

    out = tmp_path / "report"
    result = invoke(["report", chain_npy, "--out", out, "--samples", "4", "--grid", "16"])
    assert result.exit_code == 0, result.stderr
    assert SHORT in result.stdout.splitlines()[2]  # the compact table printed by the CLI
    report = json.loads((out / "report.json").read_text())
    assert report["summary"][0][KEY] == pytest.approx(expected, rel=1e-12)
    assert report["models"][0]["analysis"]["matrices"][0][KEY] == pytest.approx(expected)

    built = build_report([chain_npy], ReportSettings(grid=16), workers=1)
    html, markdown = render_html(built), render_markdown(built)
    assert f'title="{LABEL}">{SHORT}</th>' in html  # comparison column
    assert f'<td class="text">{LABEL}</td><td>{expected:.4g}</td>' in html  # per-matrix row
    assert f"| {LABEL} | {expected:.4g} |" in markdown
    assert f" {SHORT} |" in markdown.split("## Comparison")[1].splitlines()[2]
    assert json.loads(render_json(built))["summary"][0][KEY] == pytest.approx(expected)


def test_unregistered_measure_is_gone(chain_npy: Path) -> None:
    register_measure(KEY, LABEL, _abscissa)
    unregister_measure(KEY)
    data = json.loads(invoke(["analyze", chain_npy, "--json"]).stdout)
    assert KEY not in data["matrices"][0]
    with pytest.raises(ValueError, match=KEY):
        get_measure(KEY)


def test_registry_rejects_duplicates_and_bad_keys() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_measure("spectral_norm", "again", _abscissa)
    with pytest.raises(ValueError, match="identifier"):
        register_measure("not a key", "bad", _abscissa)
    with pytest.raises(ValueError, match="compact requires comparison"):
        register_measure("compact_only", "bad", _abscissa, compact=True)


class _Trace(Section):
    key = "trace_section"
    json_key = "trace"
    html = "<h3>Trace</h3><p>tr W = {{ block.value }} from {{ block.name }}</p>"
    markdown = "### Trace\n\ntr W = {{ block.value }} from {{ block.name }}\n\n"

    def view(self, model, result):  # type: ignore[no-untyped-def]
        return {"value": f"{result.value:g}", "name": model.name}

    def compute(self, context):  # type: ignore[no-untyped-def]
        return _TraceResult(float(np.trace(context.checkpoint.recurrent_matrix().numpy())))

    def columns(self, settings):  # type: ignore[no-untyped-def]
        return [Column("trace", "tr W", "trace", lambda m: m.result("trace_section").value)]


class _TraceResult:
    def __init__(self, value: float) -> None:
        self.value = value

    def to_dict(self) -> dict[str, float]:
        return {"value": self.value}


def test_a_registered_section_reaches_every_output(tmp_path: Path) -> None:
    path = tmp_path / "w.npy"
    np.save(path, np.diag([0.5, 0.25, -2.0]))
    register_section(_Trace())
    try:
        built = build_report([("<b>w</b>", path)], ReportSettings(grid=16), workers=1)
        data = json.loads(render_json(built))
        assert data["models"][0]["trace"] == {"value": -1.25}
        assert data["summary"][0]["trace"] == -1.25
        html, markdown = render_html(built), render_markdown(built)
        assert '<th class="" title="trace">tr W</th>' in html
        assert "<p>tr W = -1.25 from &lt;b&gt;w&lt;/b&gt;</p>" in html  # the block, escaped
        assert "\n### Trace\n\ntr W = -1.25 from &lt;b&gt;w&lt;/b&gt;\n" in markdown
        assert markdown.index("### Recurrent matrices") < markdown.index("### Trace")
    finally:
        unregister_section("trace_section")
    data = json.loads(render_json(build_report([path], ReportSettings(grid=16), workers=1)))
    assert "trace" not in data["models"][0] and "trace" not in data["summary"][0]


def _option_defaults(command: str) -> dict[str, object]:
    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    return {param.name: param.default for param in click_command.params}


def test_command_line_defaults_come_from_the_settings() -> None:
    report = _option_defaults("report")
    for name in ("samples", "steps", "grid", "seed"):
        assert report[name] == default(ReportSettings, name), name
    assert report["linf_eps"] == eps_text(ReportSettings().linf_eps)
    assert report["l2_eps"] == eps_text(ReportSettings().l2_eps)
    assert report["eps"] == eps_text(ReportSettings().pseudo_eps)
    analyze = _option_defaults("analyze")
    assert analyze["eps"] == eps_text(AnalysisSettings().eps)
    assert analyze["grid"] == AnalysisSettings().grid
    assert _option_defaults("pseudospectrum")["grid"] == AnalysisSettings().grid
    attack = _option_defaults("attack")
    settings = AttackSettings()
    assert attack["samples"] == settings.samples and attack["steps"] == settings.steps
    assert attack["attacks_"] == ",".join(settings.attacks) and attack["norm"] == settings.norm
    dynamics = _option_defaults("dynamics")
    for name in ("lyapunov", "fixed_points", "samples", "seed"):
        assert dynamics[name] == default(DynamicsSettings, name), name


def test_kinds_and_attack_names_mirror_the_library() -> None:
    import attacks
    import models
    from rnnscope.settings import ATTACK_NAMES, MODEL_KINDS

    assert MODEL_KINDS == models.KINDS
    assert ATTACK_NAMES == (*attacks.ATTACKS, "default")


def test_train_defaults_mirror_the_library() -> None:
    import models

    settings, config = TrainSettings(), models.TrainConfig()
    for name in ("steps", "batch_size", "lr", "lr_orth", "seed"):
        assert getattr(settings, name) == getattr(config, name), name
    train = _option_defaults("train")
    for name in ("hidden", "steps", "batch_size", "lr", "lr_orth", "seed"):
        assert train[name] == getattr(settings, name), name
