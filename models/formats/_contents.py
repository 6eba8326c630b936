"""What a tensor file holds, and the checks every container shares (private).

:class:`Contents` is the flat view of a file that every reader returns; zip archives (torch
files and .npz archives) have their members checked against the file and the size budget
before anything is inflated.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from typing import Any

import torch

from models.formats._common import FormatError
from models.formats._limits import SizeLimitError, byte_budget, check_declared

__all__ = ["ZIP_MAGIC", "Contents", "check_zip_members", "first_line"]

#: First bytes of a zip archive (torch files and .npz archives).
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass
class Contents:
    """Everything a file holds, as flat tensors.

    Attributes
    ----------
    container : str
        ``"torch"``, ``"safetensors"``, ``"npy"`` or ``"npz"``.
    tensors : dict of str to torch.Tensor
        Every tensor, keyed by its flattened path (``"state_dict.rnn.weight_hh_l0"``).
    bare : bool
        True when the file holds one tensor that is not inside a mapping.
    prefix : str
        Key prefix of the state dict inside the file (``""`` or ``"state_dict."``).
    state : dict of str to torch.Tensor
        Tensors of the state dict, keyed relative to ``prefix``.
    extras : dict
        JSON scalars stored next to the state dict (e.g. ``{"time step": 1499}``).
    unreadable : dict of str to str
        Entries that are not numeric tensors, with the reason.
    """

    container: str
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    bare: bool = False
    prefix: str = ""
    state: dict[str, torch.Tensor] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)


def check_zip_members(infos: list[zipfile.ZipInfo], size: int, max_size: int | None) -> None:
    """Refuse zip members whose stored or inflated sizes do not fit the file or the budget."""
    stored = sum(i.compress_size for i in infos)
    check_declared("zip archive", "the zip directory", stored, size)
    for info in infos:
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise FormatError(
                f"truncated or corrupt zip archive (member {info.filename!r} is stored "
                f"uncompressed but declares {info.file_size} bytes for {info.compress_size})"
            )
    inflated = sum(i.file_size for i in infos)
    if max_size is not None and inflated > byte_budget(max_size):
        raise SizeLimitError(
            f"the zip archive inflates to {inflated} bytes ({stored} stored), more than the "
            f"limit of {byte_budget(max_size)} bytes (128·N² for N = {max_size}); raise the "
            "limit with --max-size (max_size=)"
        )


def first_line(err: BaseException) -> str:
    """First line of an error message (at most 300 characters), or the error's type name."""
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__
