"""The Sphinx documentation builds without a warning and covers the API, the CLI and notebooks."""

from __future__ import annotations

import html
import re
from pathlib import Path

import typer

import attacks
import models
import rnnscope
import spectra
from rnnscope.cli import app


def _text(page: Path) -> str:
    """The visible text of an HTML page, tags removed and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))


def test_api_reference_names_every_public_name(built_docs: Path) -> None:
    api = (built_docs / "api.html").read_text(encoding="utf-8")
    for package in (spectra, models, attacks, rnnscope):
        for name in package.__all__:
            obj = getattr(package, name)
            if isinstance(obj, type(spectra)) or not callable(obj):
                continue  # modules have their own entries; constants are described in prose
            dotted = f"{package.__name__}.{name}"
            assert dotted in api, f"{dotted} is not documented"


def test_api_reference_documents_the_extension_points(built_docs: Path) -> None:
    api = (built_docs / "api.html").read_text(encoding="utf-8")
    for name in (
        "rnnscope.measures.register_measure",
        "rnnscope.report.sections.register_section",
    ):
        assert name in api, f"{name} is missing from the API reference"


def test_cli_reference_lists_every_command_and_option(built_docs: Path) -> None:
    text = _text(built_docs / "cli.html")
    group = typer.main.get_command(app)
    root = group.context_class(group, info_name="rnnscope")
    names = group.list_commands(root)
    assert {"train", "analyze", "pseudospectrum", "attack", "report", "demo"} <= set(names)
    for name in names:
        command = group.get_command(root, name)
        assert command is not None
        assert f"rnnscope {name}" in text, name
        for param in command.params:
            if param.param_type_name == "option":
                for opt in param.opts:
                    assert opt in text, f"{name} {opt} is missing from the CLI reference"
        if command.epilog:
            example = command.epilog.strip().split(":", 1)[-1]
            assert "".join(example.split()) in "".join(text.split()), name


def test_notebooks_are_rendered_with_their_outputs(built_docs: Path) -> None:
    pages = sorted((built_docs / "notebooks").glob("*.html"))
    assert len(pages) >= 5
    for page in pages:
        content = page.read_text(encoding="utf-8")
        assert "<img" in content or "<svg" in content, f"{page.name} shows no figure"
        assert "cell_output" in content, f"{page.name} shows no output"
