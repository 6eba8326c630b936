"""The records returned by the checkpoint readers: :class:`Checkpoint` and :class:`TensorInfo`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from models.checkpoint._json import jsonable
from models.errors import CheckpointError

if TYPE_CHECKING:
    from models.base import RecurrentModel

__all__ = ["Checkpoint", "TensorInfo"]


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of a file, as listed by :func:`~models.list_tensors`.

    Attributes
    ----------
    key : str
        Key of the tensor; nested mappings are joined with dots (``"state_dict.rnn.P"``).
    shape : tuple of int
        Shape of the tensor.
    square : bool
        Whether the tensor is a square matrix (so it can be analysed with ``matrix=``).
    dtype : str
        Element type, e.g. ``"float32"``.

    Examples
    --------
    >>> TensorInfo("W", (3, 3), True, "float32").to_dict()
    {'key': 'W', 'shape': [3, 3], 'square': True, 'dtype': 'float32'}
    """

    key: str
    shape: tuple[int, ...]
    square: bool
    dtype: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready description of the tensor.

        Returns
        -------
        dict
            ``{"key", "shape", "square", "dtype"}``.
        """
        return {
            "key": self.key,
            "shape": list(self.shape),
            "square": self.square,
            "dtype": self.dtype,
        }


@dataclass(frozen=True)
class Checkpoint:
    """Recurrent matrices read from a checkpoint, with where and how each was obtained.

    Attributes
    ----------
    source : str
        Path that was loaded.
    format : str
        ``"rnnscope"``, ``"exprnn"``, ``"nnrnn"``, ``"nru"``, ``"torch-rnn"``, ``"torch-lstm"``,
        ``"torch-gru"``, ``"matrix"`` or ``"named"``.
    kind : str or None
        Model kind in :func:`models.build` terms (``"lstm"`` for ``torch-lstm``), ``None`` for
        bare and named matrices.
    model : RecurrentModel or None
        The rebuilt model (format ``"rnnscope"`` only), in eval mode.
    config : dict
        ``config.json`` for rnnscope checkpoints; otherwise what was inferred from the shapes
        (sizes, layers, map, ...) plus ``"extra"``: scalars stored next to the state dict.
    matrices : dict of str to (N, N) torch.Tensor
        Recurrent matrices in the column convention.
    source_keys : dict of str to list of str
        File keys each matrix was computed from.
    formulas : dict of str to str
        How each matrix was computed, e.g. ``"W = (base·expm(triu(A,1) − triu(A,1)ᵀ))ᵀ"``.
    skipped : dict of str to str
        Recurrent blocks that were found but not analysed, with the reason.
    other_blocks : dict of str to torch.Tensor
        Further recurrent blocks that are not square (e.g. the NRU memory block ``"memory"``).
    notes : dict of str to str
        Remarks per matrix, e.g. the difference between a recomputed and a cached matrix.
    principal : str or None
        Name of the principal matrix returned by :meth:`recurrent_matrix`.

    Examples
    --------
    >>> import numpy as np, tempfile, os, models
    >>> path = os.path.join(tempfile.mkdtemp(), "W.npy")
    >>> np.save(path, np.diag(np.ones(3), -1)[:3, :3])
    >>> ckpt = models.load(path)
    >>> ckpt.format, list(ckpt.matrices), tuple(ckpt.recurrent_matrix().shape)
    ('matrix', ['W'], (3, 3))
    >>> ckpt.task is None, ckpt.metrics
    (True, {})
    """

    source: str
    format: str
    kind: str | None = None
    model: RecurrentModel | None = None
    config: dict[str, Any] = field(default_factory=dict)
    matrices: dict[str, torch.Tensor] = field(default_factory=dict)
    source_keys: dict[str, list[str]] = field(default_factory=dict)
    formulas: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    other_blocks: dict[str, torch.Tensor] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    principal: str | None = None

    # ------------------------------------------------------------------ what config.json says
    @property
    def task(self) -> dict[str, Any] | None:
        """The task the model was trained on (``Task.to_dict()``: name, params, sizes, ...).

        ``None`` when the checkpoint does not record one (foreign formats, or a model saved
        without ``task=``). ``models.tasks.get(t["name"], **t["params"])`` rebuilds the task.
        """
        return _mapping_or_none(self._own("task"))

    @property
    def training(self) -> dict[str, Any]:
        """Training settings of the run (``lr``, ``batch_size``, ``seed``, ``step``, ...).

        Empty when the checkpoint does not record them.
        """
        return _mapping_or_none(self._own("training")) or {}

    @property
    def metrics(self) -> dict[str, Any]:
        """Metrics at the time of the save (``test_metric``, ``test_loss``, ``metric_name``, ...).

        Empty when the checkpoint does not record them.
        """
        return _mapping_or_none(self._own("metrics")) or {}

    @property
    def step(self) -> int | None:
        """Optimizer step of the saved weights (``training["step"]``), or ``None``."""
        step = self.training.get("step")
        return step if isinstance(step, int) and not isinstance(step, bool) else None

    def _own(self, key: str) -> Any:
        return self.config.get(key) if self.format == "rnnscope" else None

    # ------------------------------------------------------------------ matrices
    def recurrent_matrices(self) -> dict[str, torch.Tensor]:
        """Return every recurrent matrix, column convention.

        Returns
        -------
        dict of str to (N, N) torch.Tensor
            A new dict (the tensors are shared).
        """
        return dict(self.matrices)

    def recurrent_matrix(self) -> torch.Tensor:
        """Return the principal recurrent matrix.

        Returns
        -------
        (N, N) torch.Tensor
            ``W`` for RNN-like models, the ``g`` block of an LSTM, the ``n`` block of a GRU, the
            first matrix otherwise.

        Raises
        ------
        CheckpointError
            If the checkpoint holds no matrix.
        """
        if self.principal is not None and self.principal in self.matrices:
            return self.matrices[self.principal]
        if self.model is not None:
            return self.model.recurrent_matrix()
        if not self.matrices:
            raise CheckpointError(f"{self.source}: no recurrent matrix was loaded")
        return next(iter(self.matrices.values()))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary (no tensor values: shapes only).

        Returns
        -------
        dict
            ``source``, ``format``, ``kind``, ``principal``, ``config``, ``matrices`` (name ->
            shape), ``source_keys``, ``formulas``, ``skipped``, ``other_blocks`` (name -> shape)
            and ``notes``.
        """
        return {
            "source": self.source,
            "format": self.format,
            "kind": self.kind,
            "principal": self.principal,
            "config": jsonable(self.config, "config"),
            "matrices": {k: list(v.shape) for k, v in self.matrices.items()},
            "source_keys": {k: list(v) for k, v in self.source_keys.items()},
            "formulas": dict(self.formulas),
            "skipped": dict(self.skipped),
            "other_blocks": {k: list(v.shape) for k, v in self.other_blocks.items()},
            "notes": dict(self.notes),
        }


def _mapping_or_none(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) else None
