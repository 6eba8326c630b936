r"""Fixed points :math:`F(h, x) = h` of the one-step map, found from many starts at once."""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

import spectra
from models.dynamics._common import as_float64, check_model, frozen
from models.errors import InputShapeError

__all__ = ["FixedPoints", "fixed_points"]

logger = logging.getLogger(__name__)

STABILITIES = ("stable", "saddle", "unstable")


@dataclass(frozen=True)
class FixedPoints:
    r"""Result of :func:`fixed_points`: the distinct points found, best first within each class.

    Attributes
    ----------
    states : (K, S) ndarray
        The points (full states).
    q : (K,) ndarray
        :math:`q(h) = \tfrac12\|F(h, x) - h\|^2` at each point.
    converged : (K,) ndarray of bool
        ``q <= tol``: a fixed point; the others are slow points (kept, with their ``q``).
    stability : list of str
        ``"stable"`` (every :math:`|\lambda_i| < 1`), ``"unstable"`` (every
        :math:`|\lambda_i| > 1`) or ``"saddle"``.
    eigenvalues : (K, S) ndarray of complex
        Eigenvalues of the Jacobian at each point, by decreasing modulus.
    measures : list of dict
        Per point: ``spectral_radius``, ``henrici`` (relative departure from normality),
        ``pseudospectral_radius`` (at ``eps``) and ``kreiss_lower_bound`` (``None`` where the
        Jacobian is unstable, where the Kreiss constant is infinite) of its Jacobian.
    jacobians : (K, S, S) ndarray
        Jacobian at each point.
    starts : int
        Number of starting states.
    eps : float
        Perturbation size of the pseudospectral radius.
    x : (F,) ndarray
        The constant input.
    """

    states: NDArray[np.float64]
    q: NDArray[np.float64]
    converged: NDArray[np.bool_]
    stability: list[str]
    eigenvalues: NDArray[np.complex128]
    measures: list[dict[str, Any]]
    jacobians: NDArray[np.float64]
    starts: int
    eps: float
    x: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    def count(self, stability: str | None = None) -> int:
        """Return the number of converged points, of one stability class when given.

        Parameters
        ----------
        stability : {"stable", "saddle", "unstable"}, optional

        Returns
        -------
        int
            Number of converged points.
        """
        return sum(
            1
            for c, s in zip(self.converged, self.stability, strict=True)
            if c and (stability is None or s == stability)
        )

    def to_dict(self, *, states: bool = False) -> dict[str, Any]:
        """JSON-ready summary: counts and one entry per point (with its state if ``states``).

        Parameters
        ----------
        states : bool, optional
            Include each point's full state.

        Returns
        -------
        dict
            ``counts`` (per stability, converged points only), ``starts``, ``eps``, ``points``
            (``stability``, ``q``, ``converged``, the measures and ``eigenvalue_moduli``, the
            five largest).
        """
        points = []
        for i in range(len(self.q)):
            entry: dict[str, Any] = {
                "stability": self.stability[i],
                "q": float(self.q[i]),
                "converged": bool(self.converged[i]),
                **self.measures[i],
                "eigenvalue_moduli": [float(v) for v in np.abs(self.eigenvalues[i][:5])],
            }
            if states:
                entry["state"] = [float(v) for v in self.states[i]]
            points.append(entry)
        return {
            "counts": {s: self.count(s) for s in STABILITIES},
            "slow_points": int(np.count_nonzero(~self.converged)),
            "starts": self.starts,
            "eps": self.eps,
            "points": points,
        }


def _constant_input(model: Any, x: Any) -> torch.Tensor:
    F = model.input_size
    if isinstance(x, int | float) and not isinstance(x, bool):
        return torch.full((F,), float(x), dtype=torch.float64)
    t = torch.as_tensor(x, dtype=torch.float64) if not isinstance(x, torch.Tensor) else x
    if tuple(t.shape) != (F,):
        raise InputShapeError(f"expected a constant input x of shape ({F},), got {tuple(t.shape)}")
    t = t.detach().to(torch.float64)
    if not bool(torch.isfinite(t).all()):
        raise InputShapeError("the constant input x has NaN or infinite entries")
    return t


def _sample_starts(
    model: Any,
    starts: Any,
    inputs: torch.Tensor | None,
    noise: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Return starting states: given, or sampled from trajectories of ``inputs`` (plus noise)."""
    S = model.state_size
    if isinstance(starts, torch.Tensor):
        if starts.dim() != 2 or starts.shape[1] != S or starts.shape[0] == 0:
            raise InputShapeError(f"expected starts of shape (N, {S}), got {tuple(starts.shape)}")
        return starts.detach().to(torch.float64).clone()
    if isinstance(starts, bool) or not isinstance(starts, int) or starts < 1:
        raise ValueError(f"starts must be a positive integer or an (N, {S}) tensor, got {starts!r}")
    if inputs is None:
        inputs = torch.randn(
            max(8, math.ceil(starts / 16)), 50, model.input_size, generator=generator
        )
    from models.dynamics.trajectories import states as trajectory

    pool = trajectory(model, inputs).reshape(-1, S)
    idx = torch.randint(0, pool.shape[0], (starts,), generator=generator)
    chosen = pool[idx]
    if noise > 0:
        spread = pool.std(dim=0).clamp(min=1e-3)
        chosen = chosen + noise * spread * torch.randn(
            chosen.shape, generator=generator, dtype=torch.float64
        )
    return chosen


def _minimise(
    model: Any, h: torch.Tensor, x: torch.Tensor, *, tol: float, max_iter: int
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Levenberg--Marquardt on :math:`r(h) = F(h, x) - h`, every start at once."""
    N, S = h.shape
    X = x.expand(N, -1)
    eye = torch.eye(S, dtype=torch.float64)
    mu = torch.full((N,), 1e-2, dtype=torch.float64)
    with torch.no_grad():
        r = model.step(h, X) - h
    q = 0.5 * (r * r).sum(dim=1)
    for _ in range(max_iter):
        # refine to rounding level (Newton converges quadratically near a root); a start stops
        # when its damping has grown so large that no step improves q
        active = (q > 1e-30) & (mu < 1e10)
        if not bool(active.any()):
            break
        A = model.step_jacobian(h, X) - eye
        g = torch.einsum("nji,nj->ni", A, r)  # A^T r
        AtA = A.transpose(1, 2) @ A
        scale = torch.diagonal(AtA, dim1=1, dim2=2).mean(dim=1).clamp(min=1e-12)
        M = AtA + (mu * scale)[:, None, None] * eye
        delta = torch.linalg.solve(M, -g.unsqueeze(-1)).squeeze(-1)
        trial = h + delta
        with torch.no_grad():
            r_trial = model.step(trial, X) - trial
        q_trial = 0.5 * (r_trial * r_trial).sum(dim=1)
        better = (q_trial < q) & active & torch.isfinite(q_trial)
        h = torch.where(better[:, None], trial, h)
        r = torch.where(better[:, None], r_trial, r)
        q = torch.where(better, q_trial, q)
        mu = torch.where(better, (mu / 3).clamp(min=1e-12), torch.where(active, mu * 4, mu))
    return h, q


def _dedupe(h: torch.Tensor, q: torch.Tensor, radius: float) -> list[int]:
    """Return indices of distinct points, lowest ``q`` first within each cluster (greedy)."""
    order = torch.argsort(q, stable=True).tolist()
    kept: list[int] = []
    for i in order:
        if not math.isfinite(float(q[i])):
            continue
        if kept:
            d = torch.linalg.vector_norm(h[kept] - h[i], dim=1)
            limit = radius * (1.0 + torch.linalg.vector_norm(h[i]))
            if bool((d <= limit).any()):
                continue
        kept.append(i)
    return kept


def _measures(J: NDArray[np.float64], eps: float, kreiss: bool) -> dict[str, Any]:
    # One Schur form serves the departure, the pseudospectral radius and the Kreiss search
    # (each would otherwise reduce J again; the factor they use is the same).
    sf = spectra.schur(J)
    rho = spectra.spectral_radius(J)
    out: dict[str, Any] = {
        "spectral_radius": rho,
        "henrici": spectra.henrici(J, relative=True, schur=sf),
        "pseudospectral_radius": float(spectra.pseudospectral_radius(J, eps, schur=sf)),
        "kreiss_lower_bound": None,
    }
    if kreiss and rho < 1.0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", spectra.NotConvergedWarning)
            out["kreiss_lower_bound"] = float(spectra.kreiss_lower_bound(J, schur=sf))
    return out


def fixed_points(
    model: Any,
    x: float | torch.Tensor = 0.0,
    *,
    starts: int | torch.Tensor = 256,
    inputs: torch.Tensor | None = None,
    noise: float = 0.05,
    tol: float = 1e-8,
    max_iter: int = 200,
    unique: float = 1e-4,
    eps: float = 1e-2,
    kreiss: bool = True,
    seed: int = 0,
) -> FixedPoints:
    r"""Find fixed points of :math:`h \mapsto F(h, x)` (constant input) from many starts at once.

    Minimises :math:`q(h) = \tfrac12 \|F(h, x) - h\|^2` by Levenberg--Marquardt steps on the
    residual, with the analytic Jacobian of the step, from every start in one batch; keeps the
    distinct minima (fixed points when ``q <= tol``, slow points otherwise) and classifies each
    by the eigenvalues of its Jacobian, with its spectral radius, departure from normality,
    :math:`\varepsilon`-pseudospectral radius and Kreiss lower bound from :mod:`spectra`.

    Parameters
    ----------
    model : RecurrentModel or TorchStack
        Model with a one-step map (run in float64).
    x : float or (F,) torch.Tensor, optional
        Constant input (a float fills every feature).
    starts : int or (N, S) torch.Tensor, optional
        Starting states, or how many to sample from the trajectories of ``inputs``.
    inputs : (B, T, F) torch.Tensor, optional
        Trajectories to sample starts from (default standard normal inputs, 50 steps).
    noise : float, optional
        Gaussian noise added to sampled starts, relative to the spread of the states.
    tol : float, optional
        Largest ``q`` of a fixed point.
    max_iter : int, optional
        Levenberg--Marquardt iterations.
    unique : float, optional
        Points closer than ``unique * (1 + |h|)`` are one point.
    eps : float, optional
        Perturbation size of the pseudospectral radius.
    kreiss : bool, optional
        Compute the Kreiss lower bound of stable points (the slowest measure).
    seed : int, optional
        Seed of the sampled starts and noise.

    Returns
    -------
    FixedPoints
        Converged points first (stable, saddle, unstable), then slow points, each by ``q``.

    Raises
    ------
    InputShapeError
        If ``x``, ``starts`` or ``inputs`` has the wrong shape.
    ValueError
        If a numeric option is out of range.

    Examples
    --------
    >>> import models
    >>> model = models.build("rnn", input_size=1, hidden_size=1, output_size=1,
    ...                      init="identity", scale=2.0)
    >>> fps = fixed_points(model, starts=32, kreiss=False)
    >>> fps.count("stable"), fps.count("unstable")
    (2, 1)
    """
    check_model(model)
    for name, value in (("tol", tol), ("unique", unique), ("eps", eps)):
        if not isinstance(value, int | float) or not value > 0 or not math.isfinite(value):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not isinstance(noise, int | float) or not noise >= 0:
        raise ValueError(f"noise must be a non-negative number, got {noise!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    generator = torch.Generator().manual_seed(seed)
    xc = _constant_input(model, x)
    model = as_float64(model)
    with frozen(model):
        h0 = _sample_starts(model, starts, inputs, float(noise), generator)
        h, q = _minimise(model, h0, xc, tol=tol, max_iter=max_iter)
        kept = _dedupe(h, q, unique)
        pts, qs = h[kept], q[kept]
        J = (
            model.step_jacobian(pts, xc.expand(len(kept), -1)).numpy()
            if kept
            else np.zeros((0, model.state_size, model.state_size))
        )
    pts_np, q_np = pts.numpy(), qs.numpy()
    eig = np.linalg.eigvals(J) if len(kept) else np.zeros((0, model.state_size), complex)
    eig = np.take_along_axis(eig, np.argsort(-np.abs(eig), axis=1, kind="stable"), axis=1)
    mods = np.abs(eig)
    stability = ["stable" if m.max() < 1 else "unstable" if m.min() > 1 else "saddle" for m in mods]
    converged = q_np <= tol
    rank = {s: i for i, s in enumerate(STABILITIES)}
    order = sorted(
        range(len(kept)), key=lambda i: (not converged[i], rank[stability[i]], q_np[i], i)
    )
    measures = [_measures(J[i], eps, kreiss) for i in order]
    logger.info("fixed points: %d distinct minima from %d starts", len(kept), h0.shape[0])
    return FixedPoints(
        states=pts_np[order],
        q=q_np[order],
        converged=converged[order],
        stability=[stability[i] for i in order],
        eigenvalues=eig[order],
        measures=measures,
        jacobians=J[order],
        starts=int(h0.shape[0]),
        eps=float(eps),
        x=xc.numpy(),
    )
