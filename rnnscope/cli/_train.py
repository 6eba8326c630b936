"""``rnnscope train``: train a recurrent classifier on a task into a checkpoint folder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from rnnscope.cli import _app
from rnnscope.cli._app import MaxSize, app
from rnnscope.errors import BadOptionError
from rnnscope.options import DEFAULT_MAX_SIZE, SEED_MAX, parse_choice
from rnnscope.settings import TrainSettings, default, help_text

_TASK_PARAM_HELP = "Task parameter KEY=VALUE (repeatable), e.g. permuted=true."


def _check_rate(value: float, name: str) -> None:
    """Require a positive finite learning rate."""
    import math

    if not math.isfinite(value) or value <= 0:
        raise BadOptionError(f"{name} must be a positive finite number, got {value!r}")


def _parse_task_params(items: Sequence[str] | None) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` pairs; values are JSON when they parse, strings otherwise."""
    params: dict[str, Any] = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise BadOptionError(f"--task-param expects KEY=VALUE, got {item!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        params[key.strip()] = value
    return params


@app.command(
    "train", epilog="Example: rnnscope train rnn digits --task-param permuted=true --out runs/rnn"
)
def _train_command(
    kind: Annotated[
        str, typer.Argument(help="Model kind, one of models.KINDS: rnn, lstm, gru, nru, ...")
    ],
    task: Annotated[str, typer.Argument(help="Task: copy, adding, digits, mnist1d.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Checkpoint folder to write; locked while training (a second run into it "
            "exits 2 naming the other process).",
        ),
    ],
    hidden: Annotated[
        int, typer.Option("--hidden", min=1, help=help_text(TrainSettings, "hidden"))
    ] = default(TrainSettings, "hidden"),
    steps: Annotated[
        int, typer.Option("--steps", min=1, help=help_text(TrainSettings, "steps"))
    ] = default(TrainSettings, "steps"),
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help=help_text(TrainSettings, "batch_size"))
    ] = default(TrainSettings, "batch_size"),
    lr: Annotated[float, typer.Option("--lr", help=help_text(TrainSettings, "lr"))] = default(
        TrainSettings, "lr"
    ),
    lr_orth: Annotated[
        float | None, typer.Option("--lr-orth", help=help_text(TrainSettings, "lr_orth"))
    ] = default(TrainSettings, "lr_orth"),
    init: Annotated[str | None, typer.Option("--init", help="Initialization of W.")] = None,
    nonlinearity: Annotated[
        str | None, typer.Option("--nonlinearity", help="rnn: tanh, relu, elu or modrelu.")
    ] = None,
    constrain: Annotated[
        str | None, typer.Option("--constrain", help="Project W after each step: radius or norm.")
    ] = None,
    task_param: Annotated[
        list[str] | None, typer.Option("--task-param", help=_TASK_PARAM_HELP)
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=SEED_MAX, help=help_text(TrainSettings, "seed"))
    ] = default(TrainSettings, "seed"),
    resume: Annotated[bool, typer.Option("--resume", help="Continue a saved run.")] = False,
    max_size: MaxSize = DEFAULT_MAX_SIZE,
) -> None:
    """Train a recurrent classifier on a task and write a checkpoint folder."""
    from rnnscope.files import check_output_dir
    from rnnscope.training import train_checkpoint

    check_output_dir(out, what="--out", swap=False)
    if hidden > max_size:
        raise BadOptionError(
            f"--hidden {hidden} is above --max-size {max_size} (the recurrent matrix has N² "
            "weights and its analysis costs O(N³)); raise --max-size to train it"
        )
    _check_rate(lr, "--lr")
    if lr_orth is not None:
        _check_rate(lr_orth, "--lr-orth")

    if constrain is not None:
        constrain = parse_choice(constrain, name="--constrain", choices=("radius", "norm"))
    options: dict[str, Any] = {}
    if init is not None:
        options["init"] = init
    if nonlinearity is not None:
        options["nonlinearity"] = nonlinearity
    result = train_checkpoint(
        kind,
        task,
        task_params=_parse_task_params(task_param),
        out=out,
        hidden=hidden,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        lr_orth=lr_orth,
        constrain=constrain,
        seed=seed,
        resume=resume,
        options=options,
        progress=_app.show_progress(),
    )
    from rnnscope.tables import print_train_summary

    print_train_summary(_app.stdout_console(), result)
