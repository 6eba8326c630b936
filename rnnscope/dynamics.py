"""Dynamics of a checkpoint along its task's inputs (``rnnscope dynamics``, report section).

Lyapunov spectrum, gradient flow, fixed points and the chain profile.

Inputs are the first ``samples`` sequences of the task's fixed test split (the checkpoint's task
by default); a foreign torch state dict without a task is driven by seeded standard normal
inputs of 100 steps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnscope.settings import DynamicsSettings

__all__ = [
    "DynamicsResult",
    "analyze_dynamics",
    "dynamics_of_model",
    "load_dynamics_model",
    "print_dynamics",
    "write_dynamics_plots",
]

logger = logging.getLogger(__name__)

_FREE_STEPS = 100


@dataclass
class DynamicsResult:
    """Everything ``rnnscope dynamics`` computes, with the objects behind the figures.

    Attributes
    ----------
    summary : dict
        JSON-ready result (see :func:`dynamics_of_model`).
    objects : dict
        ``lyapunov``, ``gradient_flow``, ``fixed_points``, ``chain_profile`` and ``states``
        (where computed): the result objects, for figures.
    """

    summary: dict[str, Any]
    objects: dict[str, Any] = field(default_factory=dict)


def load_dynamics_model(path: str | Path) -> tuple[Any, Any]:
    """Load a model with a one-step map from an rnnscope checkpoint or a torch RNN state dict.

    Parameters
    ----------
    path : str or pathlib.Path
        Checkpoint folder, or a ``torch.save``-d ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` state
        dict (every layer).

    Returns
    -------
    model : RecurrentModel or models.dynamics.TorchStack
    checkpoint : models.Checkpoint
        As loaded by :func:`models.load` (its ``task`` is that of an rnnscope checkpoint).

    Raises
    ------
    models.errors.CheckpointError
        If the file cannot be read.
    models.errors.UnsupportedModelError
        If it holds only matrices (no complete cell to run) or unsupported layers.
    """
    import models
    from models import dynamics
    from models.errors import UnsupportedModelError

    checkpoint = models.load(path)
    if checkpoint.model is not None:
        return checkpoint.model, checkpoint
    if checkpoint.format in ("torch-rnn", "torch-lstm", "torch-gru"):
        return dynamics.load_torch(path), checkpoint
    raise UnsupportedModelError(
        f"{path}: format {checkpoint.format!r} holds recurrent matrices but not a complete cell; "
        "dynamics needs an rnnscope checkpoint or a torch nn.RNN/nn.LSTM/nn.GRU state dict"
    )


def _inputs(model: Any, task: Any, samples: int, seed: int) -> tuple[Any, dict[str, Any]]:
    import torch

    if task is not None:
        x = task.test_set()[0][:samples]
        if x.shape[-1] != model.input_size:
            from models.errors import InputShapeError

            raise InputShapeError(
                f"task {task.name!r} has {x.shape[-1]} input features, the model reads "
                f"{model.input_size}"
            )
        return x, {"task": task.name, "samples": int(x.shape[0]), "steps": int(x.shape[1])}
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, _FREE_STEPS, model.input_size, generator=g)
    return x, {"task": None, "samples": samples, "steps": _FREE_STEPS, "inputs": "normal(0, 1)"}


def dynamics_of_model(
    model: Any,
    *,
    task: Any = None,
    lyapunov: int = DynamicsSettings.lyapunov,
    fixed_points: bool = DynamicsSettings.fixed_points,
    samples: int = DynamicsSettings.samples,
    starts: int = 256,
    seed: int = DynamicsSettings.seed,
    progress: Callable[[str], None] | None = None,
) -> DynamicsResult:
    """Lyapunov exponents, gradient flow, fixed points and chain profile of one model.

    Parameters
    ----------
    model : RecurrentModel or models.dynamics.TorchStack
        The network.
    task : models.tasks.Task, optional
        Whose test inputs drive it (standard normal inputs otherwise).
    lyapunov : int, optional
        Number of leading exponents (0 skips them); clipped to the state size.
    fixed_points : bool, optional
        Search fixed points at zero input (starts sampled from the trajectories).
    samples : int, optional
        Number of input sequences.
    starts : int, optional
        Starting states of the fixed-point search.
    seed : int, optional
        Seed of every random choice.
    progress : callable, optional
        Called with a short description before each part.

    Returns
    -------
    DynamicsResult
        ``summary`` keys: ``kind``, ``state_size``, ``inputs``, ``lyapunov`` (``exponents``,
        ``stderr``, ...; finite-time exponents over the input length), ``gradient_flow``,
        ``fixed_points`` (``None`` unless requested) and ``chain_profile`` (``profile``,
        ``control`` band, or ``skipped`` with the reason).
    """
    import spectra
    from models import dynamics

    say = progress or (lambda _text: None)
    x, inputs = _inputs(model, task, samples, seed)
    summary: dict[str, Any] = {
        "kind": getattr(model, "kind", None),
        "state_size": int(model.state_size),
        "inputs": inputs,
    }
    objects: dict[str, Any] = {}
    if lyapunov > 0:
        k = min(int(lyapunov), int(model.state_size))
        say(f"Lyapunov exponents (k={k})")
        result = spectra.lyapunov(dynamics.iter_jacobians(model, x, factored=True), k=k, seed=seed)
        summary["lyapunov"] = {**result.to_dict(), "k": k, "finite_time": True}
        objects["lyapunov"] = result
    else:
        summary["lyapunov"] = None
    say("gradient flow")
    flow = dynamics.gradient_flow(model, x)
    summary["gradient_flow"] = flow.to_dict()
    objects["gradient_flow"] = flow
    if fixed_points:
        say("fixed points")
        fps = dynamics.fixed_points(model, 0.0, starts=starts, inputs=x, seed=seed)
        summary["fixed_points"] = fps.to_dict()
        objects["fixed_points"] = fps
        objects["states"] = dynamics.states(model, x[: min(20, x.shape[0])]).numpy()
    else:
        summary["fixed_points"] = None
    if hasattr(model, "override_recurrent"):
        say("chain profile")
        cp = dynamics.chain_profile(model, seed=seed)
        summary["chain_profile"] = cp.to_dict()
        objects["chain_profile"] = cp
    else:
        summary["chain_profile"] = {
            "skipped": "stacked torch layers have no single recurrent matrix to shuffle"
        }
    # None when not computed, or -inf (a singular Jacobian at every step)
    summary["top_exponent"] = summary["lyapunov"]["exponents"][0] if summary["lyapunov"] else None
    return DynamicsResult(summary=summary, objects=objects)


def analyze_dynamics(
    path: str | Path,
    *,
    task: str | None = None,
    lyapunov: int = DynamicsSettings.lyapunov,
    fixed_points: bool = DynamicsSettings.fixed_points,
    samples: int = DynamicsSettings.samples,
    seed: int = DynamicsSettings.seed,
    progress: Callable[[str], None] | None = None,
) -> DynamicsResult:
    """Load a checkpoint and run :func:`dynamics_of_model` on it.

    Parameters
    ----------
    path : str or pathlib.Path
        rnnscope checkpoint folder or torch RNN/LSTM/GRU state dict.
    task : str, optional
        Task name (default: the checkpoint's task; none for a foreign file).
    lyapunov, fixed_points, samples, seed, progress
        See :func:`dynamics_of_model`.

    Returns
    -------
    DynamicsResult
        Its summary also has ``source`` and ``format``.

    Raises
    ------
    models.errors.CheckpointError, models.errors.UnsupportedModelError
        If the file cannot be run (see :func:`load_dynamics_model`).
    models.errors.UnknownTaskError
        If the task name is unknown.
    """
    import models.tasks

    model, checkpoint = load_dynamics_model(path)
    task_obj = None
    saved = checkpoint.task or {}
    if task is not None:
        task_obj = models.tasks.get(task)
    elif saved.get("name"):
        task_obj = models.tasks.get(saved["name"], **(saved.get("params") or {}))
    result = dynamics_of_model(
        model,
        task=task_obj,
        lyapunov=lyapunov,
        fixed_points=fixed_points,
        samples=samples,
        seed=seed,
        progress=progress,
    )
    result.summary = {"source": str(path), "format": checkpoint.format, **result.summary}
    return result


def write_dynamics_plots(result: DynamicsResult, folder: Path, *, stem: str = "") -> list[Path]:
    """Write the figures of a result as SVG files (atomically) into ``folder``.

    Parameters
    ----------
    result : DynamicsResult
        From :func:`analyze_dynamics` or :func:`dynamics_of_model`.
    folder : pathlib.Path
        Existing folder.
    stem : str, optional
        Prefix of the file names.

    Returns
    -------
    list of pathlib.Path
        The files written: ``lyapunov.svg``, ``gradient_flow.svg``, ``fixed_points.svg``,
        ``chain_profile.svg`` (those computed).
    """
    import matplotlib.pyplot as plt

    from models.dynamics import plot
    from rnnscope.figures import save_figure

    written = []
    objs = result.objects
    makers: list[tuple[str, Callable[[], Any]]] = []
    if "lyapunov" in objs:
        makers.append(("lyapunov", lambda: plot.lyapunov(objs["lyapunov"])))
    makers.append(("gradient_flow", lambda: plot.gradient_flow(objs["gradient_flow"])))
    if "fixed_points" in objs:
        makers.append(
            (
                "fixed_points",
                lambda: plot.fixed_points(objs["fixed_points"], trajectories=objs.get("states")),
            )
        )
    if "chain_profile" in objs:
        makers.append(("chain_profile", lambda: plot.chain_profile(objs["chain_profile"])))
    for name, make in makers:
        fig = make()
        try:
            dest = folder / f"{stem}{name}.svg"
            save_figure(fig, dest, salt=f"rnnscope-{stem}{name}")
            written.append(dest)
        finally:
            plt.close(fig)
    return written


def print_dynamics(console: Any, summary: dict[str, Any]) -> None:
    """Print the dynamics summary as short tables.

    Parameters
    ----------
    console : rich.console.Console
        Destination.
    summary : dict
        ``DynamicsResult.summary``.

    Examples
    --------
    >>> from rich.console import Console
    >>> print_dynamics(Console(width=70), {"source": "runs/r", "kind": "rnn", "state_size": 4,
    ...     "inputs": {"task": None, "samples": 2, "steps": 10}, "lyapunov": None,
    ...     "gradient_flow": {"lags": [0, 1], "norm_median_log10": [0.0, -0.5],
    ...                       "linear_log10": [0.0, 0.0]},
    ...     "fixed_points": None, "chain_profile": {"skipped": "no matrix"}})  # doctest: +ELLIPSIS
    runs/r: rnn, state size 4, 2 sequences of 10 steps (task none)
    ...
    """
    from rich.markup import escape

    from rnnscope.tables import fmt

    inputs = summary["inputs"]
    console.print(
        escape(
            f"{summary.get('source', 'model')}: {summary.get('kind')}, state size "
            f"{summary['state_size']}, {inputs['samples']} sequences of {inputs['steps']} steps "
            f"(task {inputs['task'] or 'none'})"
        )
    )
    lyap = summary.get("lyapunov")
    if lyap:
        table = _table()
        for name in ("i", "Lyapunov exponent (nats/step)", "stderr"):
            table.add_column(name, justify="right")
        for i, (e, s) in enumerate(zip(lyap["exponents"], lyap["stderr"], strict=True)):
            table.add_row(str(i + 1), fmt(e), fmt(s))
        console.print(table)
    flow = summary["gradient_flow"]
    table = _table()
    for name in ("k = T - t", "log10 ||ds_T/ds_t|| (median)", "log10 ||W^k||"):
        table.add_column(name, justify="right")
    lags = flow["lags"]
    linear = flow.get("linear_log10") or [None] * len(lags)
    for k in sorted({0, 1, 5, 10, 20, 50, len(lags) - 1} & set(range(len(lags)))):
        table.add_row(str(lags[k]), fmt(flow["norm_median_log10"][k]), fmt(linear[k]))
    console.print("gradient flow")
    console.print(table)
    fps = summary.get("fixed_points")
    if fps:
        counts = ", ".join(f"{n} {s}" for s, n in fps["counts"].items())
        console.print(
            escape(f"fixed points at zero input: {counts}; {fps['slow_points']} slow points")
        )
        table = _table()
        for name in ("stability", "q", "spectral radius", "henrici", "rho_eps", "kreiss"):
            table.add_column(name, justify="right")
        for p in fps["points"][:12]:
            table.add_row(
                p["stability"] + ("" if p["converged"] else " (slow)"),
                fmt(p["q"]),
                fmt(p["spectral_radius"]),
                fmt(p["henrici"]),
                fmt(p["pseudospectral_radius"]),
                fmt(p["kreiss_lower_bound"]),
            )
        console.print(table)
    chain = summary["chain_profile"]
    if "skipped" in chain:
        console.print(escape(f"chain profile skipped: {chain['skipped']}"))
    else:
        outside = [d for d, o in zip(chain["offsets"], chain["outside"], strict=True) if o]
        verdict = "chain-like" if chain["chain_like"] else "not chain-like"
        console.print(
            escape(
                f"chain profile: {verdict} (offsets outside the shuffled-weights band: "
                f"{', '.join(map(str, outside)) or 'none'})"
            )
        )


def _table() -> Any:
    from rich import box
    from rich.table import Table

    return Table(box=box.SIMPLE_HEAD)
