"""The report of a sweep folder: runs grouped by settings, mean ± std over seeds, and scatters.

``rnnscope report DIR --out OUT`` on a sweep folder reads ``DIR/results.json`` and writes
``OUT/index.html``, ``OUT/report.md``, ``OUT/report.json`` and ``OUT/figures/*.svg``. A group
holds the runs whose settings differ only in their seed; its figures are the sample mean and
the sample standard deviation (ddof = 1; none for a single run) over the runs with a value.
The figures show one point per run, coloured by init: test accuracy against the Henrici
departure from normality, the spectral radius, the spectral norm, eps50 of each attacked
norm and, when the sweep computed dynamics, the top Lyapunov exponent. The files depend only
on ``results.json``: the same sweep gives byte-identical reports.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnscope.jsonio import dumps
from rnnscope.sweep.figures import scatter_figures
from rnnscope.sweep.gather import JSON_FILE, read_results

__all__ = [
    "SweepReport",
    "build_sweep_report",
    "is_sweep_dir",
    "render_sweep_html",
    "render_sweep_markdown",
    "write_sweep_report",
]


def is_sweep_dir(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a sweep folder (a folder holding a sweep's ``results.json``).

    Parameters
    ----------
    path : str or path-like
        Any path.

    Returns
    -------
    bool
        ``True`` for a folder written by ``rnnscope sweep``.

    Examples
    --------
    >>> is_sweep_dir("/no/such/dir")
    False
    """
    file = Path(path) / JSON_FILE
    if not file.is_file():
        return False
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "sweep" in data and isinstance(data.get("runs"), list)


@dataclass(frozen=True)
class SweepReport:
    """A built sweep report, ready to be written.

    Attributes
    ----------
    name : str
        Sweep name.
    source : str
        The sweep folder as given.
    metrics : tuple of (str, str)
        Metric keys and their labels, in table order.
    groups : tuple of dict
        One per group: ``settings``, ``label``, ``init``, ``seeds``, ``runs`` (ok runs),
        ``failed`` and per metric ``{"mean", "std", "n"}``.
    runs : tuple of dict
        One flat row per run with a result (``id``, ``init``, ``label`` and the metrics).
    figures : tuple of dict
        ``{"name", "title", "x", "y", "omitted", "svg"}`` per figure.

    Examples
    --------
    >>> SweepReport("s", "DIR", (), (), (), ()).to_dict()["groups"]
    []
    """

    name: str
    source: str
    metrics: tuple[tuple[str, str], ...]
    groups: tuple[dict[str, Any], ...]
    runs: tuple[dict[str, Any], ...]
    figures: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document of the report (figures by file name, without their SVG).

        Returns
        -------
        dict
            ``{"sweep", "metrics", "groups", "runs", "figures"}``.
        """
        return {
            "sweep": self.name,
            "metrics": [{"key": key, "label": label} for key, label in self.metrics],
            "groups": [dict(group) for group in self.groups],
            "runs": [dict(run) for run in self.runs],
            "figures": [
                {k: v for k, v in figure.items() if k != "svg"} | {"file": _figure_file(figure)}
                for figure in self.figures
            ],
        }


def _figure_file(figure: Mapping[str, Any]) -> str:
    return f"figures/{figure['name']}.svg"


def _flat(run: Mapping[str, Any], norms: Sequence[str], *, dynamics: bool) -> dict[str, Any]:
    train = run.get("train") or {}
    spectra = run.get("spectra") or {}
    robustness = run.get("robustness") or {}
    row = {
        "test_metric": train.get("test_metric"),
        "spectral_radius": spectra.get("spectral_radius"),
        "spectral_norm": spectra.get("spectral_norm"),
        "henrici": spectra.get("henrici"),
        "henrici_relative": spectra.get("henrici_relative"),
    }
    for norm in norms:
        block = robustness.get(norm) or {}
        row[f"{norm}_clean_accuracy"] = block.get("clean_accuracy")
        row[f"{norm}_eps50"] = block.get("eps50")
        row[f"{norm}_auc"] = block.get("auc")
    if dynamics:
        row["top_exponent"] = (run.get("dynamics") or {}).get("top_exponent")
    return row


def _metrics(
    norms: Sequence[str], metric_name: str, *, dynamics: bool
) -> tuple[tuple[str, str], ...]:
    labels = [
        ("test_metric", f"test {metric_name}"),
        ("spectral_radius", "ρ(W)"),
        ("spectral_norm", "‖W‖₂"),
        ("henrici", "Henrici"),
        ("henrici_relative", "Henrici (rel.)"),
    ]
    for norm in norms:
        name = "L∞" if norm == "linf" else "L2"
        labels += [
            (f"{norm}_clean_accuracy", f"{name} clean acc."),
            (f"{norm}_eps50", f"{name} eps50"),
            (f"{norm}_auc", f"{name} AUC"),
        ]
    if dynamics:
        labels.append(("top_exponent", "top Lyapunov exp."))
    return tuple(labels)


def _stats(values: Sequence[Any]) -> dict[str, Any]:
    finite = [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]
    if not finite:
        return {"mean": None, "std": None, "n": 0}
    mean = math.fsum(finite) / len(finite)
    std = None
    if len(finite) > 1:
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in finite) / (len(finite) - 1))
    return {"mean": mean, "std": std, "n": len(finite)}


def _label(settings: Mapping[str, Any]) -> str:
    parts = [str(settings["kind"])]
    parts += [f"{k}={v}" for k, v in sorted(settings["options"].items())]
    parts.append(f"h={settings['hidden']}")
    parts.append(f"lr={settings['lr']!r}")
    if settings.get("constrain") is not None:
        parts.append(f"constrain={settings['constrain']}")
    return " ".join(parts)


def build_sweep_report(path: str | os.PathLike[str]) -> SweepReport:
    """Group a sweep's runs, compute mean ± std over seeds and draw the scatter figures.

    Parameters
    ----------
    path : str or path-like
        Sweep folder (written by ``rnnscope sweep``).

    Returns
    -------
    SweepReport
        The report.

    Raises
    ------
    rnnscope.sweep.errors.SweepError
        If `path` is not a sweep folder.

    Examples
    --------
    >>> import tempfile
    >>> from rnnscope.sweep import write_results
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_results({"sweep": {"name": "empty", "evaluation": {}}, "runs": []}, folder)
    >>> report = build_sweep_report(folder)
    >>> report.name, report.groups, len(report.figures)
    ('empty', (), 3)
    """
    data = read_results(path)
    evaluation = data["sweep"].get("evaluation") or {}
    attack = evaluation.get("attack") or {}
    norms = list(attack.get("norms") or [])
    dynamics = evaluation.get("dynamics") is not None
    runs = data["runs"]
    metric_name = next(
        (
            r["train"]["metric_name"]
            for r in runs
            if r.get("train") and r["train"].get("metric_name")
        ),
        "accuracy",
    )
    metrics = _metrics(norms, metric_name, dynamics=dynamics)
    groups: dict[str, dict[str, Any]] = {}
    flat_runs = []
    for run in runs:
        settings = dict(run["settings"])
        seed = settings.pop("seed")
        key = json.dumps(settings, sort_keys=True)
        group = groups.setdefault(
            key,
            {
                "settings": settings,
                "label": _label(settings),
                "init": str(settings["options"].get("init", settings["kind"])),
                "seeds": [],
                "runs": 0,
                "failed": 0,
                "missing": 0,
                "_rows": [],
            },
        )
        group["seeds"].append(seed)
        if run["status"] == "ok":
            row = _flat(run, norms, dynamics=dynamics)
            group["runs"] += 1
            group["_rows"].append(row)
            flat_runs.append(
                {"id": run["id"], "seed": seed, "init": group["init"], "label": group["label"]}
                | row
            )
        elif run["status"] == "failed":
            group["failed"] += 1
        else:
            group["missing"] += 1
    finished = []
    for group in groups.values():
        rows = group.pop("_rows")
        group["stats"] = {key: _stats([row[key] for row in rows]) for key, _ in metrics}
        finished.append(group)
    figures = scatter_figures(flat_runs, norms, metric_name, dynamics=dynamics)
    return SweepReport(
        name=str(data["sweep"].get("name", "sweep")),
        source=str(path),
        metrics=metrics,
        groups=tuple(finished),
        runs=tuple(flat_runs),
        figures=tuple(figures),
    )


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1e4 or (value != 0 and abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.3f}"


def _mean_std(stat: Mapping[str, Any]) -> str:
    if stat["mean"] is None:
        return "–"
    if stat["std"] is None:
        return _number(stat["mean"])
    return f"{_number(stat['mean'])} ± {_number(stat['std'])}"


def _counts(group: Mapping[str, Any]) -> str:
    text = f"{group['runs']}/{len(group['seeds'])}"
    extra = []
    if group["failed"]:
        extra.append(f"{group['failed']} failed")
    if group["missing"]:
        extra.append(f"{group['missing']} missing")
    return text + (f" ({', '.join(extra)})" if extra else "")


_NOTE = (
    "Groups: runs whose settings differ only in their seed. Cells: mean ± sample standard "
    "deviation over the group's runs with a value (ddof = 1; a single run shows its value). "
    "eps50: the smallest budget at which the worst-case robust accuracy falls to half the clean "
    "accuracy; a run that does not fall that far within the largest budget (or has no clean "
    "accuracy) has none, counts in no eps50 mean and is left out of the eps50 figures."
)


def render_sweep_html(report: SweepReport) -> str:
    """Render the report as one self-contained HTML page.

    Parameters
    ----------
    report : SweepReport
        The report.

    Returns
    -------
    str
        The page.
    """
    esc = html.escape
    head = "".join(f"<th>{esc(label)}</th>" for _, label in report.metrics)
    rows = []
    for group in report.groups:
        cells = "".join(
            f"<td>{esc(_mean_std(group['stats'][key]))}</td>" for key, _ in report.metrics
        )
        rows.append(f"<tr><td>{esc(group['label'])}</td><td>{esc(_counts(group))}</td>{cells}</tr>")
    figures = []
    for figure in report.figures:
        note = (
            f" ({figure['omitted']} run(s) without a value not shown)" if figure["omitted"] else ""
        )
        figures.append(
            f'<figure id="{esc(figure["name"])}">{figure["svg"]}'
            f"<figcaption>{esc(figure['title'])}: one point per run{esc(note)}</figcaption>"
            "</figure>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>sweep {esc(report.name)}</title>\n"
        "<style>body{font-family:sans-serif;margin:2em;max-width:80em}"
        "table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;"
        "padding:0.25em 0.5em;text-align:right}td:first-child{text-align:left}"
        "figure{display:inline-block;margin:0.5em}svg{max-width:100%;height:auto}</style>\n"
        f"</head>\n<body>\n<h1>Sweep {esc(report.name)}</h1>\n"
        f"<p>{len(report.runs)} run(s) with a result in {len(report.groups)} group(s).</p>\n"
        f"<table>\n<thead><tr><th>settings</th><th>runs</th>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + f"\n</tbody>\n</table>\n<p>{esc(_NOTE)}</p>\n<h2>Figures</h2>\n"
        + "\n".join(figures)
        + "\n</body>\n</html>\n"
    )


def render_sweep_markdown(report: SweepReport) -> str:
    """Render the report as Markdown (figures linked from ``figures/``).

    Parameters
    ----------
    report : SweepReport
        The report.

    Returns
    -------
    str
        The document.
    """

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [f"# Sweep {report.name}", ""]
    lines.append(f"{len(report.runs)} run(s) with a result in {len(report.groups)} group(s).")
    lines.append("")
    header = ["settings", "runs", *(label for _, label in report.metrics)]
    lines.append("| " + " | ".join(cell(h) for h in header) + " |")
    lines.append("|" + "---|" * len(header))
    for group in report.groups:
        values = [group["label"], _counts(group)]
        values += [_mean_std(group["stats"][key]) for key, _ in report.metrics]
        lines.append("| " + " | ".join(cell(v) for v in values) + " |")
    lines += ["", _NOTE, "", "## Figures", ""]
    for figure in report.figures:
        lines.append(f"![{figure['title']}]({_figure_file(figure)})")
        lines.append("")
    return "\n".join(lines)


#: Entries of a sweep report folder, replaced as a whole on every write.
REPORT_ENTRIES = ("index.html", "report.md", "report.json", "figures")


def write_sweep_report(report: SweepReport, folder: str | os.PathLike[str]) -> Path:
    """Write ``index.html``, ``report.md``, ``report.json`` and ``figures/*.svg``.

    The files are written into a hidden sibling folder and swapped in as a whole
    (:func:`rnnscope.files.replace_folder`): a reader sees the old report or the new one.

    Parameters
    ----------
    report : SweepReport
        The report.
    folder : str or path-like
        Output folder (created if missing).

    Returns
    -------
    pathlib.Path
        The path of ``index.html``.

    Raises
    ------
    rnnscope.errors.OutputPathError
        If the folder cannot be written.
    """
    from rnnscope.files import check_output_dir, replace_folder

    out = check_output_dir(folder, what="--out", entries=("figures",))

    def build(stage: Path) -> None:
        figures = stage / "figures"
        figures.mkdir()
        for figure in report.figures:
            (figures / f"{figure['name']}.svg").write_text(
                _standalone(figure["svg"]), encoding="utf-8"
            )
        (stage / "report.json").write_text(dumps(report.to_dict()), encoding="utf-8")
        (stage / "report.md").write_text(render_sweep_markdown(report), encoding="utf-8")
        (stage / "index.html").write_text(render_sweep_html(report), encoding="utf-8")

    replace_folder(out, build, owned=REPORT_ENTRIES)
    return out / "index.html"


def _standalone(svg: str) -> str:
    return '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + svg + "\n"
