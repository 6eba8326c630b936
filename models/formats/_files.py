"""Safe readers for tensor files: torch (weights only), safetensors and numpy (private).

Nothing here unpickles code: torch files go through ``torch.load(weights_only=True)``, numpy
files through ``np.load(allow_pickle=False)`` and safetensors files through
``safetensors.torch.load_file`` / ``safe_open``.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.formats._common import FormatError

__all__ = ["Contents", "read", "sniff", "tensor_headers"]

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
        If the file is empty or is a zip archive of an unknown kind.
    """
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
        except zipfile.BadZipFile as err:
            raise FormatError(f"truncated or corrupt zip archive ({err})") from err
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            return "torch"
        if names and all(n.endswith(".npy") for n in names):
            return "npz"
        raise FormatError("zip archive that is neither a torch file nor an .npz archive")
    if len(head) == 9 and head[8:9] == b"{":
        return "safetensors"
    return "torch"


def read(path: Path) -> Contents:
    """Read every tensor of the file at ``path``.

    Raises
    ------
    FormatError
        If the file is truncated, corrupt, needs unpickling of code, or holds object arrays.
    """
    container = sniff(path)
    if container == "npy":
        return _read_npy(path)
    if container == "npz":
        return _read_npz(path)
    if container == "safetensors":
        return _read_safetensors(path)
    return _read_torch(path)


def tensor_headers(path: Path) -> list[tuple[str, tuple[int, ...], str]]:
    """Return ``(key, shape, dtype)`` of every entry, reading headers only where possible.

    Raises
    ------
    FormatError
        As :func:`read`.
    """
    container = sniff(path)
    if container == "npy":
        with open(path, "rb") as fh:
            shape, dtype = _npy_header(fh)
        return [(path.stem, shape, dtype)]
    if container == "npz":
        out = []
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                with zf.open(name) as fh:
                    shape, dtype = _npy_header(fh)
                out.append((name[: -len(".npy")], shape, dtype))
        return out
    if container == "safetensors":
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt") as fh:
                return [
                    (k, tuple(fh.get_slice(k).get_shape()), str(fh.get_slice(k).get_dtype()))
                    for k in fh.keys()
                ]
        except Exception as err:
            raise _safetensors_error(err) from err
    contents = _read_torch(path)
    return [
        (k, tuple(t.shape), str(t.dtype).removeprefix("torch."))
        for k, t in contents.tensors.items()
    ]


# -- numpy -----------------------------------------------------------------------------------


def _npy_header(fh: Any) -> tuple[tuple[int, ...], str]:
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    except ValueError as err:
        raise FormatError(f"corrupt .npy header ({err})") from err
    return tuple(int(d) for d in shape), str(dtype)


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


def _read_npy(path: Path) -> Contents:
    array = _load_array(path, ".npy file")
    tensor = _array_to_tensor(array)
    if tensor is None:
        raise FormatError(f"the .npy array has non-numeric dtype {array.dtype}")
    return Contents("npy", tensors={path.stem: tensor}, bare=True, state={path.stem: tensor})


def _read_npz(path: Path) -> Contents:
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
            except (OSError, EOFError, zipfile.BadZipFile) as err:
                raise FormatError(f"corrupt array {key!r} in the .npz archive ({err})") from err
            tensor = _array_to_tensor(array)
            if tensor is None:
                contents.unreadable[key] = f"non-numeric dtype {array.dtype}"
                continue
            contents.tensors[key] = tensor
    contents.state = dict(contents.tensors)
    return contents


# -- safetensors -----------------------------------------------------------------------------


def _safetensors_error(err: Exception) -> FormatError:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return FormatError(f"truncated or corrupt safetensors file ({text})")


def _read_safetensors(path: Path) -> Contents:
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path), device="cpu")
    except Exception as err:
        raise _safetensors_error(err) from err
    contents = Contents("safetensors", tensors=dict(tensors), state=dict(tensors))
    return contents


# -- torch -----------------------------------------------------------------------------------

_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def _torch_load(path: Path) -> Any:
    import pickle

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
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
            + (f" ({detail})" if detail else "")
        ) from err
    except Exception as err:  # any other failure of the restricted unpickler
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise FormatError(f"not a readable torch file, or truncated ({first})") from err


def _flatten(obj: Any, prefix: str, out: dict[str, torch.Tensor], bad: dict[str, str]) -> None:
    if isinstance(obj, torch.Tensor):
        if obj.layout != torch.strided:
            bad[prefix.rstrip(".")] = f"unsupported tensor layout {obj.layout}"
        else:
            out[prefix.rstrip(".")] = obj
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            _flatten(value, f"{prefix}{key}.", out, bad)
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            _flatten(value, f"{prefix}{i}.", out, bad)


def _has_tensors(obj: Any) -> bool:
    found: dict[str, torch.Tensor] = {}
    _flatten(obj, "", found, {})
    return bool(found)


def _read_torch(path: Path) -> Contents:
    obj = _torch_load(path)
    contents = Contents("torch")
    if isinstance(obj, torch.Tensor):
        contents.bare = True
        _flatten(obj, f"{path.stem}.", contents.tensors, contents.unreadable)
        contents.state = dict(contents.tensors)
        return contents
    _flatten(obj, "", contents.tensors, contents.unreadable)
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
