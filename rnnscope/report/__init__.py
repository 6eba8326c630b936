r"""Robustness reports: one self-contained HTML page, plus the same content as JSON and Markdown.

:func:`build_report` loads checkpoints and runs every report *section* on each model;
:func:`write_report` writes ``index.html`` (figures inline as SVG, no external resource or
script), ``report.json``, ``report.md`` with ``figures/*.svg``, and ``timings.json``. Wall-clock
timings live only in ``timings.json``: everything else is a function of the inputs and
settings, so the same inputs give byte-identical files.

Sections
--------
A report is a list of sections (:func:`rnnscope.report.sections.sections`): ``spectra``
(measures of every recurrent matrix, pseudospectrum, Schur and transient figures),
``robustness`` (attacks, noise, minimal perturbation, certificates), ``weights`` (weight
noise), ``time_windows`` (attacks confined to windows of time steps), ``hidden_state``
(perturbations of the hidden state at one step), ``dynamics`` and ``sanity`` (checks of the
attacks). A section computes a typed result, draws its
figures, contributes its part of ``report.json``, its block of the HTML and Markdown pages and
its comparison-table columns. To add one, e.g. ``dynamics``:

1. Write ``rnnscope/report/dynamics.py`` with a subclass of
   :class:`~rnnscope.report.sections.Section`: set ``key`` and ``json_key``; override
   ``compute`` (return a frozen result with ``to_dict()``, or ``None`` where the section does
   not apply; earlier sections' results are in ``context.results``) and, as needed,
   ``figures``, ``view`` and ``columns``; give the block's Jinja source as the ``html`` and
   ``markdown`` class attributes (they see ``view``'s dict as ``block``; HTML is autoescaped,
   every Markdown value is escaped), or as ``templates/sections/<template>.html.j2`` and
   ``.md.j2`` files. End the module with ``SECTION = DynamicsSection()``.
2. Add ``"rnnscope.report.dynamics"`` to
   :data:`~rnnscope.report.sections.SECTION_MODULES` (the page order).

A sketch (``Dynamics`` being the section's frozen result type)::

    class DynamicsSection(Section):
        key = json_key = "dynamics"
        html = "<h3>Dynamics</h3><p>top Lyapunov exponent {{ block.top }}</p>"
        markdown = "### Dynamics\n\ntop Lyapunov exponent {{ block.top }}\n\n"

        def compute(self, context):
            return Dynamics.of(context.checkpoint.model) if context.runnable else None

        def view(self, model, result):
            return None if result is None else {"top": fmt(result.top, 3)}

    SECTION = DynamicsSection()

:func:`~rnnscope.report.sections.register_section` adds a section at run time (it then
applies to reports built in this process, e.g. with ``workers=1``).

Names from checkpoints (paths, matrix keys, options) are untrusted: the HTML template escapes
them (jinja2 autoescape), the Markdown renderer escapes every interpolated value, and only the
SVG generated here is marked safe.

Examples
--------
>>> import tempfile, pathlib, numpy as np
>>> path = pathlib.Path(tempfile.mkdtemp()) / "chain.npy"
>>> np.save(path, np.diag(np.ones(3), -1))
>>> report = build_report([path], ReportSettings(grid=16), workers=1)
>>> report.summary_rows()[0]["chain_length"]
4
"""

from __future__ import annotations

from rnnscope.report.build import build_report, model_section
from rnnscope.report.document import FigureData, ModelReport, Report
from rnnscope.report.render import render_html, render_json, render_markdown, write_report
from rnnscope.report.sections import (
    Column,
    ModelContext,
    Section,
    register_section,
    sections,
    unregister_section,
)
from rnnscope.settings import ReportSettings

__all__ = [
    "Column",
    "FigureData",
    "ModelContext",
    "ModelReport",
    "Report",
    "ReportSettings",
    "Section",
    "build_report",
    "model_section",
    "register_section",
    "render_html",
    "render_json",
    "render_markdown",
    "sections",
    "unregister_section",
    "write_report",
]
