"""Reproduce the seed papers' claims at small scale and write ``docs/papers.json``.

One row per claim: the claim, the published number where there is one, ours, the command that
produced it and a verdict (*holds*, *does not hold at this scale*, *not testable offline*). The
verdicts are decided by the rules in the code below, from the measured numbers. The documentation's
"Reproducing the papers" page renders the file; nothing in it is typed by hand.

Usage::

    python benchmarks/papers.py            # quick settings (a few minutes on 2 cores)
    python benchmarks/papers.py --full     # larger networks, more steps and seeds
    python benchmarks/papers.py --only linear --out -   # the closed-form rows only, to stdout
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _paper_claims import nnrnn_rows, nru_rows, orhan_rows, orthogonal_rows, sengupta_rows
from _paper_rows import FAILS, FULL, HOLDS, OFFLINE, QUICK, Runs, Settings, row

import spectra
from spectra import matrices

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "papers.json"
LINEAR_COMMAND = "python benchmarks/papers.py --only linear --out -"

__all__ = [
    "FAILS",
    "FULL",
    "HOLDS",
    "OFFLINE",
    "QUICK",
    "TITLES",
    "Settings",
    "collect",
    "linear_rows",
    "main",
]


# ---------------------------------------------------------------------------------------------
# Closed-form rows (cheap; the test suite recomputes them)


def linear_rows() -> dict[str, list[dict[str, Any]]]:
    """Rows that follow from linear algebra alone: Fisher memory of chains and normal matrices."""
    e1 = np.zeros(100)
    e1[0] = 1.0
    totals = [
        float(spectra.fisher_memory(matrices.chain(100, alpha=a), e1, 100).sum())
        for a in (0.95, 1.0, 1.05)
    ]
    published = (3.03, 5.19, 12.1)
    close = all(abs(t - p) / p < 0.01 for t, p in zip(totals, published, strict=True))
    normal = [matrices.random_orthogonal(100, seed=1), np.eye(100), 0.9 * np.eye(100)]
    deviation = max(abs(float(spectra.fisher_memory(W, e1, 100).sum()) - 1.0) for W in normal)
    fisher = row(
        "Total Fisher memory J_tot of a chain, N = 100, alpha = 0.95 / 1 / 1.05",
        "3.03 / 5.19 / 12.1",
        " / ".join(f"{t:.2f}" for t in totals),
        LINEAR_COMMAND,
        HOLDS if close else FAILS,
    )
    normal_row = row(
        "Every normal W stores J_tot = 1 (orthogonal, identity, 0.9 I)",
        "1",
        "max |J_tot - 1| < 1e-12" if deviation < 1e-12 else f"max |J_tot - 1| = {deviation:.1e}",
        LINEAR_COMMAND,
        HOLDS if deviation < 1e-6 else FAILS,
    )
    return {"orhan": [fisher, normal_row], "nnrnn": [dict(fisher)]}


TITLES = {
    "orhan": "Orhan & Pitkow, non-normal RNNs (ICLR 2020)",
    "sengupta": "Sengupta & Friston, how robust are RNNs? (2018)",
    "scornn": "Helfrich, Willmott & Ye, scoRNN (ICML 2018)",
    "exprnn": "Lezcano-Casado & Martínez-Rubio, expRNN (ICML 2019)",
    "nru": "Chandar et al., NRU (AAAI 2019)",
    "nnrnn": "Kerg et al., nnRNN (NeurIPS 2019)",
}


def collect(settings: Settings, *, only: str | None = None) -> dict[str, Any]:
    """Compute every row.

    Parameters
    ----------
    settings : Settings
        Sizes and budgets of the training runs.
    only : {"linear"}, optional
        Compute only the closed-form rows (no training).

    Returns
    -------
    dict
        The content of ``docs/papers.json``.
    """
    rows: dict[str, list[dict[str, Any]]] = {key: [] for key in TITLES}
    for key, extra in linear_rows().items():
        rows[key] += extra
    if only != "linear":
        with tempfile.TemporaryDirectory(prefix="rnnscope-papers-") as workdir:
            runs = Runs(settings, Path(workdir))
            rows["orhan"] += orhan_rows(runs)
            rows["sengupta"] += sengupta_rows(runs)
            for key, extra in orthogonal_rows(runs).items():
                rows[key] += extra
            rows["nru"] += nru_rows(runs)
            rows["nnrnn"] += nnrnn_rows(runs)
    flag = "" if settings is QUICK else " --full"
    return {
        "settings": str(settings),
        "command": f"python benchmarks/papers.py{flag}",
        "papers": [{"title": TITLES[key], "claims": rows[key]} for key in TITLES if rows[key]],
    }


def _write(data: dict[str, Any], out: str) -> None:
    """Write the JSON atomically (or to stdout for ``-``)."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if out == "-":
        sys.stdout.write(text)
        return
    target = Path(out)
    partial = target.with_name(f".{target.name}.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)


def main(argv: list[str] | None = None) -> int:
    """Compute the rows and write them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="larger runs")
    parser.add_argument("--only", choices=["linear"], help="only the closed-form rows")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output file, or - for stdout")
    args = parser.parse_args(argv)
    data = collect(FULL if args.full else QUICK, only=args.only)
    _write(data, args.out)
    for paper in data["papers"]:
        for claim in paper["claims"]:
            print(f"{claim['verdict']:>28s} | {claim['claim'][:70]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
