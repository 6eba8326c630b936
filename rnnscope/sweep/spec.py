"""The sweep SPEC: a TOML file naming a task, the settings to take the product of, and the budgets.

A SPEC has these tables (every key is optional unless marked)::

    name = "orhan-pitkow-digits"          # shown in reports

    [task]                                # required
    name = "digits"                       # required: copy, adding, digits, mnist1d
    params = { permuted = true }

    [model]                               # settings shared by every point (scalars)
    kind = "rnn"
    hidden = 32
    nonlinearity = "elu"                  # any other key is a model option

    [grid]                                # lists: the sweep is their product
    init = ["orthogonal", { name = "chain", alpha = [0.9, 1.0] }]
    lr = [1e-3]
    seed = [0, 1, 2]
    constrain = ["none", "radius"]

    [train]
    steps = 300
    batch_size = 32
    clip = 1.0                            # gradient-norm clipping
    lr_orth = 1e-4                        # learning rate of orthogonal parameters

    [analyze]                             # present: analyze every point
    eps = [1e-3, 1e-2, 1e-1]

    [attack]                              # present: attack every point
    norms = ["linf", "l2"]
    linf_eps = [0.01, 0.03, 0.1, 0.3]
    l2_eps = [0.1, 0.3, 1.0, 3.0]
    attacks = ["fgsm", "pgd"]
    samples = 128
    steps = 20
    seed = 0

The point settings are ``kind``, ``hidden``, ``lr``, ``seed``, ``constrain`` (``"none"``,
``"radius"`` or ``"norm"``), ``init`` and any model option; each may be given once, either as a
scalar in ``[model]`` or as a list in ``[grid]``. An ``init`` entry of the grid is a name or a
table ``{ name = ..., option = value or [values] }`` whose listed options multiply that init
only, so ``chain`` can sweep ``alpha`` while ``orthogonal`` sweeps ``scale``.
"""

from __future__ import annotations

import itertools
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnscope.sweep.errors import SweepSpecError

__all__ = [
    "DEFAULTS",
    "AnalyzeSettings",
    "AttackSettings",
    "SweepSpec",
    "TrainBudget",
    "load_spec",
    "parse_spec",
]

#: Defaults of the point settings not given in a SPEC.
DEFAULTS: dict[str, Any] = {"hidden": 64, "lr": 1e-3, "seed": 0, "constrain": None}

_SECTIONS = ("name", "task", "model", "grid", "train", "analyze", "attack")
_CONSTRAIN = {"none": None, "radius": "radius", "norm": "norm"}
_NORMS = ("linf", "l2")


@dataclass(frozen=True)
class TrainBudget:
    """Training settings shared by every point.

    Attributes
    ----------
    steps : int
        Optimizer steps.
    batch_size : int
        Sequences per batch.
    clip : float or None
        Gradient-norm clipping.
    lr_orth : float or None
        Learning rate of orthogonal parameters (default: a tenth of ``lr``).

    Examples
    --------
    >>> TrainBudget().steps
    1000
    """

    steps: int = 1000
    batch_size: int = 32
    clip: float | None = None
    lr_orth: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings.

        Returns
        -------
        dict
            ``{"steps", "batch_size", "clip", "lr_orth"}``.
        """
        return {
            "steps": self.steps,
            "batch_size": self.batch_size,
            "clip": self.clip,
            "lr_orth": self.lr_orth,
        }


@dataclass(frozen=True)
class AnalyzeSettings:
    """What the analysis of every point computes.

    Attributes
    ----------
    eps : tuple of float
        Perturbation sizes of the pseudospectral radius.

    Examples
    --------
    >>> AnalyzeSettings().eps
    (0.001, 0.01, 0.1)
    """

    eps: tuple[float, ...] = field(default_factory=lambda: tuple(_analysis_default("eps")))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings.

        Returns
        -------
        dict
            ``{"eps"}``.
        """
        return {"eps": list(self.eps)}


def _analysis_default(name: str) -> Any:
    from rnnscope.settings import AnalysisSettings

    return getattr(AnalysisSettings(), name)


def _evaluation_default(name: str) -> Any:
    from rnnscope.settings import EvaluationSettings

    return getattr(EvaluationSettings(), name)


@dataclass(frozen=True)
class AttackSettings:
    """What the attack of every point runs (see :func:`rnnscope.evaluation.attack_checkpoint`).

    Attributes
    ----------
    norms : tuple of str
        Threat models, ``"linf"`` and/or ``"l2"``.
    eps : dict
        Budgets per norm.
    attacks : tuple of str
        Attack names.
    samples : int
        Test sequences attacked.
    steps : int
        Iterations of the iterative attacks.
    seed : int
        Seed of the random starts.

    Examples
    --------
    >>> AttackSettings().norms
    ('linf', 'l2')
    """

    norms: tuple[str, ...] = _NORMS
    eps: dict[str, tuple[float, ...]] = field(
        default_factory=lambda: {n: tuple(_evaluation_default(f"{n}_eps")) for n in _NORMS}
    )
    attacks: tuple[str, ...] = field(default_factory=lambda: tuple(_evaluation_default("attacks")))
    samples: int = 128
    steps: int = 20
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings.

        Returns
        -------
        dict
            ``{"norms", "eps": {norm: [...]}, "attacks", "samples", "steps", "seed"}``.
        """
        return {
            "norms": list(self.norms),
            "eps": {norm: list(self.eps[norm]) for norm in self.norms},
            "attacks": list(self.attacks),
            "samples": self.samples,
            "steps": self.steps,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class SweepSpec:
    r"""A parsed and type-checked SPEC (see the module documentation).

    Attributes
    ----------
    source : str
        File name, for messages.
    name : str
        Name of the sweep.
    task : str
        Task name.
    task_params : dict
        Task parameters.
    fixed : dict
        Point settings and model options shared by every point.
    axes : tuple of (str, tuple)
        The grid: a setting and its values; ``init`` values are dicts of model options.
    train : TrainBudget
        Training settings.
    analyze : AnalyzeSettings or None
        Analysis of every point, or ``None`` when not asked for.
    attack : AttackSettings or None
        Attack of every point, or ``None`` when not asked for.

    Examples
    --------
    >>> spec = parse_spec("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\n")
    >>> spec.task, spec.fixed["kind"], spec.analyze is None
    ('digits', 'rnn', True)
    """

    source: str
    name: str
    task: str
    task_params: dict[str, Any]
    fixed: dict[str, Any]
    axes: tuple[tuple[str, tuple[Any, ...]], ...]
    train: TrainBudget
    analyze: AnalyzeSettings | None
    attack: AttackSettings | None

    def evaluation(self) -> dict[str, Any]:
        """Return the settings of the per-point analysis and attack, as stored with results.

        Returns
        -------
        dict
            ``{"analyze": dict or None, "attack": dict or None}``.
        """
        return {
            "analyze": None if self.analyze is None else self.analyze.to_dict(),
            "attack": None if self.attack is None else self.attack.to_dict(),
        }

    def combinations(self) -> list[dict[str, Any]]:
        """Every combination of the grid merged into the fixed settings, in grid order.

        Returns
        -------
        list of dict
            One dict per point: ``kind``, ``hidden``, ``lr``, ``seed``, ``constrain`` and the
            model options (``init`` and its options among them).
        """
        names = [name for name, _ in self.axes]
        result = []
        for values in itertools.product(*(values for _, values in self.axes)):
            point = {**DEFAULTS, **self.fixed}
            for name, value in zip(names, values, strict=True):
                if name == "init":
                    point.update(value)
                else:
                    point[name] = value
            result.append(point)
        return result


# ------------------------------------------------------------------------------------ parsing
def load_spec(path: str | os.PathLike[str]) -> SweepSpec:
    r"""Read and check a SPEC file.

    Parameters
    ----------
    path : str or path-like
        TOML file.

    Returns
    -------
    SweepSpec
        The checked SPEC.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    SweepSpecError
        If the file is not valid TOML or a value is of the wrong type, unknown or out of range;
        the message names the file and the key.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sweep.toml"
    >>> _ = path.write_text("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\n")
    >>> load_spec(path).task
    'digits'
    """
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(2, "No such file or directory", str(file))
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SweepSpecError(f"{file}: not a UTF-8 text file ({exc.reason})") from None
    return parse_spec(text, source=str(file))


def parse_spec(text: str, *, source: str = "<spec>") -> SweepSpec:
    """Parse and check the TOML text of a SPEC.

    Parameters
    ----------
    text : str
        TOML document (see the module documentation).
    source : str, optional
        Name used in error messages.

    Returns
    -------
    SweepSpec
        The checked SPEC. Model kinds, options and task parameters are checked later, point by
        point, by :func:`rnnscope.sweep.plan_sweep`.

    Raises
    ------
    SweepSpecError
        If the text is not TOML, a table or key is unknown, a value has the wrong type or
        range, a setting is given twice, or a grid list is empty.

    Examples
    --------
    >>> spec = parse_spec('''
    ... [task]
    ... name = "digits"
    ... [grid]
    ... kind = ["rnn", "lstm"]
    ... seed = [0, 1]
    ... ''')
    >>> len(spec.combinations())
    4
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SweepSpecError(f"{source}: invalid TOML: {exc}") from None
    where = _Where(source)
    unknown = sorted(set(doc) - set(_SECTIONS))
    if unknown:
        raise where.error(
            f"unknown table or key {', '.join(map(repr, unknown))}; expected {', '.join(_SECTIONS)}"
        )
    name = doc.get("name", Path(source).stem)
    if not isinstance(name, str) or not name.strip():
        raise where.error("name must be a non-empty string, got " + _show(name))
    task, task_params = _task(doc, where)
    model = _table(doc, "model", where)
    grid = _table(doc, "grid", where)
    twice = sorted(set(model) & set(grid))
    if twice:
        raise where.error(
            f"{', '.join(twice)} given in both [model] and [grid]; give each setting once"
        )
    fixed = {
        key: _fixed_value(key, value, where.at(f"model.{key}")) for key, value in model.items()
    }
    if "init" in fixed:
        fixed.update(fixed.pop("init"))
    axes = []
    for key in sorted(grid, key=_axis_order):
        values = grid[key]
        at = where.at(f"grid.{key}")
        if not isinstance(values, list):
            raise at.error(f"must be a list of values to sweep, got {_show(values)}")
        if not values:
            raise at.error("is an empty list, so the sweep has no points", bare=True)
        if key == "init":
            expanded: list[Any] = []
            for index, entry in enumerate(values):
                expanded.extend(_init_entries(entry, at.at(f"grid.init[{index}]")))
            checked = expanded
        else:
            checked = [_fixed_value(key, value, at) for value in values]
        axes.append((key, tuple(_unique(checked, at))))
    if "kind" not in fixed and "kind" not in grid:
        raise where.error("no model kind: set kind in [model] or a list of kinds in [grid]")
    return SweepSpec(
        source=source,
        name=name.strip(),
        task=task,
        task_params=task_params,
        fixed=fixed,
        axes=tuple(axes),
        train=_train(doc, where),
        analyze=_analyze(doc, where),
        attack=_attack(doc, where),
    )


class _Where:
    """A location in the SPEC for error messages."""

    def __init__(self, source: str, key: str | None = None) -> None:
        self.source = source
        self.key = key

    def at(self, key: str) -> _Where:
        return _Where(self.source, key)

    def error(self, message: str, *, bare: bool = False) -> SweepSpecError:
        if self.key is None:
            return SweepSpecError(f"{self.source}: {message}")
        sep = " " if bare else ": "
        return SweepSpecError(f"{self.source}: {self.key}{sep}{message}")


def _show(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _axis_order(key: str) -> tuple[int, str]:
    order = {"kind": 0, "hidden": 1, "init": 2, "constrain": 4, "lr": 5, "seed": 6}
    return (order.get(key, 3), key)


def _unique(values: Sequence[Any], where: _Where) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value in seen:
            raise where.error(f"lists {value!r} twice")
        seen.append(value)
    return seen


def _table(doc: Mapping[str, Any], name: str, where: _Where) -> dict[str, Any]:
    table = doc.get(name, {})
    if not isinstance(table, dict):
        raise where.at(name).error(f"must be a table ([{name}]), got {_show(table)}")
    return table


def _check_keys(table: Mapping[str, Any], allowed: Sequence[str], where: _Where) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise where.error(
            f"unknown key(s) {', '.join(map(repr, unknown))}; expected {', '.join(allowed)}"
        )


def _task(doc: Mapping[str, Any], where: _Where) -> tuple[str, dict[str, Any]]:
    if "task" not in doc:
        raise where.error("no [task] table; give at least its name, e.g. name = 'digits'")
    table = _table(doc, "task", where)
    _check_keys(table, ("name", "params"), where.at("task"))
    name = table.get("name")
    if not isinstance(name, str) or not name:
        raise where.at("task.name").error(f"must be a task name, got {_show(name)}")
    params = table.get("params", {})
    if not isinstance(params, dict):
        raise where.at("task.params").error(f"must be a table, got {_show(params)}")
    return name, dict(params)


def _integer(value: Any, where: _Where, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise where.error(f"must be an integer, got {_show(value)}")
    if value < low:
        raise where.error(f"must be >= {low}, got {value}")
    return int(value)


def _positive(value: Any, where: _Where) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise where.error(f"must be a number, got {_show(value)}")
    if not math.isfinite(value) or value <= 0:
        raise where.error(f"must be a positive finite number, got {value!r}")
    return float(value)


def _numbers(value: Any, where: _Where) -> tuple[float, ...]:
    if not isinstance(value, list) or not value:
        raise where.error(f"must be a non-empty list of numbers, got {_show(value)}")
    return tuple(sorted({_positive(v, where) for v in value}))


def _names(value: Any, where: _Where, choices: Sequence[str] | None = None) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise where.error(f"must be a non-empty list of names, got {_show(value)}")
    names: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise where.error(f"must be names, got {_show(item)}")
        if choices is not None and item not in choices:
            raise where.error(f"unknown {item!r}; expected one of {', '.join(choices)}")
        if item not in names:
            names.append(item)
    return tuple(names)


def _option_value(value: Any, where: _Where) -> Any:
    if isinstance(value, bool | str | int | float):
        return value
    raise where.error(f"must be a number, string or boolean, got {_show(value)}")


def _fixed_value(key: str, value: Any, where: _Where) -> Any:
    """Check one value of a point setting (``init`` gives a dict of model options)."""
    if key == "kind":
        if not isinstance(value, str) or not value:
            raise where.error(f"must be a model kind name, got {_show(value)}")
        return value
    if key == "hidden":
        return _integer(value, where, low=1)
    if key == "seed":
        return _integer(value, where, low=0)
    if key == "lr":
        return _positive(value, where)
    if key == "constrain":
        if not isinstance(value, str) or value not in _CONSTRAIN:
            raise where.error(f"must be one of none, radius, norm, got {_show(value)}")
        return _CONSTRAIN[value]
    if key == "init":
        entries = _init_entries(value, where, allow_lists=False)
        return entries[0]
    return _option_value(value, where)


def _init_entries(entry: Any, where: _Where, *, allow_lists: bool = True) -> list[dict[str, Any]]:
    """Expand one init entry (a name, or a table with a name and options) to option dicts."""
    if isinstance(entry, str) and entry:
        return [{"init": entry}]
    if not isinstance(entry, dict):
        raise where.error(f"must be an init name or a table with a name, got {_show(entry)}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise where.error(f"needs name = '<init>', got {_show(name)}")
    keys = [key for key in entry if key != "name"]
    lists = []
    for key in keys:
        value = entry[key]
        at = where.at(f"{where.key}.{key}")
        if isinstance(value, list):
            if not allow_lists:
                raise at.error("must be a single value in [model]; sweep lists in [grid]")
            if not value:
                raise at.error("is an empty list, so the sweep has no points", bare=True)
            lists.append(_unique([_option_value(v, at) for v in value], at))
        else:
            lists.append([_option_value(value, at)])
    return [
        {"init": name, **dict(zip(keys, combo, strict=True))} for combo in itertools.product(*lists)
    ]


def _train(doc: Mapping[str, Any], where: _Where) -> TrainBudget:
    table = _table(doc, "train", where)
    _check_keys(table, ("steps", "batch_size", "clip", "lr_orth"), where.at("train"))
    default = TrainBudget()
    return TrainBudget(
        steps=_integer(table.get("steps", default.steps), where.at("train.steps"), low=1),
        batch_size=_integer(
            table.get("batch_size", default.batch_size), where.at("train.batch_size"), low=1
        ),
        clip=None if "clip" not in table else _positive(table["clip"], where.at("train.clip")),
        lr_orth=(
            None
            if "lr_orth" not in table
            else _positive(table["lr_orth"], where.at("train.lr_orth"))
        ),
    )


def _analyze(doc: Mapping[str, Any], where: _Where) -> AnalyzeSettings | None:
    if "analyze" not in doc:
        return None
    table = _table(doc, "analyze", where)
    _check_keys(table, ("eps",), where.at("analyze"))
    default = AnalyzeSettings()
    if "eps" not in table:
        return default
    return AnalyzeSettings(eps=_numbers(table["eps"], where.at("analyze.eps")))


def _attack(doc: Mapping[str, Any], where: _Where) -> AttackSettings | None:
    if "attack" not in doc:
        return None
    table = _table(doc, "attack", where)
    allowed = ("norms", "linf_eps", "l2_eps", "attacks", "samples", "steps", "seed")
    _check_keys(table, allowed, where.at("attack"))
    default = AttackSettings()
    norms = default.norms
    if "norms" in table:
        norms = _names(table["norms"], where.at("attack.norms"), _NORMS)
    eps = {
        norm: (
            _numbers(table[f"{norm}_eps"], where.at(f"attack.{norm}_eps"))
            if f"{norm}_eps" in table
            else default.eps[norm]
        )
        for norm in norms
    }
    attacks = default.attacks
    if "attacks" in table:
        from rnnscope.attack import known_attacks

        attacks = _names(table["attacks"], where.at("attack.attacks"), known_attacks())
    return AttackSettings(
        norms=norms,
        eps=eps,
        attacks=attacks,
        samples=_integer(table.get("samples", default.samples), where.at("attack.samples"), low=1),
        steps=_integer(table.get("steps", default.steps), where.at("attack.steps"), low=1),
        seed=_integer(table.get("seed", default.seed), where.at("attack.seed"), low=0),
    )
