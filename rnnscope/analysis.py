"""Spectral analysis of one recurrent matrix, and of every matrix of a checkpoint.

:func:`analyze_matrix` returns a frozen :class:`MatrixAnalysis`: the values of every registered
measure (see :mod:`rnnscope.measures`) together with the Schur form, chain and transient growth
they were computed from, so figures reuse them. :func:`analyze_checkpoint` returns a
:class:`CheckpointAnalysis`. Both serialise once, with ``to_dict()``, to the fields of
``rnnscope analyze --json``; non-finite values stay floats there and become ``null`` when
written (see :mod:`rnnscope.jsonio`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

import spectra
from rnnscope.measures import MatrixContext, measures
from rnnscope.settings import DEFAULT_EPS, TRANSIENT_STEPS

if TYPE_CHECKING:
    from models import Checkpoint

__all__ = [
    "DEFAULT_EPS",
    "TRANSIENT_STEPS",
    "CheckpointAnalysis",
    "MatrixAnalysis",
    "analyze_checkpoint",
    "analyze_matrix",
    "as_numpy",
    "principal_name",
]

logger = logging.getLogger(__name__)


def as_numpy(matrix: Any) -> np.ndarray:
    """Return a matrix (numpy array, torch tensor or nested list) as a float64 or complex128 array.

    Complex input keeps its imaginary part: it becomes complex128, everything else float64.

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
    >>> as_numpy(np.array([[1 + 1j]], dtype=np.complex64))
    array([[1.+1.j]])
    """
    if hasattr(matrix, "detach"):
        tensor = matrix.detach().cpu()
        wide = tensor.cdouble() if tensor.is_complex() else tensor.double()
        matrix = wide.resolve_conj().resolve_neg().numpy()
    arr = np.asarray(matrix)
    return arr.astype(np.complex128 if arr.dtype.kind == "c" else np.float64)


@dataclass(frozen=True, eq=False)
class MatrixAnalysis:
    r"""The measures of one recurrent matrix and the decompositions behind them.

    Attributes
    ----------
    name : str
        Name of the matrix (e.g. ``"W"`` or an LSTM gate ``"g"``).
    matrix : (N, N) ndarray
        The matrix (float64 or complex128, column convention).
    measures : dict
        Value of every registered measure, by key, in registry order.
    schur : spectra.SchurForm
        Its complex Schur form.
    chain : spectra.ChainReport
        Its longest Schur chain.
    transient : (K + 1,) ndarray
        :math:`\|W^k\|_2`, k = 0..K.
    eps : tuple of float
        Epsilons of the pseudospectral radius.
    source_keys : tuple of str
        File keys the matrix was computed from.
    formula : str
        How it was computed.
    note : str or None
        A loader's remark.

    Examples
    --------
    >>> result = analyze_matrix("W", np.eye(3), eps=[0.1])
    >>> result.measures["spectral_radius"], result.chain.length
    (1.0, 1)
    """

    name: str
    matrix: np.ndarray = field(repr=False)
    measures: dict[str, Any]
    schur: spectra.SchurForm = field(repr=False)
    chain: spectra.ChainReport = field(repr=False)
    transient: np.ndarray = field(repr=False)
    eps: tuple[float, ...] = DEFAULT_EPS
    source_keys: tuple[str, ...] = ()
    formula: str = ""
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields of one entry of ``rnnscope analyze --json``.

        Returns
        -------
        dict
            ``name``, every measure, ``source_keys``, ``formula`` and, if any, ``note``.

        Examples
        --------
        >>> sorted(analyze_matrix("W", np.eye(2), eps=[0.1]).to_dict())[:3]
        ['chain_length', 'chain_order', 'chain_order_null']
        """
        out: dict[str, Any] = {"name": self.name, **self.measures}
        out["source_keys"] = list(self.source_keys)
        out["formula"] = self.formula
        if self.note is not None:
            out["note"] = self.note
        return out


def analyze_matrix(
    name: str,
    W: ArrayLike,
    *,
    eps: Sequence[float] = DEFAULT_EPS,
    transient_steps: int = TRANSIENT_STEPS,
    source_keys: Sequence[str] = (),
    formula: str = "",
    note: str | None = None,
) -> MatrixAnalysis:
    r"""Compute every registered measure of one recurrent matrix.

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
    source_keys, formula, note : optional
        Where the matrix came from (recorded, not used).

    Returns
    -------
    MatrixAnalysis
        Measures (``spectral_radius_power`` is NaN when the power iteration did not converge,
        e.g. when several eigenvalues share the largest modulus, as for any orthogonal matrix),
        with the Schur form, chain and transient growth.

    Raises
    ------
    spectra.errors.SpectraError
        If `W` is not a finite, non-empty square matrix.

    Examples
    --------
    >>> result = analyze_matrix("W", np.eye(3), eps=[0.1])
    >>> m = result.measures
    >>> m["spectral_radius"], m["henrici"], m["pseudospectral_radius"]["0.1"]
    (1.0, 0.0, 1.1)
    """
    ctx = MatrixContext(as_numpy(W), eps=eps, transient_steps=transient_steps)
    values = {measure.key: measure.compute(ctx) for measure in measures()}
    return MatrixAnalysis(
        name=str(name),
        matrix=ctx.A,
        measures=values,
        schur=ctx.schur,
        chain=ctx.chain,
        transient=ctx.transient,
        eps=ctx.eps,
        source_keys=tuple(str(key) for key in source_keys),
        formula=str(formula),
        note=None if note is None else str(note),
    )


@dataclass(frozen=True, eq=False)
class CheckpointAnalysis:
    """The analysis of every recurrent matrix of a checkpoint.

    Attributes
    ----------
    source, kind, format : str
        What was loaded (``kind`` is ``None`` for bare matrices).
    principal : str
        Name of the principal matrix.
    matrices : tuple of MatrixAnalysis
        One per recurrent matrix, in the checkpoint's order.
    skipped : dict of str to str
        Blocks found but not analysed, with the reason.
    other_blocks : dict of str to list of int
        Recurrent blocks that are not h -> h matrices (e.g. NRU's memory block), by shape.

    Examples
    --------
    >>> import models, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> analyze_checkpoint(models.load(path), eps=[0.1]).principal_matrix().name
    'W'
    """

    source: str
    kind: str | None
    format: str
    principal: str
    matrices: tuple[MatrixAnalysis, ...]
    skipped: dict[str, str] = field(default_factory=dict)
    other_blocks: dict[str, list[int]] = field(default_factory=dict)

    def principal_matrix(self) -> MatrixAnalysis | None:
        """Return the analysis of the principal matrix (``None`` when nothing was analysed).

        Returns
        -------
        MatrixAnalysis or None
            The entry named :attr:`principal`, else the first.

        Examples
        --------
        >>> CheckpointAnalysis("x", None, "matrix", "W", ()).principal_matrix() is None
        True
        """
        for matrix in self.matrices:
            if matrix.name == self.principal:
                return matrix
        return self.matrices[0] if self.matrices else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``rnnscope analyze --json`` object.

        Returns
        -------
        dict
            ``{"source", "kind", "format", "principal", "matrices": [...], "skipped",
            "other_blocks"}``.

        Examples
        --------
        >>> CheckpointAnalysis("x", None, "matrix", "W", ()).to_dict()["matrices"]
        []
        """
        return {
            "source": self.source,
            "kind": self.kind,
            "format": self.format,
            "principal": self.principal,
            "matrices": [matrix.to_dict() for matrix in self.matrices],
            "skipped": dict(self.skipped),
            "other_blocks": {k: list(v) for k, v in self.other_blocks.items()},
        }


def analyze_checkpoint(
    checkpoint: Checkpoint,
    *,
    eps: Sequence[float] = DEFAULT_EPS,
    transient_steps: int = TRANSIENT_STEPS,
) -> CheckpointAnalysis:
    """Analyze every recurrent matrix of a loaded checkpoint.

    Parameters
    ----------
    checkpoint : models.Checkpoint
        Result of :func:`models.load`.
    eps : sequence of float, optional
        Perturbation sizes of the pseudospectral radius.
    transient_steps : int, optional
        Largest power of the transient growth.

    Returns
    -------
    CheckpointAnalysis
        One :class:`MatrixAnalysis` per matrix, plus what was skipped and why.

    Raises
    ------
    spectra.errors.SpectraError
        If a matrix is not finite and square.

    Examples
    --------
    >>> import models, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> analyze_checkpoint(models.load(path), eps=[0.1]).to_dict()["matrices"][0]["size"]
    2
    """
    analysed = []
    for name, W in checkpoint.matrices.items():
        logger.info("analyzing %s (%s)", name, "x".join(str(s) for s in W.shape))
        analysed.append(
            analyze_matrix(
                name,
                W,
                eps=eps,
                transient_steps=transient_steps,
                source_keys=checkpoint.source_keys.get(name, ()),
                formula=checkpoint.formulas.get(name, ""),
                note=checkpoint.notes.get(name),
            )
        )
    return CheckpointAnalysis(
        source=str(checkpoint.source),
        kind=checkpoint.kind,
        format=str(checkpoint.format),
        principal=principal_name(checkpoint),
        matrices=tuple(analysed),
        skipped={str(k): str(v) for k, v in checkpoint.skipped.items()},
        other_blocks={
            str(k): [int(n) for n in v.shape] for k, v in checkpoint.other_blocks.items()
        },
    )


def principal_name(checkpoint: Checkpoint | Any) -> str:
    """Return the name of a checkpoint's principal recurrent matrix.

    Parameters
    ----------
    checkpoint : models.Checkpoint
        Loaded checkpoint.

    Returns
    -------
    str
        ``checkpoint.principal`` (e.g. ``"W"``, or ``"g"`` for an LSTM) when it names a
        loaded matrix, which is the matrix :meth:`models.Checkpoint.recurrent_matrix`
        returns; otherwise the first key (``"W"`` when there is none).

    Examples
    --------
    >>> import types
    >>> principal_name(types.SimpleNamespace(matrices={"W": np.eye(2)}, principal=None))
    'W'
    """
    matrices: Mapping[str, Any] = checkpoint.matrices
    declared = checkpoint.principal
    if declared is not None and declared in matrices:
        return str(declared)
    return str(next(iter(matrices), "W"))
