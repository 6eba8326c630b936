"""Bare matrices and explicitly named tensors (formats ``"matrix"`` and ``"named"``).

A bare matrix comes from a ``.npy`` file, an ``.npz`` archive (every square 2-D array is a
matrix), a ``.safetensors`` or torch file with a single tensor, or ``torch.save(W)``. Named
tensors are picked by key with ``matrix=``. Both honour ``convention``: ``"column"`` (default,
``h_t = f(W h_{t-1} + ...)``, as in PyTorch) or ``"row"`` (``h_t = f(h_{t-1} W + ...)``, as in
Keras / TensorFlow), in which case the matrix is transposed on load.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from models.formats._common import FormatError, Found, as_float, nonfinite_count, shape_str

__all__ = ["bare", "named"]


def _oriented(t: torch.Tensor, key: str, convention: str) -> tuple[torch.Tensor, str]:
    if convention == "row":
        return t.T.clone(), f"{key}ᵀ (stored in the row convention h·{key}; transposed)"
    return t.clone(), f"{key} (column convention {key}·h)"


def _problem(tensor: torch.Tensor) -> str | None:
    t = as_float(tensor)
    if t is None:
        return f"non-numeric dtype {str(tensor.dtype).removeprefix('torch.')}"
    if t.ndim != 2:
        return f"not a matrix: shape {shape_str(t.shape)}"
    if t.shape[0] != t.shape[1]:
        return f"non-square: shape {shape_str(t.shape)}"
    if t.numel() == 0:
        return "empty matrix"
    bad = nonfinite_count(t)
    if bad:
        return f"{bad} non-finite value(s) (NaN or Inf)"
    return None


def bare(
    tensors: Mapping[str, torch.Tensor],
    *,
    convention: str,
    unreadable: Mapping[str, str] | None = None,
) -> Found:
    """Treat each square 2-D tensor as a recurrent matrix.

    Parameters
    ----------
    tensors : mapping of str to torch.Tensor
        The arrays of the file, in file order.
    convention : {"column", "row"}
        Storage convention of the matrices.
    unreadable : mapping of str to str, optional
        Entries that could not be read, with the reason; they are listed as skipped.

    Returns
    -------
    Found
        A single tensor is named ``"W"``; several keep their keys. Others go to ``skipped``.

    Raises
    ------
    FormatError
        If a single tensor is not a finite square matrix.

    Examples
    --------
    >>> import torch
    >>> from models.formats import matrix
    >>> found = matrix.bare({"W": torch.eye(2), "U": torch.ones(2, 3)}, convention="column")
    >>> list(found.matrices), found.skipped
    (['W'], {'U': 'non-square: shape (2, 3)'})
    """
    found = Found("matrix")
    found.skipped.update(unreadable or {})
    items = list(tensors.items())
    if len(items) == 1 and not unreadable:
        key, tensor = items[0]
        problem = _problem(tensor)
        if problem:
            raise FormatError(f"{key!r}: {problem}")
        matrix, formula = _oriented(as_float(tensor), key, convention)  # type: ignore[arg-type]
        found.add("W", matrix, keys=[key], formula=f"W = {formula}")
        return found
    for key, tensor in items:
        problem = _problem(tensor)
        if problem:
            found.skipped[key] = problem
            continue
        matrix, formula = _oriented(as_float(tensor), key, convention)  # type: ignore[arg-type]
        found.add(key, matrix, keys=[key], formula=f"{key} = {formula}")
    if "W" in found.matrices:
        found.principal = "W"
    return found


def named(tensors: Mapping[str, torch.Tensor], keys: Sequence[str], *, convention: str) -> Found:
    """Analyse the tensors named by ``keys``.

    Parameters
    ----------
    tensors : mapping of str to torch.Tensor
        Every tensor of the file, keyed as :func:`models.list_tensors` shows them.
    keys : sequence of str
        Keys to analyse; each must be a finite square matrix.
    convention : {"column", "row"}
        Storage convention of the matrices.

    Returns
    -------
    Found
        Format ``"named"``; matrices keep their keys as names.

    Raises
    ------
    FormatError
        If a key does not exist (the message lists the available keys), or a tensor is not a
        finite square matrix (the message gives its shape or the non-finite count).

    Examples
    --------
    >>> import torch
    >>> from models.formats import matrix
    >>> found = matrix.named({"k": torch.tensor([[0.0, 1.0], [0.0, 0.0]])}, ["k"],
    ...                      convention="row")
    >>> found.matrices["k"].tolist()
    [[0.0, 0.0], [1.0, 0.0]]
    """
    found = Found("named")
    for key in dict.fromkeys(keys):
        if key not in tensors:
            available = sorted(tensors)
            shown = ", ".join(repr(k) for k in available[:20])
            more = f", … ({len(available) - 20} more; see --list)" if len(available) > 20 else ""
            raise FormatError(f"no tensor named {key!r}; available keys: {shown}{more}")
        problem = _problem(tensors[key])
        if problem:
            raise FormatError(f"tensor {key!r} cannot be analysed: {problem}")
        matrix, formula = _oriented(as_float(tensors[key]), key, convention)  # type: ignore[arg-type]
        found.add(key, matrix, keys=[key], formula=f"{key} = {formula}")
    return found
