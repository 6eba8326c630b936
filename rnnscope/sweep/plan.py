"""Planning a sweep: the points of a SPEC, their stable ids, checks, state on disk and cost."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnscope.sweep.errors import SweepSpecError
from rnnscope.sweep.spec import SweepSpec

__all__ = [
    "RESULT_FILE",
    "CostEstimate",
    "SweepPlan",
    "SweepPoint",
    "estimate_cost",
    "plan_sweep",
    "point_state",
]

#: File of a point's result inside its run folder, written last.
RESULT_FILE = "result.json"

_SETTING_KEYS = ("kind", "hidden", "lr", "seed", "constrain")


@dataclass(frozen=True)
class SweepPoint:
    r"""One run of a sweep: the settings of one training, analysis and attack.

    Attributes
    ----------
    id : str
        Stable id: readable settings and a hash of every setting, so that the same settings
        always map to the same folder ``DIR/runs/<id>``.
    task : str
        Task name.
    task_params : dict
        Task parameters.
    kind : str
        Model kind.
    hidden : int
        Hidden units.
    lr : float
        Learning rate.
    seed : int
        Seed of the weights and batches.
    constrain : str or None
        Spectral constraint.
    options : dict
        Model options given in the SPEC (``init`` and its options among them).
    train : dict
        Training budget (:meth:`TrainBudget.to_dict`).

    Examples
    --------
    >>> from rnnscope.sweep import parse_spec
    >>> spec = parse_spec("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\ninit = 'chain'\n")
    >>> plan_sweep(spec).points[0].id.startswith("rnn-chain-h64-s0-")
    True
    """

    id: str
    task: str
    task_params: dict[str, Any]
    kind: str
    hidden: int
    lr: float
    seed: int
    constrain: str | None
    options: dict[str, Any]
    train: dict[str, Any]

    def settings(self) -> dict[str, Any]:
        """Every setting of the point (what its id hashes).

        Returns
        -------
        dict
            ``{"task": {"name", "params"}, "kind", "hidden", "lr", "seed", "constrain",
            "options", "train"}``.
        """
        return {
            "task": {"name": self.task, "params": dict(self.task_params)},
            "kind": self.kind,
            "hidden": self.hidden,
            "lr": self.lr,
            "seed": self.seed,
            "constrain": self.constrain,
            "options": dict(self.options),
            "train": dict(self.train),
        }

    def group(self) -> dict[str, Any]:
        """Return the settings without the seed (points of one group differ in their seed only).

        Returns
        -------
        dict
            :meth:`settings` less ``seed``.
        """
        settings = self.settings()
        settings.pop("seed")
        return settings


@dataclass(frozen=True)
class SweepPlan:
    r"""The points of a sweep, in grid order, with the SPEC they came from.

    Attributes
    ----------
    spec : SweepSpec
        The SPEC.
    points : tuple of SweepPoint
        Every point, in the order of the grid's product.

    Examples
    --------
    >>> from rnnscope.sweep import parse_spec
    >>> spec = parse_spec("[task]\nname = 'digits'\n[grid]\nkind = ['rnn', 'gru']\n")
    >>> [p.kind for p in plan_sweep(spec).points]
    ['rnn', 'gru']
    """

    spec: SweepSpec
    points: tuple[SweepPoint, ...]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _point_id(settings: Mapping[str, Any]) -> str:
    options = settings["options"]
    words = [settings["kind"]]
    if "init" in options:
        words.append(str(options["init"]))
    words += [f"h{settings['hidden']}", f"s{settings['seed']}"]
    digest = hashlib.sha256(_canonical(settings).encode("utf-8")).hexdigest()[:10]
    safe = "".join(ch if ch.isalnum() or ch in "._" else "_" for ch in "-".join(words))
    return f"{safe.replace('_', '-')}-{digest}"


def plan_sweep(spec: SweepSpec) -> SweepPlan:
    r"""Expand a SPEC into its points and check every one before anything runs.

    Each distinct model is built once (with the task's sizes) so that an unknown kind, an
    unknown option or a bad option value is reported up front, and the task is built once with
    its parameters.

    Parameters
    ----------
    spec : SweepSpec
        Parsed SPEC.

    Returns
    -------
    SweepPlan
        The points, in grid order.

    Raises
    ------
    SweepSpecError
        If the task, a kind or an option is invalid (the message names the file and the
        settings), or two grid entries give the same point.

    Examples
    --------
    >>> from rnnscope.sweep import parse_spec
    >>> spec = parse_spec("[task]\nname = 'digits'\n[grid]\nseed = [0, 1]\nkind = ['rnn']\n")
    >>> len(plan_sweep(spec).points)
    2
    """
    import models
    import models.errors

    try:
        task = models.tasks.get(spec.task, **spec.task_params)
    except models.errors.ModelsError as exc:
        raise SweepSpecError(f"{spec.source}: task: {exc}") from None
    points: list[SweepPoint] = []
    checked: set[str] = set()
    seen: dict[str, int] = {}
    for index, combo in enumerate(spec.combinations()):
        options = {k: v for k, v in combo.items() if k not in _SETTING_KEYS}
        settings = {
            "task": {"name": spec.task, "params": dict(spec.task_params)},
            "kind": combo["kind"],
            "hidden": combo["hidden"],
            "lr": combo["lr"],
            "seed": combo["seed"],
            "constrain": combo["constrain"],
            "options": dict(sorted(options.items())),
            "train": spec.train.to_dict(),
        }
        model_key = _canonical([settings["kind"], settings["hidden"], options, combo["constrain"]])
        if model_key not in checked:
            _check_model(spec, task, settings)
            checked.add(model_key)
        point_id = _point_id(settings)
        if point_id in seen:
            raise SweepSpecError(
                f"{spec.source}: grid: points {seen[point_id] + 1} and {index + 1} have the same "
                "settings; list each value once"
            )
        seen[point_id] = index
        points.append(
            SweepPoint(
                id=point_id,
                task=spec.task,
                task_params=dict(spec.task_params),
                kind=settings["kind"],
                hidden=settings["hidden"],
                lr=settings["lr"],
                seed=settings["seed"],
                constrain=settings["constrain"],
                options=settings["options"],
                train=settings["train"],
            )
        )
    return SweepPlan(spec=spec, points=tuple(points))


def _describe(settings: Mapping[str, Any]) -> str:
    parts = [f"kind {settings['kind']!r}"]
    parts += [f"{k}={v!r}" for k, v in settings["options"].items()]
    if settings["constrain"] is not None:
        parts.append(f"constrain={settings['constrain']!r}")
    return ", ".join(parts)


def _check_model(spec: SweepSpec, task: Any, settings: Mapping[str, Any]) -> None:
    import models
    import models.errors

    options = dict(settings["options"])
    if settings["constrain"] is not None:
        options["constrain"] = settings["constrain"]
    try:
        models.build(
            settings["kind"],
            input_size=task.input_size,
            hidden_size=settings["hidden"],
            output_size=task.output_size,
            seed=0,
            readout=task.readout,
            **options,
        )
    except models.errors.ModelsError as exc:
        raise SweepSpecError(f"{spec.source}: {_describe(settings)}: {exc}") from None


def point_state(
    root: str | os.PathLike[str], point: SweepPoint, evaluation: Mapping[str, Any]
) -> str:
    r"""Return how far a point got in the sweep folder `root`.

    Parameters
    ----------
    root : str or path-like
        Sweep folder (``DIR``).
    point : SweepPoint
        The point.
    evaluation : mapping
        The SPEC's analysis and attack settings (:meth:`SweepSpec.evaluation`).

    Returns
    -------
    str
        ``"finished"`` (a result with these settings), ``"trained"`` (the training finished,
        the analysis or attack is missing or was run with other settings), ``"started"`` (a
        checkpoint to resume from) or ``"new"``.

    Examples
    --------
    >>> from rnnscope.sweep import parse_spec
    >>> spec = parse_spec("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\n")
    >>> point_state("/no/such/dir", plan_sweep(spec).points[0], spec.evaluation())
    'new'
    """
    from rnnscope.training import completed_run

    folder = Path(root) / "runs" / point.id
    result = _read_json(folder / RESULT_FILE)
    if (
        result is not None
        and result.get("settings") == point.settings()
        and result.get("evaluation") == dict(evaluation)
    ):
        return "finished"
    if completed_run(folder, steps=int(point.train["steps"])) is not None:
        return "trained"
    if any(folder.glob("train_state*")):
        return "started"
    return "new"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class CostEstimate:
    """Estimated work of the points still to run.

    Attributes
    ----------
    seconds : dict
        Estimated seconds on one worker per point id.
    method : str
        How the figures were obtained.

    Examples
    --------
    >>> CostEstimate(seconds={"a": 2.0, "b": 4.0}, method="timed").total
    6.0
    """

    seconds: dict[str, float]
    method: str

    @property
    def total(self) -> float:
        """Seconds of all points on one worker."""
        return float(sum(self.seconds.values()))

    def wall(self, workers: int) -> float:
        """Seconds on `workers` workers if the points share them evenly.

        Parameters
        ----------
        workers : int
            Number of workers.

        Returns
        -------
        float
            The longest share (a lower bound: scheduling and start-up are not included).
        """
        loads = [0.0] * max(1, workers)
        for seconds in sorted(self.seconds.values(), reverse=True):
            loads[loads.index(min(loads))] += seconds
        return max(loads)


def estimate_cost(
    plan: SweepPlan, points: Sequence[SweepPoint] | None = None, *, repeats: int = 3
) -> CostEstimate:
    r"""Estimate the seconds each point takes on one worker, from timed training steps.

    For every distinct model (kind, hidden size, constraint) one training step on a batch is
    timed here, with one thread; training costs ``steps`` such steps plus the evaluations, and
    each attack budget costs ``attack.steps + 1`` forward-backward passes over the attacked
    samples. Start-up, data loading, the analysis of the matrices and the dynamics are not
    included.

    Parameters
    ----------
    plan : SweepPlan
        The sweep.
    points : sequence of SweepPoint, optional
        The points to estimate (default: all).
    repeats : int, optional
        Timed steps per distinct model (the fastest counts).

    Returns
    -------
    CostEstimate
        Seconds per point id.

    Examples
    --------
    >>> from rnnscope.sweep import parse_spec
    >>> spec = parse_spec("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\nhidden = 4\n")
    >>> estimate_cost(plan_sweep(spec)).total > 0
    True
    """
    import models
    from rnnscope.parallel import single_thread

    spec = plan.spec
    todo = plan.points if points is None else tuple(points)
    task = models.tasks.get(spec.task, **spec.task_params)
    batch_size = int(spec.train.batch_size)
    step_cost: dict[str, float] = {}
    seconds: dict[str, float] = {}
    test_size = int(task.test_set()[0].shape[0]) if hasattr(task, "test_set") else batch_size
    with single_thread():
        for point in todo:
            key = _canonical([point.kind, point.hidden, point.constrain])
            if key not in step_cost:
                step_cost[key] = _time_step(point, task, batch_size, repeats=repeats)
            per_sample = step_cost[key] / batch_size
            steps = int(point.train["steps"])
            evaluations = min(steps, 10) + 1
            cost = steps * step_cost[key] + evaluations * test_size * per_sample / 3
            if spec.attack is not None:
                attack = spec.attack
                passes = sum(len(attack.eps[n]) for n in attack.norms) * (attack.steps + 1)
                cost += passes * len(attack.attacks) * attack.samples * per_sample
            seconds[point.id] = round(cost, 3)
    return CostEstimate(
        seconds=seconds,
        method=f"{len(step_cost)} model(s) timed for {repeats} training steps on this machine",
    )


def _time_step(point: SweepPoint, task: Any, batch_size: int, *, repeats: int) -> float:
    import torch

    import models

    options = dict(point.options)
    if point.constrain is not None:
        options["constrain"] = point.constrain
    model = models.build(
        point.kind,
        input_size=task.input_size,
        hidden_size=point.hidden,
        output_size=task.output_size,
        seed=point.seed,
        readout=task.readout,
        **options,
    )
    x, y = task.batch(batch_size, generator=torch.Generator().manual_seed(0))
    best = float("inf")
    for _ in range(repeats + 1):
        start = time.perf_counter()
        model.zero_grad()
        loss = task.loss(model(x), y)
        loss.backward()
        best = min(best, time.perf_counter() - start)
    return best
