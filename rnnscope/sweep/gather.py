"""Gathering the points' results into ``DIR/results.json`` and ``DIR/results.csv``.

The rows follow the order of the SPEC's grid and hold no path, time or host, so that the same
sweep gives byte-identical files, whatever ran where and whether it ran now or earlier.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rnnscope.files import atomic_write_text
from rnnscope.jsonio import dumps
from rnnscope.options import eps_key
from rnnscope.sweep.plan import RESULT_FILE, SweepPlan
from rnnscope.sweep.point import DYNAMICS_FIELDS, SPECTRA_FIELDS

__all__ = [
    "CSV_FILE",
    "JSON_FILE",
    "csv_rows",
    "gather_results",
    "read_results",
    "write_results",
]

#: Results of every point, one JSON document.
JSON_FILE = "results.json"
#: Results of every point, one CSV row each.
CSV_FILE = "results.csv"

_SETTING_COLUMNS = ("task", "kind", "hidden", "lr", "seed", "constrain")
_TRAIN_COLUMNS = ("steps", "test_loss", "test_metric", "metric_name")


def gather_results(plan: SweepPlan, root: str | os.PathLike[str]) -> dict[str, Any]:
    r"""Collect the result of every point of `plan` from ``root/runs``.

    Parameters
    ----------
    plan : SweepPlan
        The sweep.
    root : str or path-like
        Sweep folder.

    Returns
    -------
    dict
        ``{"sweep": {"name", "task", "evaluation", "points", "finished"}, "runs": [...]}``; a
        run is the point's ``result.json`` (with ``"folder": "runs/<id>"``), or a row with
        ``"status": "missing"`` for a point without a result for the current settings.

    Examples
    --------
    >>> from rnnscope.sweep import parse_spec, plan_sweep
    >>> spec = parse_spec("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\n")
    >>> gather_results(plan_sweep(spec), "/no/such/dir")["runs"][0]["status"]
    'missing'
    """
    spec = plan.spec
    evaluation = json.loads(dumps(spec.evaluation()))
    runs = []
    for point in plan.points:
        settings = json.loads(dumps(point.settings()))
        result = _read(Path(root) / "runs" / point.id / RESULT_FILE)
        if (
            result is None
            or result.get("settings") != settings
            or result.get("evaluation") != evaluation
        ):
            result = {
                "id": point.id,
                "status": "missing",
                "error": None,
                "settings": settings,
                "evaluation": evaluation,
                "train": None,
                "spectra": None,
                "robustness": None,
            }
        runs.append({**result, "folder": f"runs/{point.id}"})
    return {
        "sweep": {
            "name": spec.name,
            "task": {"name": spec.task, "params": dict(spec.task_params)},
            "evaluation": evaluation,
            "points": len(runs),
            "finished": sum(run["status"] != "missing" for run in runs),
        },
        "runs": runs,
    }


def _read(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def csv_rows(gathered: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Flatten gathered results into CSV columns and rows.

    Parameters
    ----------
    gathered : mapping
        Result of :func:`gather_results`.

    Returns
    -------
    (list of str, list of dict)
        Column names, and one dict per run (values not yet formatted): the point's id and
        status, its settings and model options, the training result, the principal matrix's
        spectra, per norm the clean and worst-case robust accuracy at every budget, eps50
        and the area under the robust-accuracy curve, and the dynamics summary (top Lyapunov
        exponent, gradient flow at the longest lag, chain-likeness, fixed points) where asked.

    Examples
    --------
    >>> columns, rows = csv_rows({"sweep": {"evaluation": {}}, "runs": []})
    >>> columns[:3]
    ['id', 'status', 'task']
    """
    evaluation = gathered["sweep"]["evaluation"]
    runs = gathered["runs"]
    options = sorted({key for run in runs for key in run["settings"]["options"]})
    columns = ["id", "status", *_SETTING_COLUMNS, *options, *_TRAIN_COLUMNS]
    analyze = evaluation.get("analyze")
    if analyze is not None:
        columns += list(SPECTRA_FIELDS)
        columns += [f"pseudospectral_radius_{eps_key(e)}" for e in analyze["eps"]]
    attack = evaluation.get("attack")
    if attack is not None:
        for norm in attack["norms"]:
            columns += [f"{norm}_clean_accuracy", f"{norm}_eps50", f"{norm}_auc"]
            columns += [f"{norm}_robust_{eps_key(e)}" for e in attack["eps"][norm]]
    dynamics = evaluation.get("dynamics")
    if dynamics is not None:
        columns += list(DYNAMICS_FIELDS)
    columns.append("error")
    rows = []
    for run in runs:
        settings = run["settings"]
        row: dict[str, Any] = {"id": run["id"], "status": run["status"], "error": run["error"]}
        row["task"] = settings["task"]["name"]
        row.update({key: settings[key] for key in _SETTING_COLUMNS if key != "task"})
        row.update({key: settings["options"].get(key) for key in options})
        row.update({key: (run.get("train") or {}).get(key) for key in _TRAIN_COLUMNS})
        spectra = run.get("spectra") or {}
        if analyze is not None:
            row.update({key: spectra.get(key) for key in SPECTRA_FIELDS})
            radii = spectra.get("pseudospectral_radius") or {}
            for e in analyze["eps"]:
                row[f"pseudospectral_radius_{eps_key(e)}"] = radii.get(eps_key(e))
        robustness = run.get("robustness") or {}
        if attack is not None:
            for norm in attack["norms"]:
                block = robustness.get(norm) or {}
                row[f"{norm}_clean_accuracy"] = block.get("clean_accuracy")
                row[f"{norm}_eps50"] = block.get("eps50")
                row[f"{norm}_auc"] = block.get("auc")
                curve = block.get("robust_accuracy") or []
                for index, e in enumerate(attack["eps"][norm]):
                    value = curve[index] if index < len(curve) else None
                    row[f"{norm}_robust_{eps_key(e)}"] = value
        if dynamics is not None:
            summary = run.get("dynamics") or {}
            row.update({key: summary.get(key) for key in DYNAMICS_FIELDS})
        rows.append(row)
    return columns, rows


def write_results(gathered: Mapping[str, Any], root: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``results.json`` and ``results.csv`` into `root` (atomically).

    Parameters
    ----------
    gathered : mapping
        Result of :func:`gather_results`.
    root : str or path-like
        Sweep folder.

    Returns
    -------
    (pathlib.Path, pathlib.Path)
        The CSV and JSON files.

    Examples
    --------
    >>> import tempfile
    >>> csv_file, _ = write_results({"sweep": {"evaluation": {}}, "runs": []}, tempfile.mkdtemp())
    >>> csv_file.read_text().startswith("id,status,task")
    True
    """
    columns, rows = csv_rows(gathered)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    folder = Path(root)
    csv_path = atomic_write_text(folder / CSV_FILE, buffer.getvalue())
    json_path = atomic_write_text(folder / JSON_FILE, dumps(gathered))
    return csv_path, json_path


def read_results(root: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the ``results.json`` of a sweep folder.

    Parameters
    ----------
    root : str or path-like
        Sweep folder.

    Returns
    -------
    dict
        The gathered results.

    Raises
    ------
    rnnscope.sweep.errors.SweepError
        If the folder holds no readable ``results.json``.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_results({"sweep": {"evaluation": {}}, "runs": []}, folder)
    >>> read_results(folder)["runs"]
    []
    """
    from rnnscope.sweep.errors import SweepError

    path = Path(root) / JSON_FILE
    data = _read(path)
    if data is None or not isinstance(data.get("runs"), list) or "sweep" not in data:
        raise SweepError(f"{root} is not a sweep folder: no readable {JSON_FILE}")
    return data
