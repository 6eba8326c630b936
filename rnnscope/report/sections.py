"""The section protocol of a report, its comparison-table columns and the section registry.

A section is an object with a unique :attr:`Section.key` whose methods are called in this order
for every model (see :mod:`rnnscope.report` for how to add one):

1. :meth:`Section.compute` returns the section's typed result (``None``: not applicable to
   this model); results of earlier sections are in ``context.results``.
2. :meth:`Section.figures` draws its figures, once every section has computed.
3. :meth:`Section.to_json` gives its part of the model's entry in ``report.json``.
4. :meth:`Section.view` gives the context of its template block
   (``templates/sections/<template>.html.j2`` and ``.md.j2``).
5. :meth:`Section.columns` adds columns to the comparison table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from rnnscope.errors import RnnscopeError
from rnnscope.measures import fmt
from rnnscope.settings import ReportSettings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from models import Checkpoint
    from rnnscope.report.document import ModelReport

__all__ = [
    "SECTION_MODULES",
    "Column",
    "ModelContext",
    "Section",
    "SectionRegistryError",
    "ordered_columns",
    "register_section",
    "sections",
    "unregister_section",
]

#: Modules of the built-in sections, in page order; each defines ``SECTION``. Adding a section
#: to every report is one new module plus its name here.
SECTION_MODULES: tuple[str, ...] = (
    "rnnscope.report.spectra",
    "rnnscope.report.robustness",
    "rnnscope.report.weights",
    "rnnscope.report.windows",
    "rnnscope.report.hidden",
    "rnnscope.report.dynamics",
    "rnnscope.report.sanity",
)


class SectionRegistryError(RnnscopeError, ValueError):
    """A section key is registered twice, or an unknown section is removed."""


@dataclass
class ModelContext:
    """What a section sees of one model while the report is built.

    Attributes
    ----------
    index : int
        Position of the model in the report (1-based; used in figure file names).
    name : str
        Display name.
    checkpoint : models.Checkpoint
        The loaded checkpoint.
    settings : ReportSettings
        Report settings.
    notes : list of str
        Why parts were not measured (robustness needs a model and a classification task).
    results : dict
        Results of the sections computed so far, by section key.
    timings : dict
        Wall-clock seconds per step (written to ``timings.json`` only).

    Examples
    --------
    >>> import models, tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> ModelContext(1, "w", models.load(path), ReportSettings()).runnable
    False
    """

    index: int
    name: str
    checkpoint: Checkpoint
    settings: ReportSettings
    notes: list[str] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def runnable(self) -> bool:
        """Whether the model can be attacked on its task (no note says otherwise)."""
        return self.checkpoint.model is not None and not self.notes

    @cached_property
    def task(self) -> Any:
        """The checkpoint's task (:func:`rnnscope.taskdata.task_of`)."""
        from rnnscope.taskdata import task_of

        return task_of(self.checkpoint)

    @cached_property
    def samples(self) -> tuple[Any, Any]:
        """The evaluated test inputs and labels (the same for every section)."""
        from rnnscope.taskdata import evaluation_samples

        return evaluation_samples(self.task, self.settings.samples)

    @property
    def bounds(self) -> tuple[float, float]:
        """Input range of the task."""
        low, high = self.task.bounds
        return float(low), float(high)


@dataclass(frozen=True)
class Column:
    """One column of the comparison table.

    Attributes
    ----------
    key : str
        Key of the column in ``report.json``'s ``summary`` rows.
    label : str
        Header.
    help : str
        Tooltip.
    value : callable
        ``value(model: ModelReport) -> object``: the cell's value (any object).
    text : bool
        Left-aligned text column.
    compact : bool
        Also in the terminal table of ``rnnscope report``.
    group : int
        Columns are ordered by group, then by section and position: 0 describes the model,
        1 headline accuracy, 2 spectra, 3 robustness, 4 checks.
    to_json : callable
        JSON value of a cell value (default: the value itself).
    format : callable
        HTML/Markdown text of a cell value (default: 3 significant digits).
    terminal_format : callable or None
        Terminal text of a cell value (default: `format`).
    css : callable
        Extra CSS class of an HTML cell (e.g. ``"pass"`` or ``"fail"``).

    Examples
    --------
    >>> column = Column("x", "x", "a number", value=lambda model: 0.123456)
    >>> column.cell(None)
    {'text': '0.123', 'css': ''}
    """

    key: str
    label: str
    help: str
    value: Callable[[Any], Any]
    text: bool = False
    compact: bool = False
    group: int = 2
    to_json: Callable[[Any], Any] = lambda value: value
    format: Callable[[Any], str] = lambda value: fmt(value, 3)
    terminal_format: Callable[[Any], str] | None = None
    css: Callable[[Any], str] = lambda value: ""

    def json(self, model: ModelReport) -> Any:
        """JSON value of this column for `model`.

        Parameters
        ----------
        model : ModelReport
            The row.

        Returns
        -------
        object
            JSON-ready value.
        """
        return self.to_json(self.value(model))

    def cell(self, model: ModelReport) -> dict[str, str]:
        """HTML/Markdown cell of this column for `model`.

        Parameters
        ----------
        model : ModelReport
            The row.

        Returns
        -------
        dict
            ``{"text", "css"}``.
        """
        value = self.value(model)
        css = " ".join(part for part in ("text" if self.text else "", self.css(value)) if part)
        return {"text": self.format(value), "css": css}

    def terminal(self, model: ModelReport) -> str:
        """Terminal text of this column for `model`.

        Parameters
        ----------
        model : ModelReport
            The row.

        Returns
        -------
        str
            The cell text.
        """
        value = self.value(model)
        return (self.terminal_format or self.format)(value)


class Section:
    """Base class of a report section; override what the section contributes.

    Attributes
    ----------
    key : str
        Unique name; the section's result is stored under it.
    json_key : str or None
        Key of the section's result in the model's entry of ``report.json``.
    json_parent : str or None
        Nest the JSON under another section's key (e.g. ``"robustness"``); skipped when that
        part is ``null``.
    template : str or None
        Template block, ``templates/sections/<template>.html.j2`` and ``.md.j2``.
    html, markdown : str or None
        The block's Jinja source inline (used instead of `template` when set; `markdown`
        must then be set too). Both see :meth:`view`'s dict as ``block``; HTML is
        autoescaped and every Markdown value is escaped.

    Examples
    --------
    >>> class Empty(Section):
    ...     key = "empty"
    >>> Empty().to_json(None) is None
    True
    """

    key: str = ""
    json_key: str | None = None
    json_parent: str | None = None
    template: str | None = None
    html: str | None = None
    markdown: str | None = None

    def compute(self, context: ModelContext) -> Any:
        """Return this section's result for one model, ``None`` when it does not apply.

        Parameters
        ----------
        context : ModelContext
            The model, settings and earlier results.

        Returns
        -------
        object or None
            A typed result with ``to_dict()``.
        """
        return None

    def figures(self, context: ModelContext, result: Any) -> list[tuple[str, str, Figure]]:
        """Draw this section's figures.

        Parameters
        ----------
        context : ModelContext
            The model and every section's result.
        result : object or None
            This section's result.

        Returns
        -------
        list of (str, str, matplotlib.figure.Figure)
            Key (file name part), caption and figure, in page order.
        """
        return []

    def to_json(self, result: Any) -> Any:
        """JSON-ready part of the model's entry (default: ``result.to_dict()``).

        Parameters
        ----------
        result : object or None
            This section's result.

        Returns
        -------
        object
            JSON-ready value (``None`` for a missing result).
        """
        return None if result is None else result.to_dict()

    def view(self, model: ModelReport, result: Any) -> Mapping[str, Any] | None:
        """Context of this section's template block; ``None`` renders no block.

        Parameters
        ----------
        model : ModelReport
            The model.
        result : object or None
            This section's result.

        Returns
        -------
        mapping or None
            Available to the template as ``block``.
        """
        return None

    def columns(self, settings: ReportSettings) -> list[Column]:
        """Columns this section adds to the comparison table.

        Parameters
        ----------
        settings : ReportSettings
            Report settings (budgets decide some columns).

        Returns
        -------
        list of Column
            In order.
        """
        return []


_EXTRA: list[Section] = []
_REMOVED: set[str] = set()


def _builtin() -> list[Section]:
    return [importlib.import_module(name).SECTION for name in SECTION_MODULES]


def sections() -> tuple[Section, ...]:
    """Every section of a report, in page order: the built-in ones, then registered ones.

    Returns
    -------
    tuple of Section
        The sections.

    Examples
    --------
    >>> [section.key for section in sections()]
    ['spectra', 'robustness', 'weights', 'time_windows', 'hidden_state', 'dynamics', 'sanity']
    """
    found = [s for s in (*_builtin(), *_EXTRA) if s.key not in _REMOVED]
    return tuple(found)


def register_section(section: Section) -> Section:
    """Add a section to every report built in this process, after the built-in ones.

    Parameters
    ----------
    section : Section
        The section; its key must be new.

    Returns
    -------
    Section
        `section`.

    Raises
    ------
    SectionRegistryError
        If the key is empty or taken.

    Notes
    -----
    Reports built with several worker processes re-import the package in each: sections meant
    for every report belong in :data:`SECTION_MODULES`.

    Examples
    --------
    >>> class Empty(Section):
    ...     key = "empty_example"
    >>> _ = register_section(Empty())
    >>> sections()[-1].key
    'empty_example'
    >>> unregister_section("empty_example")
    """
    if not section.key:
        raise SectionRegistryError(f"{type(section).__name__} has no key")
    if section.key in {s.key for s in sections()}:
        raise SectionRegistryError(f"a section {section.key!r} is already registered")
    _REMOVED.discard(section.key)
    _EXTRA.append(section)
    return section


def unregister_section(key: str) -> None:
    """Remove a section from the reports built in this process.

    Parameters
    ----------
    key : str
        The section's key.

    Raises
    ------
    SectionRegistryError
        If no section has that key.

    Examples
    --------
    >>> unregister_section("no-such-section")
    Traceback (most recent call last):
    ...
    rnnscope.report.sections.SectionRegistryError: no section 'no-such-section' is registered
    """
    if key not in {s.key for s in sections()}:
        raise SectionRegistryError(f"no section {key!r} is registered")
    _EXTRA[:] = [s for s in _EXTRA if s.key != key]
    if key in {s.key for s in _builtin()}:
        _REMOVED.add(key)


def ordered_columns(groups: Sequence[Sequence[Column]]) -> list[Column]:
    """Concatenate column lists and order them by :attr:`Column.group` (stable).

    Parameters
    ----------
    groups : sequence of sequence of Column
        Columns per contributor, in section order.

    Returns
    -------
    list of Column
        The comparison table's columns.

    Examples
    --------
    >>> a = Column("a", "a", "", value=lambda m: 1, group=3)
    >>> b = Column("b", "b", "", value=lambda m: 2, group=0)
    >>> [c.key for c in ordered_columns([[a], [b]])]
    ['b', 'a']
    """
    flat = [column for group in groups for column in group]
    return sorted(flat, key=lambda column: column.group)
