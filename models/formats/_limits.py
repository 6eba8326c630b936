"""Size limits checked against a file's declared sizes before anything is allocated (private).

A file is refused, with one line naming the tensor and its shape, when

* it is not a regular file (a FIFO or a device would block or never end);
* a header declares more data than the file holds (a corrupt or hostile header);
* a 2-D tensor has both sides larger than ``max_size`` (the analysis of an N×N matrix costs
  O(N³) time and O(N²) memory; :data:`DEFAULT_MAX_SIZE` by default);
* its tensors hold more than :func:`byte_budget` bytes in all once inflated
  (``128·max_size²`` bytes, 2 GiB at the default).

``max_size=None`` disables the last two checks (used by listings, which read headers only).
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from models.formats._common import FormatError, shape_str

__all__ = [
    "DEFAULT_MAX_SIZE",
    "MAX_DEPTH",
    "NotRegularFileError",
    "SizeLimitError",
    "byte_budget",
    "check_declared",
    "check_entries",
    "require_regular",
]

#: Largest N of an N×N matrix analysed by default (the analysis is O(N³)).
DEFAULT_MAX_SIZE = 4096

#: Deepest nesting of mappings and lists accepted in a torch file.
MAX_DEPTH = 100

_BYTES_PER_CELL = 128


class SizeLimitError(FormatError):
    """A tensor or the whole file is larger than the size limit (``max_size``).

    Examples
    --------
    >>> from models.formats._limits import check_entries
    >>> try:
    ...     check_entries([("W", (5000, 5000), 8)], max_size=4096)
    ... except SizeLimitError as err:
    ...     print(str(err).split(":")[0])
    tensor 'W' has shape (5000, 5000)
    """


class NotRegularFileError(FormatError):
    """The path is a FIFO, a device or a socket, which is refused without reading it."""


def byte_budget(max_size: int) -> int:
    """Return the largest number of bytes read from one file: ``128 * max_size**2``.

    Examples
    --------
    >>> byte_budget(4096) == 2 * 1024**3
    True
    """
    return _BYTES_PER_CELL * int(max_size) ** 2


def require_regular(path: Path) -> int:
    """Return the size in bytes of ``path`` after checking that it is a regular file.

    Raises
    ------
    NotRegularFileError
        If ``path`` is a FIFO, a character or block device, or a socket.
    OSError
        If ``path`` cannot be inspected.
    """
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(info.st_mode)
            else "a device"
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "a socket"
            if stat.S_ISSOCK(info.st_mode)
            else "not a regular file"
        )
        raise NotRegularFileError(f"{kind}, not a regular file; refused without reading it")
    return int(info.st_size)


def _hint(max_size: int) -> str:
    return f"raise the limit with --max-size (max_size=), now {max_size}"


def check_entries(
    entries: Iterable[tuple[str, tuple[int, ...], int]], *, max_size: int | None
) -> None:
    """Refuse declared tensors that exceed the size limits, before they are read.

    Parameters
    ----------
    entries : iterable of (str, tuple of int, int)
        Key, declared shape and bytes per element of every tensor of a file.
    max_size : int or None
        Largest N of an N×N matrix; ``None`` checks nothing.

    Raises
    ------
    SizeLimitError
        If a 2-D tensor has both sides above ``max_size``, or all tensors together need more
        than :func:`byte_budget` bytes.
    """
    if max_size is None:
        return
    total = 0
    for key, shape, itemsize in entries:
        if len(shape) == 2 and min(shape) > max_size:
            raise SizeLimitError(
                f"tensor {key!r} has shape {shape_str(shape)}: matrices larger than "
                f"{max_size}×{max_size} are refused before loading (the analysis costs O(N³)); "
                f"{_hint(max_size)}"
            )
        total += math.prod(shape) * itemsize
    if total > byte_budget(max_size):
        raise SizeLimitError(
            f"the tensors declare {_human(total)} in all, more than the limit of "
            f"{_human(byte_budget(max_size))} (128·N² bytes for N = {max_size}); "
            f"{_hint(max_size)}"
        )


def check_declared(container: str, what: str, declared: int, available: int) -> None:
    """Refuse a header that declares more bytes than the file holds after it.

    Raises
    ------
    FormatError
        If ``declared > available``.
    """
    if declared > available:
        raise FormatError(
            f"truncated or corrupt {container} ({what} declares {_human(declared)} but the file "
            f"holds only {_human(max(available, 0))})"
        )


def _human(nbytes: int) -> str:
    if nbytes < 1024:
        return f"{nbytes} bytes"
    value = float(nbytes)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if value < 1024 or unit == "PiB":
            break
    if value >= 1024:
        return f"about 1e{len(str(nbytes)) - 1} bytes"
    return f"{value:.1f} {unit}"
