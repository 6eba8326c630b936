"""``rnnscope demo``: train, attack and analyze the model zoo, then write its report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnscope.cli import _app
from rnnscope.cli._app import app


@app.command("demo", epilog="Example: rnnscope demo --quick --out reports/demo")
def _demo_command(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("reports/demo"),
    quick: Annotated[bool, typer.Option("--quick", help="Far fewer steps and samples.")] = False,
) -> None:
    """Train the model zoo on permuted 8x8 digits, attack and analyze it, and write a report."""
    from rnnscope.demo import demo_summary, run_demo

    built, index = run_demo(out, quick=quick, progress=_app.show_progress())
    from rnnscope.tables import print_report_summary

    print_report_summary(_app.stdout_console(), built, index)
    summary = demo_summary(built)
    reused = ", ".join(summary["reused"]) or "none"
    _app.warn(
        f"demo finished in {summary['demo_total']:.0f} s (training: "
        f"{summary['training_total']:.0f} s summed over the models, the last done at "
        f"{summary['training_finished_at']:.0f} s; reused checkpoints: {reused}); "
        f"timings in {index.parent / 'timings.json'}"
    )
