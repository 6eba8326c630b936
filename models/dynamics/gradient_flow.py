r"""Gradient propagation :math:`\|\partial h_T / \partial h_t\|_2` along real trajectories."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

import spectra
from models.dynamics._common import as_float64
from models.dynamics.trajectories import jacobians

__all__ = ["GradientFlow", "gradient_flow"]


@dataclass(frozen=True)
class GradientFlow:
    r"""Result of :func:`gradient_flow`, indexed by the lag :math:`k = T - t = 0, \dots, T`.

    Attributes
    ----------
    lags : (T + 1,) ndarray of int
        :math:`k`.
    log_norm : (B, T + 1) ndarray
        :math:`\ln \|\partial s_T / \partial s_{T-k}\|_2` per sequence (:math:`-\infty` once
        the product is exactly singular).
    log_singular_values : (B, T + 1, r) ndarray
        Natural logarithms of the ``r`` largest singular values of the product.
    linear : (T + 1,) ndarray
        :math:`\|W^k\|_2` of the principal recurrent matrix (the linear prediction; ``None``
        entries when the model has no single recurrent matrix).
    """

    lags: NDArray[np.int64]
    log_norm: NDArray[np.float64]
    log_singular_values: NDArray[np.float64]
    linear: NDArray[np.float64] | None

    def quartiles(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        r"""Lower quartile, median and upper quartile of :attr:`log_norm` over the batch.

        Linear interpolation between order statistics, as :func:`numpy.quantile`, except
        where a neighbour is infinite: numpy's formula then gives NaN (with a warning) for
        :math:`-\infty` next to :math:`-\infty` or a finite value, where the limit of the
        interpolation is :math:`-\infty`.

        Returns
        -------
        tuple of (T + 1,) ndarray
            ``(q25, q50, q75)`` per lag.

        Examples
        --------
        >>> log_norm = np.array([[0.0, -np.inf], [1.0, -np.inf], [2.0, 1.0]])
        >>> flow = GradientFlow(np.arange(2), log_norm, np.zeros((3, 2, 1)), None)
        >>> [q.tolist() for q in flow.quartiles()]
        [[0.5, -inf], [1.0, -inf], [1.5, -inf]]
        """
        v = np.sort(np.asarray(self.log_norm, dtype=np.float64), axis=0)
        n = v.shape[0]
        out = []
        for p in (0.25, 0.5, 0.75):
            pos = p * (n - 1)
            lo = int(np.floor(pos))
            frac = pos - lo
            a, b = v[lo], v[min(lo + 1, n - 1)]
            with np.errstate(invalid="ignore"):
                q = a + (b - a) * frac
            q = np.where(np.isinf(a), a, q)
            if frac > 0:
                q = np.where(np.isposinf(b), b, q)
            out.append(q)
        return out[0], out[1], out[2]

    @property
    def norm(self) -> NDArray[np.float64]:
        r""":math:`\|\partial s_T / \partial s_{T-k}\|_2` per sequence ``(B, T + 1)``."""
        with np.errstate(over="ignore"):
            return np.exp(self.log_norm)

    def to_dict(self) -> dict[str, Any]:
        r"""Return a JSON-ready summary (every value a :math:`\log_{10}`).

        Returns
        -------
        dict
            ``lags``; ``norm_median_log10``, ``norm_q25_log10`` and ``norm_q75_log10`` (over the
            batch); ``singular_values_log10`` (batch mean, one list per lag); ``linear_log10``;
            ``batch``. Logarithms keep exploding and vanishing products finite; ``None`` stands
            for :math:`-\infty`.
        """

        def clean(a: Any) -> Any:
            a = np.asarray(a, dtype=float)
            if a.ndim == 0:
                return float(a) / np.log(10.0) if np.isfinite(a) else None
            return [clean(v) for v in a]

        q25, q50, q75 = self.quartiles()
        linear = None
        if self.linear is not None:
            with np.errstate(divide="ignore"):
                linear = clean(np.log(self.linear))
        return {
            "lags": self.lags.tolist(),
            "norm_median_log10": clean(q50),
            "norm_q25_log10": clean(q25),
            "norm_q75_log10": clean(q75),
            "singular_values_log10": clean(self.log_singular_values.mean(axis=0)),
            "linear_log10": linear,
            "batch": int(self.log_norm.shape[0]),
        }


def gradient_flow(
    model: Any, x: torch.Tensor, *, top: int = 3, state0: torch.Tensor | None = None
) -> GradientFlow:
    r"""Norm and top singular values of :math:`\partial s_T / \partial s_{T-k}` against ``k``.

    The product :math:`J_T \cdots J_{T-k+1}` of the state Jacobians along the trajectories of
    ``x`` is accumulated from the last step backwards with a running scale (so exploding and
    vanishing products are represented by their logarithms), next to the linear prediction
    :math:`\|W^k\|_2` from :func:`spectra.transient_growth`.

    Parameters
    ----------
    model : RecurrentModel or TorchStack
        Model with a one-step map.
    x : (B, T, F) torch.Tensor
        Inputs.
    top : int, optional
        Number of singular values kept per lag.
    state0 : (B, S) or (S,) torch.Tensor, optional
        Initial full state.

    Returns
    -------
    GradientFlow
        Norms and singular values per lag, next to the linear prediction.

    Raises
    ------
    InputShapeError
        If ``x`` has the wrong shape.
    ValueError
        If ``top`` is not a positive integer.

    Examples
    --------
    >>> import models, torch
    >>> model = models.build("rnn", input_size=1, hidden_size=4, output_size=1, init="identity")
    >>> flow = gradient_flow(model, torch.zeros(1, 5, 1))
    >>> [round(float(v), 6) for v in flow.norm[0]]
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"top must be a positive integer, got {top!r}")
    J = jacobians(model, x, state0=state0)
    B, T, S, _ = J.shape
    r = min(top, S)
    P = torch.eye(S, dtype=torch.float64).expand(B, S, S).clone()
    log_scale = torch.zeros(B, dtype=torch.float64)
    log_sv = torch.empty(B, T + 1, r, dtype=torch.float64)
    log_sv[:, 0] = 0.0
    for k in range(1, T + 1):
        P = P @ J[:, T - k]
        scale = torch.linalg.matrix_norm(P)  # Frobenius
        dead = scale == 0
        P = P / torch.where(dead, torch.ones_like(scale), scale)[:, None, None]
        log_scale = log_scale + torch.log(scale)
        sv = torch.linalg.svdvals(P)[:, :r]
        log_sv[:, k] = torch.log(sv) + log_scale[:, None]
    log_sv_np = log_sv.numpy()
    linear = None
    if hasattr(model, "recurrent_weight"):
        with torch.no_grad():
            W = as_float64(model).recurrent_weight().detach().numpy()
        linear = spectra.transient_growth(W, T)
    return GradientFlow(
        lags=np.arange(T + 1),
        log_norm=log_sv_np[:, :, 0].copy(),
        log_singular_values=log_sv_np,
        linear=linear,
    )
