r"""Certified radii of vanilla recurrent classifiers from spectral norms.

For :math:`h_t = f(W h_{t-1} + U x_t + b)` with :math:`h_0 = 0`, a 1-Lipschitz
point-wise :math:`f`, and logits :math:`z = V h_T + c`, the Jacobian
:math:`\partial h_T / \partial x_t` has norm at most
:math:`\sigma_{max}(W)^{T-t} \|U\|_2`. Treating the whole sequence as one
vector of :math:`\mathbb{R}^{T F}` (Cauchy-Schwarz over the steps),

.. math::

    \|h_T(x + \delta) - h_T(x)\|_2 \le L \|\delta\|_2, \qquad
    L = \|U\|_2 \sqrt{\textstyle\sum_{k=0}^{T-1} \sigma_{max}(W)^{2k}}.

The margin :math:`z_y - z_j` is :math:`\|V_y - V_j\|_2 L`-Lipschitz, so a
correctly classified input keeps its label for every :math:`\|\delta\|_2 < r` with

.. math::

    r = \min_{j \ne y} \frac{z_y - z_j}{\|V_y - V_j\|_2 \, L}.

For Linf, :math:`\|\delta\|_2 \le \sqrt{T F}\, \|\delta\|_\infty`, so the Linf
radius is :math:`r / \sqrt{T F}`. tanh, ReLU and ELU (:math:`\alpha = 1`) are
1-Lipschitz; modReLU :math:`\mathrm{sign}(z)\,\mathrm{relu}(|z| + b)` is
1-Lipschitz only when every :math:`b \le 0` (for :math:`b > 0` it jumps at 0).

For :math:`\sigma_{max}(W) > 1` this product of norms grows like :math:`\sigma_{max}^T` and
the radius becomes meaningless, so two tighter sound bounds run on the cell rebuilt from its
parts (:mod:`attacks._cell`): interval bound propagation through the unrolled network and a
per-step Jacobian bound with the activation slopes over the propagated pre-activation range.
Each sample gets the largest of the sound radii (``bound`` says which one gave it). A radius
below the input dtype's resolution, or below ``1e-3`` of the sample's minimal adversarial norm
(when given), is flagged ``vacuous``: it certifies nothing a perturbation could express.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from attacks._cell import rebuild, tight_radii
from attacks._model import (
    attack_mode,
    check_labels_match,
    check_model,
    logits_of,
    prepare,
)
from attacks._records import to_json
from attacks._validation import check_norm
from attacks.curves import fraction_above, provenance
from attacks.errors import UnsupportedModelError

__all__ = ["LIPSCHITZ_NONLINEARITIES", "CertifiedRadius", "certified_radius", "lipschitz_bound"]

LIPSCHITZ_NONLINEARITIES: frozenset[str] = frozenset({"tanh", "relu", "elu", "modrelu"})
"""Nonlinearities the certificate accepts (modReLU only with all biases <= 0)."""


def lipschitz_bound(norm_u: float, sigma_max: float, steps: int) -> float:
    r"""Bound :math:`\|U\|_2 \sqrt{\sum_{k<T} \sigma^{2k}}` on the Lipschitz constant of x -> h_T.

    Parameters
    ----------
    norm_u : float
        :math:`\|U\|_2`.
    sigma_max : float
        :math:`\sigma_{max}(W)`.
    steps : int
        Sequence length :math:`T`.

    Returns
    -------
    float
        The bound in the L2 norm over the whole sequence (``inf`` on overflow).

    Examples
    --------
    >>> lipschitz_bound(1.0, 1.0, 4)
    2.0
    >>> round(lipschitz_bound(2.0, 0.5, 2), 6)
    2.236068
    """
    s2 = sigma_max * sigma_max
    if s2 == 1.0:
        total = float(steps)
    elif s2 == 0.0:
        total = 1.0
    else:
        log_s2 = math.log(s2)
        try:
            total = math.expm1(steps * log_s2) / math.expm1(log_s2)
        except OverflowError:
            total = math.inf
    return float(norm_u * math.sqrt(total))


@dataclass(frozen=True)
class CertifiedRadius:
    r"""Per-sample radius within which the predicted label provably cannot change.

    Attributes
    ----------
    norm : str
        ``"linf"`` or ``"l2"`` over the flattened ``T * F`` entries.
    radius : (B,) tuple of float
        Certified radius; 0 for misclassified samples.
    correct : (B,) tuple of bool
        Clean correctness.
    certified : bool
        ``False`` when the certificate does not apply (modReLU with a positive
        bias); every radius is then 0 and ``reason`` explains.
    reason : str or None
        Why the certificate does not apply.
    lipschitz : float
        Bound on the L2 Lipschitz constant of ``x -> h_T`` (``inf`` if none).
    sigma_max : float
        :math:`\sigma_{max}(W)`.
    norm_u : float
        :math:`\|U\|_2`.
    nonlinearity : str
        Cell nonlinearity.
    clean_accuracy : float
        Fraction of correct samples.
    median : float or None
        Median radius over correct samples.
    n_samples : int
        Number of samples.
    provenance : dict
        Library versions, settings, data hash.
    per_bound : dict of str to tuple of float
        Sound radius of each bound (``"lipschitz"``, ``"ibp"``, ``"jacobian"``) per sample.
    bound : (B,) tuple of str or None
        Which bound gave each sample's radius (``None`` for misclassified samples).
    vacuous : (B,) tuple of bool
        Radius below ``resolution`` or below ``1e-3`` of the sample's minimal norm.
    resolution : float
        Smallest perturbation the input dtype can express near the bounds.
    notes : dict of str to str
        Why a bound does not apply.
    """

    norm: str
    radius: tuple[float, ...]
    correct: tuple[bool, ...]
    certified: bool
    reason: str | None
    lipschitz: float
    sigma_max: float
    norm_u: float
    nonlinearity: str
    clean_accuracy: float
    median: float | None
    n_samples: int
    provenance: dict[str, Any] = field(repr=False)
    per_bound: dict[str, tuple[float, ...]] = field(default_factory=dict)
    bound: tuple[str | None, ...] | None = None
    vacuous: tuple[bool, ...] | None = None
    resolution: float | None = None
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """``"certified"``, ``"vacuous"`` (every correct sample's radius is) or ``"skipped"``.

        Examples
        --------
        >>> c = CertifiedRadius("l2", (0.0,), (True,), False, "why", float("inf"), 1.0,
        ...                     1.0, "modrelu", 1.0, 0.0, 1, {})
        >>> c.status
        'skipped'
        """
        if not self.certified:
            return "skipped"
        flags = [v for v, ok in zip(self.vacuous or (), self.correct, strict=False) if ok]
        if flags and all(flags):
            return "vacuous"
        return "certified"

    def certified_accuracy(self, epsilons: Sequence[float]) -> tuple[float, ...]:
        """Fraction of samples certified at each size (correct and radius > eps).

        Parameters
        ----------
        epsilons : sequence of float
            Sizes (>= 0).

        Returns
        -------
        tuple of float
            A lower bound on the robust accuracy at each size.

        Raises
        ------
        AttackInputError
            For negative or non-finite sizes.

        Examples
        --------
        >>> c = CertifiedRadius("l2", (0.0, 0.2), (False, True), True, None, 1.0, 1.0,
        ...                     1.0, "tanh", 0.5, 0.2, 2, {})
        >>> c.certified_accuracy([0.1, 0.3])
        (0.5, 0.0)
        """
        return fraction_above(self.radius, epsilons)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (an infinite Lipschitz bound becomes ``null``).

        Returns
        -------
        dict
            Every field, with tuples as lists.

        Examples
        --------
        >>> c = CertifiedRadius("l2", (0.0,), (True,), False, "why", float("inf"), 1.0,
        ...                     1.0, "modrelu", 1.0, 0.0, 1, {})
        >>> c.to_dict()["lipschitz"] is None
        True
        """
        out = to_json(
            self,
            "certified_radius",
            nullable=("radius", "lipschitz", "sigma_max", "norm_u", "median", "per_bound"),
        )
        out["status"] = self.status
        return out


def _parts(model: torch.nn.Module) -> dict[str, Any]:
    kind = getattr(model, "kind", None)
    label = f"model kind {kind!r}" if isinstance(kind, str) else f"{type(model).__name__}"
    method = getattr(model, "lipschitz_parts", None)
    if not callable(method):
        raise UnsupportedModelError(
            f"certified_radius does not support {label}: it needs a lipschitz_parts() method "
            "(vanilla cells h_t = f(W h_{t-1} + U x_t + b): rnn, scornn, exprnn, nnrnn)"
        )
    try:
        parts = method()
    except (TypeError, NotImplementedError) as exc:
        raise UnsupportedModelError(f"certified_radius does not support {label}: {exc}") from exc
    return dict(parts)


def _matrix(parts: dict[str, Any], key: str) -> np.ndarray:
    value = parts.get(key)
    if value is None:
        raise UnsupportedModelError(f"lipschitz_parts() returned no {key!r} matrix")
    if isinstance(value, torch.Tensor):
        value = value.detach().to("cpu", torch.float64).numpy()
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 2:
        raise UnsupportedModelError(
            f"lipschitz_parts()[{key!r}] must be a matrix, got shape {array.shape}"
        )
    return array


def certified_radius(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    *,
    norm: str,
    bounds: tuple[float, float] = (0.0, 1.0),
    minimal: Any = None,
    tight: bool = True,
) -> CertifiedRadius:
    """Certified radius of each sample from spectral norms of ``U``, ``W`` and ``V``.

    The bound (module docstring) needs ``model.lipschitz_parts()`` returning
    ``U`` (H, F), ``W`` (H, H), ``V`` (C, H), ``nonlinearity`` and
    ``modrelu_bias``. If a modReLU bias entry is positive the activation is not
    Lipschitz: the result then has ``certified=False``, every radius 0 and a
    ``reason``, rather than an error, so reports can show why.

    Parameters
    ----------
    model : torch.nn.Module
        A vanilla recurrent classifier with ``lipschitz_parts()``.
    x : (B, T, F) array_like
        Inputs.
    y : (B,) array_like of int
        Class labels.
    norm : {"linf", "l2"}
        Norm of the certified ball over the flattened ``T * F`` entries.
    bounds : tuple of float, default (0.0, 1.0)
        Input domain (the interval bounds clip Linf boxes to it).
    minimal : MinimalPerturbation, optional
        Minimal adversarial norms of the same samples: the upper end of the bisection and
        the reference of the ``vacuous`` flag.
    tight : bool, default True
        Also run interval bound propagation and the per-step Jacobian bound.

    Returns
    -------
    CertifiedRadius
        Radii (0 for misclassified samples), the bound behind each, and the pieces of the
        spectral bound.

    Raises
    ------
    AttackInputError
        For bad inputs or labels.
    UnknownAttackError
        For an unknown norm name.
    UnsupportedModelError
        When the model has no ``lipschitz_parts()`` (or it refuses the kind), the
        nonlinearity is not 1-Lipschitz, or the matrices do not fit together.

    Examples
    --------
    >>> import torch
    >>> class Cell(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         g = torch.Generator().manual_seed(0)
    ...         self.U = torch.nn.Parameter(torch.randn(4, 2, generator=g) / 4)
    ...         self.W = torch.nn.Parameter(torch.eye(4) * 0.5)
    ...         self.V = torch.nn.Linear(4, 3)
    ...     def forward(self, x):
    ...         h = x.new_zeros(x.shape[0], 4)
    ...         for t in range(x.shape[1]):
    ...             h = torch.tanh(h @ self.W.T + x[:, t] @ self.U.T)
    ...         return self.V(h)
    ...     def lipschitz_parts(self):
    ...         return {"U": self.U, "W": self.W, "V": self.V.weight,
    ...                 "nonlinearity": "tanh", "modrelu_bias": None}
    >>> result = certified_radius(Cell(), torch.rand(5, 3, 2), torch.zeros(5, dtype=int),
    ...                           norm="l2")
    >>> all(r >= 0 for r in result.radius)
    True
    """
    model = check_model(model)
    norm = check_norm(norm)
    batch = prepare(model, x, y)
    parts = _parts(model)
    U, W, V = _matrix(parts, "U"), _matrix(parts, "W"), _matrix(parts, "V")
    nonlinearity = str(parts.get("nonlinearity"))
    steps, features = int(batch.x.shape[1]), int(batch.x.shape[2])
    H = W.shape[0]
    if W.shape != (H, H) or U.shape != (H, features) or V.shape[1] != H:
        raise UnsupportedModelError(
            f"lipschitz_parts() shapes do not fit inputs with F={features}: "
            f"U {U.shape}, W {W.shape}, V {V.shape}"
        )
    if nonlinearity not in LIPSCHITZ_NONLINEARITIES:
        raise UnsupportedModelError(
            f"certified_radius needs a 1-Lipschitz nonlinearity "
            f"({', '.join(sorted(LIPSCHITZ_NONLINEARITIES))}), got {nonlinearity!r}"
        )
    reason = None
    if nonlinearity == "modrelu":
        bias = parts.get("modrelu_bias")
        if bias is None:
            raise UnsupportedModelError("lipschitz_parts() gave nonlinearity 'modrelu' no bias")
        b = np.asarray(
            bias.detach().cpu().double().numpy() if isinstance(bias, torch.Tensor) else bias,
            dtype=np.float64,
        )
        positive = int(np.sum(b > 0))
        if positive:
            reason = (
                f"modReLU bias has {positive} of {b.size} entries > 0 (max {float(b.max()):.3g}); "
                "modReLU jumps at 0 there, so it is not Lipschitz and no radius is certified"
            )

    sigma_max = float(np.linalg.norm(W, 2))
    norm_u = float(np.linalg.norm(U, 2))
    lipschitz = math.inf if reason else lipschitz_bound(norm_u, sigma_max, steps)

    with attack_mode(model) as wrapped:
        logits = logits_of(wrapped, batch.x)
    n_classes = int(logits.shape[-1])
    check_labels_match(batch.y, n_classes)
    if V.shape[0] != n_classes:
        raise UnsupportedModelError(
            f"lipschitz_parts()['V'] has {V.shape[0]} rows but the model returns {n_classes} logits"
        )
    spectral_reason = reason
    z = logits.detach().to("cpu", torch.float64).numpy()
    labels = batch.y.cpu().numpy()
    rows = np.arange(batch.n)
    correct = z.argmax(axis=1) == labels
    margins = z[rows, labels][:, None] - z  # (B, C)
    gaps = np.linalg.norm(V[labels][:, None, :] - V[None, :, :], axis=2)  # (B, C)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = margins / (gaps * lipschitz)
    ratio[rows, labels] = np.inf
    ratio = np.where(np.isnan(ratio), 0.0, ratio)
    radius = np.where(correct, np.maximum(ratio.min(axis=1), 0.0), 0.0)
    if reason:
        radius = np.zeros(batch.n)
    if norm == "linf":
        radius = radius / math.sqrt(steps * features)
    per_bound = {"lipschitz": radius.copy()}
    notes: dict[str, str] = {}
    if spectral_reason:
        notes["lipschitz"] = spectral_reason
    if tight:
        per_bound.update(
            _tight(
                model,
                batch,
                correct,
                radius,
                norm=norm,
                bounds=bounds,
                minimal=minimal,
                notes=notes,
            )
        )
    names = list(per_bound)
    stacked = np.stack([per_bound[n] for n in names])  # (M, B)
    radius = np.where(correct, stacked.max(axis=0), 0.0)
    winner = [
        names[int(i)] if ok else None for i, ok in zip(stacked.argmax(axis=0), correct, strict=True)
    ]
    applies = [n for n in names if n != "lipschitz" or not spectral_reason]
    if applies and reason:
        reason = None
    if not applies:
        radius = np.zeros(batch.n)
    dtype = batch.x.dtype if batch.x.is_floating_point() else torch.float32
    resolution = float(torch.finfo(dtype).eps) * max(abs(bounds[0]), abs(bounds[1]), 1e-30)
    vacuous = correct & (radius < resolution)
    if minimal is not None and len(getattr(minimal, "norms", ())) == batch.n:
        ref = np.asarray(minimal.norms, dtype=np.float64)
        vacuous |= correct & np.isfinite(ref) & (radius < 1e-3 * ref)
    on_correct = radius[correct]
    kind = getattr(model, "kind", None)
    settings = {"norm": norm, "nonlinearity": nonlinearity, "steps": steps}
    if isinstance(kind, str):
        settings["kind"] = kind
    return CertifiedRadius(
        norm=norm,
        radius=tuple(float(v) for v in radius),
        correct=tuple(bool(v) for v in correct),
        certified=reason is None and bool(applies),
        reason=reason,
        lipschitz=lipschitz,
        sigma_max=sigma_max,
        norm_u=norm_u,
        nonlinearity=nonlinearity,
        clean_accuracy=float(correct.mean()),
        median=float(np.median(on_correct)) if on_correct.size else None,
        n_samples=batch.n,
        provenance=provenance(
            "certified_radius", model, batch.x, batch.y, settings=settings, seed=None
        ),
        per_bound={k: tuple(float(v) for v in r) for k, r in per_bound.items()},
        bound=tuple(winner),
        vacuous=tuple(bool(v) for v in vacuous),
        resolution=resolution,
        notes=notes,
    )


def _tight(
    model: torch.nn.Module,
    batch: Any,
    correct: np.ndarray,
    spectral: np.ndarray,
    *,
    norm: str,
    bounds: tuple[float, float],
    minimal: Any,
    notes: dict[str, str],
) -> dict[str, np.ndarray]:
    with attack_mode(model) as wrapped:
        cell, note = rebuild(model, wrapped, batch.x)
    if cell is None:
        notes["ibp"] = notes["jacobian"] = note
        return {}
    lo_b, hi_b = bounds
    cover = (hi_b - lo_b) * (1.0 if norm == "linf" else math.sqrt(batch.dim))
    upper = np.full(batch.n, cover)
    if minimal is not None and len(getattr(minimal, "norms", ())) == batch.n:
        ref = np.asarray(minimal.norms, dtype=np.float64)
        upper = np.where(np.isfinite(ref) & (ref > 0), np.minimum(ref, cover), upper)
    radii = tight_radii(
        cell,
        batch.x,
        batch.y,
        torch.as_tensor(correct),
        norm=norm,
        bounds=bounds,
        lower=torch.zeros(batch.n, dtype=torch.float64),
        upper=torch.as_tensor(upper, dtype=torch.float64),
    )
    return {name: r.numpy() for name, r in radii.items()}
