"""Sphinx directive ``.. papers-table::``: the reproduction table, read from ``docs/papers.json``.

``benchmarks/papers.py`` computes every number of that file; the directive only lays it out, so
no figure on the page is typed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def _cell(value: Any) -> str:
    """One table cell on one line, with the list-table separator escaped."""
    text = "-" if value is None or value == "" else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def table_lines(data: dict[str, Any]) -> list[str]:
    """Write the reproduction table, one section per paper.

    Parameters
    ----------
    data : dict
        The content of ``docs/papers.json``.

    Returns
    -------
    list of str
        The lines, ready for ``nested_parse``.
    """
    lines = [
        f"Settings: ``{data['settings']}``; command: ``{data['command']}``.",
        "",
    ]
    for paper in data["papers"]:
        lines += [paper["title"], "-" * len(paper["title"]), ""]
        lines += [
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 30 14 18 20 18",
            "",
            "   * - claim",
            "     - published",
            "     - ours",
            "     - command",
            "     - verdict",
        ]
        for row in paper["claims"]:
            verdict = row["verdict"] + (f": {row['why']}" if row.get("why") else "")
            lines += [
                f"   * - {_cell(row['claim'])}",
                f"     - {_cell(row.get('published'))}",
                f"     - {_cell(row.get('ours'))}",
                f"     - ``{_cell(row['command'])}``",
                f"     - {_cell(verdict)}",
            ]
        lines.append("")
    return lines


class PapersTable(SphinxDirective):
    """Insert the reproduction table."""

    has_content = False
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        """Read the JSON file named by the argument and parse the table into nodes."""
        path = Path(self.env.srcdir) / self.arguments[0]
        self.env.note_dependency(str(path))
        data = json.loads(path.read_text(encoding="utf-8"))
        container = nodes.section()
        container.document = self.state.document
        source = StringList(table_lines(data), source=str(path))
        self.state.nested_parse(source, self.content_offset, container, match_titles=True)
        return list(container.children)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("papers-table", PapersTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
