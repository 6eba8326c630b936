"""Report section ``spectra``: the measures of every recurrent matrix and their figures.

Its result is a :class:`rnnscope.analysis.CheckpointAnalysis` (``report.json``: ``analysis``);
the per-matrix table and the comparison columns come from the measure registry
(:mod:`rnnscope.measures`), and the figures reuse the Schur form, chain and transient growth
the analysis holds.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from rnnscope.analysis import CheckpointAnalysis, analyze_checkpoint
from rnnscope.measures import measures, table_rows
from rnnscope.options import eps_key
from rnnscope.report.sections import Column, ModelContext, Section
from rnnscope.settings import ReportSettings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rnnscope.report.document import ModelReport

__all__ = ["SECTION", "SpectraSection"]


def _principal_value(key: str, eps: str | None) -> Any:
    def value(model: ModelReport) -> Any:
        analysis = model.result("spectra")
        principal = analysis.principal_matrix() if analysis is not None else None
        if principal is None:
            return None
        found = principal.measures.get(key)
        if eps is None:
            return found
        return found.get(eps) if isinstance(found, Mapping) else None

    return value


class SpectraSection(Section):
    """Spectral and non-normality measures of every recurrent matrix, with three figures.

    Examples
    --------
    >>> [c.key for c in SpectraSection().columns(ReportSettings(pseudo_eps=(0.1,)))][-2:]
    ['chain_order', 'pseudospectral_radius_0.1']
    """

    key = "spectra"
    json_key = "analysis"
    template = "spectra"

    def compute(self, context: ModelContext) -> CheckpointAnalysis:
        """Analyze every recurrent matrix (see :func:`rnnscope.analysis.analyze_checkpoint`).

        Parameters
        ----------
        context : ModelContext
            The model.

        Returns
        -------
        rnnscope.analysis.CheckpointAnalysis
            The analysis.
        """
        start = time.perf_counter()
        analysis = analyze_checkpoint(context.checkpoint, eps=context.settings.pseudo_eps)
        context.timings["analysis"] = round(time.perf_counter() - start, 3)
        return analysis

    def figures(
        self, context: ModelContext, result: CheckpointAnalysis
    ) -> list[tuple[str, str, Figure]]:
        """Pseudospectrum (with the weight-noise eigenvalues, when measured), Schur form, growth.

        Parameters
        ----------
        context : ModelContext
            The model and every section's result.
        result : rnnscope.analysis.CheckpointAnalysis
            This section's result.

        Returns
        -------
        list of (str, str, matplotlib.figure.Figure)
            Three figures of the principal matrix.
        """
        from rnnscope.plots import pseudospectrum_figure, schur_figure, transient_figure

        principal = result.principal_matrix()
        if principal is None:
            return []
        settings = context.settings
        name = principal.name
        weights = context.results.get("weights")
        overlay = None if weights is None else weights.eigenvalues
        caption = (
            f"ε-pseudospectra of {name} (ε = {', '.join(map(eps_key, settings.pseudo_eps))})"
            " with the unit circle"
        )
        if overlay is not None:
            caption += "; small points: eigenvalues of W + E from the weight-noise run"
        return [
            (
                "pseudospectrum",
                caption,
                pseudospectrum_figure(
                    principal, eps=settings.pseudo_eps, grid=settings.grid, overlay=overlay
                ),
            ),
            (
                "schur",
                f"|T| of the Schur form of {name} with the detected chain",
                schur_figure(principal),
            ),
            ("transient", f"transient growth ‖{name}^k‖₂", transient_figure(principal)),
        ]

    def view(self, model: ModelReport, result: CheckpointAnalysis) -> dict[str, Any]:
        """Return the per-matrix table and the blocks that were not analysed.

        Parameters
        ----------
        model : ModelReport
            The model.
        result : rnnscope.analysis.CheckpointAnalysis
            This section's result.

        Returns
        -------
        dict
            ``matrices`` (names), ``rows`` (label and cells) and ``skipped``.
        """
        return {
            "matrices": [matrix.name for matrix in result.matrices],
            "rows": [
                {"label": label, "cells": cells} for label, cells in table_rows(result.matrices)
            ],
            "skipped": sorted(result.skipped.items()),
        }

    def columns(self, settings: ReportSettings) -> list[Column]:
        """One column per registered comparison measure of the principal matrix.

        Parameters
        ----------
        settings : ReportSettings
            Its ``pseudo_eps`` give the columns of per-epsilon measures.

        Returns
        -------
        list of Column
            In registry order.
        """
        eps_keys = [eps_key(e) for e in settings.pseudo_eps]
        columns = []
        for measure in measures():
            if not measure.comparison:
                continue
            for key, _, eps in measure.rows(eps_keys):
                label = measure.short_label.format(eps=eps) if eps else measure.short_label
                columns.append(
                    Column(
                        key,
                        label,
                        measure.help,
                        _principal_value(measure.key, eps),
                        compact=measure.compact,
                        format=partial(measure.text, digits=3),
                        group=2,
                    )
                )
        return columns


SECTION = SpectraSection()
