"""Report block ``transfer``: adversarials crafted on each model evaluated on the others.

Unlike a section, which sees one model, this block needs every model of the report: after the
sections have run, the attacked models that share a task (same name and parameters, hence the
same evaluated samples) get one :func:`attacks.transfer` matrix per task, at the middle L∞
budget of the report and its strength (``report.json``: ``transfer``, a list of matrices).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rnnscope.measures import fmt
from rnnscope.settings import ReportSettings

if TYPE_CHECKING:
    import attacks
    from models import Checkpoint
    from rnnscope.report.document import ModelReport

__all__ = ["TransferBlock", "transfer_blocks", "transfer_view"]


@dataclass(frozen=True)
class TransferBlock:
    """One transfer matrix of the report, with the task its models share.

    Attributes
    ----------
    task : dict
        ``{"name", "params"}``.
    matrix : attacks.TransferMatrix
        Accuracy of each model (column) on the adversarials of each model (row).

    Examples
    --------
    >>> import attacks
    >>> m = attacks.TransferMatrix(("a", "b"), "linf", 0.1, ((0.2, 0.5), (0.6, 0.1)),
    ...                            (0.9, 0.8), "quick", 8)
    >>> TransferBlock({"name": "digits", "params": {}}, m).to_dict()["names"]
    ['a', 'b']
    """

    task: dict[str, Any]
    matrix: attacks.TransferMatrix

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready block: the task, then every field of the matrix.

        Returns
        -------
        dict
            ``task``, ``kind``, ``names``, ``norm``, ``eps``, ``accuracy``,
            ``clean_accuracy``, ``strength``, ``n_samples``.
        """
        return {"task": self.task, **self.matrix.to_dict()}


def _task_key(model: ModelReport) -> str:
    import json

    return json.dumps(model.task, sort_keys=True, default=str)


def transfer_blocks(
    models: Sequence[ModelReport],
    checkpoints: Sequence[Checkpoint],
    settings: ReportSettings,
) -> tuple[TransferBlock, ...]:
    """Transfer matrices of the attacked models, one per shared task with two or more models.

    Parameters
    ----------
    models : sequence of ModelReport
        The report's models (their robustness result says whether they were attacked).
    checkpoints : sequence of models.Checkpoint
        The loaded checkpoints, in the same order.
    settings : ReportSettings
        Samples, budgets, strength and seed.

    Returns
    -------
    tuple of TransferBlock
        In the order of each task's first model; empty when no two attacked models share a
        task.

    Examples
    --------
    >>> transfer_blocks([], [], ReportSettings())
    ()
    """
    import attacks
    from rnnscope.taskdata import evaluation_samples, task_of

    groups: dict[str, list[int]] = {}
    for index, model in enumerate(models):
        if model.result("robustness") is not None and model.task is not None:
            groups.setdefault(_task_key(model), []).append(index)
    eps = sorted(settings.linf_eps)[len(settings.linf_eps) // 2]
    blocks = []
    for indices in groups.values():
        if len(indices) < 2:
            continue
        task = task_of(checkpoints[indices[0]])
        x, y = evaluation_samples(task, settings.samples)
        nets = {models[i].name: checkpoints[i].model for i in indices}
        matrix = attacks.transfer(
            nets, x, y, norm="linf", eps=eps, strength=settings.strength,
            bounds=tuple(float(b) for b in task.bounds), seed=settings.seed,
        )  # fmt: skip
        blocks.append(TransferBlock(task=dict(models[indices[0]].task or {}), matrix=matrix))
    return tuple(blocks)


def transfer_view(blocks: Sequence[TransferBlock]) -> list[dict[str, Any]]:
    """Template context of the transfer blocks.

    Parameters
    ----------
    blocks : sequence of TransferBlock
        The report's matrices.

    Returns
    -------
    list of dict
        ``task``, ``eps``, ``strength``, ``names`` and ``rows`` (``name``, ``cells``) each.

    Examples
    --------
    >>> import attacks
    >>> m = attacks.TransferMatrix(("a", "b"), "linf", 0.1, ((0.2, 0.5), (0.6, 0.1)),
    ...                            (0.9, 0.8), "quick", 8)
    >>> transfer_view([TransferBlock({"name": "digits"}, m)])[0]["rows"][0]["cells"]
    ['0.2', '0.5']
    """
    out = []
    for block in blocks:
        matrix = block.matrix
        out.append(
            {
                "task": str(block.task.get("name")),
                "eps": fmt(float(matrix.eps), 3),
                "strength": matrix.strength,
                "samples": matrix.n_samples,
                "names": list(matrix.names),
                "rows": [
                    {"name": name, "cells": [fmt(float(a), 3) for a in row]}
                    for name, row in zip(matrix.names, matrix.accuracy, strict=True)
                ],
                "clean": [fmt(float(a), 3) for a in matrix.clean_accuracy],
            }
        )
    return out
