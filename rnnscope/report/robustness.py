"""Report section ``robustness``: attacks, random noise, minimal perturbations, certificates.

Its result is a :class:`rnnscope.robustness.Robustness` for both threat models
(``report.json``: ``robustness``, ``null`` when the model cannot be attacked on its task).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rnnscope.measures import fmt
from rnnscope.options import eps_key
from rnnscope.report.sections import Column, ModelContext, Section
from rnnscope.robustness import NormRobustness, Robustness
from rnnscope.settings import ReportSettings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rnnscope.report.document import ModelReport

__all__ = ["NORMS", "SECTION", "RobustnessSection"]

#: Threat models and their labels.
NORMS: tuple[tuple[str, str], ...] = (("linf", "L∞"), ("l2", "L2"))


def _block(model: ModelReport, norm: str) -> NormRobustness | None:
    result = model.result("robustness")
    return None if result is None else getattr(result, norm)


class _Rate(float):
    """An accuracy with its 95 % Wilson interval (JSON: the plain number)."""

    lo: float
    hi: float

    def __new__(cls, value: float, lo: float, hi: float) -> _Rate:
        rate = super().__new__(cls, value)
        rate.lo, rate.hi = float(lo), float(hi)
        return rate


def _rate_text(value: Any) -> str:
    """``0.53 ±0.09`` (the larger half-width of the Wilson interval), or the plain value."""
    if isinstance(value, _Rate):
        half = max(float(value) - value.lo, value.hi - float(value))
        return f"{fmt(float(value), 3)} ±{half:.2g}"
    return fmt(value, 3)


def _rate_json(value: Any) -> Any:
    return float(value) if isinstance(value, _Rate) else value


def _robust(norm: str, index: int) -> Any:
    def value(model: ModelReport) -> Any:
        block = _block(model, norm)
        if block is None:
            return None
        accuracy = block.adversarial.robust_accuracy
        if index >= len(accuracy):
            return None
        intervals = getattr(block.adversarial, "intervals", None) or {}
        bands = intervals.get("robust") or []
        if index < len(bands):
            return _Rate(float(accuracy[index]), *bands[index])
        return float(accuracy[index])

    return value


def _certified_cell(norm: str) -> Any:
    def value(model: ModelReport) -> Any:
        block = _block(model, norm)
        if block is None:
            return None
        certified = block.certified
        if certified is None or not certified.certified:
            return "skipped"
        if certified.status == "vacuous":
            return "vacuous"
        return block.certified_median

    return value


def _field(norm: str, pick: Any) -> Any:
    def value(model: ModelReport) -> Any:
        block = _block(model, norm)
        return None if block is None else pick(block)

    return value


def _adv_eps50(block: Any) -> Any:
    return block.adversarial.eps50


def _noise_eps50(block: Any) -> Any:
    return block.noise.eps50


def _minimal(block: Any) -> Any:
    return block.minimal.median


def _clean(model: ModelReport) -> Any:
    result = model.result("robustness")
    if result is None:
        return None
    intervals = getattr(result.linf.adversarial, "intervals", None) or {}
    band = intervals.get("clean")
    return _Rate(result.clean_accuracy, *band) if band else result.clean_accuracy


def _padded(values: Sequence[Any], width: int) -> list[str]:
    """Format `values` and pad them with empty cells to `width`."""
    cells = [fmt(v, 3) for v in values]
    return cells + [""] * (width - len(cells))


class RobustnessSection(Section):
    """Accuracy under attacks, noise and certification for the L∞ and L2 threat models.

    Examples
    --------
    >>> [c.key for c in RobustnessSection().columns(ReportSettings(linf_eps=(0.1,)))][:2]
    ['clean_accuracy', 'robust_linf_0.1']
    """

    key = "robustness"
    json_key = "robustness"
    template = "robustness"

    def compute(self, context: ModelContext) -> Robustness | None:
        """Attack the model on its task (``None`` when it cannot be attacked).

        Parameters
        ----------
        context : ModelContext
            The model.

        Returns
        -------
        rnnscope.robustness.Robustness or None
            Both threat models (no weight noise, no sanity checks: those are sections).
        """
        from rnnscope.evaluation import robustness_blocks

        if not context.runnable:
            return None
        return robustness_blocks(
            context.checkpoint.model,
            context.task,
            context.settings.evaluation(),
            timings=context.timings,
        )

    def figures(
        self, context: ModelContext, result: Robustness | None
    ) -> list[tuple[str, str, Figure]]:
        """One accuracy-versus-budget figure per threat model.

        Parameters
        ----------
        context : ModelContext
            The model.
        result : rnnscope.robustness.Robustness or None
            This section's result.

        Returns
        -------
        list of (str, str, matplotlib.figure.Figure)
            ``robustness-linf`` and ``robustness-l2``.
        """
        from rnnscope.figures import new_figure, plot_robustness

        if result is None:
            return []
        made = []
        for norm, label in NORMS:
            block: NormRobustness = getattr(result, norm)
            curves = {name: (list(block.eps), values) for name, values in block.curves()}
            fig, ax = new_figure(5.0, 3.8)
            plot_robustness(
                ax,
                curves,
                title=f"{label} robustness",
                xlabel=f"{label} budget ε",
                clean=result.clean_accuracy,
                bands=block.bands(),
                clean_band=block.clean_band(),
            )
            made.append(
                (
                    f"robustness-{norm}",
                    f"accuracy under {label} attacks, random noise and certification "
                    "(shaded: 95 % Wilson intervals)",
                    fig,
                )
            )
        return made

    def view(self, model: ModelReport, result: Robustness | None) -> dict[str, Any] | None:
        """Tabulate the accuracy curves of both norms.

        Parameters
        ----------
        model : ModelReport
            The model.
        result : rnnscope.robustness.Robustness or None
            This section's result.

        Returns
        -------
        dict or None
            ``header`` and ``rows`` (``norm``, ``curve``, ``cells``).
        """
        if result is None:
            return None
        width = max(len(block.eps) for block in result.norms())
        rows = []
        for norm, label in NORMS:
            block: NormRobustness = getattr(result, norm)
            minimal = block.minimal
            bands = (getattr(block.adversarial, "intervals", None) or {}).get("robust") or []
            curves = [
                ("budget ε", list(block.eps)),
                *block.curves(),
                ("worst case, 95 % interval", [f"{lo:.3g}–{hi:.3g}" for lo, hi in bands]),
                (
                    "minimal pert. (median, IQR)",
                    [minimal.median, f"{fmt(minimal.q1, 3)}–{fmt(minimal.q3, 3)}"],
                ),
            ]
            certified = block.certified
            if certified is not None and certified.certified:
                status = certified.status
                text = status if status != "certified" else fmt(certified.median, 3)
                counts = {}
                for name in certified.bound or ():
                    if name is not None:
                        counts[name] = counts.get(name, 0) + 1
                best = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                curves.append(("certified radius (median; bound: samples)", [text, best]))
            for curve, values in curves:
                rows.append({"norm": label, "curve": curve, "cells": _padded(values, width)})
        return {"header": [f"ε{i + 1}" for i in range(width)], "rows": rows}

    def columns(self, settings: ReportSettings) -> list[Column]:
        """Clean accuracy, robust accuracy per budget, eps50, minimal and certified radii.

        Parameters
        ----------
        settings : ReportSettings
            Budgets of both norms.

        Returns
        -------
        list of Column
            In display order.
        """
        columns = [
            Column(
                "clean_accuracy",
                "clean acc",
                "accuracy on the evaluated test samples",
                _clean,
                compact=True,
                group=1,
                to_json=_rate_json,
                format=_rate_text,
                terminal_format=lambda v: fmt(_rate_json(v), 3),
            )
        ]
        for (norm, label), eps in zip(NORMS, (settings.linf_eps, settings.l2_eps), strict=True):
            for index, e in enumerate(eps):
                key = eps_key(e)
                columns.append(
                    Column(
                        f"robust_{norm}_{key}",
                        f"{label} ε={key}",
                        "robust accuracy (worst case over the attacks) ± 95 % Wilson interval",
                        _robust(norm, index),
                        group=3,
                        to_json=_rate_json,
                        format=_rate_text,
                        terminal_format=lambda v: fmt(_rate_json(v), 3),
                    )
                )
        for group in _PER_NORM:
            for norm, label in NORMS:
                for key, short, help, pick, compact in group:
                    columns.append(
                        Column(
                            f"{key}_{norm}",
                            f"{short} {label}",
                            help,
                            pick(norm),
                            compact=norm == compact,
                            group=3,
                        )
                    )
        return columns


#: Columns shown once per norm: ``(key, label, help, value of the norm, compact norm)``, in
#: groups whose columns alternate between the norms (eps50 adversarial and noise per norm, then
#: the minimal perturbations, then the certified radii).
_PER_NORM: tuple[tuple[tuple[str, str, str, Any, str], ...], ...] = (
    (
        ("eps50_adversarial", "eps50 adv", "adversarial", lambda n: _field(n, _adv_eps50), "linf"),
        ("eps50_noise", "eps50 noise", "random noise", lambda n: _field(n, _noise_eps50), "linf"),
    ),
    (("minimal", "min pert", "median minimal perturbation", lambda n: _field(n, _minimal), "l2"),),
    (
        (
            "certified",
            "certified",
            "median certified radius (vacuous: below the input resolution or 1e-3 of the "
            "minimal perturbation; skipped: no certificate applies)",
            _certified_cell,
            "l2",
        ),
    ),
)


SECTION = RobustnessSection()
