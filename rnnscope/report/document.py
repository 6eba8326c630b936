"""A built report: per-model results as typed objects, figures, and the comparison table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rnnscope.report.sections import Column, ordered_columns, sections
from rnnscope.settings import ReportSettings

__all__ = ["TITLE", "FigureData", "ModelReport", "Report", "comparison_columns"]

#: Title of every report.
TITLE = "rnnscope robustness report"


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


@dataclass(frozen=True, eq=False)
class ModelReport:
    """Everything the report shows about one model.

    Attributes
    ----------
    name, source, format : str
        Display name, checkpoint path and detected format.
    kind : str or None
        Model kind.
    options : dict
        Model options (``init``, ``nonlinearity``, ...).
    task : dict or None
        ``{"name", "params"}`` of the task it was trained on.
    training : dict or None
        Steps, batch size, learning rates, seed and the final test metric.
    principal : str
        Name of the principal recurrent matrix.
    notes : tuple of str
        Why parts were not measured.
    results : dict
        Typed result of every section, by section key (``None``: not applicable).
    figures : tuple of FigureData
        Figures of every section, in page order.

    Examples
    --------
    >>> model = ModelReport("m", "m.npy", "matrix", None, {}, None, None, "W")
    >>> model.to_dict()["robustness"] is None
    True
    """

    name: str
    source: str
    format: str
    kind: str | None
    options: dict[str, Any]
    task: dict[str, Any] | None
    training: dict[str, Any] | None
    principal: str
    notes: tuple[str, ...] = ()
    results: dict[str, Any] = field(default_factory=dict)
    figures: tuple[FigureData, ...] = field(default=(), repr=False)

    def result(self, key: str) -> Any:
        """Return the result of section `key` (``None`` when absent).

        Parameters
        ----------
        key : str
            Section key, e.g. ``"spectra"``.

        Returns
        -------
        object or None
            The typed result.
        """
        return self.results.get(key)

    def to_dict(self) -> dict[str, Any]:
        """Return the model's entry of ``report.json``.

        Returns
        -------
        dict
            Description of the checkpoint plus each section's JSON (nested where a section
            names a ``json_parent``).
        """
        entry: dict[str, Any] = {
            "name": self.name,
            "source": self.source,
            "format": self.format,
            "kind": self.kind,
            "init": self.options.get("init"),
            "options": dict(self.options),
            "task": self.task,
            "training": self.training,
            "principal": self.principal,
            "notes": list(self.notes),
        }
        for section in sections():
            if section.json_key is None:
                continue
            value = section.to_json(self.results.get(section.key))
            if section.json_parent is None:
                entry[section.json_key] = value
            elif isinstance(entry.get(section.json_parent), dict) and value is not None:
                entry[section.json_parent][section.json_key] = value
        return entry


def _model_columns() -> list[Column]:
    def task(model: ModelReport) -> Any:
        return (model.task or {}).get("name")

    return [
        Column(
            "model",
            "model",
            "name of the model",
            lambda m: m.name,
            text=True,
            compact=True,
            group=0,
        ),
        Column(
            "kind", "kind", "recurrent cell", lambda m: m.kind, text=True, compact=True, group=0
        ),
        Column(
            "init",
            "init",
            "initialization of W",
            lambda m: m.options.get("init"),
            text=True,
            group=0,
        ),
        Column("task", "task", "task", task, text=True, group=0),
    ]


def comparison_columns(settings: ReportSettings, *, compact: bool = False) -> list[Column]:
    """Columns of the comparison table: the model's description, then every section's.

    Parameters
    ----------
    settings : ReportSettings
        Report settings.
    compact : bool, optional
        Only the columns that fit a terminal.

    Returns
    -------
    list of Column
        In display order.

    Examples
    --------
    >>> [c.key for c in comparison_columns(ReportSettings(), compact=True)][:3]
    ['model', 'kind', 'clean_accuracy']
    """
    columns = ordered_columns(
        [_model_columns(), *(section.columns(settings) for section in sections())]
    )
    return [c for c in columns if c.compact] if compact else columns


@dataclass(frozen=True, eq=False)
class Report:
    """A built report, ready to render.

    Attributes
    ----------
    settings : ReportSettings
        Settings used.
    models : list of ModelReport
        Results per model.
    provenance : dict
        Versions, seeds and settings.
    timings : dict
        Wall-clock seconds per model and step (written to ``timings.json`` only).
    transfer : tuple of rnnscope.report.transfer.TransferBlock
        Transfer matrices of the attacked models that share a task.

    Examples
    --------
    >>> report = Report(ReportSettings(), models=[], provenance={}, timings={})
    >>> report.summary_rows()
    []
    """

    settings: ReportSettings
    models: list[ModelReport]
    provenance: dict[str, Any]
    timings: dict[str, Any] = field(repr=False)
    transfer: tuple[Any, ...] = ()

    @property
    def figures(self) -> list[tuple[FigureData, ...]]:
        """Figures per model, in the order of :attr:`models`."""
        return [model.figures for model in self.models]

    def columns(self, *, compact: bool = False) -> list[Column]:
        """Columns of the comparison table (see :func:`comparison_columns`).

        Parameters
        ----------
        compact : bool, optional
            Only the columns that fit a terminal.

        Returns
        -------
        list of Column
            In display order.
        """
        return comparison_columns(self.settings, compact=compact)

    def to_dict(self) -> dict[str, Any]:
        """Content of ``report.json``: settings, summary rows, models and provenance.

        ``transfer`` holds the transfer matrices (one per task shared by two or more attacked
        models). ``significance`` says, per comparison-table column with Wilson intervals,
        which models are best and which are not significantly different from the best
        (:func:`rnnscope.report.significance.not_significant`).

        Returns
        -------
        dict
            JSON-ready (non-finite floats are written as ``null``).

        Examples
        --------
        >>> report = Report(ReportSettings(), models=[], provenance={}, timings={})
        >>> sorted(report.to_dict())
        ['models', 'provenance', 'settings', 'significance', 'summary', 'title', 'transfer']
        """
        from rnnscope.report.significance import not_significant

        return {
            "title": TITLE,
            "settings": self.settings.to_dict(),
            "summary": self.summary_rows(),
            "significance": not_significant(self.columns(), self.models),
            "transfer": [block.to_dict() for block in self.transfer],
            "models": [model.to_dict() for model in self.models],
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
        >>> report = Report(ReportSettings(), models=[], provenance={}, timings={})
        >>> report.summary_columns(compact=True)[:2]
        [('model', 'model'), ('kind', 'kind')]
        """
        return [(column.label, column.key) for column in self.columns(compact=compact)]

    def summary_rows(self) -> list[dict[str, Any]]:
        """One flat, JSON-ready row per model for the comparison table.

        Returns
        -------
        list of dict
            Keys of :meth:`summary_columns`.

        Examples
        --------
        >>> model = ModelReport("m", "m.npy", "matrix", None, {}, None, None, "W")
        >>> report = Report(ReportSettings(), [model], provenance={}, timings={})
        >>> report.summary_rows()[0]["model"], report.summary_rows()[0]["spectral_norm"]
        ('m', None)
        """
        columns = self.columns()
        return [{column.key: column.json(model) for column in columns} for model in self.models]
