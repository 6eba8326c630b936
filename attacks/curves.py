"""Summaries of accuracy-versus-size curves and the provenance of a result.

Definitions used by every curve in :mod:`attacks`:

* **AUC** -- the trapezoidal area under robust accuracy versus epsilon over
  ``[min(eps), max(eps)]``, divided by the width ``max(eps) - min(eps)``: the
  mean robust accuracy over that interval, in ``[0, 1]``. With a single epsilon
  (or all equal) it is the robust accuracy at that epsilon.
* **eps50** -- the smallest epsilon at which robust accuracy falls to half the
  clean accuracy, by linear interpolation between neighbouring grid points.
  The point ``(0, clean accuracy)`` is added to the grid when 0 is missing
  (robust accuracy at zero size is the clean accuracy). ``None`` when the
  curve never falls that far on the grid, or when the clean accuracy is 0.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import math
import platform
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["eps50", "finite_or_none", "fraction_above", "normalized_auc", "provenance", "versions"]


def normalized_auc(epsilons: Sequence[float], accuracy: Sequence[float]) -> float:
    r"""Mean accuracy over the epsilon interval (trapezoidal rule).

    Parameters
    ----------
    epsilons : (K,) sequence of float
        Perturbation sizes, in any order.
    accuracy : (K,) sequence of float
        Accuracy at each size.

    Returns
    -------
    float
        :math:`\frac{1}{\epsilon_{max} - \epsilon_{min}}\int a(\epsilon)\,d\epsilon`,
        or the mean accuracy when all sizes are equal.

    Examples
    --------
    >>> normalized_auc([0.0, 1.0], [1.0, 0.0])
    0.5
    >>> normalized_auc([0.3], [0.7])
    0.7
    """
    eps = np.asarray(epsilons, dtype=np.float64)
    acc = np.asarray(accuracy, dtype=np.float64)
    order = np.argsort(eps, kind="stable")
    eps, acc = eps[order], acc[order]
    width = eps[-1] - eps[0]
    if width <= 0:
        return float(acc.mean())
    area = np.sum((acc[1:] + acc[:-1]) * np.diff(eps)) / 2
    return float(area / width)


def eps50(
    epsilons: Sequence[float], accuracy: Sequence[float], clean_accuracy: float
) -> float | None:
    """Size at which accuracy falls to half the clean accuracy.

    Parameters
    ----------
    epsilons : (K,) sequence of float
        Perturbation sizes, in any order.
    accuracy : (K,) sequence of float
        Robust accuracy at each size.
    clean_accuracy : float
        Accuracy without perturbation (used at size 0 when 0 is not in the grid).

    Returns
    -------
    float or None
        The first crossing of ``clean_accuracy / 2``, linearly interpolated;
        ``None`` if there is none or the clean accuracy is 0.

    Examples
    --------
    >>> eps50([0.5, 1.0], [1.0, 0.0], 1.0)
    0.75
    >>> eps50([0.1], [0.9], 1.0) is None
    True
    """
    if clean_accuracy <= 0:
        return None
    eps = np.asarray(epsilons, dtype=np.float64)
    acc = np.asarray(accuracy, dtype=np.float64)
    order = np.argsort(eps, kind="stable")
    eps, acc = eps[order], acc[order]
    if eps[0] > 0:
        eps = np.concatenate([[0.0], eps])
        acc = np.concatenate([[clean_accuracy], acc])
    target = clean_accuracy / 2
    below = np.flatnonzero(acc <= target)
    if below.size == 0:
        return None
    i = int(below[0])
    if i == 0:
        return float(eps[0])
    e0, e1, a0, a1 = eps[i - 1], eps[i], acc[i - 1], acc[i]
    return float(e0 + (a0 - target) * (e1 - e0) / (a0 - a1))


def fraction_above(values: Sequence[float], epsilons: Any) -> tuple[float, ...]:
    """Fraction of per-sample sizes strictly above each epsilon (the accuracy they imply).

    Parameters
    ----------
    values : (B,) sequence of float
        Per-sample radii or minimal norms (``inf``: never broken).
    epsilons : float or sequence of float
        Sizes (validated as by :func:`attacks._validation.check_epsilons`).

    Returns
    -------
    tuple of float
        One fraction per size.

    Raises
    ------
    AttackInputError
        For negative or non-finite sizes.

    Examples
    --------
    >>> fraction_above([0.0, 0.5, float("inf")], [0.0, 1.0])
    (0.6666666666666666, 0.3333333333333333)
    """
    from attacks._validation import check_epsilons

    eps = check_epsilons(epsilons)
    array = np.asarray(values, dtype=np.float64)
    return tuple(float(np.mean(array > e)) for e in eps)


def finite_or_none(value: float) -> float | None:
    """JSON-safe float: ``None`` for NaN or infinity.

    Parameters
    ----------
    value : float
        Any float.

    Returns
    -------
    float or None
        ``float(value)`` when finite.

    Examples
    --------
    >>> finite_or_none(float("inf")) is None
    True
    """
    value = float(value)
    return value if math.isfinite(value) else None


@functools.cache
def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    """Versions of the libraries an attack result depends on.

    Returns
    -------
    dict of str to str
        python, torch, numpy, foolbox and eagerpy versions.

    Examples
    --------
    >>> sorted(versions())
    ['eagerpy', 'foolbox', 'numpy', 'python', 'torch']
    """
    return {
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "numpy": str(np.__version__),
        "foolbox": _version("foolbox"),
        "eagerpy": _version("eagerpy"),
    }


def _data_hash(x: torch.Tensor, y: torch.Tensor | None) -> str:
    digest = hashlib.sha256()
    digest.update(str(tuple(x.shape)).encode())
    digest.update(x.detach().to("cpu", torch.float64).numpy().tobytes())
    if y is not None:
        digest.update(y.detach().to("cpu", torch.int64).numpy().tobytes())
    return digest.hexdigest()


def provenance(
    function: str,
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor | None,
    *,
    settings: dict[str, Any],
    seed: int | None,
) -> dict[str, Any]:
    """JSON-ready record of how a result was computed.

    Parameters
    ----------
    function : str
        Name of the public function.
    model : torch.nn.Module
        The analysed model (its class and ``kind`` are recorded).
    x : (B, T, F) torch.Tensor
        Evaluated inputs (hashed, not stored).
    y : (B,) torch.Tensor or None
        Labels (hashed with ``x``).
    settings : dict
        JSON-ready settings of the call.
    seed : int or None
        Seed of the random choices.

    Returns
    -------
    dict
        ``function``, ``versions``, ``settings``, ``seed``, ``n_samples``,
        ``input_shape`` (T, F), ``model`` and ``data_sha256``.

    Examples
    --------
    >>> import torch
    >>> p = provenance("noise", torch.nn.Identity(), torch.zeros(2, 3, 1), None,
    ...                settings={}, seed=0)
    >>> p["n_samples"], p["input_shape"]
    (2, [3, 1])
    """
    kind = getattr(model, "kind", None)
    return {
        "function": function,
        "versions": versions(),
        "settings": dict(settings),
        "seed": seed,
        "n_samples": int(x.shape[0]),
        "input_shape": [int(x.shape[1]), int(x.shape[2])],
        "model": {
            "class": f"{type(model).__module__}.{type(model).__qualname__}",
            "kind": kind if isinstance(kind, str) else None,
        },
        "data_sha256": _data_hash(x, y),
    }
