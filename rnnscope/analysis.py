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
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

import spectra
from rnnscope.logs import progress_bar
from rnnscope.matrix_context import MatrixContext
from rnnscope.measures import measures
from rnnscope.parallel import map_jobs
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
    context : MatrixContext
        The shared context the measures were computed from (it computes what figures need,
        such as the whole transient growth, on first use).
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
    context: MatrixContext = field(repr=False)
    eps: tuple[float, ...] = DEFAULT_EPS
    source_keys: tuple[str, ...] = ()
    formula: str = ""
    note: str | None = None

    @property
    def transient(self) -> np.ndarray:
        r""":math:`\|W^k\|_2`, k = 0..K (computed on first use and kept)."""
        return self.context.transient

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
        context=ctx,
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
    workers: int | None = None,
    progress: bool = False,
) -> CheckpointAnalysis:
    """Analyze every recurrent matrix of a loaded checkpoint, in parallel worker processes.

    Parameters
    ----------
    checkpoint : models.Checkpoint
        Result of :func:`models.load`.
    eps : sequence of float, optional
        Perturbation sizes of the pseudospectral radius.
    transient_steps : int, optional
        Largest power of the transient growth.
    workers : int, optional
        Worker processes, each with one BLAS thread (so the results do not depend on it);
        default: one per available core, at most one per matrix, and none (everything in this
        process) for a single matrix or matrices below 128 x 128 in total. The largest
        matrices are started first.
    progress : bool, optional
        Show a progress bar with one step per matrix on stderr.

    Returns
    -------
    CheckpointAnalysis
        One :class:`MatrixAnalysis` per matrix, in the checkpoint's order, plus what was
        skipped and why.

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
    jobs = [
        (
            index,
            str(name),
            as_numpy(W),
            tuple(float(e) for e in eps),
            int(transient_steps),
            tuple(checkpoint.source_keys.get(name, ())),
            checkpoint.formulas.get(name, ""),
            checkpoint.notes.get(name),
        )
        for index, (name, W) in enumerate(checkpoint.matrices.items())
    ]
    if workers is None:
        workers = _default_workers(jobs)
    # largest first, so that no worker is left with a big matrix while the others idle
    order = sorted(jobs, key=lambda job: -job[2].shape[0])
    results: dict[int, MatrixAnalysis] = {}
    with progress_bar(progress, len(jobs), "analyze") as update:
        for index, entry in map_jobs(_analyze_job, order, workers=workers):
            results[index] = entry
            update(f"analyzed {entry.name} ({entry.matrix.shape[0]}x{entry.matrix.shape[0]})", 1)
    analysed = [results[index] for index in range(len(jobs))]  # the checkpoint's order
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


#: Below this total of N^3 over the matrices, starting worker processes costs more than it saves.
_PARALLEL_WORK = 128**3 * 4


def _default_workers(jobs: Sequence[tuple[Any, ...]]) -> int:
    work = sum(float(job[2].shape[0]) ** 3 for job in jobs)
    if len(jobs) <= 1 or work < _PARALLEL_WORK:
        return 1
    return max(1, min(len(jobs), _available_cores()))


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _analyze_job(
    index: int,
    name: str,
    W: np.ndarray,
    eps: tuple[float, ...],
    transient_steps: int,
    source_keys: tuple[str, ...],
    formula: str,
    note: str | None,
) -> tuple[int, MatrixAnalysis]:
    """One matrix of :func:`analyze_checkpoint`, with one BLAS thread (in a worker or here)."""
    from threadpoolctl import threadpool_limits

    logger.info("analyzing %s (%dx%d)", name, W.shape[0], W.shape[1])
    with threadpool_limits(limits=1):
        entry = analyze_matrix(
            name,
            W,
            eps=eps,
            transient_steps=transient_steps,
            source_keys=source_keys,
            formula=formula,
            note=note,
        )
    return index, entry


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
