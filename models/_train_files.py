"""Files of a training run besides the checkpoint: metrics log and resume state (private)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from models.checkpoint.atomic import replace_atomically
from models.errors import InvalidOptionError

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
    """Load the resume state into ``model``, ``opt`` and ``generator``; return its step."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    saved = state["settings"]
    if saved != settings:
        differ = sorted(k for k in set(saved) | set(settings) if saved.get(k) != settings.get(k))
        raise InvalidOptionError(
            f"cannot resume {path.parent}: the saved run differs in {', '.join(differ)} "
            f"(saved {', '.join(f'{k}={saved.get(k)!r}' for k in differ)}); "
            "pass the same model, task and arguments, or resume=False to start afresh"
        )
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    return int(state["step"])
