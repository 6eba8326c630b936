"""``rnnscope attack``: robust accuracy of a checkpoint under attacks on its inputs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rnnscope.cli import _app
from rnnscope.cli._app import STRENGTHS, MaxSize, app
from rnnscope.errors import BadOptionError
from rnnscope.options import DEFAULT_MAX_SIZE, SEED_MAX, parse_choice, parse_floats, parse_names
from rnnscope.settings import AttackSettings, default, help_text


@app.command(
    "attack", epilog="Example: rnnscope attack runs/rnn --norm linf --eps 0.01,0.03,0.1 --json"
)
def _attack_command(
    path: Annotated[Path, typer.Argument(help="rnnscope checkpoint folder.")],
    task: Annotated[
        str | None, typer.Option("--task", help="Task name (default: the checkpoint's task).")
    ] = None,
    norm: Annotated[str, typer.Option("--norm", help=help_text(AttackSettings, "norm"))] = default(
        AttackSettings, "norm"
    ),
    eps: Annotated[
        str | None, typer.Option("--eps", help="Comma-separated budgets (default by norm).")
    ] = None,
    attacks_: Annotated[
        str, typer.Option("--attacks", help=help_text(AttackSettings, "attacks"))
    ] = ",".join(default(AttackSettings, "attacks")),
    samples: Annotated[
        int, typer.Option("--samples", min=1, help=help_text(AttackSettings, "samples"))
    ] = default(AttackSettings, "samples"),
    steps: Annotated[
        int, typer.Option("--steps", min=1, help=help_text(AttackSettings, "steps"))
    ] = default(AttackSettings, "steps"),
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=SEED_MAX, help=help_text(AttackSettings, "seed"))
    ] = default(AttackSettings, "seed"),
    strength: Annotated[
        str, typer.Option("--strength", help=help_text(AttackSettings, "strength"))
    ] = default(AttackSettings, "strength"),
    windows: Annotated[
        int | None,
        typer.Option(
            "--windows",
            min=1,
            help="Also attack each of N windows of time steps alone (at the largest budget).",
        ),
    ] = None,
    transfer: Annotated[
        list[Path] | None,
        typer.Option(
            "--transfer",
            help="Other checkpoint on the same task (repeatable): transfer matrix of adversarials.",
        ),
    ] = None,
    hidden_state: Annotated[
        str | None,
        typer.Option(
            "--hidden-state",
            help="Comma-separated relative sizes delta of a hidden-state perturbation "
            "(||dh|| = delta ||h_t||): accuracy along random and adversarial directions.",
        ),
    ] = None,
    hidden_step: Annotated[
        int | None,
        typer.Option(
            "--hidden-step",
            help="Step t whose hidden state --hidden-state perturbs (0-based, negative from the "
            "end; default: the middle step).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    max_size: MaxSize = DEFAULT_MAX_SIZE,
) -> None:
    """Robust accuracy of a trained checkpoint under gradient attacks on its inputs."""
    from rnnscope.attack import attack_checkpoint, default_eps, known_attacks

    norm = parse_choice(norm, name="--norm", choices=("linf", "l2"))
    eps_values = parse_floats(default_eps(norm) if eps is None else eps, name="--eps")
    names = parse_names(attacks_, name="--attacks", choices=known_attacks())
    strength = parse_choice(strength, name="--strength", choices=STRENGTHS)
    _app.require_input(path)
    deltas = (
        []
        if hidden_state is None
        else parse_floats(hidden_state, name="--hidden-state", allow_zero=True)
    )
    if hidden_step is not None and hidden_state is None:
        raise BadOptionError("--hidden-step needs --hidden-state")
    for other in transfer or ():
        _app.require_input(other)
    result = attack_checkpoint(
        path,
        task=task,
        norm=norm,
        eps=eps_values,
        attacks=names,
        samples=samples,
        steps=steps,
        seed=seed,
        max_size=max_size,
        strength=strength,
        windows=windows,
        transfer=[str(p) for p in transfer or ()],
        hidden_deltas=deltas,
        hidden_step=hidden_step,
    )
    if as_json:
        from rnnscope.jsonio import dumps

        sys.stdout.write(dumps(result.to_dict()))
    else:
        from rnnscope.tables import print_attack

        print_attack(_app.stdout_console(), result)
