"""Rich tables printed by the command line on stdout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rnnscope.measures import fmt, measures, table_rows
from rnnscope.safetext import printable

if TYPE_CHECKING:
    from rnnscope.analysis import CheckpointAnalysis
    from rnnscope.report import Report
    from rnnscope.robustness import AttackRun

__all__ = [  # noqa: F822 - MEASURES comes from the measure registry
    "MEASURES",
    "fmt",
    "print_analysis",
    "print_attack",
    "print_report_summary",
    "print_tensor_list",
    "print_train_summary",
]


def __getattr__(name: str) -> Any:
    if name == "MEASURES":  # row labels of the analysis table, from the measure registry
        return tuple((m.key, m.label) for m in measures() if m.table and not m.per_eps)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _show(text: object) -> str:
    """Text from files, safe to print: control characters escaped, no rich markup."""
    from rich.markup import escape

    return escape(printable(text))


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
    table = _table("training finished")
    table.add_column("field")
    table.add_column("value")
    for key in ("kind", "task", "steps", "test_loss", "test_metric", "metric_name", "baseline"):
        table.add_row(key.replace("_", " "), _show(fmt(summary.get(key))))
    table.add_row("checkpoint", _show(str(summary.get("out"))))
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
    table = _table(_show(f"tensors in {source}"))
    table.add_column("key")
    table.add_column("shape")
    table.add_column("square")
    for info in infos:
        shape = "x".join(str(int(s)) for s in info.shape) or "scalar"
        table.add_row(_show(str(info.key)), shape, "yes" if info.square else "no")
    console.print(table)
    console.print("analyze square tensors by name with: rnnscope analyze PATH --matrix KEY")


def print_analysis(console: Any, result: CheckpointAnalysis) -> None:
    """Print the detected format, the formulas used and one column of measures per matrix.

    Parameters
    ----------
    console : rich.console.Console
        Destination.
    result : rnnscope.analysis.CheckpointAnalysis
        Result of :func:`rnnscope.analysis.analyze_checkpoint`; one row per registered
        measure (see :mod:`rnnscope.measures`).

    Examples
    --------
    >>> from rich.console import Console
    >>> from rnnscope.analysis import CheckpointAnalysis
    >>> print_analysis(Console(width=60), CheckpointAnalysis("w.npy", None, "matrix", "W", ()))
    ... # doctest: +ELLIPSIS
    source: w.npy
    format: matrix (kind: -)
    ...
    """
    matrices = list(result.matrices)
    console.print(_show(f"source: {result.source}"))
    console.print(_show(f"format: {result.format} (kind: {result.kind or '-'})"))
    for entry in matrices:
        keys = ", ".join(entry.source_keys) or "-"
        formula = entry.formula or "-"
        console.print(_show(f"  {entry.name}: {formula}   [keys: {keys}]"))
        if entry.note:
            console.print(_show(f"    note: {entry.note}"))
    for name, shape in sorted(result.other_blocks.items()):
        size = "x".join(str(n) for n in shape)
        console.print(_show(f"  {name}: {size} block, not an h -> h matrix (not analysed)"))
    table = _table()
    table.add_column("measure")
    for entry in matrices:
        table.add_column(_show(str(entry.name)), justify="right")
    for label, cells in table_rows(matrices):
        table.add_row(label, *cells)
    console.print(table)


def print_attack(console: Any, result: AttackRun | Mapping[str, Any]) -> None:
    """Print clean and robust accuracy per attack and budget.

    Parameters
    ----------
    console : rich.console.Console
        Destination.
    result : rnnscope.robustness.AttackRun or mapping
        Result of :func:`rnnscope.attack.attack_checkpoint` (or its ``to_dict()``).

    Examples
    --------
    >>> from rich.console import Console
    >>> result = {"source": "runs/r", "task": {"name": "digits"}, "samples": 8, "norm": "l2",
    ...           "clean_accuracy": 0.5, "eps": [0.1], "robust_accuracy": {"worst": [0.25]}}
    >>> print_attack(Console(width=60), result)  # doctest: +ELLIPSIS
    runs/r: task digits, 8 samples, norm l2, clean accuracy 0.5
    ...
    """
    if not isinstance(result, Mapping):
        result = result.to_dict()
    console.print(
        _show(
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
        table.add_row(_show(str(name)), *(fmt(a) for a in accuracies))
    console.print(table)
    windows = result.get("time_windows")
    if windows:
        cells = ", ".join(
            f"steps {a}-{b}: {fmt(acc)}"
            for (a, b), acc in zip(windows["windows"], windows["robust_accuracy"], strict=True)
        )
        console.print(_show(f"attack confined to one window at eps {fmt(windows['eps'])}: {cells}"))
    matrix = result.get("transfer")
    if matrix:
        grid = _table()
        grid.add_column("crafted on \\ evaluated on")
        for name in matrix["names"]:
            grid.add_column(_show(str(name)), justify="right")
        for name, row in zip(matrix["names"], matrix["accuracy"], strict=True):
            grid.add_row(_show(str(name)), *(fmt(a) for a in row))
        console.print(_show(f"transfer at eps {fmt(matrix['eps'])}"))
        console.print(grid)
    hidden = result.get("hidden_state")
    if hidden:
        console.print(_show(_hidden_title(hidden)))
        console.print(_hidden_table(hidden))


def _hidden_title(hidden: Mapping[str, Any]) -> str:
    return (
        f"hidden state perturbed after step {hidden['step']} of {hidden['n_steps']} "
        "(||dh|| = delta ||h_t||; 95 % Wilson intervals)"
    )


def _hidden_table(hidden: Mapping[str, Any]) -> Any:
    table = _table()
    table.add_column("direction")
    for delta in hidden["deltas"]:
        table.add_column(f"δ={fmt(delta)}", justify="right")
    rows = [("random", hidden["random_accuracy"], hidden["random_intervals"])]
    if hidden.get("adversarial_accuracy") is not None:
        rows.append(
            ("adversarial", hidden["adversarial_accuracy"], hidden["adversarial_intervals"])
        )
    for name, values, bands in rows:
        cells = (
            f"{fmt(v)} [{fmt(lo)}, {fmt(hi)}]" for v, (lo, hi) in zip(values, bands, strict=True)
        )
        table.add_row(name, *cells)
    return table


def print_report_summary(console: Any, report: Report, index: Any) -> None:
    """Print the compact comparison table of a report and the path of its HTML page.

    Accuracies within noise of their column's best carry the mark of
    :mod:`rnnscope.report.significance`, explained under the table.

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
    >>> report = Report(ReportSettings(), models=[], provenance={}, timings={})
    >>> print_report_summary(Console(width=200), report, "out/index.html")  # doctest: +ELLIPSIS
    models...
    report: out/index.html
    """
    from rnnscope.report.significance import FOOTNOTE, MARK, not_significant

    table = _table("models")
    columns = report.columns(compact=True)
    marks = not_significant(columns, report.models)
    for column in columns:
        table.add_column(
            _show(column.label), justify="left" if column.text else "right", no_wrap=True
        )
    for model in report.models:
        cells = []
        for column in columns:
            text = _show(column.terminal(model))
            if model.name in marks.get(column.key, {}).get("not_significant", ()):
                text = f"{text} {MARK}"
            cells.append(text)
        table.add_row(*cells)
    console.print(table)
    if any(found["not_significant"] for found in marks.values()):
        console.print(FOOTNOTE, soft_wrap=True)
    console.print(_show(f"report: {index}"))
