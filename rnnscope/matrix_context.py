r"""The shared analyses of one recurrent matrix that every measure and figure draws on.

:class:`MatrixContext` computes the Schur form, chain, chain order, transient growth, power
iteration and certified pseudospectral radii of a matrix lazily, once each; :func:`safe` turns
overflow or a failed factorisation into NaN with a log message.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

import numpy as np

import spectra
from rnnscope.options import eps_key
from rnnscope.settings import DEFAULT_EPS, TRANSIENT_STEPS

__all__ = ["MatrixContext", "safe"]

logger = logging.getLogger(__name__)


def safe(name: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``func(*args, **kwargs)``; overflow or a failed factorisation gives NaN, logged.

    Parameters
    ----------
    name : str
        What is computed (for the log message).
    func : callable
        The computation.
    *args, **kwargs
        Its arguments.

    Returns
    -------
    object
        ``func``'s result, or NaN.

    Examples
    --------
    >>> safe("overflow", math.exp, 1e6)
    nan
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return func(*args, **kwargs)
        except (OverflowError, FloatingPointError, np.linalg.LinAlgError) as exc:
            logger.warning("%s could not be computed: %s", name, exc)
            return math.nan


class MatrixContext:
    r"""One recurrent matrix and the shared, lazily computed analyses its measures draw on.

    Parameters
    ----------
    A : (N, N) ndarray
        The matrix, float64 or complex128, column convention.
    eps : sequence of float, optional
        Perturbation sizes of the :math:`\varepsilon`-pseudospectral radius.
    transient_steps : int, optional
        Largest power of the transient growth.

    Examples
    --------
    >>> ctx = MatrixContext(np.diag(np.ones(3), -1))
    >>> ctx.chain.length, ctx.transient.shape
    (4, (101,))
    """

    def __init__(
        self,
        A: np.ndarray,
        *,
        eps: Sequence[float] = DEFAULT_EPS,
        transient_steps: int = TRANSIENT_STEPS,
    ) -> None:
        self.A = A
        self.eps = tuple(float(e) for e in eps)
        self.transient_steps = int(transient_steps)

    @cached_property
    def schur(self) -> spectra.SchurForm:
        """Complex Schur form of the matrix (:func:`spectra.schur`)."""
        return spectra.schur(self.A)

    @cached_property
    def chain(self) -> spectra.ChainReport:
        """Longest feed-forward chain of its Schur modes (:func:`spectra.chains`)."""
        return spectra.chains(self.A, schur=self.schur)

    @cached_property
    def transient_peak(self) -> float:
        r""":math:`\max_k \|W^k\|_2` over k = 0..transient_steps (NaN when it cannot be computed).

        Read off :attr:`transient` when that was computed (for a figure); otherwise
        :func:`spectra.transient_peak`, which stops as soon as a power has norm below 1.
        """
        if "transient" in self.__dict__:
            growth = self.transient
            if not np.size(growth) or np.all(np.isnan(growth)):
                return math.nan
            return float(np.nanmax(growth))
        with np.errstate(over="ignore", invalid="ignore"):
            return float(
                safe("transient growth", spectra.transient_peak, self.A, self.transient_steps)
            )

    @cached_property
    def chain_order(self) -> spectra.ChainOrder:
        """Local order of the resolvent and its null control (:func:`spectra.chain_order`).

        One Gaussian null sample per size (cached per process): at N = 1024 each costs about
        one dense Schur decomposition.
        """
        return spectra.chain_order(self.A, schur_form=self.schur, null_samples=1)

    @cached_property
    def transient(self) -> np.ndarray:
        r""":math:`\|W^k\|_2` for k = 0..transient_steps (NaN when it cannot be computed)."""
        with np.errstate(over="ignore", invalid="ignore"):
            growth = safe(
                "transient growth", spectra.transient_growth, self.A, self.transient_steps
            )
        return np.atleast_1d(np.asarray(growth, dtype=float))

    @cached_property
    def power(self) -> spectra.PowerResult:
        """Power iteration for the dominant eigenvalue (unconverged runs are not warned)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", spectra.NotConvergedWarning)
            return spectra.power_method(self.A)

    @cached_property
    def pseudospectral_results(self) -> tuple[spectra.PseudospectralRadius, ...] | None:
        """Certified pseudospectral radii, one per epsilon (``None`` when not computable)."""
        radii = safe(
            "pseudospectral radius",
            spectra.pseudospectral_radius,
            self.A,
            list(self.eps),
            schur=self.schur,
        )
        if not isinstance(radii, tuple) or len(radii) != len(self.eps):
            return None
        return tuple(radii)

    @cached_property
    def pseudospectral_radii(self) -> dict[str, float]:
        """Pseudospectral radius per epsilon, keyed by :func:`rnnscope.options.eps_key`."""
        results = self.pseudospectral_results
        if results is None:
            return {eps_key(e): math.nan for e in self.eps}
        return {eps_key(e): float(r) for e, r in zip(self.eps, results, strict=True)}

    @cached_property
    def pseudospectral_uppers(self) -> dict[str, float]:
        """Certified upper bound of the pseudospectral radius per epsilon."""
        results = self.pseudospectral_results
        if results is None:
            return {eps_key(e): math.nan for e in self.eps}
        return {eps_key(e): float(r.upper) for e, r in zip(self.eps, results, strict=True)}
