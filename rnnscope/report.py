"""Robustness reports: one self-contained HTML page, plus the same content as JSON and Markdown.

:func:`build_report` loads checkpoints, analyzes their recurrent matrices, attacks the models on
their tasks and draws the figures; :func:`write_report` writes ``index.html`` (figures inline as
SVG, no external resource or script), ``report.json``, ``report.md`` with ``figures/*.svg``, and
``timings.json``. Wall-clock timings live only in ``timings.json``: everything else is a function
of the inputs and settings, so the same inputs give byte-identical files.

Names from checkpoints (paths, matrix keys, options) are untrusted: the HTML template escapes
them (jinja2 autoescape), the Markdown renderer escapes every interpolated value, and only the
SVG generated here is marked safe.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rnnscope import __version__
from rnnscope.analysis import DEFAULT_EPS, analyze_checkpoint, principal_name
from rnnscope.evaluation import EvaluationSettings, evaluate_model, task_of
from rnnscope.files import atomic_write_text
from rnnscope.jsonio import dumps
from rnnscope.logs import progress_bar
from rnnscope.options import eps_key
from rnnscope.parallel import map_jobs, single_thread
from rnnscope.tables import MEASURES, fmt

__all__ = [
    "Report",
    "ReportSettings",
    "build_report",
    "render_html",
    "render_json",
    "render_markdown",
    "write_report",
]

logger = logging.getLogger(__name__)

_TITLE = "rnnscope robustness report"


@dataclass(frozen=True)
class ReportSettings(EvaluationSettings):
    """Settings of a report: the robustness settings plus the spectral ones.

    Attributes
    ----------
    samples : int
        Test sequences attacked per model.
    linf_eps, l2_eps : tuple of float
        Budgets of the two threat models (input units).
    weight_eps : tuple of float
        Relative weight-noise sizes.
    attacks : tuple of str
        Bounded input attacks.
    minimal_attacks : tuple of str
        Minimisation attacks.
    steps : int
        Iterations of the bounded iterative attacks.
    minimal_steps : int
        Iterations of the minimisation attacks.
    noise_draws, weight_draws : int
        Random draws of the input-noise and weight-noise curves.
    seed : int
        Seed of every random choice.
    pseudo_eps : tuple of float
        Perturbation sizes of the pseudospectral radius and the pseudospectrum contours.
    grid : int
        Pseudospectrum grid points per axis.

    Examples
    --------
    >>> ReportSettings(samples=32).evaluation().samples
    32
    """

    pseudo_eps: tuple[float, ...] = DEFAULT_EPS
    grid: int = 80

    def evaluation(self) -> EvaluationSettings:
        """Return the robustness part of the settings.

        Returns
        -------
        rnnscope.evaluation.EvaluationSettings
            Samples, budgets, attacks, steps, draws and seed.

        Examples
        --------
        >>> ReportSettings(seed=3).evaluation().seed
        3
        """
        values = {f.name: getattr(self, f.name) for f in fields(EvaluationSettings)}
        return EvaluationSettings(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings.

        Returns
        -------
        dict
            Every field, tuples as lists.

        Examples
        --------
        >>> ReportSettings().to_dict()["grid"]
        80
        """
        return {
            **super().to_dict(),
            "pseudo_eps": list(self.pseudo_eps),
            "grid": self.grid,
        }


@dataclass(frozen=True)
class FigureData:
    """One figure of a model section.

    Attributes
    ----------
    key : str
        Short name (``pseudospectrum``, ``schur``, ``transient``, ``robustness-linf``, ...).
    caption : str
        Caption text.
    svg : str
        ``<svg>`` markup produced by matplotlib.
    file : str
        Path of the SVG file relative to the report folder (used by the Markdown report).

    Examples
    --------
    >>> FigureData("schur", "|T|", "<svg/>", "figures/01-w-schur.svg").key
    'schur'
    """

    key: str
    caption: str
    svg: str
    file: str


@dataclass(frozen=True)
class Report:
    """A built report, ready to render.

    Attributes
    ----------
    settings : ReportSettings
        Settings used.
    models : list of dict
        JSON-ready results per model (see :func:`build_report`).
    figures : list of list of FigureData
        Figures per model, in the order of `models`.
    provenance : dict
        Versions, seeds and settings.
    timings : dict
        Wall-clock seconds per model and step (written to ``timings.json`` only).

    Examples
    --------
    >>> report = Report(ReportSettings(), models=[], figures=[], provenance={}, timings={})
    >>> report.summary_rows()
    []
    """

    settings: ReportSettings
    models: list[dict[str, Any]]
    figures: list[list[FigureData]] = field(repr=False)
    provenance: dict[str, Any]
    timings: dict[str, Any] = field(compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Content of ``report.json``: settings, summary rows, models and provenance.

        Returns
        -------
        dict
            JSON-ready (non-finite floats are written as ``null``).

        Examples
        --------
        >>> report = Report(ReportSettings(), models=[], figures=[], provenance={}, timings={})
        >>> sorted(report.to_dict())
        ['models', 'provenance', 'settings', 'summary', 'title']
        """
        return {
            "title": _TITLE,
            "settings": self.settings.to_dict(),
            "summary": self.summary_rows(),
            "models": self.models,
            "provenance": self.provenance,
        }

    def summary_columns(self, *, compact: bool = False) -> list[tuple[str, str]]:
        """Labels and keys of the comparison table.

        Parameters
        ----------
        compact : bool, optional
            Only the columns that fit a terminal (the HTML and Markdown tables have them all).

        Returns
        -------
        list of (str, str)
            ``(label, key)`` per column; keys index :meth:`summary_rows`.

        Examples
        --------
        >>> report = Report(ReportSettings(), models=[], figures=[], provenance={}, timings={})
        >>> report.summary_columns(compact=True)[:2]
        [('model', 'model'), ('kind', 'kind')]
        """
        columns = _columns(self.settings)
        if compact:
            columns = [c for c in columns if c.key in _COMPACT]
        return [(column.label, column.key) for column in columns]

    def summary_rows(self) -> list[dict[str, Any]]:
        """One flat, JSON-ready row per model for the comparison table.

        Returns
        -------
        list of dict
            Keys of :meth:`summary_columns`.

        Examples
        --------
        >>> model = {"name": "m", "analysis": {"matrices": []}, "robustness": None}
        >>> report = Report(ReportSettings(), [model], figures=[[]], provenance={}, timings={})
        >>> report.summary_rows()[0]["model"]
        'm'
        """
        return [_summary_row(model, self.settings) for model in self.models]


_COMPACT = frozenset(
    {
        "model",
        "kind",
        "clean_accuracy",
        "spectral_norm",
        "spectral_radius",
        "henrici_relative",
        "chain_length",
        "eps50_adversarial_linf",
        "eps50_noise_linf",
        "minimal_l2",
        "certified_l2",
        "sanity",
    }
)


@dataclass(frozen=True)
class _Column:
    key: str
    label: str
    help: str
    text: bool = False


def _columns(settings: ReportSettings) -> list[_Column]:
    columns = [
        _Column("model", "model", "name of the model", text=True),
        _Column("kind", "kind", "recurrent cell", text=True),
        _Column("init", "init", "initialization of W", text=True),
        _Column("task", "task", "task", text=True),
        _Column("clean_accuracy", "clean acc", "accuracy on the evaluated test samples"),
        _Column("spectral_norm", "σ_max", "largest singular value of the principal W"),
        _Column("spectral_radius", "ρ", "spectral radius of the principal W"),
        _Column("henrici_relative", "Henrici rel", "departure from normality / ‖W‖_F"),
        _Column("chain_length", "chain", "length of the detected Schur chain"),
    ]
    for e in settings.pseudo_eps:
        key = eps_key(e)
        columns.append(
            _Column(f"pseudospectral_radius_{key}", f"ρ_ε ε={key}", "ε-pseudospectral radius")
        )
    for norm, label, eps in (("linf", "L∞", settings.linf_eps), ("l2", "L2", settings.l2_eps)):
        for e in eps:
            key = eps_key(e)
            columns.append(
                _Column(f"robust_{norm}_{key}", f"{label} ε={key}", "robust accuracy (worst case)")
            )
    for norm, label in (("linf", "L∞"), ("l2", "L2")):
        columns.append(_Column(f"eps50_adversarial_{norm}", f"eps50 adv {label}", "adversarial"))
        columns.append(_Column(f"eps50_noise_{norm}", f"eps50 noise {label}", "random noise"))
    for norm, label in (("linf", "L∞"), ("l2", "L2")):
        columns.append(
            _Column(f"minimal_{norm}", f"min pert {label}", "median minimal perturbation")
        )
    for norm, label in (("linf", "L∞"), ("l2", "L2")):
        columns.append(
            _Column(f"certified_{norm}", f"certified {label}", "median certified radius")
        )
    columns.append(_Column("sanity", "sanity", "failed sanity checks", text=True))
    return columns


def _principal(model: Mapping[str, Any]) -> Mapping[str, Any]:
    matrices = model.get("analysis", {}).get("matrices", [])
    for matrix in matrices:
        if matrix.get("name") == model.get("principal"):
            return matrix
    return matrices[0] if matrices else {}


def _summary_row(model: Mapping[str, Any], settings: ReportSettings) -> dict[str, Any]:
    principal = _principal(model)
    robustness = model.get("robustness") or {}
    row: dict[str, Any] = {
        "model": model["name"],
        "kind": model.get("kind"),
        "init": model.get("init"),
        "task": (model.get("task") or {}).get("name"),
        "clean_accuracy": robustness.get("clean_accuracy"),
        "spectral_norm": principal.get("spectral_norm"),
        "spectral_radius": principal.get("spectral_radius"),
        "henrici_relative": principal.get("henrici_relative"),
        "chain_length": principal.get("chain_length"),
    }
    for e in settings.pseudo_eps:
        key = eps_key(e)
        row[f"pseudospectral_radius_{key}"] = principal.get("pseudospectral_radius", {}).get(key)
    for norm, eps in (("linf", settings.linf_eps), ("l2", settings.l2_eps)):
        block = robustness.get(norm) or {}
        accuracy = (block.get("adversarial") or {}).get("robust_accuracy") or [None] * len(eps)
        for e, value in zip(eps, accuracy, strict=False):
            row[f"robust_{norm}_{eps_key(e)}"] = value
        row[f"eps50_adversarial_{norm}"] = (block.get("adversarial") or {}).get("eps50")
        row[f"eps50_noise_{norm}"] = (block.get("noise") or {}).get("eps50")
        row[f"minimal_{norm}"] = (block.get("minimal") or {}).get("median")
        certified = block.get("certified") or {}
        row[f"certified_{norm}"] = certified.get("median") if certified.get("supported") else None
    failed = [c["name"] for c in robustness.get("sanity", []) if c.get("passed") is False]
    if not robustness:
        row["sanity"] = None
    else:
        row["sanity"] = "FAIL: " + "; ".join(failed) if failed else "ok"
    return row


# ---------------------------------------------------------------------------------------- build
def _unique_names(sources: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[str, int] = {}
    result = []
    for name, path in sources:
        count = seen.get(name, 0) + 1
        seen[name] = count
        result.append((name if count == 1 else f"{name}-{count}", path))
    return result


def _default_name(path: str) -> str:
    p = Path(path)
    return p.stem if p.suffix else p.name or str(path)


def build_report(
    sources: Sequence[str | os.PathLike[str] | tuple[str, str | os.PathLike[str]]],
    settings: ReportSettings | None = None,
    *,
    progress: bool = False,
    workers: int | None = None,
) -> Report:
    """Load, analyze and attack every checkpoint, and draw the figures.

    Each model is processed with one compute thread (torch and BLAS), so the results do not
    depend on the number of cores or workers; up to `workers` models run in parallel processes.

    Parameters
    ----------
    sources : sequence of path or (name, path)
        Checkpoints (anything :func:`models.load` accepts). A bare path is named after its
        file or folder; duplicate names get a ``-2``, ``-3`` suffix.
    settings : ReportSettings, optional
        Budgets, samples, seeds; defaults as in :class:`ReportSettings`.
    progress : bool, optional
        Show a progress bar on stderr.
    workers : int, optional
        Parallel processes; default ``min(number of models, number of CPUs)``. ``1`` runs
        everything in this process.

    Returns
    -------
    Report
        Results per model. A model without a task, or a file that holds matrices only, gets
        the spectral part and a note explaining why robustness is missing.

    Raises
    ------
    models.errors.ModelsError
        If a checkpoint cannot be loaded.
    spectra.errors.SpectraError
        If a recurrent matrix is not finite.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(3))
    >>> report = build_report([path], ReportSettings(grid=20), workers=1)
    >>> report.models[0]["name"], report.models[0]["robustness"] is None
    ('w', True)
    """
    settings = settings or ReportSettings()
    named = _unique_names(
        [
            (str(s[0]), str(s[1])) if isinstance(s, tuple) else (_default_name(str(s)), str(s))
            for s in sources
        ]
    )
    import models

    # Fail on unreadable input before any expensive work; in-process jobs reuse the loaded
    # checkpoints, worker processes load their own.
    loaded = [models.load(path) for _, path in named]
    if workers is None:
        workers = min(len(named), os.cpu_count() or 1)
    in_process = workers <= 1 or len(named) <= 1
    jobs = [
        (index, name, checkpoint if in_process else path, settings)
        for index, ((name, path), checkpoint) in enumerate(zip(named, loaded, strict=True), 1)
    ]
    start = time.perf_counter()
    results: dict[int, tuple[dict[str, Any], list[FigureData], dict[str, float]]] = {}
    with progress_bar(progress, len(jobs), "report") as update:
        update(f"analyzing and attacking {len(jobs)} model(s)")
        for index, result in map_jobs(model_section, jobs, workers=workers):
            results[index] = result
            update(f"{result[0]['name']}: done", advance=1)
    timings: dict[str, Any] = {results[i][0]["name"]: results[i][2] for i in sorted(results)}
    timings["total"] = round(time.perf_counter() - start, 3)
    ordered = [results[i] for i in sorted(results)]
    return Report(
        settings=settings,
        models=[entry for entry, _, _ in ordered],
        figures=[figures for _, figures, _ in ordered],
        provenance=_provenance(settings),
        timings=timings,
    )


def model_section(
    index: int, name: str, path: str | Any, settings: ReportSettings
) -> tuple[int, tuple[dict[str, Any], list[FigureData], dict[str, float]]]:
    """Compute the report section of one checkpoint with one compute thread.

    Parameters
    ----------
    index : int
        Position of the model in the report (1-based; used in figure file names).
    name : str
        Display name.
    path : str or models.Checkpoint
        Checkpoint path, or a checkpoint already loaded in this process.
    settings : ReportSettings
        Report settings.

    Returns
    -------
    (int, (dict, list of FigureData, dict))
        `index`, and the model's JSON-ready entry, its figures and its timings.

    Raises
    ------
    models.errors.ModelsError
        If the checkpoint cannot be loaded.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> index, (entry, figures, times) = model_section(1, "w", str(path), ReportSettings(grid=16))
    >>> entry["format"], [f.key for f in figures]
    ('matrix', ['pseudospectrum', 'schur', 'transient'])
    """
    import models

    with single_thread():
        times: dict[str, float] = {}
        start = time.perf_counter()
        checkpoint = models.load(path) if isinstance(path, str) else path
        analysis = analyze_checkpoint(checkpoint, eps=settings.pseudo_eps)
        times["analysis"] = round(time.perf_counter() - start, 3)
        entry = _describe(name, checkpoint, analysis)
        overlay = None
        if entry["notes"]:
            entry["robustness"] = None
        else:
            entry["robustness"], overlay = evaluate_model(
                checkpoint.model, task_of(checkpoint), settings.evaluation(), timings=times
            )
        figure_start = time.perf_counter()
        figures = _model_figures(index, entry, checkpoint, overlay, settings)
        times["figures"] = round(time.perf_counter() - figure_start, 3)
        times["total"] = round(time.perf_counter() - start, 3)
    return index, (entry, figures, times)


def _describe(name: str, checkpoint: Any, analysis: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready description of one checkpoint (everything but robustness)."""
    config = checkpoint.config or {}
    model_config = config.get("model", config) if isinstance(config, Mapping) else {}
    options = dict(model_config.get("options") or {}) if isinstance(model_config, Mapping) else {}
    task = config.get("task") if isinstance(config, Mapping) else None
    notes: list[str] = []
    if checkpoint.model is None:
        notes.append(
            f"robustness not measured: the {checkpoint.format} file holds recurrent "
            "matrices only, not a runnable model"
        )
    elif not isinstance(task, Mapping) or not task.get("name"):
        notes.append("robustness not measured: the checkpoint records no task")
    elif not (task.get("classification", True) and task.get("readout", "last") == "last"):
        notes.append(
            f"robustness not measured: task {task.get('name')!r} is not a last-step "
            "classification task"
        )
    metrics = config.get("metrics") if isinstance(config, Mapping) else None
    training = config.get("training") if isinstance(config, Mapping) else None
    return {
        "name": name,
        "source": str(checkpoint.source),
        "format": str(checkpoint.format),
        "kind": checkpoint.kind,
        "init": options.get("init"),
        "options": options,
        "task": (
            {"name": task.get("name"), "params": dict(task.get("params") or {})}
            if isinstance(task, Mapping)
            else None
        ),
        "training": (
            {
                "steps": (training or {}).get("step"),
                "lr": (training or {}).get("lr"),
                "lr_orth": (training or {}).get("lr_orth"),
                "batch_size": (training or {}).get("batch_size"),
                "seed": (training or {}).get("seed"),
                "test_metric": (metrics or {}).get("test_metric"),
                "metric_name": (metrics or {}).get("metric_name"),
            }
            if isinstance(training, Mapping)
            else None
        ),
        "principal": principal_name(checkpoint),
        "analysis": analysis,
        "notes": notes,
    }


def _provenance(settings: ReportSettings) -> dict[str, Any]:
    import importlib.metadata

    def _version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return {
        "rnnscope": __version__,
        "versions": {
            "python": platform.python_version(),
            **{
                name: _version(name)
                for name in ("numpy", "scipy", "torch", "matplotlib", "foolbox", "jinja2")
            },
        },
        "threads_per_model": 1,
        "seed": settings.seed,
        "settings": settings.to_dict(),
    }


# ---------------------------------------------------------------------------------------- figures
def _model_figures(
    index: int,
    entry: Mapping[str, Any],
    checkpoint: Any,
    overlay: Any,
    settings: ReportSettings,
) -> list[FigureData]:
    from rnnscope.figures import (
        inline_svg,
        new_figure,
        plot_robustness,
        plot_weight_noise,
        safe_filename,
    )
    from rnnscope.plots import pseudospectrum_figure, schur_figure, transient_figure

    principal = entry["principal"]
    W = checkpoint.matrices[principal]
    stem = f"{index:02d}-{safe_filename(entry['name'])}"
    made: list[tuple[str, str, Any]] = [
        (
            "pseudospectrum",
            f"ε-pseudospectra of {principal} (ε = {', '.join(map(eps_key, settings.pseudo_eps))})"
            " with the unit circle"
            + (
                "; small points: eigenvalues of W + E from the weight-noise run"
                if overlay is not None
                else ""
            ),
            pseudospectrum_figure(W, eps=settings.pseudo_eps, grid=settings.grid, overlay=overlay),
        ),
        ("schur", f"|T| of the Schur form of {principal} with the detected chain", schur_figure(W)),
        ("transient", f"transient growth ‖{principal}^k‖₂", transient_figure(W)),
    ]
    robustness = entry.get("robustness")
    if robustness:
        for norm, label in (("linf", "L∞"), ("l2", "L2")):
            block = robustness[norm]
            curves = {name: (block["eps"], values) for name, values in _accuracy_curves(block)}
            fig, ax = new_figure(5.0, 3.8)
            plot_robustness(
                ax,
                curves,
                title=f"{label} robustness",
                xlabel=f"{label} budget ε",
                clean=robustness["clean_accuracy"],
            )
            made.append(
                (
                    f"robustness-{norm}",
                    f"accuracy under {label} attacks, random noise and certification",
                    fig,
                )
            )
        weight = robustness["weight_noise"]
        fig, ax = new_figure(5.0, 3.8)
        plot_weight_noise(
            ax, weight["eps"], weight["mean"], weight["std"], clean=robustness["clean_accuracy"]
        )
        made.append(("weight-noise", "accuracy with W replaced by W + E (mean ± std)", fig))
    result = []
    for key, caption, fig in made:
        salt = f"rnnscope-{stem}-{key}"
        result.append(
            FigureData(
                key=key,
                caption=caption,
                svg=inline_svg(fig, salt=salt),
                file=f"figures/{stem}-{key}.svg",
            )
        )
    return result


def _accuracy_curves(block: Mapping[str, Any]) -> list[tuple[str, Sequence[float | None]]]:
    """Accuracy curves of one norm's robustness block, as drawn and tabulated."""
    curves: list[tuple[str, Sequence[float | None]]] = list(
        block["adversarial"]["per_attack"].items()
    )
    curves.append(("worst case", block["adversarial"]["robust_accuracy"]))
    curves.append(("random noise", block["noise"]["accuracy"]))
    certified = block.get("certified") or {}
    if certified.get("supported") and certified.get("certified_accuracy") is not None:
        curves.append(("certified", certified["certified_accuracy"]))
    return curves


# ---------------------------------------------------------------------------------------- render
def _cell(value: Any, column: _Column) -> dict[str, str]:
    css = "text" if column.text else ""
    if column.key == "sanity" and isinstance(value, str):
        css += " fail" if value.startswith("FAIL") else " pass"
    return {"text": fmt(value, 3), "css": css.strip()}


def _view(report: Report) -> dict[str, Any]:
    """Template context shared by the HTML and Markdown renderers."""
    columns = _columns(report.settings)
    rows = [
        {column.key: _cell(row.get(column.key), column) for column in columns}
        for row in report.summary_rows()
    ]
    models_view = []
    for model, figures in zip(report.models, report.figures, strict=True):
        models_view.append(_model_view(model, figures, report.settings))
    provenance = report.provenance
    provenance_rows = [
        ("rnnscope", provenance["rnnscope"]),
        (
            "versions",
            ", ".join(f"{k} {v}" for k, v in sorted(provenance["versions"].items())),
        ),
        ("compute threads per model", str(provenance["threads_per_model"])),
        ("seed", str(provenance["seed"])),
        (
            "settings",
            "; ".join(f"{k} = {_setting(v)}" for k, v in sorted(provenance["settings"].items())),
        ),
    ]
    return {
        "title": _TITLE,
        "settings": {
            key: [eps_key(v) for v in value] if key.endswith("_eps") else value
            for key, value in report.settings.to_dict().items()
        },
        "columns": columns,
        "rows": rows,
        "models": models_view,
        "provenance": provenance_rows,
    }


def _setting(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _model_view(
    model: Mapping[str, Any], figures: Sequence[FigureData], settings: ReportSettings
) -> dict[str, Any]:
    from markupsafe import Markup

    matrices = model["analysis"]["matrices"]
    measure_rows = [
        {"label": label, "cells": [fmt(m.get(key)) for m in matrices]} for key, label in MEASURES
    ]
    eps_keys = [eps_key(e) for e in settings.pseudo_eps]
    for key in eps_keys:
        measure_rows.append(
            {
                "label": f"ε-pseudospectral radius, ε={key}",
                "cells": [fmt(m.get("pseudospectral_radius", {}).get(key)) for m in matrices],
            }
        )
    robustness = model.get("robustness")
    header: list[str] = []
    rows: list[dict[str, Any]] = []
    sanity: list[dict[str, Any]] = []
    if robustness:
        width = max(len(settings.linf_eps), len(settings.l2_eps))
        for norm, label in (("linf", "L∞"), ("l2", "L2")):
            block = robustness[norm]
            minimal = block["minimal"]
            curves = [
                ("budget ε", block["eps"]),
                *_accuracy_curves(block),
                (
                    "minimal pert. (median, IQR)",
                    [minimal["median"], _iqr(minimal["q1"], minimal["q3"])],
                ),
            ]
            for curve, values in curves:
                rows.append({"norm": label, "curve": curve, "cells": _padded(values, width)})
        weight = robustness["weight_noise"]
        rows.append(
            {
                "norm": "weights",
                "curve": "relative ‖E‖₂/‖W‖₂",
                "cells": [fmt(v, 3) for v in weight["eps"]],
            }
        )
        rows.append(
            {
                "norm": "weights",
                "curve": "accuracy (mean)",
                "cells": [fmt(v, 3) for v in weight["mean"]],
            }
        )
        header = [f"ε{i + 1}" for i in range(max(width, len(weight["eps"])))]
        sanity = list(robustness.get("sanity", []))
    return {
        "name": model["name"],
        "source": model["source"],
        "format": model["format"],
        "kind": model.get("kind"),
        "options_text": ", ".join(f"{k}={v}" for k, v in sorted(model.get("options", {}).items())),
        "task_text": _task_text(model.get("task")),
        "training_text": _training_text(model.get("training")),
        "notes": list(model.get("notes", [])),
        "matrices": matrices,
        "measure_rows": measure_rows,
        "skipped": sorted(model["analysis"].get("skipped", {}).items()),
        "robustness_header": header,
        "robustness_rows": rows,
        "sanity": sanity,
        "figures": [
            {"svg": Markup(f.svg), "caption": f.caption, "file": f.file, "key": f.key}
            for f in figures
        ],
    }


def _padded(values: Sequence[Any], width: int) -> list[str]:
    """Format `values` and pad them with empty cells to `width`."""
    cells = [fmt(v, 3) for v in values]
    return cells + [""] * (width - len(cells))


def _iqr(q1: Any, q3: Any) -> str:
    return f"{fmt(q1, 3)}–{fmt(q3, 3)}"


def _task_text(task: Mapping[str, Any] | None) -> str:
    if not task:
        return ""
    params = ", ".join(f"{k}={v}" for k, v in sorted((task.get("params") or {}).items()))
    return f"{task.get('name')} ({params})" if params else str(task.get("name"))


def _training_text(training: Mapping[str, Any] | None) -> str:
    if not training:
        return ""
    parts = [
        f"{k} {fmt(training.get(k))}" for k in ("steps", "batch_size", "lr", "lr_orth", "seed")
    ]
    if training.get("test_metric") is not None:
        parts.append(
            f"test {training.get('metric_name') or 'metric'} {fmt(training['test_metric'])}"
        )
    return ", ".join(parts)


def _environment(kind: str) -> Any:
    import jinja2

    escaping: dict[str, Any] = (
        {"autoescape": jinja2.select_autoescape(["html", "j2"], default=True)}
        if kind == "html"
        else {"autoescape": False, "finalize": _markdown_escape}
    )
    return jinja2.Environment(
        loader=jinja2.PackageLoader("rnnscope", "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        **escaping,
    )


def _render(kind: str, view: Mapping[str, Any]) -> str:
    """Render ``report.<kind>.j2`` (``html`` or ``md``) with a view from :func:`_view`."""
    return _environment(kind).get_template(f"report.{kind}.j2").render(**view)


_MARKDOWN_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "|": "\\|",
    "`": "\\`",
    "*": "\\*",
    "_": "\\_",
    "[": "\\[",
    "]": "\\]",
    "\\": "\\\\",
}


def _markdown_escape(value: Any) -> str:
    """Escape a value for Markdown text (no markup, no HTML, no table breaks)."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return "".join(_MARKDOWN_ESCAPES.get(ch, ch) for ch in text)


def render_html(report: Report) -> str:
    """Render the self-contained HTML page.

    Parameters
    ----------
    report : Report
        The built report.

    Returns
    -------
    str
        The page; no external URL, no script, figures inline as SVG.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> report = build_report([path], ReportSettings(grid=16), workers=1)
    >>> render_html(report).startswith("<!DOCTYPE html>")
    True
    """
    return _render("html", _view(report))


def render_markdown(report: Report) -> str:
    """Render the Markdown report (figures referenced as ``figures/*.svg``).

    Parameters
    ----------
    report : Report
        The built report.

    Returns
    -------
    str
        Markdown text; every interpolated value is escaped.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> report = build_report([path], ReportSettings(grid=16), workers=1)
    >>> render_markdown(report).splitlines()[0]
    '# rnnscope robustness report'
    """
    return _render("md", _view(report))


def render_json(report: Report) -> str:
    """Render ``report.json`` (sorted keys, ``null`` for non-finite values).

    Parameters
    ----------
    report : Report
        The built report.

    Returns
    -------
    str
        Canonical JSON text.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> report = build_report([path], ReportSettings(grid=16), workers=1)
    >>> import json
    >>> json.loads(render_json(report))["models"][0]["name"]
    'w'
    """
    return dumps(report.to_dict())


def write_report(report: Report, folder: str | os.PathLike[str]) -> Path:
    """Write the report files into `folder`, each atomically.

    Everything is rendered in memory first, so a failure leaves no partial report behind.

    Parameters
    ----------
    report : Report
        The built report.
    folder : str or path-like
        Existing, writable folder.

    Returns
    -------
    pathlib.Path
        Path of ``index.html``.

    Raises
    ------
    OSError
        If a file cannot be written.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> report = build_report([path], ReportSettings(grid=16), workers=1)
    >>> write_report(report, tempfile.mkdtemp()).name
    'index.html'
    """
    out = Path(folder)
    view = _view(report)
    html = _render("html", view)
    markdown = _render("md", view)
    data = render_json(report)
    timings = dumps({"timings_seconds": report.timings, "note": _TIMINGS_NOTE})
    figure_dir = out / "figures"
    figure_dir.mkdir(exist_ok=True)
    for figures in report.figures:
        for figure in figures:
            atomic_write_text(out / figure.file, _standalone_svg(figure.svg))
    atomic_write_text(out / "report.json", data)
    atomic_write_text(out / "report.md", markdown)
    atomic_write_text(out / "timings.json", timings)
    index = atomic_write_text(out / "index.html", html)
    return index


_TIMINGS_NOTE = (
    "wall-clock seconds; kept apart so that index.html, report.json and report.md are reproducible"
)


def _standalone_svg(svg: str) -> str:
    return '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + svg + "\n"
