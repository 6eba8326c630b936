"""The reproduction table (``docs/papers.json``) is whole and its closed-form rows are current."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).parents[2]
TABLE = ROOT / "docs" / "papers.json"


@pytest.fixture(scope="module")
def papers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("papers", ROOT / "benchmarks" / "papers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["papers"] = module  # dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["papers"]
    return module


@pytest.fixture(scope="module")
def table() -> dict:
    return json.loads(TABLE.read_text(encoding="utf-8"))


def test_every_paper_has_rows_with_a_verdict(papers: ModuleType, table: dict) -> None:
    titles = [paper["title"] for paper in table["papers"]]
    assert titles == list(papers.TITLES.values())
    verdicts = {papers.HOLDS, papers.FAILS, papers.OFFLINE}
    for paper in table["papers"]:
        assert len(paper["claims"]) >= 2, paper["title"]
        for row in paper["claims"]:
            assert row["verdict"] in verdicts, row
            assert row["command"].startswith("python benchmarks/papers.py"), row
            if row["verdict"] == papers.OFFLINE:
                assert row["why"], f"an untestable claim says why: {row['claim']}"
            else:
                assert row["ours"], f"a tested claim has our number: {row['claim']}"


def test_table_was_written_with_the_quick_settings(papers: ModuleType, table: dict) -> None:
    assert table["settings"] == str(papers.QUICK)
    assert table["command"] == "python benchmarks/papers.py"


def test_closed_form_rows_match_a_fresh_computation(papers: ModuleType, table: dict) -> None:
    fresh = papers.collect(papers.QUICK, only="linear")
    stored = {paper["title"]: paper["claims"] for paper in table["papers"]}
    for paper in fresh["papers"]:
        for row in paper["claims"]:
            assert row in stored[paper["title"]], f"stale row: {row['claim']}"
