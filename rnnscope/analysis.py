"""Spectral analysis of one recurrent matrix, and of every matrix of a checkpoint.

The result is a plain dict with the fields of ``rnnscope analyze --json``; non-finite values stay
as floats here and become ``null`` when written (see :mod:`rnnscope.jsonio`).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

import spectra
from rnnscope.options import eps_key

__all__ = [
    "DEFAULT_EPS",
    "TRANSIENT_STEPS",
    "analyze_checkpoint",
    "analyze_matrix",
    "as_numpy",
    "principal_name",
]

logger = logging.getLogger(__name__)

#: Default perturbation sizes of the epsilon-pseudospectral radius.
DEFAULT_EPS: tuple[float, ...] = (1e-3, 1e-2, 1e-1)

#: Number of powers :math:`\|W^k\|_2`, k = 0..TRANSIENT_STEPS, behind ``max_transient_growth``.
TRANSIENT_STEPS = 100


def as_numpy(matrix: Any) -> np.ndarray:
    """Return a matrix (numpy array, torch tensor or nested list) as a float64 numpy array.

    Parameters
    ----------
    matrix : array_like or torch.Tensor
        The matrix.

    Returns
    -------
    ndarray
        float64 (complex128 for complex input) copy.

    Examples
    --------
    >>> as_numpy([[1, 2], [3, 4]]).dtype
    dtype('float64')
    """
    if hasattr(matrix, "detach"):
        matrix = matrix.detach().cpu().double().numpy()
    arr = np.asarray(matrix)
    return arr.astype(np.complex128 if arr.dtype.kind == "c" else np.float64)


def _safe(name: str, func: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``func``; overflow in a growth measure gives ``inf`` instead of a crash."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return func(*args, **kwargs)
        except (OverflowError, FloatingPointError, np.linalg.LinAlgError) as exc:
            logger.warning("%s could not be computed: %s", name, exc)
            return math.nan


def analyze_matrix(
    name: str,
    W: ArrayLike,
    *,
    eps: Sequence[float] = DEFAULT_EPS,
    transient_steps: int = TRANSIENT_STEPS,
) -> dict[str, Any]:
    r"""Compute the spectral and non-normality measures of one recurrent matrix.

    Parameters
    ----------
    name : str
        Name of the matrix (e.g. ``"W"`` or an LSTM gate ``"g"``).
    W : (N, N) array_like
        The matrix, column convention.
    eps : sequence of float, optional
        Perturbation sizes of the :math:`\varepsilon`-pseudospectral radius.
    transient_steps : int, optional
        ``max_transient_growth`` is :math:`\max_{0 \le k \le K} \|W^k\|_2` with K this value.

    Returns
    -------
    dict
        Keys ``name``, ``size``, ``spectral_radius``, ``spectral_radius_power`` (NaN when the
        power iteration did not converge, e.g. when several eigenvalues share the largest
        modulus, as for any orthogonal matrix), ``power_converged``, ``spectral_norm``,
        ``spectral_norm_power``, ``henrici``, ``henrici_relative``,
        ``chain_length``, ``orthogonality_error``, ``eigenvector_condition``,
        ``kreiss_lower_bound``, ``max_transient_growth`` and ``pseudospectral_radius``
        (a dict keyed by :func:`rnnscope.options.eps_key`).

    Raises
    ------
    spectra.errors.SpectraError
        If `W` is not a finite, non-empty square matrix.

    Examples
    --------
    >>> result = analyze_matrix("W", np.eye(3), eps=[0.1])
    >>> result["spectral_radius"], result["henrici"], result["pseudospectral_radius"]["0.1"]
    (1.0, 0.0, 1.1)
    """
    A = as_numpy(W)
    radii = _safe("pseudospectral radius", spectra.pseudospectral_radius, A, list(eps))
    radii = np.atleast_1d(np.asarray(radii, dtype=float))
    growth = _safe("transient growth", spectra.transient_growth, A, transient_steps)
    max_growth = float(np.nanmax(growth)) if np.size(growth) else math.nan
    with warnings.catch_warnings():  # an unconverged run is reported as power_converged False
        warnings.simplefilter("ignore", spectra.NotConvergedWarning)
        power = spectra.power_method(A)
    return {
        "name": str(name),
        "size": int(A.shape[0]),
        "spectral_radius": float(spectra.spectral_radius(A)),
        "spectral_radius_power": abs(power.value) if power.converged else math.nan,
        "power_converged": bool(power.converged),
        "spectral_norm": float(spectra.spectral_norm(A)),
        "spectral_norm_power": float(
            _safe("power spectral norm", spectra.spectral_norm, A, method="power")
        ),
        "henrici": float(spectra.henrici(A)),
        "henrici_relative": float(spectra.henrici(A, relative=True)),
        "chain_length": int(spectra.chains(A).length),
        "orthogonality_error": float(spectra.orthogonality_error(A)),
        "eigenvector_condition": float(
            _safe("eigenvector condition", spectra.eigenvector_condition, A)
        ),
        "kreiss_lower_bound": float(_safe("Kreiss bound", spectra.kreiss_lower_bound, A)),
        "max_transient_growth": max_growth,
        "pseudospectral_radius": {eps_key(e): float(r) for e, r in zip(eps, radii, strict=True)},
    }


def analyze_checkpoint(checkpoint: Any, *, eps: Sequence[float] = DEFAULT_EPS) -> dict[str, Any]:
    """Analyze every recurrent matrix of a loaded checkpoint.

    Parameters
    ----------
    checkpoint : models.Checkpoint
        Result of :func:`models.load`.
    eps : sequence of float, optional
        Perturbation sizes of the pseudospectral radius.

    Returns
    -------
    dict
        ``{"source", "kind", "format", "principal", "matrices": [...], "skipped": {block:
        reason}, "other_blocks": {block: shape}}`` (``other_blocks``: recurrent blocks that are
        not h -> h matrices, such as NRU's memory block, reported but not analysed); each matrix
        dict is :func:`analyze_matrix`'s plus ``source_keys``, ``formula`` and, where the loader
        left one, ``note``.

    Raises
    ------
    spectra.errors.SpectraError
        If a matrix is not finite and square.

    Examples
    --------
    >>> import models, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> analyze_checkpoint(models.load(path), eps=[0.1])["matrices"][0]["size"]
    2
    """
    matrices: list[dict[str, Any]] = []
    source_keys: Mapping[str, Sequence[str]] = getattr(checkpoint, "source_keys", {}) or {}
    formulas: Mapping[str, str] = getattr(checkpoint, "formulas", {}) or {}
    notes: Mapping[str, str] = getattr(checkpoint, "notes", {}) or {}
    for name, W in checkpoint.matrices.items():
        logger.info("analyzing %s (%s)", name, "x".join(str(s) for s in W.shape))
        entry = analyze_matrix(name, W, eps=eps)
        entry["source_keys"] = [str(key) for key in source_keys.get(name, [])]
        entry["formula"] = str(formulas.get(name, ""))
        if name in notes:
            entry["note"] = str(notes[name])
        matrices.append(entry)
    return {
        "source": str(checkpoint.source),
        "kind": checkpoint.kind,
        "format": str(checkpoint.format),
        "principal": principal_name(checkpoint),
        "matrices": matrices,
        "skipped": {str(k): str(v) for k, v in (getattr(checkpoint, "skipped", {}) or {}).items()},
        "other_blocks": {
            str(k): [int(n) for n in v.shape]
            for k, v in (getattr(checkpoint, "other_blocks", {}) or {}).items()
        },
    }


def principal_name(checkpoint: Any) -> str:
    """Return the name of a checkpoint's principal recurrent matrix.

    Parameters
    ----------
    checkpoint : models.Checkpoint
        Loaded checkpoint.

    Returns
    -------
    str
        The key of ``checkpoint.matrices`` holding ``checkpoint.recurrent_matrix()`` (e.g.
        ``"W"``, or ``"g"`` for an LSTM); the first key when none matches.

    Examples
    --------
    >>> import types
    >>> W = np.eye(2)
    >>> ckpt = types.SimpleNamespace(matrices={"W": W}, recurrent_matrix=lambda: W, principal=None)
    >>> principal_name(ckpt)
    'W'
    """
    names = list(checkpoint.matrices)
    declared = getattr(checkpoint, "principal", None)
    if declared is not None and declared in checkpoint.matrices:
        return str(declared)
    try:
        principal = checkpoint.recurrent_matrix()
    except Exception:
        principal = None
    for name in names:
        if checkpoint.matrices[name] is principal:
            return str(name)
    if principal is not None:
        target = as_numpy(principal)
        for name in names:
            candidate = as_numpy(checkpoint.matrices[name])
            if candidate.shape == target.shape and np.array_equal(candidate, target):
                return str(name)
    return str(names[0]) if names else "W"
