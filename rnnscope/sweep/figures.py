"""The scatter figures of a sweep report: one point per run, coloured by init."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["scatter_figures"]

_SALT = "rnnscope-sweep"


def scatter_figures(
    runs: Sequence[Mapping[str, Any]],
    norms: Sequence[str],
    metric_name: str,
    *,
    dynamics: bool = False,
) -> list[dict[str, Any]]:
    """Draw the test metric of every run against each spectral, robustness and dynamics summary.

    Parameters
    ----------
    runs : sequence of mapping
        One flat row per finished run: ``init``, ``test_metric`` and the x values.
    norms : sequence of str
        Attacked norms (one eps50 figure each).
    metric_name : str
        Name of the test metric.
    dynamics : bool, optional
        Add the figure against the top Lyapunov exponent.

    Returns
    -------
    list of dict
        ``{"name", "title", "x", "y", "omitted", "svg"}`` per figure; ``omitted`` counts the
        runs without a finite x value.
    """
    axes = [
        ("henrici", "Henrici departure from normality", "accuracy_vs_henrici"),
        ("spectral_radius", "spectral radius ρ(W)", "accuracy_vs_radius"),
        ("spectral_norm", "spectral norm ‖W‖₂", "accuracy_vs_norm"),
    ]
    for norm in norms:
        name = "L∞" if norm == "linf" else "L2"
        axes.append(
            (f"{norm}_eps50", f"{name} eps50 (robust accuracy halved)", f"accuracy_vs_eps50_{norm}")
        )
    if dynamics:
        axes.append(("top_exponent", "top Lyapunov exponent (per step)", "accuracy_vs_lyapunov"))
    return [_scatter(runs, x, label, name, metric_name) for x, label, name in axes]


def _scatter(
    runs: Sequence[Mapping[str, Any]], x: str, xlabel: str, name: str, metric_name: str
) -> dict[str, Any]:
    from rnnscope.figures import inline_svg, new_figure

    inits = sorted({str(run["init"]) for run in runs})
    fig, ax = new_figure(5.0, 3.6)
    omitted = 0
    cmap = _palette(len(inits))
    for index, init in enumerate(inits):
        points = [
            (float(run[x]), float(run["test_metric"]))
            for run in runs
            if run["init"] == init
            and isinstance(run.get(x), int | float)
            and isinstance(run.get("test_metric"), int | float)
            and math.isfinite(run[x])
        ]
        omitted += sum(1 for run in runs if run["init"] == init) - len(points)
        if points:
            xs, ys = zip(*points, strict=True)
            ax.scatter(xs, ys, s=22, color=cmap[index], label=init, alpha=0.85, edgecolors="none")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"test {metric_name}")
    ax.grid(True, alpha=0.3)
    if inits:
        ax.legend(title="init", fontsize="small", loc="best")
    title = f"test {metric_name} vs {xlabel.split(' (')[0]}"
    ax.set_title(title, fontsize="medium")
    svg = inline_svg(fig, salt=f"{_SALT}-{name}")
    return {
        "name": name,
        "title": title,
        "x": x,
        "y": "test_metric",
        "omitted": omitted,
        "svg": svg,
    }


def _palette(count: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(index % 10) for index in range(count)]
