r"""Result objects of :func:`spectra.pseudospectral_radius`: a float with its certificate."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["PseudospectralRadii", "PseudospectralRadius"]


class PseudospectralRadius(float):
    r"""Result of :func:`pseudospectral_radius` for one :math:`\varepsilon`: a float with bounds.

    The float value is `value`, so ``float(result)``, arithmetic and comparisons work as for
    the bare float returned before.

    Attributes
    ----------
    value : float
        :math:`|z|` of the witness: a lower bound of :math:`\rho_\varepsilon(A)` up to `tol`.
    upper : float
        Certified upper bound: no :math:`z` with :math:`|z| >` `upper` has
        :math:`\sigma_{\min}(zI - A) \le \varepsilon` (up to the rounding level of the Schur
        factor, which is included in the margins).
    witness : complex
        A point with computed :math:`\sigma_{\min}(zI - A) \le \varepsilon(1 + \mathrm{tol})`.
    certified : bool
        Whether ``upper <= value * (1 + certify_tol)`` was proved and :math:`\varepsilon` lies
        above the rounding level; when false, :math:`\rho_\varepsilon(A)` is only known to lie
        in ``[value, upper]``.
    method : str
        What proved `upper`: ``"comparison"``, ``"circle"`` or ``"norm"``.
    eps : float
        The perturbation size.

    Examples
    --------
    >>> from spectra import pseudospectral_radius
    >>> r = pseudospectral_radius(np.diag([0.5, -0.25]), 0.1)
    >>> round(float(r), 12), r.certified, round(r.upper, 12)
    (0.6, True, 0.6)
    """

    __slots__ = ("_certified", "_eps", "_method", "_upper", "_witness")

    _certified: bool
    _eps: float
    _method: str
    _upper: float
    _witness: complex

    def __new__(
        cls,
        value: float,
        *,
        upper: float,
        witness: complex,
        certified: bool,
        method: str,
        eps: float,
    ) -> PseudospectralRadius:
        obj = super().__new__(cls, value)
        for name, item in (
            ("_upper", float(upper)),
            ("_witness", complex(witness)),
            ("_certified", bool(certified)),
            ("_method", str(method)),
            ("_eps", float(eps)),
        ):
            object.__setattr__(obj, name, item)
        return obj

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"PseudospectralRadius is immutable; cannot set {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (float(self), self._upper, self._witness, self._certified, self._method, self._eps),
        )

    @property
    def value(self) -> float:
        """Modulus of the witness (the float value of this object)."""
        return float(self)

    @property
    def upper(self) -> float:
        """Certified upper bound of the pseudospectral radius."""
        return self._upper

    @property
    def witness(self) -> complex:
        """Point of the pseudospectrum with modulus `value`."""
        return self._witness

    @property
    def certified(self) -> bool:
        """Whether `upper` is within `certify_tol` of `value`."""
        return self._certified

    @property
    def method(self) -> str:
        """The certificate behind `upper`."""
        return self._method

    @property
    def eps(self) -> float:
        """The perturbation size."""
        return self._eps

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-ready dict.

        Returns
        -------
        dict
            Keys ``value``, ``upper``, ``witness`` (``[re, im]``), ``certified``, ``method``
            and ``eps``.

        Examples
        --------
        >>> from spectra import pseudospectral_radius
        >>> pseudospectral_radius(np.eye(2), 0.5).to_dict()["certified"]
        True
        """
        return {
            "value": float(self),
            "upper": self._upper,
            "witness": [self._witness.real, self._witness.imag],
            "certified": self._certified,
            "method": self._method,
            "eps": self._eps,
        }


def _rebuild(
    value: float, upper: float, witness: complex, certified: bool, method: str, eps: float
) -> PseudospectralRadius:
    return PseudospectralRadius(
        value, upper=upper, witness=witness, certified=certified, method=method, eps=eps
    )


class PseudospectralRadii(tuple[PseudospectralRadius, ...]):
    """Results of :func:`pseudospectral_radius` for a sequence of eps, in the order given.

    A tuple of :class:`PseudospectralRadius`; ``numpy.asarray`` of it gives the values as a
    float array, as the plain array returned before.

    Parameters
    ----------
    iterable : iterable of PseudospectralRadius
        The results, one per eps.

    Examples
    --------
    >>> from spectra import pseudospectral_radius
    >>> radii = pseudospectral_radius(np.eye(2), [0.1, 0.2])
    >>> np.asarray(radii).round(6).tolist(), [r.certified for r in radii]
    ([1.1, 1.2], [True, True])
    """

    __slots__ = ()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> NDArray[Any]:
        return np.array([float(r) for r in self], dtype=dtype or np.float64)

    @property
    def upper(self) -> NDArray[np.float64]:
        """Certified upper bounds, one per eps."""
        return np.array([r.upper for r in self])

    @property
    def certified(self) -> NDArray[np.bool_]:
        """Certification flags, one per eps."""
        return np.array([r.certified for r in self])

    def to_dict(self) -> list[dict[str, Any]]:
        """Return the results as a list of JSON-ready dicts (see PseudospectralRadius.to_dict).

        Returns
        -------
        list of dict
            One dict per eps.

        Examples
        --------
        >>> from spectra import pseudospectral_radius
        >>> len(pseudospectral_radius(np.eye(2), [0.1, 0.2]).to_dict())
        2
        """
        return [r.to_dict() for r in self]
