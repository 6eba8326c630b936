"""Shared pieces of the checkpoint recognisers (private).

A recogniser reads a flat state dict (``key -> tensor``) and returns a :class:`Found` that
describes the recurrent matrices it recovered, in the column convention
``h_t = f(W h_{t-1} + ...)``, or ``None`` when the keys do not belong to its format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch

from models.errors import ModelsError

__all__ = [
    "FormatError",
    "Found",
    "as_float",
    "group_labels",
    "layer_config",
    "nonfinite_count",
    "shape_str",
    "square_matrix",
]


class FormatError(ModelsError, ValueError):
    """A problem with the contents of a file; the caller adds the path to the message."""


@dataclass
class Found:
    """What one recogniser recovered from a state dict.

    Attributes
    ----------
    format : str
        Format name (``"exprnn"``, ``"nnrnn"``, ``"nru"``, ``"torch-lstm"``, ...).
    kind : str or None
        Model kind in :func:`models.build` terms, when there is one.
    matrices : dict of str to (N, N) torch.Tensor
        Recurrent matrices in the column convention.
    source_keys : dict of str to list of str
        State-dict keys each matrix was computed from.
    formulas : dict of str to str
        Human-readable formula of each matrix.
    skipped : dict of str to str
        Recurrent blocks that are not analysed, with the reason.
    other_blocks : dict of str to torch.Tensor
        Further recurrent blocks that are not square (e.g. the NRU memory block).
    config : dict
        JSON-ready facts inferred from the shapes (sizes, layers, ...).
    notes : dict of str to str
        Remarks per matrix (e.g. the difference from a cached copy).
    principal : str or None
        Name of the principal matrix.
    claimed : set of str
        Every key the recogniser used.
    """

    format: str
    kind: str | None = None
    matrices: dict[str, torch.Tensor] = field(default_factory=dict)
    source_keys: dict[str, list[str]] = field(default_factory=dict)
    formulas: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    other_blocks: dict[str, torch.Tensor] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    principal: str | None = None
    claimed: set[str] = field(default_factory=set)

    def add(
        self,
        name: str,
        matrix: torch.Tensor,
        *,
        keys: Iterable[str],
        formula: str,
        note: str | None = None,
    ) -> None:
        """Record one matrix with its source keys, formula and optional note."""
        self.matrices[name] = matrix
        self.source_keys[name] = list(keys)
        self.formulas[name] = formula
        if note:
            self.notes[name] = note
        self.claimed.update(self.source_keys[name])
        if self.principal is None:
            self.principal = name


def as_float(tensor: torch.Tensor) -> torch.Tensor | None:
    """Return ``tensor`` detached as a float tensor of at least 32 bits, or ``None``.

    Integers become float64, half precision and float8 become float32, float32/float64/complex
    stay as they are; booleans and other non-numeric types give ``None``.
    """
    t = tensor.detach()
    if t.dtype == torch.bool or t.layout != torch.strided:
        return None
    if t.is_complex():
        return t
    if t.is_floating_point():
        # half precision and the float8 types become float32: few operations support them
        return t.float() if t.element_size() < 4 else t
    return t.to(torch.float64)


def square_matrix(fmt: str, key: str, tensor: torch.Tensor) -> torch.Tensor:
    """Return ``tensor`` as a float matrix (see :func:`as_float`) after checking it is square.

    Raises :class:`FormatError` naming the format ``fmt`` and the key otherwise.
    """
    t = as_float(tensor)
    if t is None or t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise FormatError(
            f"{fmt} key {key!r} must be a square matrix, got {shape_str(tensor.shape)}"
        )
    return t


def layer_config(layers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Return the config of the only layer, or ``{"layers": layers}`` when there are several."""
    return next(iter(layers.values())) if len(layers) == 1 else {"layers": layers}


def nonfinite_count(tensor: torch.Tensor) -> int:
    """Return the number of NaN or infinite entries of ``tensor`` (of any floating dtype)."""
    if tensor.is_floating_point() and tensor.element_size() < 2:
        tensor = tensor.float()  # isfinite is not implemented for the float8 types
    return int((~torch.isfinite(tensor)).sum().item())


def shape_str(shape: Iterable[int]) -> str:
    """Format a shape as ``(3, 4)``."""
    dims = tuple(int(d) for d in shape)
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def group_labels(prefixes: Iterable[str]) -> dict[str, str]:
    """Name each module prefix: ``""`` when there is one module, else the prefix itself.

    The module prefix is kept in matrix names only when the file holds several recurrent
    modules of the same format, so a single module gives short names (``"W"``, ``"l0.g"``).
    """
    unique = list(dict.fromkeys(prefixes))
    if len(unique) == 1:
        return {unique[0]: ""}
    return {p: p for p in unique}
