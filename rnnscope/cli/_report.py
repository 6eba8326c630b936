"""``rnnscope report``: the HTML, JSON and Markdown report of checkpoints or of a sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnscope.cli import _app
from rnnscope.cli._app import STRENGTHS, MaxSize, app
from rnnscope.options import DEFAULT_MAX_SIZE, SEED_MAX, parse_choice, parse_floats
from rnnscope.settings import ReportSettings, default, eps_text, help_text


@app.command("report", epilog="Example: rnnscope report runs/rnn runs/lstm --out reports/zoo")
def _report_command(
    paths: Annotated[
        list[Path], typer.Argument(help="One or more checkpoints, or one sweep folder.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Report folder (created if missing).")],
    samples: Annotated[
        int, typer.Option("--samples", min=1, help=help_text(ReportSettings, "samples"))
    ] = default(ReportSettings, "samples"),
    linf_eps: Annotated[
        str, typer.Option("--linf-eps", help=help_text(ReportSettings, "linf_eps"))
    ] = eps_text(default(ReportSettings, "linf_eps")),
    l2_eps: Annotated[
        str, typer.Option("--l2-eps", help=help_text(ReportSettings, "l2_eps"))
    ] = eps_text(default(ReportSettings, "l2_eps")),
    eps: Annotated[
        str, typer.Option("--eps", help=help_text(ReportSettings, "pseudo_eps"))
    ] = eps_text(default(ReportSettings, "pseudo_eps")),
    steps: Annotated[
        int, typer.Option("--steps", min=1, help=help_text(ReportSettings, "steps"))
    ] = default(ReportSettings, "steps"),
    grid: Annotated[
        int, typer.Option("--grid", min=10, max=400, help=help_text(ReportSettings, "grid"))
    ] = default(ReportSettings, "grid"),
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=SEED_MAX, help=help_text(ReportSettings, "seed"))
    ] = default(ReportSettings, "seed"),
    strength: Annotated[
        str, typer.Option("--strength", help=help_text(ReportSettings, "strength"))
    ] = default(ReportSettings, "strength"),
    max_size: MaxSize = DEFAULT_MAX_SIZE,
) -> None:
    """Write an HTML, JSON and Markdown robustness report for one or more checkpoints.

    The report is built in a hidden sibling folder of --out and swapped in as a whole: a reader
    sees the old report or the new one, never a mix. Given one sweep folder, the report compares
    the sweep's runs instead.
    """
    from rnnscope.sweep.report import is_sweep_dir

    if any(is_sweep_dir(path) for path in paths):
        from rnnscope.sweep.command import sweep_report_command

        sweep_report_command(list(paths), out, console=_app.stdout_console(), warn=_app.warn)
        return
    from rnnscope.report import build_report, write_report

    settings = ReportSettings(
        samples=samples,
        linf_eps=tuple(parse_floats(linf_eps, name="--linf-eps")),
        l2_eps=tuple(parse_floats(l2_eps, name="--l2-eps")),
        pseudo_eps=tuple(parse_floats(eps, name="--eps")),
        steps=steps,
        grid=grid,
        seed=seed,
        strength=parse_choice(strength, name="--strength", choices=STRENGTHS),
    )
    for path in paths:
        _app.require_input(path)
    from rnnscope.files import check_output_dir

    folder = check_output_dir(out, what="--out", entries=("figures",))
    built = build_report(
        [str(p) for p in paths], settings, progress=_app.show_progress(), max_size=max_size
    )
    index = write_report(built, folder)
    from rnnscope.tables import print_report_summary

    print_report_summary(_app.stdout_console(), built, index)
