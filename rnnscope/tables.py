"""Rich tables printed by the command line on stdout."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "MEASURES",
    "fmt",
    "print_analysis",
    "print_attack",
    "print_report_summary",
    "print_tensor_list",
    "print_train_summary",
]

#: Row labels of the analysis table, by field of :func:`rnnscope.analysis.analyze_matrix`.
MEASURES: tuple[tuple[str, str], ...] = (
    ("size", "size N"),
    ("spectral_radius", "spectral radius ρ"),
    ("spectral_radius_power", "ρ (power method)"),
    ("spectral_norm", "spectral norm σ_max"),
    ("spectral_norm_power", "σ_max (power method)"),
    ("henrici", "Henrici departure"),
    ("henrici_relative", "Henrici / ‖W‖_F"),
    ("chain_length", "chain length"),
    ("orthogonality_error", "‖WᵀW − I‖_F"),
    ("eigenvector_condition", "eigenvector condition κ(V)"),
    ("kreiss_lower_bound", "Kreiss lower bound"),
    ("max_transient_growth", "max_k ‖W^k‖₂"),
)


def fmt(value: Any, digits: int = 4) -> str:
    """Format a number for a table: ``digits`` significant digits, ``-`` for missing values.

    Parameters
    ----------
    value : Any
        A number, ``None`` or text.
    digits : int, optional
        Significant digits of floats.

    Returns
    -------
    str
        The formatted value; NaN and ``None`` give ``"-"``, infinity ``"inf"``.

    Examples
    --------
    >>> fmt(3.14159), fmt(None), fmt(float("inf")), fmt(7)
    ('3.142', '-', 'inf', '7')
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.{digits}g}"
    return str(value)


def _table(title: str | None = None) -> Any:
    from rich import box
    from rich.table import Table

    return Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")


def print_train_summary(console: Any, summary: Mapping[str, Any]) -> None:
    """Print the outcome of a training run.

    Parameters
    ----------
    console : rich.console.Console
        Destination.
    summary : mapping
        Result of :func:`rnnscope.training.train_checkpoint`.

    Examples
    --------
    >>> from rich.console import Console
    >>> print_train_summary(Console(width=60), {"kind": "rnn", "steps": 2, "out": "runs/r"})
    ... # doctest: +ELLIPSIS
    training finished...
    """
    from rich.markup import escape

    table = _table("training finished")
    table.add_column("field")
    table.add_column("value")
    for key in ("kind", "task", "steps", "test_loss", "test_metric", "metric_name", "baseline"):
        table.add_row(key.replace("_", " "), escape(fmt(summary.get(key))))
    table.add_row("checkpoint", escape(str(summary.get("out"))))
    console.print(table)


def print_tensor_list(console: Any, source: str, infos: Sequence[Any]) -> None:
    """Print every tensor of a file with its shape and whether it is square.

    Parameters
    ----------
    console : rich.console.Console
        Destination.
    source : str
        The file that was listed.
    infos : sequence of models.TensorInfo
        Entries with ``key``, ``shape`` and ``square``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from rich.console import Console
    >>> info = SimpleNamespace(key="W", shape=(3, 3), square=True)
    >>> print_tensor_list(Console(width=60), "w.npz", [info])  # doctest: +ELLIPSIS
    tensors in w.npz...
    """
    from rich.markup import escape

    table = _table(escape(f"tensors in {source}"))
    table.add_column("key")
    table.add_column("shape")
    table.add_column("square")
    for info in infos:
        shape = "x".join(str(int(s)) for s in info.shape) or "scalar"
        table.add_row(escape(str(info.key)), shape, "yes" if info.square else "no")
    console.print(table)
    console.print("analyze square tensors by name with: rnnscope analyze PATH --matrix KEY")


def print_analysis(console: Any, result: Mapping[str, Any]) -> None:
    """Print the detected format, the formulas used and one column of measures per matrix.

    Parameters
    ----------
    console : rich.console.Console
        Destination.
    result : mapping
        Result of :func:`rnnscope.analysis.analyze_checkpoint`.

    Examples
    --------
    >>> from rich.console import Console
    >>> result = {"source": "w.npy", "format": "matrix", "kind": None, "matrices": []}
    >>> print_analysis(Console(width=60), result)  # doctest: +ELLIPSIS
    source: w.npy
    format: matrix (kind: -)
    ...
    """
    from rich.markup import escape

    matrices = list(result.get("matrices", []))
    console.print(escape(f"source: {result.get('source')}"))
    console.print(escape(f"format: {result.get('format')} (kind: {result.get('kind') or '-'})"))
    for entry in matrices:
        keys = ", ".join(entry.get("source_keys", [])) or "-"
        formula = entry.get("formula") or "-"
        console.print(escape(f"  {entry['name']}: {formula}   [keys: {keys}]"))
        if entry.get("note"):
            console.print(escape(f"    note: {entry['note']}"))
    for name, shape in sorted(result.get("other_blocks", {}).items()):
        size = "x".join(str(n) for n in shape)
        console.print(escape(f"  {name}: {size} block, not an h -> h matrix (not analysed)"))
    table = _table()
    table.add_column("measure")
    for entry in matrices:
        table.add_column(escape(str(entry["name"])), justify="right")
    for key, label in MEASURES:
        table.add_row(label, *(fmt(entry.get(key)) for entry in matrices))
    eps_keys: list[str] = []
    for entry in matrices:
        for key in entry.get("pseudospectral_radius", {}):
            if key not in eps_keys:
                eps_keys.append(key)
    for key in eps_keys:
        table.add_row(
            f"ε-pseudospectral radius, ε={key}",
            *(fmt(entry.get("pseudospectral_radius", {}).get(key)) for entry in matrices),
        )
    console.print(table)


def print_attack(console: Any, result: Mapping[str, Any]) -> None:
    """Print clean and robust accuracy per attack and budget.

    Parameters
    ----------
    console : rich.console.Console
        Destination.
    result : mapping
        Result of :func:`rnnscope.evaluation.attack_checkpoint`.

    Examples
    --------
    >>> from rich.console import Console
    >>> result = {"source": "runs/r", "task": {"name": "digits"}, "samples": 8, "norm": "l2",
    ...           "clean_accuracy": 0.5, "eps": [0.1], "robust_accuracy": {"worst": [0.25]}}
    >>> print_attack(Console(width=60), result)  # doctest: +ELLIPSIS
    runs/r: task digits, 8 samples, norm l2, clean accuracy 0.5
    ...
    """
    from rich.markup import escape

    console.print(
        escape(
            f"{result['source']}: task {result['task']['name']}, {result['samples']} samples, "
            f"norm {result['norm']}, clean accuracy {fmt(result['clean_accuracy'])}"
        )
    )
    eps = [float(e) for e in result["eps"]]
    table = _table()
    table.add_column("attack")
    for e in eps:
        table.add_column(f"ε={fmt(e)}", justify="right")
    for name, accuracies in result["robust_accuracy"].items():
        table.add_row(escape(str(name)), *(fmt(a) for a in accuracies))
    console.print(table)


def _summary_cell(key: str, value: Any) -> str:
    """Terminal text of a comparison-table cell (failed sanity checks are counted)."""
    if key == "sanity" and isinstance(value, str) and value.startswith("FAIL"):
        return f"FAIL ({value.count(';') + 1})"
    return fmt(value, 3)


def print_report_summary(console: Any, report: Any, index: Any) -> None:
    """Print the comparison table of a report and the path of its HTML page.

    Parameters
    ----------
    console : rich.console.Console
        Destination.
    report : rnnscope.report.Report
        The built report.
    index : path-like
        Path of the written ``index.html``.

    Examples
    --------
    >>> from rich.console import Console
    >>> from rnnscope.report import Report, ReportSettings
    >>> report = Report(ReportSettings(), models=[], figures=[], provenance={}, timings={})
    >>> print_report_summary(Console(width=200), report, "out/index.html")  # doctest: +ELLIPSIS
    models...
    report: out/index.html
    """
    from rich.markup import escape

    table = _table("models")
    columns = report.summary_columns(compact=True)
    for label, key in columns:
        text = key in ("model", "kind", "sanity")
        table.add_column(escape(label), justify="left" if text else "right", no_wrap=True)
    for row in report.summary_rows():
        table.add_row(*(escape(_summary_cell(key, row.get(key))) for _, key in columns))
    console.print(table)
    console.print(escape(f"report: {index}"))
