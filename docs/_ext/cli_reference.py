"""Sphinx directive ``.. cli-reference::``: the command-line reference, read from the typer app.

Every command of ``rnnscope`` becomes a section with its help text, its usage line, a table of its
arguments and options (with their defaults and help) and its example. The reference is generated
at build time, so it cannot drift from the program.
"""

from __future__ import annotations

from typing import Any

import typer
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

_EXIT_CODES = (
    "Exit codes: **0** success, **2** bad input or usage (one ``error:`` line on stderr), "
    "**1** unexpected failure."
)


def _command_tree() -> Any:
    """Return the command group behind ``rnnscope`` (typer's click group)."""
    from rnnscope.cli import app

    return typer.main.get_command(app)


def _context(command: Any, name: str, parent: Any = None) -> Any:
    """Make a click context of one command, for its usage line and metavars."""
    return command.context_class(command, info_name=name, parent=parent)


def _is_option(param: Any) -> bool:
    """Whether a parameter is an option (not a positional argument)."""
    return param.param_type_name == "option"


def _cell(text: str) -> str:
    """Text of one table cell on a single line."""
    return " ".join(text.split())


def _param_rows(command: Any, context: Any) -> list[str]:
    """Rows of the list-table of a command's arguments and options.

    Options show click's own help record (names, value type, help, default and range);
    arguments their name and help.
    """
    rows = []
    for param in command.params:
        if _is_option(param):
            if param.hidden:
                continue
            record = param.get_help_record(context)
            if record is None:
                continue
            name, help_text = record
        else:
            name = param.name.upper()
            help_text = getattr(param, "help", None) or ""
            help_text += "  [required]" if param.required else ""
        rows.append(f"   * - ``{_cell(name)}``")
        rows.append(f"     - {_cell(help_text) or '-'}")
    return rows


def _table(header: str, rows: list[str]) -> list[str]:
    """Lay out a two-column list-table of parameters."""
    if not rows:
        return []
    return [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 35 65",
        "",
        f"   * - {header}",
        "     - meaning",
        *rows,
        "",
    ]


def _command_lines(name: str, command: Any, parent: Any) -> list[str]:
    """Write the reStructuredText of one command's section."""
    context = _context(command, name, parent)
    title = f"rnnscope {name}"
    lines = [title, "~" * len(title), ""]
    help_text = (command.help or "").strip()
    if help_text:
        lines += [*help_text.splitlines(), ""]
    usage = " ".join(command.collect_usage_pieces(context))
    lines += ["Usage::", "", f"    rnnscope {name} {usage}", ""]
    lines += _table("argument or option", _param_rows(command, context))
    if command.epilog:
        lines += ["::", "", *(f"    {line}" for line in command.epilog.strip().splitlines()), ""]
    lines += [_EXIT_CODES, ""]
    return lines


def reference_lines() -> list[str]:
    """Write the reference: global options, then every command.

    Returns
    -------
    list of str
        The lines, ready for ``nested_parse``.
    """
    group = _command_tree()
    root = _context(group, "rnnscope")
    lines = ["Global options", "~~~~~~~~~~~~~~", ""]
    lines += ["Given before the command name, e.g. ``rnnscope --debug analyze PATH``.", ""]
    lines += _table("option", _param_rows(group, root))
    for name in group.list_commands(root):
        command = group.get_command(root, name)
        if command is None or command.hidden:
            continue
        lines += _command_lines(name, command, root)
    return lines


class CliReference(SphinxDirective):
    """Insert the generated command-line reference."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        """Parse the generated reStructuredText into nodes."""
        container = nodes.section()
        container.document = self.state.document
        source = StringList(reference_lines(), source="rnnscope.cli")
        self.state.nested_parse(source, self.content_offset, container, match_titles=True)
        return list(container.children)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("cli-reference", CliReference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
