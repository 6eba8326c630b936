"""Rendering a built report: HTML and Markdown from one view, JSON from ``to_dict()``.

Names from checkpoints (paths, matrix keys, options) are untrusted: the HTML template escapes
them (jinja2 autoescape), the Markdown renderer escapes every interpolated value, and only the
SVG generated here is marked safe.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rnnscope.files import replace_folder
from rnnscope.jsonio import dumps
from rnnscope.measures import fmt
from rnnscope.options import eps_key
from rnnscope.report.document import TITLE, ModelReport, Report
from rnnscope.report.sections import sections
from rnnscope.report.transfer import transfer_view
from rnnscope.safetext import printable

__all__ = ["render_html", "render_json", "render_markdown", "write_report"]


def _view(report: Report) -> dict[str, Any]:
    """Template context shared by the HTML and Markdown renderers."""
    from rnnscope.report.significance import FOOTNOTE, MARK, not_significant

    columns = report.columns()
    rows = [{column.key: column.cell(model) for column in columns} for model in report.models]
    marks = not_significant(columns, report.models)
    for model, row in zip(report.models, rows, strict=True):
        for key, found in marks.items():
            if model.name in found["not_significant"]:
                row[key] = {**row[key], "text": f"{row[key]['text']} {MARK}"}
    provenance = report.provenance
    provenance_rows = [
        ("rnnscope", provenance["rnnscope"]),
        (
            "versions",
            ", ".join(f"{k} {v}" for k, v in sorted(provenance["versions"].items())),
        ),
        ("compute threads per model", str(provenance["threads_per_model"])),
        ("seed", str(provenance["seed"])),
        (
            "settings",
            "; ".join(f"{k} = {_setting(v)}" for k, v in sorted(provenance["settings"].items())),
        ),
    ]
    return {
        "title": TITLE,
        "settings": {
            key: [eps_key(v) for v in value] if key.endswith("_eps") else value
            for key, value in report.settings.to_dict().items()
        },
        "columns": columns,
        "rows": rows,
        "significance_note": (
            FOOTNOTE if any(found["not_significant"] for found in marks.values()) else None
        ),
        "models": [_model_view(model) for model in report.models],
        "transfer": transfer_view(report.transfer),
        "provenance": provenance_rows,
    }


def _setting(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _model_view(model: ModelReport) -> dict[str, Any]:
    from markupsafe import Markup

    blocks = []
    for section in sections():
        if section.template is None and section.html is None:
            continue
        view = section.view(model, model.result(section.key))
        if view is not None:
            source = {"html": section.html, "md": section.markdown}
            blocks.append({**view, "_template": section.template, "_source": source})
    return {
        "name": model.name,
        "source": model.source,
        "format": model.format,
        "kind": model.kind,
        "options_text": ", ".join(f"{k}={v}" for k, v in sorted(model.options.items())),
        "task_text": _task_text(model.task),
        "training_text": _training_text(model.training),
        "notes": list(model.notes),
        "blocks": blocks,
        "figures": [
            {"svg": Markup(f.svg), "caption": f.caption, "file": f.file, "key": f.key}
            for f in model.figures
        ],
    }


def _task_text(task: Mapping[str, Any] | None) -> str:
    if not task:
        return ""
    params = ", ".join(f"{k}={v}" for k, v in sorted((task.get("params") or {}).items()))
    return f"{task.get('name')} ({params})" if params else str(task.get("name"))


def _training_text(training: Mapping[str, Any] | None) -> str:
    if not training:
        return ""
    parts = [
        f"{k} {fmt(training.get(k))}" for k in ("steps", "batch_size", "lr", "lr_orth", "seed")
    ]
    if training.get("test_metric") is not None:
        parts.append(
            f"test {training.get('metric_name') or 'metric'} {fmt(training['test_metric'])}"
        )
    return ", ".join(parts)


def _environment(kind: str) -> Any:
    import jinja2

    escaping: dict[str, Any] = (
        {"autoescape": jinja2.select_autoescape(["html", "j2"], default=True)}
        if kind == "html"
        else {"autoescape": False, "finalize": _markdown_escape}
    )
    return jinja2.Environment(
        loader=jinja2.PackageLoader("rnnscope", "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        **escaping,
    )


def _render(kind: str, view: Mapping[str, Any]) -> str:
    """Render ``report.<kind>.j2`` (``html`` or ``md``) with a view from :func:`_view`."""
    env = _environment(kind)

    def template(block: Mapping[str, Any]) -> Any:
        source = block["_source"][kind]
        if source is not None:
            return env.from_string(source)
        return env.get_template(f"sections/{block['_template']}.{kind}.j2")

    models = [
        {**model, "blocks": [{**block, "template": template(block)} for block in model["blocks"]]}
        for model in view["models"]
    ]
    return env.get_template(f"report.{kind}.j2").render(**{**view, "models": models})


_MARKDOWN_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "|": "\\|",
    "`": "\\`",
    "*": "\\*",
    "_": "\\_",
    "[": "\\[",
    "]": "\\]",
    "\\": "\\\\",
}


def _markdown_escape(value: Any) -> str:
    """Escape a value for Markdown text (no markup, no HTML, no table breaks, no controls)."""
    if value is None:
        return ""
    text = printable(" ".join(str(value).split()))
    return "".join(_MARKDOWN_ESCAPES.get(ch, ch) for ch in text)


def render_html(report: Report) -> str:
    """Render the self-contained HTML page.

    Parameters
    ----------
    report : Report
        The built report.

    Returns
    -------
    str
        The page; no external URL, no script, figures inline as SVG.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from rnnscope.report import ReportSettings, build_report
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> report = build_report([path], ReportSettings(grid=16), workers=1)
    >>> render_html(report).startswith("<!DOCTYPE html>")
    True
    """
    return _render("html", _view(report))


def render_markdown(report: Report) -> str:
    """Render the Markdown report (figures referenced as ``figures/*.svg``).

    Parameters
    ----------
    report : Report
        The built report.

    Returns
    -------
    str
        Markdown text; every interpolated value is escaped.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from rnnscope.report import ReportSettings, build_report
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> report = build_report([path], ReportSettings(grid=16), workers=1)
    >>> render_markdown(report).splitlines()[0]
    '# rnnscope robustness report'
    """
    return _render("md", _view(report))


def render_json(report: Report) -> str:
    """Render ``report.json`` (sorted keys, ``null`` for non-finite values).

    Parameters
    ----------
    report : Report
        The built report.

    Returns
    -------
    str
        Canonical JSON text.

    Examples
    --------
    >>> import json, tempfile, pathlib, numpy as np
    >>> from rnnscope.report import ReportSettings, build_report
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> report = build_report([path], ReportSettings(grid=16), workers=1)
    >>> json.loads(render_json(report))["models"][0]["name"]
    'w'
    """
    return dumps(report.to_dict())


_TIMINGS_NOTE = (
    "wall-clock seconds; kept apart so that index.html, report.json and report.md are reproducible"
)


def write_report(report: Report, folder: str | os.PathLike[str]) -> Path:
    """Write the report into `folder` as a whole, replacing an older report there.

    Everything is rendered in memory first, then written into a hidden sibling folder that is
    swapped in with an atomic rename exchange (:func:`rnnscope.files.replace_folder`): a reader
    sees the old report or the new one, never a mix, and a failure or a kill leaves the old one.
    Entries of `folder` that the report does not write (such as the demo's ``models/``) are kept.

    Parameters
    ----------
    report : Report
        The built report.
    folder : str or path-like
        Report folder; created if missing. Its parent must be writable.

    Returns
    -------
    pathlib.Path
        Path of ``index.html``.

    Raises
    ------
    OSError
        If a file cannot be written.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from rnnscope.report import ReportSettings, build_report
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> np.save(path, np.eye(2))
    >>> report = build_report([path], ReportSettings(grid=16), workers=1)
    >>> write_report(report, tempfile.mkdtemp()).name
    'index.html'
    """
    out = Path(folder)
    view = _view(report)
    html = _render("html", view)
    markdown = _render("md", view)
    data = render_json(report)
    timings = dumps({"timings_seconds": report.timings, "note": _TIMINGS_NOTE})

    def build(stage: Path) -> None:
        (stage / "figures").mkdir()
        for model in report.models:
            for figure in model.figures:
                (stage / figure.file).write_bytes(_standalone_svg(figure.svg).encode("utf-8"))
        for name, text in (
            ("report.json", data),
            ("report.md", markdown),
            ("timings.json", timings),
            ("index.html", html),
        ):
            (stage / name).write_bytes(text.encode("utf-8"))

    replace_folder(out, build, owned=REPORT_ENTRIES)
    return out / "index.html"


#: Entries of a report folder that :func:`write_report` writes (and replaces).
REPORT_ENTRIES = ("index.html", "report.json", "report.md", "timings.json", "figures")


def _standalone_svg(svg: str) -> str:
    return '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + svg + "\n"
