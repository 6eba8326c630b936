"""Safe readers for tensor files: torch (weights only), safetensors and numpy (private).

Nothing here unpickles code: torch files go through ``torch.load(weights_only=True)``, numpy
files through ``np.load(allow_pickle=False)`` and safetensors files through
``safetensors.torch.load_file`` / ``safe_open``.
"""

from __future__ import annotations

import json
import math
import re
import warnings
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.formats._common import FormatError, shape_str
from models.formats._limits import (
    DEFAULT_MAX_SIZE,
    MAX_DEPTH,
    SizeLimitError,
    byte_budget,
    check_declared,
    check_entries,
    require_regular,
)

__all__ = ["Contents", "check_safetensors", "read", "sniff", "tensor_headers"]

#: Keys under which training scripts commonly nest the model's state dict.
WRAPPERS = ("state_dict", "model_state_dict", "model", "net", "module")

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


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


def sniff(path: Path) -> str:
    """Return the container type of ``path`` from its first bytes.

    Raises
    ------
    FormatError
        If the file is empty, not a regular file, or a zip archive of an unknown kind.
    """
    require_regular(path)
    with open(path, "rb") as fh:
        head = fh.read(9)
    if not head:
        raise FormatError("the file is empty")
    if path.name.endswith(".safetensors"):
        return "safetensors"
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head[:4] in _ZIP_MAGIC:
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, ValueError, EOFError) as err:
            raise FormatError(f"truncated or corrupt zip archive ({err})") from err
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            return "torch"
        if names and all(n.endswith(".npy") for n in names):
            return "npz"
        raise FormatError("zip archive that is neither a torch file nor an .npz archive")
    if len(head) == 9 and head[8:9] == b"{":
        return "safetensors"
    return "torch"


def read(path: Path, *, max_size: int | None = DEFAULT_MAX_SIZE) -> Contents:
    """Read every tensor of the file at ``path``, after checking its declared sizes.

    Parameters
    ----------
    path : Path
        The file.
    max_size : int or None, optional
        Largest N of an N×N matrix (see :mod:`models.formats._limits`); ``None`` disables the
        size limits but not the checks of the headers against the file's bytes.

    Raises
    ------
    FormatError
        If the file is not a regular file, is truncated or corrupt, declares more data than it
        holds, needs unpickling of code, or holds object arrays.
    SizeLimitError
        If a matrix or the whole file exceeds the size limit.
    """
    container = sniff(path)
    if container == "npy":
        return _read_npy(path, max_size)
    if container == "npz":
        return _read_npz(path, max_size)
    if container == "safetensors":
        return _read_safetensors(path, max_size)
    return _read_torch(path, max_size)


def tensor_headers(path: Path) -> list[tuple[str, tuple[int, ...], str]]:
    """Return ``(key, shape, dtype)`` of every entry, without reading tensor data.

    Torch files are mapped into memory (``mmap=True``) rather than read, except the old
    non-zip format, which is read only when it fits the default byte budget.

    Raises
    ------
    FormatError
        As :func:`read`.
    """
    container = sniff(path)
    if container == "npy":
        key, shape, dtype, _ = _npy_entry(path)
        return [(key, shape, str(dtype))]
    if container == "npz":
        return [(key, shape, str(dtype)) for key, shape, dtype in _npz_entries(path, None)]
    if container == "safetensors":
        return [(k, shape, dtype) for k, shape, dtype, _ in _safetensors_entries(path)]
    contents = _read_torch(path, None)
    return [
        (k, tuple(t.shape), str(t.dtype).removeprefix("torch."))
        for k, t in contents.tensors.items()
    ]


# -- numpy -----------------------------------------------------------------------------------


def _npy_header(fh: Any) -> tuple[tuple[int, ...], np.dtype]:
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    except (ValueError, SyntaxError, EOFError, MemoryError) as err:
        raise FormatError(f"corrupt .npy header ({_first_line(err)})") from err
    return tuple(int(d) for d in shape), dtype


def _npy_entry(path: Path) -> tuple[str, tuple[int, ...], np.dtype, int]:
    """Key, shape and dtype of a .npy file, and its size, after checking the header."""
    size = require_regular(path)
    with open(path, "rb") as fh:
        shape, dtype = _npy_header(fh)
        offset = fh.tell()
    check_declared(
        ".npy file",
        f"the header (shape {shape_str(shape)}, {dtype})",
        math.prod(shape) * dtype.itemsize,
        size - offset,
    )
    return path.stem, shape, dtype, size


def _npz_entries(path: Path, max_size: int | None) -> list[tuple[str, tuple[int, ...], np.dtype]]:
    """Key, shape and dtype of every array of an .npz archive, checked against the zip."""
    size = require_regular(path)
    out = []
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_zip_members(infos, size, max_size)
            for info in infos:
                with zf.open(info) as fh:
                    shape, dtype = _npy_header(fh)
                    offset = fh.tell()
                key = info.filename[: -len(".npy")]
                check_declared(
                    ".npz archive",
                    f"array {key!r} (shape {shape_str(shape)}, {dtype})",
                    math.prod(shape) * dtype.itemsize,
                    info.file_size - offset,
                )
                out.append((key, shape, dtype))
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as err:
        raise FormatError(f"corrupt or truncated .npz archive ({_first_line(err)})") from err
    return out


def _check_zip_members(infos: list[zipfile.ZipInfo], size: int, max_size: int | None) -> None:
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


def _array_to_tensor(array: np.ndarray) -> torch.Tensor | None:
    if array.dtype.kind not in "biufc" or array.dtype.kind == "b":
        return None
    if not array.dtype.isnative:  # big-endian files: torch only takes the native byte order
        array = array.astype(array.dtype.newbyteorder("="))
    return torch.from_numpy(np.ascontiguousarray(array))


def _load_array(source: Any, what: str) -> np.ndarray:
    try:
        return np.load(source, allow_pickle=False)
    except ValueError as err:
        if "allow_pickle" in str(err) or "Object arrays" in str(err):
            raise FormatError(
                f"{what} holds an object array, which needs unpickling; refused "
                "(numpy files are read with allow_pickle=False)"
            ) from err
        raise FormatError(f"corrupt or truncated {what} ({err})") from err
    except (EOFError, OSError) as err:
        raise FormatError(f"corrupt or truncated {what} ({err})") from err


def _read_npy(path: Path, max_size: int | None) -> Contents:
    key, shape, dtype, _ = _npy_entry(path)
    check_entries([(key, shape, dtype.itemsize)], max_size=max_size)
    array = _load_array(path, ".npy file")
    tensor = _array_to_tensor(array)
    if tensor is None:
        raise FormatError(f"the .npy array has non-numeric dtype {array.dtype}")
    return Contents("npy", tensors={path.stem: tensor}, bare=True, state={path.stem: tensor})


def _read_npz(path: Path, max_size: int | None) -> Contents:
    entries = _npz_entries(path, max_size)
    check_entries([(k, shape, dtype.itemsize) for k, shape, dtype in entries], max_size=max_size)
    contents = Contents("npz")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise FormatError(f"corrupt or truncated .npz archive ({err})") from err
    with archive:
        for key in archive.files:
            try:
                array = archive[key]
            except ValueError as err:
                if "allow_pickle" in str(err) or "Object arrays" in str(err):
                    contents.unreadable[key] = "object array refused (needs unpickling)"
                    continue
                raise FormatError(f"corrupt array {key!r} in the .npz archive ({err})") from err
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
                raise FormatError(f"corrupt array {key!r} in the .npz archive ({err})") from err
            tensor = _array_to_tensor(array)
            if tensor is None:
                contents.unreadable[key] = f"non-numeric dtype {array.dtype}"
                continue
            contents.tensors[key] = tensor
    contents.state = dict(contents.tensors)
    return contents


# -- safetensors -----------------------------------------------------------------------------


#: Bytes per element of the safetensors dtypes that torch reads.
_ST_ITEMSIZE = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
    "BOOL": 1, "F8_E4M3": 1, "F8_E4M3FNUZ": 1, "F8_E5M2": 1, "F8_E5M2FNUZ": 1, "C64": 8,
    "U64": 8, "U32": 4, "U16": 2,
}  # fmt: skip

_ST_MAX_HEADER = 100_000_000
_ST = "safetensors file"


def _safetensors_error(err: Exception) -> FormatError:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return FormatError(f"truncated or corrupt safetensors file ({text})")


def _safetensors_entries(path: Path) -> list[tuple[str, tuple[int, ...], str, int]]:
    """Key, shape, dtype and item size of every tensor, from the header checked against the file."""
    size = require_regular(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise FormatError("truncated or corrupt safetensors file (no header length)")
        length = int.from_bytes(head, "little")
        check_declared(_ST, "the header length", length, size - 8)
        if length > _ST_MAX_HEADER:
            raise FormatError(
                f"truncated or corrupt safetensors file (header of {length} bytes, over the "
                "format's limit)"
            )
        raw = fh.read(length)
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise FormatError(
            f"truncated or corrupt safetensors file (header: {_first_line(err)})"
        ) from err
    if not isinstance(header, dict):
        raise FormatError("truncated or corrupt safetensors file (header is not a JSON object)")
    data = size - 8 - length
    out = []
    for key, info in header.items():
        if key == "__metadata__":
            continue
        shape, dtype, offsets = _st_fields(key, info)
        itemsize = _ST_ITEMSIZE.get(dtype)
        if itemsize is None:
            raise FormatError(f"tensor {key!r} has unsupported safetensors dtype {dtype!r}")
        start, end = offsets
        nbytes = math.prod(shape) * itemsize
        check_declared(
            _ST, f"tensor {key!r} (shape {shape_str(shape)}, {dtype})", nbytes, data - start
        )
        if end - start != nbytes or start > end:
            raise FormatError(
                f"truncated or corrupt safetensors file (tensor {key!r}: data offsets "
                f"{start}..{end} do not match shape {shape_str(shape)} of {dtype})"
            )
        out.append((str(key), shape, dtype, itemsize))
    return out


def _st_fields(key: str, info: Any) -> tuple[tuple[int, ...], str, tuple[int, int]]:
    ok = isinstance(info, dict) and isinstance(info.get("dtype"), str)
    shape, offsets = (info.get("shape"), info.get("data_offsets")) if ok else (None, None)
    ints = (
        isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for v in [*(shape or []), *(offsets or [])]
    )
    if not (
        ok
        and isinstance(shape, list)
        and isinstance(offsets, list)
        and len(offsets) == 2
        and all(ints)
    ):
        raise FormatError(f"truncated or corrupt safetensors file (header entry {key!r})")
    return tuple(shape), info["dtype"], (offsets[0], offsets[1])


def check_safetensors(path: Path, *, max_size: int | None = DEFAULT_MAX_SIZE) -> None:
    """Check a safetensors file's header against its bytes and the size limits, reading no data.

    Raises
    ------
    FormatError
        If the header is corrupt or declares more data than the file holds.
    SizeLimitError
        If a matrix or the whole file exceeds the size limit.
    """
    entries = _safetensors_entries(path)
    check_entries([(k, shape, item) for k, shape, _, item in entries], max_size=max_size)


def _read_safetensors(path: Path, max_size: int | None) -> Contents:
    from safetensors.torch import load_file

    entries = _safetensors_entries(path)
    check_entries([(k, shape, item) for k, shape, _, item in entries], max_size=max_size)
    try:
        tensors = load_file(str(path), device="cpu")
    except Exception as err:
        raise _safetensors_error(err) from err
    contents = Contents("safetensors", tensors=dict(tensors), state=dict(tensors))
    return contents


# -- torch -----------------------------------------------------------------------------------

_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def _torch_load(path: Path, max_size: int | None) -> Any:
    import pickle

    size = require_regular(path)
    with open(path, "rb") as fh:
        zipped = fh.read(4) in _ZIP_MAGIC
    if zipped:
        try:
            with zipfile.ZipFile(path) as zf:
                _check_zip_members(zf.infolist(), size, max_size)
        except (zipfile.BadZipFile, EOFError) as err:
            raise FormatError(f"truncated or corrupt zip archive ({_first_line(err)})") from err
    elif size > byte_budget(max_size or DEFAULT_MAX_SIZE):
        # the old non-zip format cannot be mapped: it is read whole, so its size is bounded
        raise SizeLimitError(
            f"torch file in the old non-zip format of {size} bytes, more than the limit of "
            f"{byte_budget(max_size or DEFAULT_MAX_SIZE)} bytes; raise the limit with "
            "--max-size (max_size=) or save it again with torch.save"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # mmap: storages are mapped, not read, so declared sizes are checked before use
            return torch.load(path, map_location="cpu", weights_only=True, mmap=zipped)
    except pickle.UnpicklingError as err:
        text = str(err)
        match = _GLOBAL.search(text)
        if match:
            raise FormatError(
                f"refused to unpickle: the file needs {match.group(1)}, which is not a tensor "
                "type (only weights are loaded, with torch.load(weights_only=True))"
            ) from err
        detail = next((ln.strip() for ln in text.splitlines() if "Unsupported" in ln), "")
        raise FormatError(
            "refused to unpickle: not a weights-only torch file"
            + (f" ({detail[:200]})" if detail else "")
        ) from err
    except RecursionError as err:
        raise FormatError("not a readable torch file (nested too deeply)") from err
    except Exception as err:  # any other failure of the restricted unpickler
        raise FormatError(f"not a readable torch file, or truncated ({_first_line(err)})") from err


def _flatten(
    obj: Any, prefix: str, out: dict[str, torch.Tensor], bad: dict[str, str], depth: int = 0
) -> None:
    if depth > MAX_DEPTH:
        raise FormatError(
            f"nested more than {MAX_DEPTH} levels deep (at {prefix[:60]!r}…); refused"
        )
    if isinstance(obj, torch.Tensor):
        if obj.layout != torch.strided:
            bad[prefix.rstrip(".")] = f"unsupported tensor layout {obj.layout}"
        else:
            out[prefix.rstrip(".")] = obj
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            _flatten(value, f"{prefix}{key}.", out, bad, depth + 1)
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            _flatten(value, f"{prefix}{i}.", out, bad, depth + 1)


def _has_tensors(obj: Any) -> bool:
    found: dict[str, torch.Tensor] = {}
    _flatten(obj, "", found, {})
    return bool(found)


def _read_torch(path: Path, max_size: int | None) -> Contents:
    obj = _torch_load(path, max_size)
    contents = Contents("torch")
    if isinstance(obj, torch.Tensor):
        contents.bare = True
        _flatten(obj, f"{path.stem}.", contents.tensors, contents.unreadable)
        contents.state = dict(contents.tensors)
        _check_tensors(contents.tensors, max_size)
        return contents
    _flatten(obj, "", contents.tensors, contents.unreadable)
    _check_tensors(contents.tensors, max_size)
    state: Any = obj
    prefix = ""
    for _ in range(4):
        if not isinstance(state, Mapping):
            break
        wrapper = next(
            (w for w in WRAPPERS if isinstance(state.get(w), Mapping) and _has_tensors(state[w])),
            None,
        )
        if wrapper is None:
            break
        contents.extras.update(
            {
                str(k): v
                for k, v in state.items()
                if isinstance(v, int | float | str | bool) or v is None
            }
        )
        state = state[wrapper]
        prefix += f"{wrapper}."
    flat: dict[str, torch.Tensor] = {}
    _flatten(state, "", flat, {})
    contents.prefix = prefix
    contents.state = flat
    return contents


def _check_tensors(tensors: Mapping[str, torch.Tensor], max_size: int | None) -> None:
    """Apply the size limits to the shapes of mapped tensors, before their data is touched."""
    check_entries(
        ((k, tuple(t.shape), t.element_size()) for k, t in tensors.items()), max_size=max_size
    )


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__
