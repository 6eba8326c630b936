"""Report section ``time_windows``: where in time a sequence is fragile.

The attack (APGD-CE and APGD-DLR at the report's strength) may change only one of four equal
windows of time steps, at the middle L∞ budget of the report. Its result is an
:class:`attacks.TimeWindows` (``report.json``: ``robustness.time_windows``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnscope.measures import fmt
from rnnscope.report.sections import ModelContext, Section

if TYPE_CHECKING:
    import attacks
    from rnnscope.report.document import ModelReport

__all__ = ["SECTION", "WINDOWS", "WindowsSection"]

#: Number of windows of time steps.
WINDOWS = 4


class WindowsSection(Section):
    """Robust accuracy with the perturbation confined to one window of time steps.

    Examples
    --------
    >>> WindowsSection().json_parent
    'robustness'
    """

    key = "time_windows"
    json_key = "time_windows"
    json_parent = "robustness"
    template = "windows"

    def compute(self, context: ModelContext) -> attacks.TimeWindows | None:
        """Attack each window alone (``None`` when robustness was not measured).

        Parameters
        ----------
        context : ModelContext
            The model.

        Returns
        -------
        attacks.TimeWindows or None
            Robust accuracy per window.
        """
        import attacks

        if context.results.get("robustness") is None:
            return None
        x, y = context.samples
        settings = context.settings
        eps = sorted(settings.linf_eps)[len(settings.linf_eps) // 2]
        windows = min(WINDOWS, int(x.shape[1]))
        return attacks.time_windows(
            context.checkpoint.model,
            x,
            y,
            norm="linf",
            eps=eps,
            windows=windows,
            strength=settings.strength,
            bounds=context.bounds,
            seed=settings.seed,
        )

    def to_json(self, result: Any) -> Any:
        """JSON-ready block (``null`` without a result).

        Parameters
        ----------
        result : attacks.TimeWindows or None
            This section's result.

        Returns
        -------
        dict or None
            ``eps``, ``windows``, ``robust_accuracy``, ``intervals``, ``strength``.
        """
        if result is None:
            return None
        return {
            "eps": float(result.eps),
            "windows": [list(w) for w in result.windows],
            "robust_accuracy": [float(a) for a in result.robust_accuracy],
            "intervals": [list(i) for i in result.intervals],
            "strength": result.strength,
        }

    def view(self, model: ModelReport, result: Any) -> dict[str, Any] | None:
        """One row per window: steps, robust accuracy and its interval.

        Parameters
        ----------
        model : ModelReport
            The model.
        result : attacks.TimeWindows or None
            This section's result.

        Returns
        -------
        dict or None
            ``eps`` and ``rows`` (``steps``, ``accuracy``, ``interval``).
        """
        if result is None:
            return None
        rows = [
            {
                "steps": f"{a}–{b - 1}",
                "accuracy": fmt(float(acc), 3),
                "interval": f"{lo:.3g}–{hi:.3g}",
            }
            for (a, b), acc, (lo, hi) in zip(
                result.windows, result.robust_accuracy, result.intervals, strict=True
            )
        ]
        return {"eps": fmt(float(result.eps), 3), "rows": rows}


SECTION = WindowsSection()
