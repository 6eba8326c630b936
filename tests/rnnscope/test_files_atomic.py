"""Output folders are whole or absent: a report folder is swapped in as a whole, and a run
killed at a random point leaves the old content or the new one, never a mix."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rnnscope.errors import OutputPathError
from rnnscope.files import (
    atomic_write_text,
    check_name_length,
    check_output_file,
    name_max,
    prepare_output_dir,
    replace_folder,
)

_OWNED = ("index.html", "report.json", "report.md", "figures")

_WRITER = r"""
import sys
from pathlib import Path
from rnnscope.files import replace_folder

out = Path(sys.argv[1])
gen = int(sys.argv[2])
while True:
    gen += 1

    def build(stage, g=gen):
        for name in ("index.html", "report.json", "report.md"):
            (stage / name).write_text(str(g))
        (stage / "figures").mkdir()
        for i in range(30):
            (stage / "figures" / f"f{i}.svg").write_text(str(g))

    replace_folder(out, build, owned=("index.html", "report.json", "report.md", "figures"))
    print(gen, flush=True)
"""


def _generations(out: Path) -> set[str]:
    files = [out / n for n in _OWNED[:3]] + sorted((out / "figures").iterdir())
    assert len(files) == 33
    return {f.read_text() for f in files}


def _build(gen: int):
    def build(stage: Path) -> int:
        for name in _OWNED[:3]:
            (stage / name).write_text(str(gen))
        (stage / "figures").mkdir()
        for i in range(30):
            (stage / "figures" / f"f{i}.svg").write_text(str(gen))
        return gen

    return build


def test_replace_folder_keeps_foreign_entries_and_drops_old_owned(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    out.mkdir()
    (out / "models").mkdir()
    (out / "models" / "keep.txt").write_text("checkpoint")
    (out / "figures").write_text("a regular file where the report keeps its figures")
    assert replace_folder(out, _build(1), owned=_OWNED) == 1
    assert _generations(out) == {"1"}
    assert (out / "models" / "keep.txt").read_text() == "checkpoint"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]  # no stage left behind


def test_failed_build_leaves_the_old_folder(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    replace_folder(out, _build(1), owned=_OWNED)

    def broken(stage: Path) -> None:
        (stage / "index.html").write_text("2")
        raise RuntimeError("rendering failed")

    with pytest.raises(RuntimeError):
        replace_folder(out, broken, owned=_OWNED)
    assert _generations(out) == {"1"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_killed_at_random_points_leaves_old_or_new(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    out.mkdir()
    (out / "models").mkdir()
    (out / "models" / "keep.txt").write_text("checkpoint")
    replace_folder(out, _build(0), owned=_OWNED)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    rng = random.Random(11)
    seen: set[str] = set()
    for trial in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(out), str(1000 * (trial + 1))],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        proc.stdout.readline()  # at least one swap done: the kill lands inside a later one
        time.sleep(rng.uniform(0.0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        # a reader looking now sees one generation, complete, with the foreign entries
        gens = _generations(out)
        assert len(gens) == 1, gens
        seen |= gens
        # a foreign entry is in the folder, or (killed in the few renames before the swap)
        # in the hidden stage, from which the next run puts it back
        kept = list(tmp_path.glob("*/models/keep.txt"))
        assert len(kept) == 1 and kept[0].read_text() == "checkpoint"
        # the next run cleans up whatever the killed one left
        replace_folder(out, _build(-trial), owned=_OWNED)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]
        assert (out / "models" / "keep.txt").read_text() == "checkpoint"
    assert len(seen) == 6  # every trial ended at a different generation


def test_recovery_after_a_kill_between_moves(tmp_path: Path) -> None:
    """A stage holding moved foreign entries (killed before the swap) gives them back."""
    out = tmp_path / "rep"
    replace_folder(out, _build(1), owned=_OWNED)
    from rnnscope.folder_swap import _stage_prefix

    stage = tmp_path / (_stage_prefix(out) + "new-abc")
    stage.mkdir()
    (stage / "index.html").write_text("2")
    (stage / "models").mkdir()
    (stage / "models" / "keep.txt").write_text("checkpoint")
    replace_folder(out, _build(3), owned=_OWNED)
    assert _generations(out) == {"3"}
    assert (out / "models" / "keep.txt").read_text() == "checkpoint"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_names_longer_than_the_file_system_allows(tmp_path: Path) -> None:
    limit = name_max(tmp_path)
    long = "x" * (limit + 1)
    with pytest.raises(OutputPathError, match=rf"too long \({limit + 5} bytes"):
        check_output_file(tmp_path / f"{long}.svg", suffixes=(".svg",), what="--out")
    with pytest.raises(OutputPathError, match="too long"):
        prepare_output_dir(tmp_path / long / "sub", what="--out")
    assert not any(tmp_path.iterdir())
    # a name exactly at the limit is written, although its temporary name is shorter
    name = "y" * (limit - 4) + ".svg"
    check_name_length(tmp_path / name)
    atomic_write_text(check_output_file(tmp_path / name, suffixes=(".svg",)), "<svg/>")
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.slow
def test_report_killed_at_random_points_is_old_or_new(tmp_path: Path) -> None:
    """``rnnscope report`` killed at random delays: the folder holds one whole report."""
    import json

    import numpy as np

    matrix = tmp_path / "w.npy"
    np.save(matrix, np.array([[0.5, 1.0], [0.0, 0.25]]))
    out = tmp_path / "rep"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]), MPLBACKEND="Agg")

    def command(eps: str) -> list[str]:
        return [sys.executable, "-m", "rnnscope", "-q", "report", str(matrix), "--out", str(out),
                "--grid", "10", "--eps", eps]  # fmt: skip

    def check() -> str:
        data = json.loads((out / "report.json").read_text())
        eps = data["settings"]["pseudo_eps"]
        html, md = (out / "index.html").read_text(), (out / "report.md").read_text()
        for text in (html, md):
            assert f"{eps[0]}" in text
        figures = sorted((out / "figures").iterdir())
        assert figures
        for figure in figures:
            svg = figure.read_text().split("\n", 1)[1].strip()
            assert svg.split("<metadata>")[0][:200] in html
        return str(eps)

    start = time.perf_counter()
    subprocess.run(command("0.125"), env=env, check=True, capture_output=True)
    duration = time.perf_counter() - start
    first = check()
    rng = random.Random(3)
    for trial in range(4):
        eps = "0.375" if trial % 2 == 0 else "0.125"
        proc = subprocess.Popen(command(eps), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(rng.uniform(0.5, 1.1) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert check() in (first, "[0.375]")
