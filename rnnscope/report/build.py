"""Building a report: load each checkpoint, run every section on it, draw the figures."""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnscope import __version__
from rnnscope.analysis import principal_name
from rnnscope.logs import progress_bar
from rnnscope.options import DEFAULT_MAX_SIZE
from rnnscope.parallel import map_jobs, single_thread
from rnnscope.report.document import FigureData, ModelReport, Report
from rnnscope.report.sections import ModelContext, sections
from rnnscope.report.transfer import transfer_blocks
from rnnscope.settings import ReportSettings

if TYPE_CHECKING:
    from models import Checkpoint

__all__ = ["assemble_report", "build_report", "model_section"]

logger = logging.getLogger(__name__)


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
    max_size: int | None = DEFAULT_MAX_SIZE,
) -> Report:
    """Load every checkpoint and run every report section on it.

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
    max_size : int or None, optional
        Size limit of :func:`models.load`, checked for every checkpoint before any work.

    Returns
    -------
    Report
        Results per model, and the transfer matrix of the attacked models that share a task
        (crafted on each, evaluated on the others). A model without a task, or a file that
        holds matrices only, gets the spectral part and a note explaining why robustness is
        missing.

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
    >>> report.models[0].name, report.models[0].result("robustness") is None
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
    loaded = [models.load(path, max_size=max_size) for _, path in named]
    if workers is None:
        workers = min(len(named), os.cpu_count() or 1)
    in_process = workers <= 1 or len(named) <= 1
    jobs = [
        (index, name, checkpoint if in_process else path, settings)
        for index, ((name, path), checkpoint) in enumerate(zip(named, loaded, strict=True), 1)
    ]
    start = time.perf_counter()
    results: dict[int, tuple[ModelReport, dict[str, float]]] = {}
    with progress_bar(progress, len(jobs), "report") as update:
        update(f"analyzing and attacking {len(jobs)} model(s)")
        for index, model, times in map_jobs(model_section, jobs, workers=workers):
            results[index] = (model, times)
            update(f"{model.name}: done", advance=1)
    return assemble_report(results, loaded, settings, start=start)


def assemble_report(
    results: dict[int, tuple[ModelReport, dict[str, float]]],
    checkpoints: Sequence[Checkpoint],
    settings: ReportSettings,
    *,
    start: float,
) -> Report:
    """Put the per-model results of :func:`model_section` together into a report.

    The transfer matrices, which need every model, are computed here.

    Parameters
    ----------
    results : dict of int to (ModelReport, dict)
        :func:`model_section`'s result and timings, keyed by its 1-based index.
    checkpoints : sequence of models.Checkpoint
        The loaded checkpoints, in index order.
    settings : ReportSettings
        Report settings.
    start : float
        :func:`time.perf_counter` at the start of the work (for ``timings["total"]``).

    Returns
    -------
    Report
        Models in index order, the transfer matrices, provenance and timings.

    Examples
    --------
    >>> import tempfile, pathlib, time, numpy as np
    >>> import models
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> index, model, times = model_section(1, "w", str(path), ReportSettings(grid=16))
    >>> report = assemble_report({1: (model, times)}, [models.load(path)], ReportSettings(),
    ...                          start=time.perf_counter())
    >>> [m.name for m in report.models]
    ['w']
    """
    timings: dict[str, Any] = {results[i][0].name: results[i][1] for i in sorted(results)}
    reports = [results[i][0] for i in sorted(results)]
    transfer_start = time.perf_counter()
    with single_thread():
        transfer = transfer_blocks(reports, list(checkpoints), settings)
    if transfer:
        timings["transfer"] = round(time.perf_counter() - transfer_start, 3)
    timings["total"] = round(time.perf_counter() - start, 3)
    return Report(
        settings=settings,
        models=reports,
        provenance=_provenance(settings),
        timings=timings,
        transfer=transfer,
    )


def model_section(
    index: int, name: str, path: str | Checkpoint, settings: ReportSettings
) -> tuple[int, ModelReport, dict[str, float]]:
    """Run every report section on one checkpoint, with one compute thread.

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
    (int, ModelReport, dict)
        `index`, the model's results and figures, and its timings.

    Raises
    ------
    models.errors.ModelsError
        If the checkpoint cannot be loaded.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> index, model, times = model_section(1, "w", str(path), ReportSettings(grid=16))
    >>> model.format, [f.key for f in model.figures]
    ('matrix', ['pseudospectrum', 'schur', 'transient'])
    """
    import models
    from rnnscope.figures import inline_svg, safe_filename

    with single_thread():
        start = time.perf_counter()
        # the size limit was checked when build_report loaded every checkpoint first
        checkpoint = models.load(path, max_size=None) if isinstance(path, str) else path
        context = ModelContext(index, name, checkpoint, settings, notes=_notes(checkpoint))
        active = sections()
        for section in active:
            context.results[section.key] = section.compute(context)
        figure_start = time.perf_counter()
        stem = f"{index:02d}-{safe_filename(name)}"
        figures = []
        for section in active:
            for key, caption, fig in section.figures(context, context.results[section.key]):
                figures.append(
                    FigureData(
                        key=key,
                        caption=caption,
                        svg=inline_svg(fig, salt=f"rnnscope-{stem}-{key}"),
                        file=f"figures/{stem}-{key}.svg",
                    )
                )
        context.timings["figures"] = round(time.perf_counter() - figure_start, 3)
        context.timings["total"] = round(time.perf_counter() - start, 3)
    return index, _describe(context, tuple(figures)), context.timings


def _notes(checkpoint: Checkpoint) -> list[str]:
    """Why robustness cannot be measured on this checkpoint (empty when it can)."""
    task = checkpoint.task
    if checkpoint.model is None:
        return [
            f"robustness not measured: the {checkpoint.format} file holds recurrent "
            "matrices only, not a runnable model"
        ]
    if task is None or not task.get("name"):
        return ["robustness not measured: the checkpoint records no task"]
    if not (task.get("classification", True) and task.get("readout", "last") == "last"):
        return [
            f"robustness not measured: task {task.get('name')!r} is not a last-step "
            "classification task"
        ]
    return []


def _describe(context: ModelContext, figures: tuple[FigureData, ...]) -> ModelReport:
    """Describe the model (from its checkpoint) with its results and figures."""
    checkpoint = context.checkpoint
    task = checkpoint.task
    training = checkpoint.training
    metrics = checkpoint.metrics
    options = checkpoint.model.config["options"] if checkpoint.model is not None else {}
    return ModelReport(
        name=context.name,
        source=str(checkpoint.source),
        format=str(checkpoint.format),
        kind=checkpoint.kind,
        options=dict(options),
        task=(
            {"name": task.get("name"), "params": dict(task.get("params") or {})}
            if task is not None
            else None
        ),
        training=(
            {
                "steps": checkpoint.step,
                "lr": training.get("lr"),
                "lr_orth": training.get("lr_orth"),
                "batch_size": training.get("batch_size"),
                "seed": training.get("seed"),
                "test_metric": metrics.get("test_metric"),
                "metric_name": metrics.get("metric_name"),
            }
            if training
            else None
        ),
        principal=principal_name(checkpoint),
        notes=tuple(context.notes),
        results=dict(context.results),
        figures=figures,
    )


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
