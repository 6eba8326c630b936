"""Figures of the dynamics results (matplotlib is imported when a function is called)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from models.dynamics.chains import ChainProfile
    from models.dynamics.fixed_points import FixedPoints
    from models.dynamics.gradient_flow import GradientFlow

__all__ = ["chain_profile", "fixed_points", "gradient_flow", "lyapunov"]

_COLOURS = {"stable": "tab:blue", "saddle": "tab:orange", "unstable": "tab:red"}


def _axes(ax: Axes | None) -> tuple[Figure, Axes]:
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
        return fig, ax
    return ax.figure, ax  # type: ignore[return-value]


def gradient_flow(flow: GradientFlow, *, ax: Axes | None = None) -> Figure:
    r"""Plot :math:`\|\partial s_T / \partial s_{T-k}\|_2` against ``k`` with :math:`\|W^k\|_2`.

    The median over the batch is a line, the interquartile range a band; the linear prediction
    is dashed. The y axis is :math:`\log_{10}`.

    Parameters
    ----------
    flow : GradientFlow
        From :func:`models.dynamics.gradient_flow`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (a new figure otherwise).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import models, torch
    >>> from models import dynamics
    >>> model = models.build("rnn", input_size=1, hidden_size=4, output_size=1)
    >>> fig = gradient_flow(dynamics.gradient_flow(model, torch.randn(2, 10, 1)))
    """
    fig, ax = _axes(ax)
    q25, q50, q75 = (q / np.log(10.0) for q in flow.quartiles())
    k = flow.lags
    ax.plot(k, q50, color="tab:blue", label=r"$\|\partial s_T/\partial s_{T-k}\|_2$ (median)")
    ax.fill_between(k, q25, q75, color="tab:blue", alpha=0.25, linewidth=0)
    if flow.linear is not None:
        with np.errstate(divide="ignore"):
            ax.plot(k, np.log10(flow.linear), "--", color="black", label=r"$\|W^k\|_2$")
    ax.set_xlabel("k = T - t")
    ax.set_ylabel(r"$\log_{10}$ norm")
    ax.legend(loc="best", fontsize="small")
    return fig


def lyapunov(result: Any, *, ax: Axes | None = None, top: int = 10) -> Figure:
    """Plot the running estimate of the leading Lyapunov exponents (convergence plot).

    Parameters
    ----------
    result : spectra.LyapunovResult
        From :func:`spectra.lyapunov`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.
    top : int, optional
        Number of exponents drawn.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, spectra
    >>> fig = lyapunov(spectra.lyapunov(np.broadcast_to(np.diag([2.0, 0.5]), (20, 2, 2))))
    """
    fig, ax = _axes(ax)
    run = np.asarray(result.running)
    steps = result.discard + 1 + np.arange(run.shape[0])
    for i in range(min(top, run.shape[1])):
        ax.plot(steps, run[:, i], linewidth=1)
    ax.axhline(0.0, color="black", linewidth=0.5)
    ax.set_xlabel("step")
    ax.set_ylabel("exponent (nats per step)")
    return fig


def chain_profile(profile: ChainProfile, *, ax: Axes | None = None) -> Figure:
    """Plot the mean weight against the order difference, with the shuffled-weights band.

    Parameters
    ----------
    profile : ChainProfile
        From :func:`models.dynamics.chain_profile`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import models
    >>> from models import dynamics
    >>> model = models.build("rnn", input_size=1, hidden_size=8, output_size=1, init="chain")
    >>> fig = chain_profile(dynamics.chain_profile(model, seeds=range(3)))
    """
    fig, ax = _axes(ax)
    d = profile.offsets
    ax.fill_between(
        d, profile.control_low, profile.control_high, color="0.8", label="shuffled control"
    )
    ax.plot(d, profile.control_mean, color="0.5", linewidth=1)
    ax.plot(d, profile.profile, "o-", color="tab:blue", markersize=3, label="network")
    out = profile.outside
    ax.plot(d[out], profile.profile[out], "o", color="tab:red", label="outside the band")
    ax.set_xlabel("order difference i - j")
    ax.set_ylabel(r"mean $W_{ij}$")
    ax.legend(loc="best", fontsize="small")
    return fig


def fixed_points(
    points: FixedPoints,
    *,
    trajectories: Any = None,
    ax: Axes | None = None,
) -> Figure:
    """Plot fixed points in the plane of the first two principal components.

    Parameters
    ----------
    points : FixedPoints
        From :func:`models.dynamics.fixed_points`.
    trajectories : (B, T, S) array_like, optional
        States to draw in grey and to take the principal components from (the points'
        otherwise).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import models
    >>> from models import dynamics
    >>> model = models.build("rnn", input_size=1, hidden_size=2, output_size=1,
    ...                      init="identity", scale=1.5)
    >>> fig = fixed_points(dynamics.fixed_points(model, starts=16, kreiss=False))
    """
    fig, ax = _axes(ax)
    P = np.asarray(points.states)
    ref = P if trajectories is None else np.asarray(trajectories).reshape(-1, P.shape[1])
    mean = ref.mean(axis=0)
    if ref.shape[0] > 1:
        _, _, Vt = np.linalg.svd(ref - mean, full_matrices=False)
    else:
        Vt = np.eye(P.shape[1])
    basis = Vt[: min(2, Vt.shape[0])].T
    if basis.shape[1] == 1:
        basis = np.hstack([basis, np.zeros_like(basis)])
    if trajectories is not None:
        tr = np.asarray(trajectories)
        for seq in tr[:20]:
            xy = (seq - mean) @ basis
            ax.plot(xy[:, 0], xy[:, 1], color="0.8", linewidth=0.5)
    xy = (P - mean) @ basis if len(P) else np.zeros((0, 2))
    for name, colour in _COLOURS.items():
        sel = np.array([s == name for s in points.stability], dtype=bool) & points.converged
        if sel.any():
            ax.plot(xy[sel, 0], xy[sel, 1], "o", color=colour, label=f"{name} ({sel.sum()})")
    slow = ~points.converged
    if slow.any():
        ax.plot(xy[slow, 0], xy[slow, 1], "x", color="0.4", label=f"slow ({slow.sum()})")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.legend(loc="best", fontsize="small")
    return fig
