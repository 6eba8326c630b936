"""Command line: ``rnnscope train | analyze | pseudospectrum | attack | dynamics | report | demo``.

Exit codes: 0 on success, 2 for bad input or usage (one line on stderr, ``error: ...``), 1 for
an unexpected failure (add the global ``--debug`` option to see the traceback). Results go to
stdout (tables, or JSON with ``--json``); progress bars and log messages go to stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from rnnscope import __version__
from rnnscope.cli_group import ErrorGroup
from rnnscope.errors import BadOptionError
from rnnscope.logs import configure_logging
from rnnscope.options import DEFAULT_MAX_SIZE, SEED_MAX, parse_choice, parse_floats, parse_names
from rnnscope.settings import (
    AnalysisSettings,
    AttackSettings,
    ReportSettings,
    TrainSettings,
    default,
    eps_text,
    help_text,
)

__all__ = ["app", "main"]


app = typer.Typer(
    cls=ErrorGroup,
    name="rnnscope",
    help="Robustness and spectral analysis of recurrent neural networks.",
    epilog="Example: rnnscope demo --quick --out reports/demo",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        sys.stdout.write(f"rnnscope {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _global_options(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log messages (-vv: debug).")
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Errors only; no progress bars.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of a failure.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Robustness and spectral analysis of recurrent neural networks."""
    configure_logging(verbose=verbose, quiet=quiet)
    _STATE["quiet"] = quiet
    _STATE["debug"] = debug


_STATE: dict[str, bool] = {"quiet": False, "debug": False}


def _stdout_console() -> Any:
    from rich.console import Console

    width = _terminal_width() if sys.stdout.isatty() else 200
    return Console(file=sys.stdout, soft_wrap=False, width=width)


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def _show_progress() -> bool:
    """Progress bars only on an interactive stderr, and not with ``--quiet``."""
    return not _STATE["quiet"] and sys.stderr.isatty()


def _warn(message: str) -> None:
    """One informational line on stderr (suppressed by ``--quiet``)."""
    if not _STATE["quiet"]:
        from rnnscope.safetext import printable

        sys.stderr.write(printable(message.rstrip()) + "\n")


# ---------------------------------------------------------------------------------------- train
def _check_rate(value: float, name: str) -> None:
    """Require a positive finite learning rate."""
    import math

    if not math.isfinite(value) or value <= 0:
        raise BadOptionError(f"{name} must be a positive finite number, got {value!r}")


_TASK_PARAM_HELP = "Task parameter KEY=VALUE (repeatable), e.g. permuted=true."
_MAX_SIZE_HELP = (
    "Largest N of an N×N recurrent matrix; larger ones are refused before anything is read or "
    "built (the analysis costs O(N³) time). Files also may hold at most 128·N² bytes."
)
_MaxSize = Annotated[int, typer.Option("--max-size", min=1, help=_MAX_SIZE_HELP)]


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
    max_size: _MaxSize = DEFAULT_MAX_SIZE,
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
        progress=_show_progress(),
    )
    from rnnscope.tables import print_train_summary

    print_train_summary(_stdout_console(), result)


# ---------------------------------------------------------------------------------------- analyze
_EPS_HELP = help_text(AnalysisSettings, "eps")
_EPS_DEFAULT = eps_text(default(AnalysisSettings, "eps"))
_GRID_HELP = help_text(AnalysisSettings, "grid")
_GRID_DEFAULT: int = default(AnalysisSettings, "grid")


@app.command(
    "analyze",
    epilog="Example: rnnscope analyze runs/rnn --json --plots figures/ --eps 1e-3,1e-2,1e-1",
)
def _analyze_command(
    path: Annotated[Path, typer.Argument(help="Checkpoint folder or weights/matrix file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    plots: Annotated[
        Path | None, typer.Option("--plots", help="Folder for the figures of every matrix.")
    ] = None,
    eps: Annotated[str, typer.Option("--eps", help=_EPS_HELP)] = _EPS_DEFAULT,
    list_tensors: Annotated[
        bool, typer.Option("--list", help="List every tensor, its shape and whether it is square.")
    ] = False,
    matrix: Annotated[
        list[str] | None,
        typer.Option("--matrix", help="Analyze this square tensor key (repeatable)."),
    ] = None,
    convention: Annotated[
        str | None,
        typer.Option("--convention", help="row or column: how the file's matrices act on h."),
    ] = None,
    grid: Annotated[int, typer.Option("--grid", min=10, max=400, help=_GRID_HELP)] = _GRID_DEFAULT,
    max_size: _MaxSize = DEFAULT_MAX_SIZE,
) -> None:
    """Spectral and non-normality measures of every recurrent matrix in a checkpoint."""
    import models

    eps_values = parse_floats(eps, name="--eps")
    if convention is not None:
        convention = parse_choice(convention, name="--convention", choices=("row", "column"))
    _require_input(path)
    if list_tensors:
        from rnnscope.tables import print_tensor_list

        infos = models.list_tensors(path)
        if as_json:
            from rnnscope.jsonio import dumps

            rows = [{"key": i.key, "shape": list(i.shape), "square": bool(i.square)} for i in infos]
            sys.stdout.write(dumps({"source": str(path), "tensors": rows}))
        else:
            print_tensor_list(_stdout_console(), str(path), infos)
        return
    if plots is not None:
        from rnnscope.files import check_output_dir

        check_output_dir(plots, what="--plots")
    checkpoint = models.load(
        path, convention=convention, matrix=list(matrix) if matrix else None, max_size=max_size
    )
    from rnnscope.analysis import analyze_checkpoint

    for block, reason in sorted(checkpoint.skipped.items()):
        _warn(f"skipped {block}: {reason}")
    result = analyze_checkpoint(checkpoint, eps=eps_values, progress=_show_progress())
    if plots is not None:
        from rnnscope.files import prepare_output_dir
        from rnnscope.plots import write_matrix_plots

        plots_dir = prepare_output_dir(plots, what="--plots")
        written = write_matrix_plots(result.matrices, plots_dir, eps=eps_values, grid=grid)
        _warn(f"wrote {len(written)} figures to {plots_dir}")
    if as_json:
        from rnnscope.jsonio import dumps

        sys.stdout.write(dumps(result.to_dict()))
    else:
        from rnnscope.tables import print_analysis

        print_analysis(_stdout_console(), result)


def _require_input(path: Path) -> None:
    """Fail early with a one-line message when an input path does not exist."""
    if not Path(path).exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))


# ------------------------------------------------------------------------------ pseudospectrum
@app.command(
    "pseudospectrum", epilog="Example: rnnscope pseudospectrum runs/rnn --grid 120 --out ps.svg"
)
def _pseudospectrum_command(
    path: Annotated[Path, typer.Argument(help="Checkpoint folder or matrix file.")],
    out: Annotated[Path, typer.Option("--out", help="Figure file: .svg, .png or .pdf.")],
    matrix: Annotated[
        str | None, typer.Option("--matrix", help="Matrix name (default: the principal one).")
    ] = None,
    grid: Annotated[int, typer.Option("--grid", min=10, max=400, help=_GRID_HELP)] = _GRID_DEFAULT,
    eps: Annotated[str, typer.Option("--eps", help="Contour levels.")] = _EPS_DEFAULT,
    convention: Annotated[str | None, typer.Option("--convention", help="row or column.")] = None,
    max_size: _MaxSize = DEFAULT_MAX_SIZE,
) -> None:
    """Plot the epsilon-pseudospectra of one recurrent matrix with its eigenvalues."""
    import models
    from rnnscope.figures import FIGURE_SUFFIXES
    from rnnscope.files import check_output_file

    eps_values = parse_floats(eps, name="--eps")
    if convention is not None:
        convention = parse_choice(convention, name="--convention", choices=("row", "column"))
    _require_input(path)
    dest = check_output_file(out, suffixes=FIGURE_SUFFIXES, what="--out")
    if matrix is None:
        from rnnscope.analysis import principal_name

        checkpoint = models.load(path, convention=convention, max_size=max_size)
        name = principal_name(checkpoint)
        W = checkpoint.recurrent_matrix()
    elif matrix in (recognised := _recognised_matrices(path, convention, max_size)):
        W, name = recognised[matrix], matrix
    else:
        checkpoint = models.load(path, convention=convention, matrix=[matrix], max_size=max_size)
        name = next(iter(checkpoint.matrices))
        W = checkpoint.matrices[name]
    from rnnscope.figures import save_figure
    from rnnscope.plots import pseudospectrum_figure

    fig = pseudospectrum_figure(W, eps=eps_values, grid=grid, title=name)
    save_figure(fig, dest, salt=f"rnnscope-{name}")
    _warn(f"wrote {dest}")


def _recognised_matrices(path: Path, convention: str | None, max_size: int) -> dict[str, Any]:
    """Return the recurrent matrices recognised in ``path`` (none if its tensors are not).

    ``--matrix`` then names a tensor key instead (files of arbitrary tensors).
    """
    import models
    from models.errors import CheckpointError
    from models.formats import FormatError

    try:
        return dict(models.load(path, convention=convention, max_size=max_size).matrices)
    except CheckpointError as err:
        if isinstance(err.__cause__, FormatError):
            return {}  # the load by key reports its own error if the key does not fit either
        raise


# ---------------------------------------------------------------------------------------- attack
_STRENGTHS = ("quick", "standard", "thorough")


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
    max_size: _MaxSize = DEFAULT_MAX_SIZE,
) -> None:
    """Robust accuracy of a trained checkpoint under gradient attacks on its inputs."""
    from rnnscope.attack import attack_checkpoint, default_eps, known_attacks

    norm = parse_choice(norm, name="--norm", choices=("linf", "l2"))
    eps_values = parse_floats(default_eps(norm) if eps is None else eps, name="--eps")
    names = parse_names(attacks_, name="--attacks", choices=known_attacks())
    strength = parse_choice(strength, name="--strength", choices=_STRENGTHS)
    _require_input(path)
    deltas = (
        []
        if hidden_state is None
        else parse_floats(hidden_state, name="--hidden-state", allow_zero=True)
    )
    if hidden_step is not None and hidden_state is None:
        raise BadOptionError("--hidden-step needs --hidden-state")
    for other in transfer or ():
        _require_input(other)
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

        print_attack(_stdout_console(), result)


# ---------------------------------------------------------------------------------------- report
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
    max_size: _MaxSize = DEFAULT_MAX_SIZE,
) -> None:
    """Write an HTML, JSON and Markdown robustness report for one or more checkpoints.

    The report is built in a hidden sibling folder of --out and swapped in as a whole: a reader
    sees the old report or the new one, never a mix. Given one sweep folder, the report compares
    the sweep's runs instead.
    """
    from rnnscope.sweep.report import is_sweep_dir

    if any(is_sweep_dir(path) for path in paths):
        from rnnscope.sweep.command import sweep_report_command

        sweep_report_command(list(paths), out, console=_stdout_console(), warn=_warn)
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
        strength=parse_choice(strength, name="--strength", choices=_STRENGTHS),
    )
    for path in paths:
        _require_input(path)
    from rnnscope.files import check_output_dir

    folder = check_output_dir(out, what="--out", entries=("figures",))
    built = build_report(
        [str(p) for p in paths], settings, progress=_show_progress(), max_size=max_size
    )
    index = write_report(built, folder)
    from rnnscope.tables import print_report_summary

    print_report_summary(_stdout_console(), built, index)


# -------------------------------------------------------------------------------------- dynamics
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
        int, typer.Option("--lyapunov", help="Number of leading Lyapunov exponents (0: none).")
    ] = 10,
    fixed_points: Annotated[
        bool, typer.Option("--fixed-points", help="Search fixed points at zero input.")
    ] = False,
    samples: Annotated[int, typer.Option("--samples", help="Input sequences.")] = 32,
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=SEED_MAX, help="Seed of every random choice.")
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    plots: Annotated[Path | None, typer.Option("--plots", help="Folder for the figures.")] = None,
) -> None:
    """Lyapunov spectrum, gradient flow, fixed points and chain profile along real inputs."""
    if lyapunov < 0:
        raise BadOptionError(f"--lyapunov must be a non-negative integer, got {lyapunov}")
    if samples < 1:
        raise BadOptionError(f"--samples must be a positive integer, got {samples}")
    _require_input(path)
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
        progress=lambda text: _warn(f"dynamics: {text}"),
    )
    if plots_dir is not None:
        from rnnscope.dynamics import write_dynamics_plots

        written = write_dynamics_plots(result, plots_dir)
        _warn(f"wrote {len(written)} figures to {plots_dir}")
    if as_json:
        from rnnscope.jsonio import dumps

        sys.stdout.write(dumps(result.summary))
    else:
        from rnnscope.dynamics import print_dynamics

        print_dynamics(_stdout_console(), result.summary)


# ---------------------------------------------------------------------------------------- demo
@app.command("demo", epilog="Example: rnnscope demo --quick --out reports/demo")
def _demo_command(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("reports/demo"),
    quick: Annotated[bool, typer.Option("--quick", help="Far fewer steps and samples.")] = False,
) -> None:
    """Train the model zoo on permuted 8x8 digits, attack and analyze it, and write a report."""
    from rnnscope.demo import demo_summary, run_demo

    built, index = run_demo(out, quick=quick, progress=_show_progress())
    from rnnscope.tables import print_report_summary

    print_report_summary(_stdout_console(), built, index)
    summary = demo_summary(built)
    reused = ", ".join(summary["reused"]) or "none"
    _warn(
        f"demo finished in {summary['demo_total']:.0f} s (training {summary['training_total']:.0f}"
        f" s; reused checkpoints: {reused}); timings in {index.parent / 'timings.json'}"
    )


# ---------------------------------------------------------------------------------------- sweep
@app.command(
    "sweep", epilog="Example: rnnscope sweep examples/orhan_pitkow_digits.toml --out sweeps/op"
)
def _sweep_command(
    spec: Annotated[Path, typer.Argument(help="TOML file: task, grid of settings and budgets.")],
    out: Annotated[Path, typer.Option("--out", help="Sweep folder (runs/, results.csv/json).")],
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address (default: local).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Workers of the local cluster.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the runs and their estimated cost.")
    ] = False,
) -> int:
    """Train, analyze and attack every point of a grid of settings, on Dask when installed."""
    from rnnscope.sweep.command import sweep_command

    _require_input(spec)
    return sweep_command(
        spec,
        out,
        scheduler=scheduler,
        workers=workers,
        dry_run=dry_run,
        console=_stdout_console(),
        progress=_show_progress(),
        warn=_warn,
    )


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the command line and exit.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Raises
    ------
    SystemExit
        Always: 0 on success, 2 for bad input or usage, 1 for an unexpected failure.

    Examples
    --------
    >>> try:
    ...     main(["--version"])
    ... except SystemExit as done:
    ...     print("exit code", done.code)
    rnnscope ...
    exit code 0
    """
    command = typer.main.get_command(app)
    command.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="rnnscope")
    raise SystemExit(0)  # pragma: no cover - command.main always exits
