"""Running one point of a sweep: train (resumable), analyze, attack, dynamics; write the result.

:func:`run_point` is what a worker executes. It is idempotent: a point whose result is already
written returns it, a finished training is not repeated, and an interrupted training resumes
from its last checkpoint, so a retried point (after its worker died) loses only the steps since
that checkpoint and ends with the weights of an uninterrupted run. The point's task is built
from the arrays in ``DIR/data`` when :func:`rnnscope.sweep.data.write_task_data` wrote them (as
:func:`rnnscope.sweep.run_points` does), without loading its data set again.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rnnscope.files import atomic_write_text
from rnnscope.jsonio import dumps, jsonable
from rnnscope.sweep.data import read_task_data
from rnnscope.sweep.plan import RESULT_FILE, SweepPoint

__all__ = ["DYNAMICS_FIELDS", "POINT_FILE", "SPECTRA_FIELDS", "run_point"]

logger = logging.getLogger(__name__)

#: File holding a point's settings inside its run folder, written before training.
POINT_FILE = "point.json"

#: Summary fields of the principal recurrent matrix kept in the results.
SPECTRA_FIELDS = (
    "spectral_radius",
    "spectral_norm",
    "henrici",
    "henrici_relative",
    "chain_length",
    "orthogonality_error",
    "eigenvector_condition",
    "kreiss_lower_bound",
    "max_transient_growth",
    "power_converged",
)

#: Summary fields of the dynamics kept in the results (see :func:`_dynamics`).
DYNAMICS_FIELDS = (
    "top_exponent",
    "top_exponent_stderr",
    "gradient_flow_log10",
    "gradient_flow_linear_log10",
    "chain_like",
    "fixed_points",
    "stable_fixed_points",
)


def _domain_errors() -> tuple[type[BaseException], ...]:
    import attacks.errors
    import models.errors
    import spectra.errors
    from rnnscope.errors import RnnscopeError

    return (
        RnnscopeError,
        models.errors.ModelsError,
        attacks.errors.AttacksError,
        spectra.errors.SpectraError,
    )


def run_point(
    point: SweepPoint, root: str | os.PathLike[str], evaluation: Mapping[str, Any]
) -> dict[str, Any]:
    r"""Train, analyze and attack one point into ``root/runs/<point.id>`` and return its result.

    Runs with one torch and BLAS thread. A failure of the point itself (training diverged, a
    measure that does not apply) is recorded in the result with ``status: "failed"`` and its
    message, and is final; any other exception propagates, so that the scheduler retries it.

    Parameters
    ----------
    point : SweepPoint
        The point.
    root : str or path-like
        Sweep folder (``DIR``).
    evaluation : mapping
        ``{"analyze": dict or None, "attack": dict or None}``, and ``"dynamics"`` when asked
        for (:meth:`SweepSpec.evaluation`).

    Returns
    -------
    dict
        ``{"id", "status", "error", "settings", "evaluation", "train", "spectra",
        "robustness"}``, and ``"dynamics"`` when asked for, as written to ``result.json``.

    Examples
    --------
    >>> from rnnscope.sweep import parse_spec, plan_sweep
    >>> spec = parse_spec("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\nhidden = 4\n"
    ...                   "[train]\nsteps = 2\n")
    >>> import tempfile
    >>> run_point(plan_sweep(spec).points[0], tempfile.mkdtemp(), spec.evaluation())["status"]
    'ok'
    """
    import models.tasks
    from rnnscope.parallel import single_thread

    folder = Path(root) / "runs" / point.id
    folder.mkdir(parents=True, exist_ok=True)
    evaluation = json.loads(dumps(evaluation))
    existing = _finished(folder, point, evaluation)
    if existing is not None:
        return existing
    atomic_write_text(folder / POINT_FILE, dumps(point.settings()))
    result: dict[str, Any] = {
        "id": point.id,
        "status": "ok",
        "error": None,
        "settings": point.settings(),
        "evaluation": evaluation,
        "train": None,
        "spectra": None,
        "robustness": None,
    }
    if "dynamics" in evaluation:
        result["dynamics"] = None
    data = read_task_data(root, point.task, point.task_params)
    with single_thread(), models.tasks.provided_data(*([] if data is None else [data])):
        try:
            result["train"] = _train(point, folder)
            if evaluation.get("analyze") is not None:
                result["spectra"] = _analyze(folder, evaluation["analyze"])
            if evaluation.get("attack") is not None:
                result["robustness"] = _attack(folder, evaluation["attack"])
            if evaluation.get("dynamics") is not None:
                result["dynamics"] = _dynamics(folder, evaluation["dynamics"])
        except _domain_errors() as exc:
            logger.warning("point %s failed: %s", point.id, exc)
            result["status"] = "failed"
            result["error"] = " ".join(str(exc).split()) or type(exc).__name__
    result = jsonable(result)
    atomic_write_text(folder / RESULT_FILE, dumps(result))
    return result


def _finished(
    folder: Path, point: SweepPoint, evaluation: Mapping[str, Any]
) -> dict[str, Any] | None:
    try:
        result = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        isinstance(result, dict)
        and result.get("settings") == jsonable(point.settings())
        and result.get("evaluation") == evaluation
    ):
        return result
    return None


def _train(point: SweepPoint, folder: Path) -> dict[str, Any]:
    from rnnscope.training import completed_run, train_checkpoint

    steps = int(point.train["steps"])
    config = completed_run(folder, steps=steps)
    if config is not None:
        metrics = config["metrics"]
        return {
            "steps": steps,
            "test_loss": metrics.get("test_loss"),
            "test_metric": metrics.get("test_metric"),
            "metric_name": metrics.get("metric_name"),
        }
    summary = train_checkpoint(
        point.kind,
        point.task,
        out=folder,
        task_params=point.task_params,
        hidden=point.hidden,
        steps=steps,
        batch_size=int(point.train["batch_size"]),
        lr=point.lr,
        lr_orth=point.train["lr_orth"],
        constrain=point.constrain,
        clip=point.train["clip"],
        seed=point.seed,
        resume=True,
        options=point.options,
    )
    return {
        "steps": summary["steps"],
        "test_loss": summary["test_loss"],
        "test_metric": summary["test_metric"],
        "metric_name": summary["metric_name"],
    }


def _plain(value: Any) -> Any:
    """Return a result as plain dicts and lists (typed results through their ``to_dict``)."""
    return json.loads(dumps(value))


def _analyze(folder: Path, settings: Mapping[str, Any]) -> dict[str, Any]:
    import models
    from rnnscope.analysis import analyze_checkpoint

    analysis = _plain(analyze_checkpoint(models.load(folder), eps=list(settings["eps"])))
    principal = analysis["principal"]
    matrix = next(m for m in analysis["matrices"] if m["name"] == principal)
    summary = {"matrix": principal, "size": matrix["size"]}
    summary.update({name: matrix.get(name) for name in SPECTRA_FIELDS})
    summary["pseudospectral_radius"] = dict(matrix.get("pseudospectral_radius") or {})
    return summary


def _attack(folder: Path, settings: Mapping[str, Any]) -> dict[str, Any]:
    from rnnscope.attack import attack_checkpoint

    blocks: dict[str, Any] = {}
    for norm in settings["norms"]:
        result = _plain(
            attack_checkpoint(
                folder,
                norm=norm,
                eps=list(settings["eps"][norm]),
                attacks=list(settings["attacks"]),
                samples=int(settings["samples"]),
                steps=int(settings["steps"]),
                seed=int(settings["seed"]),
            )
        )
        blocks[norm] = {
            "eps": result["eps"],
            "samples": result["samples"],
            "clean_accuracy": result["clean_accuracy"],
            "robust_accuracy": result["robust_accuracy"]["worst"],
            "eps50": result["eps50"],
            "auc": result["auc"],
        }
    return blocks


def _dynamics(folder: Path, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Summarise the dynamics of a trained point along its task's test inputs.

    ``gradient_flow_log10`` is the median over the inputs of log10 ‖∂h_T/∂h_t‖₂ at the longest
    lag T − t, ``gradient_flow_linear_log10`` the linear prediction log10 ‖W^(T−t)‖₂ at that lag;
    the full spectrum and profiles are kept under ``detail``.
    """
    from rnnscope.dynamics import analyze_dynamics

    summary = analyze_dynamics(
        folder,
        lyapunov=int(settings["lyapunov"]),
        fixed_points=bool(settings["fixed_points"]),
        samples=int(settings["samples"]),
        seed=int(settings["seed"]),
    ).summary
    lyapunov = summary["lyapunov"] or {}
    flow = summary["gradient_flow"]
    chains = summary.get("chain_profile") or {}
    points = summary.get("fixed_points")
    stderr = lyapunov.get("stderr") or [None]
    return {
        "top_exponent": summary["top_exponent"],
        "top_exponent_stderr": stderr[0],
        "gradient_flow_log10": _last(flow.get("norm_median_log10")),
        "gradient_flow_linear_log10": _last(flow.get("linear_log10")),
        "chain_like": chains.get("chain_like"),
        "fixed_points": None if points is None else len(points.get("points", [])),
        "stable_fixed_points": None if points is None else _stable(points),
        "detail": {
            "lyapunov": {key: lyapunov.get(key) for key in ("exponents", "stderr", "k")},
            "gradient_flow": flow,
            "chain_profile": chains,
        },
    }


def _last(values: Any) -> Any:
    return values[-1] if isinstance(values, list) and values else None


def _stable(points: Mapping[str, Any]) -> int:
    return int((points.get("counts") or {}).get("stable", 0))
