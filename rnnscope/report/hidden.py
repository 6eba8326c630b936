r"""Report section ``hidden_state``: accuracy when the hidden state is perturbed at one step.

At the middle step of the sequence, the hidden state :math:`h_t` is moved by
:math:`\Delta h` with :math:`\|\Delta h\| = \delta \|h_t\|` along a random direction and
along the gradient attack of :func:`attacks.hidden_state` (at the report's strength). Its
result is an :class:`attacks.HiddenStateCurve` (``report.json``: ``robustness.hidden_state``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnscope.measures import fmt
from rnnscope.report.sections import ModelContext, Section

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    import attacks
    from rnnscope.report.document import ModelReport

__all__ = ["DELTAS", "SECTION", "HiddenStateSection"]

#: Relative sizes of the hidden-state perturbation.
DELTAS: tuple[float, ...] = (0.0, 0.03, 0.1, 0.3, 1.0, 3.0)


class HiddenStateSection(Section):
    """Accuracy against the relative size of a perturbation of the hidden state.

    Examples
    --------
    >>> HiddenStateSection().json_parent
    'robustness'
    """

    key = "hidden_state"
    json_key = "hidden_state"
    json_parent = "robustness"
    template = "hidden"

    def compute(self, context: ModelContext) -> attacks.HiddenStateCurve | None:
        """Perturb the middle hidden state (``None`` when robustness was not measured).

        Parameters
        ----------
        context : ModelContext
            The model.

        Returns
        -------
        attacks.HiddenStateCurve or None
            Random and adversarial accuracy per delta.
        """
        import attacks

        model = context.checkpoint.model
        if context.results.get("robustness") is None or not callable(getattr(model, "step", None)):
            return None
        x, y = context.samples
        settings = context.settings
        return attacks.hidden_state(
            model, x, y, deltas=DELTAS, strength=settings.strength, seed=settings.seed
        )

    def figures(self, context: ModelContext, result: Any) -> list[tuple[str, str, Figure]]:
        """Accuracy against delta, both directions, with Wilson bands.

        Parameters
        ----------
        context : ModelContext
            The model.
        result : attacks.HiddenStateCurve or None
            This section's result.

        Returns
        -------
        list of (str, str, matplotlib.figure.Figure)
            ``hidden-state``.
        """
        from rnnscope.figures import new_figure, plot_robustness

        if result is None:
            return []
        xs = list(result.deltas)
        curves = {"random direction": (xs, list(result.random_accuracy))}
        bands = {"random direction": list(result.random_intervals)}
        if result.adversarial_accuracy is not None:
            curves["adversarial"] = (xs, list(result.adversarial_accuracy))
            bands["adversarial"] = list(result.adversarial_intervals or ())
        fig, ax = new_figure(5.0, 3.8)
        plot_robustness(
            ax,
            curves,
            title=f"hidden state perturbed after step {result.step}",
            xlabel="relative size δ = ‖Δh‖ / ‖h_t‖",
            bands=bands,
        )
        positive = [d for d in xs if d > 0]
        if positive:
            ax.set_xscale("symlog", linthresh=min(positive))
        return [
            (
                "hidden-state",
                "accuracy with the hidden state perturbed at one step (shaded: 95 % Wilson "
                "intervals)",
                fig,
            )
        ]

    def to_json(self, result: Any) -> Any:
        """JSON-ready block (``null`` without a result).

        Parameters
        ----------
        result : attacks.HiddenStateCurve or None
            This section's result.

        Returns
        -------
        dict or None
            Every field of the curve but its provenance.
        """
        if result is None:
            return None
        out = result.to_dict()
        out.pop("provenance", None)
        return out

    def view(self, model: ModelReport, result: Any) -> dict[str, Any] | None:
        """One row per direction: accuracy and interval per delta.

        Parameters
        ----------
        model : ModelReport
            The model.
        result : attacks.HiddenStateCurve or None
            This section's result.

        Returns
        -------
        dict or None
            ``step``, ``n_steps``, ``iterations``, ``deltas`` and ``rows`` (``name``, ``cells``).
        """
        if result is None:
            return None
        rows = [("random", result.random_accuracy, result.random_intervals)]
        if result.adversarial_accuracy is not None:
            rows.append(
                ("adversarial", result.adversarial_accuracy, result.adversarial_intervals or ())
            )
        return {
            "step": result.step,
            "n_steps": result.n_steps,
            "iterations": result.iterations,
            "deltas": [fmt(d, 3) for d in result.deltas],
            "rows": [
                {
                    "name": name,
                    "cells": [
                        f"{fmt(v, 3)} [{lo:.3g}, {hi:.3g}]"
                        for v, (lo, hi) in zip(values, bands, strict=True)
                    ],
                }
                for name, values, bands in rows
            ],
        }


SECTION = HiddenStateSection()
