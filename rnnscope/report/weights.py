r"""Report section ``weights``: accuracy with the recurrent matrix replaced by :math:`W + E`.

Its result is a :class:`rnnscope.robustness.WeightNoise` (``report.json``:
``robustness.weight_noise``); the spectra section draws its eigenvalues on the pseudospectrum.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnscope.measures import fmt
from rnnscope.report.sections import ModelContext, Section
from rnnscope.robustness import WeightNoise

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rnnscope.report.document import ModelReport

__all__ = ["SECTION", "WeightsSection"]


class WeightsSection(Section):
    """Weight-noise curve of a model that the robustness section could attack.

    Examples
    --------
    >>> WeightsSection().json_parent
    'robustness'
    """

    key = "weights"
    json_key = "weight_noise"
    json_parent = "robustness"
    template = "weights"

    def compute(self, context: ModelContext) -> WeightNoise | None:
        """Run :func:`rnnscope.evaluation.weight_noise` on the evaluated samples.

        Parameters
        ----------
        context : ModelContext
            The model (``None`` is returned when robustness was not measured).

        Returns
        -------
        rnnscope.robustness.WeightNoise or None
            The run.
        """
        from rnnscope.evaluation import weight_noise

        if context.results.get("robustness") is None:
            return None
        x, y = context.samples
        return weight_noise(
            context.checkpoint.model, x, y, context.settings.evaluation(), timings=context.timings
        )

    def figures(
        self, context: ModelContext, result: WeightNoise | None
    ) -> list[tuple[str, str, Figure]]:
        """Mean accuracy with its 95 % Wilson band and ± std bars against the size of E.

        Parameters
        ----------
        context : ModelContext
            The model.
        result : rnnscope.robustness.WeightNoise or None
            This section's result.

        Returns
        -------
        list of (str, str, matplotlib.figure.Figure)
            ``weight-noise``.
        """
        from rnnscope.figures import new_figure, plot_weight_noise

        if result is None:
            return []
        data = result.to_dict()
        fig, ax = new_figure(5.0, 3.8)
        plot_weight_noise(
            ax,
            data["eps"],
            data["mean"],
            data["std"],
            clean=context.results["robustness"].clean_accuracy,
            bands=data["intervals"],
        )
        caption = (
            "accuracy with W replaced by W + E: mean over the draws, bars ± std over the "
            "draws, shaded: 95 % Wilson interval over the samples"
        )
        return [("weight-noise", caption, fig)]

    def view(self, model: ModelReport, result: WeightNoise | None) -> dict[str, Any] | None:
        """Sizes, mean, std and interval of the accuracy, and the mean spectral radius of W + E.

        Parameters
        ----------
        model : ModelReport
            The model.
        result : rnnscope.robustness.WeightNoise or None
            This section's result.

        Returns
        -------
        dict or None
            ``target``, ``header`` and ``rows`` (``curve``, ``cells``).
        """
        if result is None:
            return None
        data = result.to_dict()
        rows = [
            ("relative ‖E‖₂/‖W‖₂", data["eps"]),
            ("accuracy (mean)", data["mean"]),
            ("accuracy (std)", data["std"]),
            ("accuracy, 95 % interval", data["intervals"]),
            (
                f"mean ρ(W + E) (ρ(W) = {fmt(data['spectral_radius_w'], 3)})",
                data["spectral_radius_mean"],
            ),
        ]
        return {
            "target": data["target"],
            "header": [f"ε{i + 1}" for i in range(len(data["eps"]))],
            "rows": [
                {"curve": curve, "cells": [_cell(v) for v in values]} for curve, values in rows
            ],
        }


def _cell(value: Any) -> str:
    """Format a number, or an interval as ``lo–hi``."""
    if isinstance(value, list | tuple):
        return "–".join(fmt(v, 3) for v in value)
    return fmt(value, 3)


SECTION = WeightsSection()
