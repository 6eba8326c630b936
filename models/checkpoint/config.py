"""Parsing and checking ``config.json`` of an rnnscope checkpoint (private).

The file may come from anywhere, so its size, nesting depth and the types of the keys the
readers use are checked before anything is built from it; every problem is one
:class:`~models.errors.CheckpointError` line.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from models.checkpoint._json import one_line
from models.errors import CheckpointError, InvalidOptionError, UnknownKindError

#: Largest ``config.json`` read, in bytes (real ones are a few kilobytes).
MAX_CONFIG_BYTES = 16 * 2**20
#: Deepest nesting of objects and arrays accepted in ``config.json``.
MAX_CONFIG_DEPTH = 32

_REQUIRED = ("kind", "input_size", "hidden_size", "output_size")
_SIZES = ("input_size", "hidden_size", "output_size")
_OBJECTS = ("options", "training", "metrics")


def parse_config(path: Path) -> dict[str, Any]:
    """Read ``path`` and return the checked configuration, or raise :class:`CheckpointError`."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise CheckpointError(
                f"{path}: {size} bytes, more than the {MAX_CONFIG_BYTES} a configuration may have"
            )
        text = path.read_bytes().decode("utf-8")
        config = json.loads(text)
    except RecursionError:
        raise CheckpointError(f"{path}: invalid JSON (nested too deeply)") from None
    except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
        raise CheckpointError(one_line(f"{path}: invalid JSON ({err})")) from err
    except OSError as err:
        raise CheckpointError(one_line(f"{path}: cannot read ({err})")) from err
    check_config(path, config)
    return config


def check_config(path: Path, config: Any) -> None:
    """Check the structure of a parsed configuration (see :func:`parse_config`)."""
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {_kind(config)}")
    depth = _depth(config)
    if depth > MAX_CONFIG_DEPTH:
        raise CheckpointError(
            f"{path}: nested {depth} levels deep, more than the {MAX_CONFIG_DEPTH} allowed"
        )
    missing = [k for k in _REQUIRED if k not in config]
    if missing:
        raise CheckpointError(f"{path}: missing {', '.join(missing)}")
    if not isinstance(config["kind"], str):
        raise CheckpointError(f"{path}: 'kind' must be a string, got {_kind(config['kind'])}")
    for key in _SIZES:
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise CheckpointError(
                f"{path}: {key!r} must be a positive integer, got {_short(value)}"
            )
    seed = config.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise CheckpointError(f"{path}: 'seed' must be a non-negative integer, got {_short(seed)}")
    for key in _OBJECTS:
        if key in config and not isinstance(config[key], dict):
            raise CheckpointError(
                f"{path}: {key!r} must be a JSON object, got {_kind(config[key])}"
            )
    _check_task(path, config.get("task"))
    sha = config.get("weights_sha256")
    if sha is not None and not isinstance(sha, str):
        raise CheckpointError(f"{path}: 'weights_sha256' must be a string, got {_kind(sha)}")


def expected_shapes(path: Path, config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """State-dict shapes of the model ``config`` describes, computed without building it."""
    from models.build import state_shapes

    try:
        return state_shapes(
            config["kind"],
            input_size=config["input_size"],
            hidden_size=config["hidden_size"],
            output_size=config["output_size"],
            options=config.get("options", {}),
        )
    except UnknownKindError as err:
        raise CheckpointError(one_line(f"{path}: unknown kind {config['kind']!r} ({err})")) from err
    except InvalidOptionError as err:
        raise CheckpointError(one_line(f"{path}: cannot rebuild the model ({err})")) from err


def parameter_count(shapes: Mapping[str, tuple[int, ...]]) -> int:
    """Total number of elements of ``shapes``."""
    return sum(math.prod(shape) for shape in shapes.values())


def _check_task(path: Path, task: Any) -> None:
    if task is None:
        return
    if not isinstance(task, dict):
        raise CheckpointError(f"{path}: 'task' must be a JSON object or null, got {_kind(task)}")
    if not isinstance(task.get("name"), str):
        raise CheckpointError(
            f"{path}: 'task.name' must be a string, got {_kind(task.get('name'))}"
        )
    if not isinstance(task.get("params", {}), dict):
        raise CheckpointError(
            f"{path}: 'task.params' must be a JSON object, got {_kind(task['params'])}"
        )


def _depth(value: Any) -> int:
    """Nesting depth of JSON containers, iteratively (no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if level > MAX_CONFIG_DEPTH:
                return level
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"the number {_short(value)}"
    return names.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, dict | list) else _kind(value)
    return text if len(text) <= 40 else text[:37] + "..."
