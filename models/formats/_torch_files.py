"""Reader of torch files, with ``torch.load(weights_only=True)`` only (private).

Zip-format files are mapped into memory (``mmap=True``), so the shapes of their tensors are
checked against the size limits before any data is touched; the old non-zip format is read
whole and bounded by the byte budget.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from models.formats._common import FormatError
from models.formats._contents import ZIP_MAGIC, Contents, check_zip_members, first_line
from models.formats._limits import (
    DEFAULT_MAX_SIZE,
    MAX_DEPTH,
    SizeLimitError,
    byte_budget,
    check_entries,
    require_regular,
)

__all__ = ["WRAPPERS", "read_torch"]

#: Keys under which training scripts commonly nest the model's state dict.
WRAPPERS = ("state_dict", "model_state_dict", "model", "net", "module")


_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def _torch_load(path: Path, max_size: int | None) -> Any:
    import pickle

    size = require_regular(path)
    with open(path, "rb") as fh:
        zipped = fh.read(4) in ZIP_MAGIC
    if zipped:
        try:
            with zipfile.ZipFile(path) as zf:
                check_zip_members(zf.infolist(), size, max_size)
        except (zipfile.BadZipFile, EOFError) as err:
            raise FormatError(f"truncated or corrupt zip archive ({first_line(err)})") from err
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
        raise FormatError(f"not a readable torch file, or truncated ({first_line(err)})") from err


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


def read_torch(path: Path, max_size: int | None) -> Contents:
    """Read a weights-only torch file; the state dict is found inside common wrapper keys."""
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
