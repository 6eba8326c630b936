"""Checks of a training run before anything is built or written (private)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import nn

from models.errors import CheckpointError, InvalidOptionError, UnsupportedModelError
from models.tasks import Task

if TYPE_CHECKING:
    from models.train_config import TrainConfig

#: Largest number of values of one tensor a training step may need (batch inputs, hidden
#: states of every step, logits, the test set): 2**28, 1 GiB in float32.
MAX_TENSOR_ELEMENTS = 2**28
#: Sequences evaluated at once on the test set.
EVAL_CHUNK = 1000
_EVAL_CHUNK = EVAL_CHUNK


def check_run(model: nn.Module, task: Task, config: TrainConfig, out: Any) -> None:
    """Every check that needs neither the data nor the disk: nothing is created before it."""
    if not isinstance(task, Task):
        raise InvalidOptionError(f"task must be a models.tasks.Task, got {type(task).__name__}")
    _check_model(model, task, config.constrain)
    if config.resume and out is None:
        raise InvalidOptionError("resume=True needs an output directory (out=...)")
    if out is not None:
        if not isinstance(getattr(model, "config", None), dict):
            raise UnsupportedModelError(
                f"out=... saves checkpoints, which needs a model built by models.build; "
                f"got {type(model).__name__}"
            )
        folder = Path(out)
        if folder.exists() and not folder.is_dir():
            raise CheckpointError(f"cannot train into {folder}: it is a file, not a directory")
    _check_memory(model, task, config)


def _check_memory(model: nn.Module, task: Task, config: TrainConfig) -> None:
    steps, features = int(task.seq_len), int(task.input_size)
    width = max(features, int(task.output_size), int(getattr(model, "hidden_size", 0) or 0))
    what = f"task {task.name!r} ({steps} steps of {features} feature{'s' * (features != 1)})"
    _limit(config.batch_size * steps * width, f"a batch of {config.batch_size} sequences of {what}")
    test_size = task.params.get("test_size")
    if isinstance(test_size, int):  # synthetic test sets are drawn at the first evaluation
        _limit(test_size * steps * features, f"the test set of {test_size} sequences of {what}")
        chunk = min(test_size, _EVAL_CHUNK)
        _limit(chunk * steps * width, f"evaluating {chunk} sequences of {what}")


def _limit(elements: int, what: str) -> None:
    if elements > MAX_TENSOR_ELEMENTS:
        raise InvalidOptionError(
            f"{what} needs about {elements:.3g} values ({4 * elements / 2**30:.3g} GiB in "
            f"float32), above the limit of {MAX_TENSOR_ELEMENTS:.3g} values per tensor "
            "(models.train_config.MAX_TENSOR_ELEMENTS); lower batch_size, the sequence length "
            "or hidden_size"
        )


def _check_model(model: nn.Module, task: Task, constrain: str | None) -> None:
    config = getattr(model, "config", None)
    if not isinstance(config, dict):
        if constrain is not None:
            raise InvalidOptionError(
                f"constrain={constrain!r} needs a model built by models.build, "
                f"got {type(model).__name__}"
            )
        return
    for key, expected in (("input_size", task.input_size), ("output_size", task.output_size)):
        if key in config and config[key] != expected:
            raise InvalidOptionError(
                f"task {task.name!r} needs a model with {key}={expected}, "
                f"got a model with {key}={config[key]}"
            )
    options = config.get("options", {})
    if "readout" in options and options["readout"] != task.readout:
        raise InvalidOptionError(
            f"task {task.name!r} needs a model with readout={task.readout!r}, "
            f"got readout={options['readout']!r}"
        )
    if constrain is not None and options.get("constrain") != constrain:
        kind = config.get("kind", type(model).__name__)
        if "constrain" not in options:
            raise InvalidOptionError(
                f"constrain={constrain!r} is not supported by kind {kind!r}; "
                "only kinds with a constrain option (rnn) can be constrained"
            )
        raise InvalidOptionError(
            f"train(constrain={constrain!r}) but the model was built with "
            f"constrain={options['constrain']!r}; build it with "
            f"models.build({kind!r}, ..., constrain={constrain!r})"
        )
