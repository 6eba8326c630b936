"""Files of a training run besides the checkpoint: metrics log and resume state (private)."""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from models.checkpoint.atomic import replace_atomically
from models.errors import CheckpointError, InvalidOptionError

logger = logging.getLogger(__name__)


def write_metrics(path: Path, records: list[dict[str, Any]]) -> None:
    """Replace the metrics log with ``records`` (one JSON object per line)."""
    text = "".join(json.dumps(r) + "\n" for r in records)
    replace_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_metrics(path: Path, upto: int) -> list[dict[str, Any]]:
    """Return the records of steps ``1 .. upto`` of the metrics log (skip unreadable lines)."""
    if not path.exists():
        return []
    records: dict[int, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        step = record.get("step") if isinstance(record, dict) else None
        if isinstance(step, int) and not isinstance(step, bool) and step <= upto:
            records[step] = record
    return [records[k] for k in sorted(records)]


def write_state(
    path: Path,
    *,
    step: int,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    generator: torch.Generator,
    settings: dict[str, Any],
) -> None:
    """Write the resume state (weights-only loadable) atomically."""
    state = {
        "step": step,
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "generator": generator.get_state(),
        "settings": settings,
    }
    replace_atomically(path, lambda tmp: torch.save(state, tmp))


def restore_state(
    path: Path,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    generator: torch.Generator,
    settings: dict[str, Any],
) -> int:
    """Load the resume state into ``model``, ``opt`` and ``generator``; return its step.

    Raises :class:`CheckpointError` (one line) for a file that is not a readable training
    state, and :class:`InvalidOptionError` when the saved run differs from this one.
    """
    state = _read_state(path)
    saved = state["settings"]
    if saved != settings:
        differ = sorted(k for k in set(saved) | set(settings) if saved.get(k) != settings.get(k))
        raise InvalidOptionError(
            f"cannot resume {path.parent}: the saved run differs in {', '.join(differ)} "
            f"(saved {', '.join(f'{k}={saved.get(k)!r}' for k in differ)}); "
            "pass the same model, task and arguments, or resume=False to start afresh"
        )
    try:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
    except (RuntimeError, ValueError, TypeError, KeyError, IndexError) as err:
        raise CheckpointError(
            f"cannot resume from {path}: its model, optimizer or generator state does not fit "
            f"this run ({_first_line(err)})"
        ) from None
    return state["step"]


_STATE_KEYS = {
    "step": "a step number",
    "model": "the model state",
    "optimizer": "the optimizer state",
    "generator": "the generator state",
    "settings": "the settings of the run",
}


def _read_state(path: Path) -> dict[str, Any]:
    """Read a resume state safely (tensors and plain values only) and check its structure."""
    where = f"cannot resume from {path}"
    try:
        size = path.stat().st_size
        if size == 0:
            raise CheckpointError(f"{where}: the file is empty (an interrupted write?)")
        state = torch.load(path, map_location="cpu", weights_only=True)
    except CheckpointError:
        raise
    except pickle.UnpicklingError:
        # torch's message advises weights_only=False, i.e. running the file's code: never that.
        if _is_zip(path):
            raise CheckpointError(
                f"{where}: it holds Python objects other than tensors and plain values, "
                "which are never unpickled; delete it or resume=False to start afresh"
            ) from None
        raise CheckpointError(
            f"{where}: not a torch training state (truncated or corrupt); "
            "delete it or resume=False to start afresh"
        ) from None
    except (RuntimeError, EOFError, ValueError, OSError, RecursionError, MemoryError):
        raise CheckpointError(
            f"{where}: truncated or corrupt training state; "
            "delete it or resume=False to start afresh"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{where}: not a training state (a {type(state).__name__})")
    missing = [what for key, what in _STATE_KEYS.items() if key not in state]
    if missing:
        raise CheckpointError(f"{where}: not a training state (it lacks {', '.join(missing)})")
    step = state["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise CheckpointError(f"{where}: the step must be a non-negative integer, got {step!r}")
    for key in ("model", "optimizer", "settings"):
        if not isinstance(state[key], dict):
            raise CheckpointError(f"{where}: {_STATE_KEYS[key]} is not a mapping")
    if not isinstance(state["generator"], torch.Tensor):
        raise CheckpointError(f"{where}: the generator state is not a tensor")
    return state


def _is_zip(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    text = lines[0].strip() if lines else type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."
