"""``rnnscope dynamics``: Lyapunov spectrum, gradient flow and fixed points along real inputs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rnnscope.cli import _app
from rnnscope.cli._app import app
from rnnscope.errors import BadOptionError
from rnnscope.options import SEED_MAX
from rnnscope.settings import DynamicsSettings, default, help_text


@app.command(
    "dynamics",
    epilog="Example: rnnscope dynamics runs/rnn --lyapunov 10 --fixed-points --json",
)
def _dynamics_command(
    path: Annotated[
        Path, typer.Argument(help="Checkpoint folder, or a torch nn.RNN/LSTM/GRU state dict.")
    ],
    task: Annotated[
        str | None,
        typer.Option("--task", help="Task whose test inputs drive the network (default: its own)."),
    ] = None,
    lyapunov: Annotated[
        int, typer.Option("--lyapunov", help=help_text(DynamicsSettings, "lyapunov"))
    ] = default(DynamicsSettings, "lyapunov"),
    fixed_points: Annotated[
        bool, typer.Option("--fixed-points", help=help_text(DynamicsSettings, "fixed_points"))
    ] = default(DynamicsSettings, "fixed_points"),
    samples: Annotated[
        int, typer.Option("--samples", help=help_text(DynamicsSettings, "samples"))
    ] = default(DynamicsSettings, "samples"),
    seed: Annotated[
        int,
        typer.Option("--seed", min=0, max=SEED_MAX, help=help_text(DynamicsSettings, "seed")),
    ] = default(DynamicsSettings, "seed"),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    plots: Annotated[Path | None, typer.Option("--plots", help="Folder for the figures.")] = None,
) -> None:
    """Lyapunov spectrum, gradient flow, fixed points and chain profile along real inputs."""
    if lyapunov < 0:
        raise BadOptionError(f"--lyapunov must be a non-negative integer, got {lyapunov}")
    if samples < 1:
        raise BadOptionError(f"--samples must be a positive integer, got {samples}")
    _app.require_input(path)
    plots_dir = None
    if plots is not None:
        from rnnscope.files import prepare_output_dir

        plots_dir = prepare_output_dir(plots, what="--plots")
    from rnnscope.dynamics import analyze_dynamics

    result = analyze_dynamics(
        path,
        task=task,
        lyapunov=lyapunov,
        fixed_points=fixed_points,
        samples=samples,
        seed=seed,
        progress=lambda text: _app.warn(f"dynamics: {text}"),
    )
    if plots_dir is not None:
        from rnnscope.dynamics import write_dynamics_plots

        written = write_dynamics_plots(result, plots_dir)
        _app.warn(f"wrote {len(written)} figures to {plots_dir}")
    if as_json:
        from rnnscope.jsonio import dumps

        sys.stdout.write(dumps(result.summary))
    else:
        from rnnscope.dynamics import print_dynamics

        print_dynamics(_app.stdout_console(), result.summary)
