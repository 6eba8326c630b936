"""Reports: content against the libraries, byte-identical reruns, escaping, self-containment."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import models
from rnnscope.report import ReportSettings, build_report, render_html, render_markdown, write_report
from tests.rnnscope.helpers import invoke

SETTINGS = ReportSettings(samples=8, steps=2, grid=16, strength="quick")
HOSTILE = "<script>alert(1)</script>"
FILES = ("index.html", "report.json", "report.md")


@pytest.fixture(scope="module")
def reports(tiny_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The same report written twice: by the CLI (worker processes) and in-process."""
    root = tmp_path_factory.mktemp("reports")
    matrix = root / "chain.npy"
    np.save(matrix, np.diag(np.ones(5), -1))
    sources = [tiny_runs["rnn"], tiny_runs["lstm"], matrix]
    cli_out = root / "cli"
    result = invoke(
        [
            "report",
            *sources,
            "--out",
            cli_out,
            "--samples",
            "8",
            "--steps",
            "2",
            "--grid",
            "16",
            "--strength",
            "quick",
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert str(cli_out / "index.html") in result.stdout
    (root / "terminal.txt").write_text(result.stdout)
    api_out = root / "api"
    api_out.mkdir()
    write_report(build_report(sources, SETTINGS, workers=1), api_out)
    return [cli_out, api_out]


def test_same_inputs_give_byte_identical_reports(reports: list[Path]) -> None:
    first, second = reports
    for name in FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    figures = sorted(p.name for p in (first / "figures").iterdir())
    assert figures == sorted(p.name for p in (second / "figures").iterdir())
    # two attacked models with 7 figures (hidden state included) and 4 of dynamics, one
    # matrix with 3
    assert len(figures) == 2 * (7 + 4) + 3
    for name in figures:
        assert (first / "figures" / name).read_bytes() == (second / "figures" / name).read_bytes()
    timings = json.loads((first / "timings.json").read_text())
    assert timings["timings_seconds"]["total"] > 0


def test_dynamics_section_matches_the_library(reports: list[Path]) -> None:
    import spectra
    from models import dynamics

    data = json.loads((reports[0] / "report.json").read_text())
    rnn, lstm, chain = data["models"]
    assert chain["dynamics"] is None  # a bare matrix has no one-step map
    for entry, row in zip((rnn, lstm), data["summary"], strict=False):
        section = entry["dynamics"]
        assert set(section) >= {"lyapunov", "gradient_flow", "fixed_points", "chain_profile"}
        model = models.load(entry["source"]).model
        x = models.tasks.get("digits", permuted=True).test_set()[0][: section["inputs"]["samples"]]
        k = section["lyapunov"]["k"]
        ref = spectra.lyapunov((J.numpy() for J in dynamics.iter_jacobians(model, x)), k=k)
        np.testing.assert_allclose(section["lyapunov"]["exponents"], ref.exponents, rtol=1e-10)
        assert row["lyapunov_max"] == pytest.approx(ref.exponents[0], rel=1e-10)
        assert section["fixed_points"]["points"], "at least one fixed or slow point"
    html = (reports[0] / "index.html").read_text()
    assert "<h3>Dynamics</h3>" in html and "Chain profile" in html
    assert "### Dynamics" in (reports[0] / "report.md").read_text()


def test_hidden_state_section_matches_the_library(reports: list[Path]) -> None:
    import attacks
    from rnnscope.evaluation import evaluation_samples
    from rnnscope.report.hidden import DELTAS

    data = json.loads((reports[0] / "report.json").read_text())
    rnn, lstm, chain = data["models"]
    assert chain["robustness"] is None and lstm["robustness"]["hidden_state"]["n_steps"] > 0
    for entry in (rnn,):  # the gated kinds are checked against the library in tests/attacks
        block = entry["robustness"]["hidden_state"]
        checkpoint = models.load(entry["source"])
        task = models.tasks.get(entry["task"]["name"], **entry["task"]["params"])
        x, y = evaluation_samples(task, SETTINGS.samples)
        curve = attacks.hidden_state(
            checkpoint.model, x, y, deltas=DELTAS, strength="quick", seed=SETTINGS.seed
        )
        assert block["deltas"] == list(DELTAS) and block["step"] == curve.step
        assert block["random_accuracy"] == list(curve.random_accuracy)
        assert block["adversarial_accuracy"] == list(curve.adversarial_accuracy)
        assert block["random_accuracy"][0] == entry["robustness"]["clean_accuracy"]
    html = (reports[0] / "index.html").read_text()
    assert html.count("<h3>Hidden-state perturbations</h3>") == 2
    assert "hidden-state.svg" in (reports[0] / "report.md").read_text()


def test_comparison_marks_differences_within_noise(reports: list[Path]) -> None:
    from rnnscope.report.document import comparison_columns
    from rnnscope.report.significance import FOOTNOTE, MARK

    data = json.loads((reports[0] / "report.json").read_text())
    attacked = [m for m in data["models"] if m["robustness"] is not None]
    marked = 0
    for key, found in data["significance"].items():
        if key == "clean_accuracy":
            bands = {m["name"]: m["robustness"]["linf"]["adversarial"]["intervals"]["clean"]
                     for m in attacked}  # fmt: skip
        else:
            norm, eps = key.split("_")[1], float(key.split("_")[2])
            index = data["settings"][f"{norm}_eps"].index(eps)
            bands = {m["name"]: m["robustness"][norm]["adversarial"]["intervals"]["robust"][index]
                     for m in attacked}  # fmt: skip
        values = {row["model"]: row[key] for row in data["summary"] if row["model"] in bands}
        top = max(values.values())
        assert found["best"] == [name for name, v in values.items() if v == top]
        expected = [
            name
            for name, v in values.items()
            if v != top
            and any(
                bands[name][0] <= bands[b][1] and bands[b][0] <= bands[name][1]
                for b in found["best"]
            )
        ]
        assert found["not_significant"] == expected
        marked += len(expected)
    assert "clean_accuracy" in data["significance"] and marked > 0  # 8 samples: wide intervals
    html = (reports[0] / "index.html").read_text()
    assert html.count(f" {MARK}</td>") == marked
    assert FOOTNOTE.split(":")[0] in html
    # the terminal table has the compact columns only, marked the same way
    compact = {column.key for column in comparison_columns(SETTINGS, compact=True)}
    terminal = (reports[0].parent / "terminal.txt").read_text()
    shown = sum(len(found["not_significant"]) for key, found in data["significance"].items()
                if key in compact)  # fmt: skip
    assert shown > 0 and terminal.count(f" {MARK}") == shown
    assert FOOTNOTE in terminal.replace("\n", " ")


def test_transfer_matrix_matches_the_library(reports: list[Path]) -> None:
    import attacks
    from rnnscope.evaluation import evaluation_samples

    data = json.loads((reports[0] / "report.json").read_text())
    (block,) = data["transfer"]  # the bare matrix has no task and is not attacked
    assert block["names"] == ["rnn", "lstm"] and block["task"]["name"] == "digits"
    task = models.tasks.get("digits", **block["task"]["params"])
    x, y = evaluation_samples(task, SETTINGS.samples)
    nets = {name: models.load(data["models"][i]["source"]).model for i, name in enumerate("ab")}
    eps = sorted(SETTINGS.linf_eps)[len(SETTINGS.linf_eps) // 2]
    matrix = attacks.transfer(
        nets, x, y, eps=eps, strength="quick", bounds=task.bounds, seed=SETTINGS.seed
    )
    assert block["eps"] == eps and block["accuracy"] == [list(r) for r in matrix.accuracy]
    assert block["clean_accuracy"] == [
        m["robustness"]["clean_accuracy"] for m in data["models"][:2]
    ]
    html = (reports[0] / "index.html").read_text()
    assert '<h2 id="transfer-1">Transfer (digits)</h2>' in html
    assert "## Transfer (digits)" in (reports[0] / "report.md").read_text()


def test_json_content_matches_the_checkpoints(reports: list[Path]) -> None:
    data = json.loads((reports[0] / "report.json").read_text())
    names = [m["name"] for m in data["models"]]
    assert names == ["rnn", "lstm", "chain"]
    rnn, lstm, chain = data["models"]
    for entry, summary in zip(data["models"], data["summary"], strict=True):
        checkpoint = models.load(entry["source"])
        W = checkpoint.recurrent_matrix().double().numpy()
        assert summary["spectral_norm"] == pytest.approx(np.linalg.norm(W, 2), rel=1e-9)
        assert summary["spectral_radius"] == pytest.approx(
            np.max(np.abs(np.linalg.eigvals(W))), rel=1e-9
        )
    assert lstm["principal"] == "g"
    assert chain["robustness"] is None and "matrices only" in chain["notes"][0]
    for entry in (rnn, lstm):
        robustness = entry["robustness"]
        assert robustness["samples"] == 8
        for norm in ("linf", "l2"):
            block = robustness[norm]
            worst = np.array(block["adversarial"]["robust_accuracy"])
            assert np.all(worst <= robustness["clean_accuracy"] + 1e-12)
            for values in block["adversarial"]["per_attack"].values():
                assert np.all(worst <= np.array(values) + 1e-12)
        assert robustness["sanity"], "sanity checks are reported"
    # The tanh RNN has a Lipschitz certificate; the LSTM does not, and says why.
    certified = rnn["robustness"]["l2"]["certified"]
    assert certified["supported"] is True
    worst = rnn["robustness"]["l2"]["adversarial"]["robust_accuracy"]
    assert all(c <= w + 1e-12 for c, w in zip(certified["certified_accuracy"], worst, strict=True))
    assert lstm["robustness"]["l2"]["certified"]["supported"] is False
    assert lstm["robustness"]["l2"]["certified"]["reason"]


def test_html_is_self_contained(reports: list[Path]) -> None:
    html = (reports[0] / "index.html").read_text()
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert "@import" not in html
    assert all(target.startswith("#") for target in re.findall(r"url\(([^)]*)\)", html))

    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.urls: list[str] = []
            self.svgs = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.svgs += tag == "svg"
            for key, value in attrs:
                if key in {"src", "href", "xlink:href", "action", "srcset"} and value:
                    self.urls.append(value)

    collector = Collector()
    collector.feed(html)
    assert collector.svgs == 2 * (7 + 4) + 3  # as many inline figures as figure files
    # Only in-page references and inline data (matplotlib embeds heat maps as data: PNGs).
    assert [u for u in collector.urls if not u.startswith(("#", "data:image/png;base64,"))] == []
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)


def test_markdown_tables_are_well_formed(reports: list[Path]) -> None:
    text = (reports[0] / "report.md").read_text()
    assert text.startswith("# rnnscope robustness report")
    table: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            counts = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
            assert len(counts) == 1, table
            table = []
    for figure in re.findall(r"\]\((figures/[^)]+)\)", text):
        assert (reports[0] / figure).is_file()


def test_hostile_names_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "weights.npz"
    np.savez(path, **{HOSTILE: np.eye(3) * 0.5, "W": np.diag(np.ones(2), 1)})
    report = build_report([(HOSTILE, path)], SETTINGS, workers=1)
    html, markdown = render_html(report), render_markdown(report)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in markdown.lower()
    assert "&lt;script&gt;" in markdown
    out = tmp_path / "out"
    out.mkdir()
    write_report(report, out)
    assert "<script" not in (out / "index.html").read_text().lower()
    data = json.loads((out / "report.json").read_text())
    assert data["models"][0]["name"] == HOSTILE  # JSON keeps the raw name
    assert all(p.name.isascii() and "<" not in p.name for p in (out / "figures").iterdir())


def test_weight_noise_has_wilson_intervals(reports: list[Path]) -> None:
    import attacks

    data = json.loads((reports[0] / "report.json").read_text())
    attacked = [m for m in data["models"] if m["robustness"] is not None]
    assert attacked
    for entry in attacked:
        block = entry["robustness"]["weight_noise"]
        assert len(block["intervals"]) == len(block["eps"])
        for mean, band in zip(block["mean"], block["intervals"], strict=True):
            assert band == list(attacks.wilson(mean * SETTINGS.samples, SETTINGS.samples))
    html = (reports[0] / "index.html").read_text()
    assert html.count("accuracy, 95 % interval") == len(attacked)
    assert "shaded: 95 % Wilson interval over the samples" in html
