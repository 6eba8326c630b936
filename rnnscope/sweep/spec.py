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

    [dynamics]                            # present: Lyapunov exponents etc. of every point
    lyapunov = 10                         # leading exponents
    fixed_points = false
    samples = 32

Every key left out takes the default of the matching command (:mod:`rnnscope.settings`).
The point settings are ``kind``, ``hidden``, ``lr``, ``seed``, ``constrain`` (``"none"``,
``"radius"`` or ``"norm"``), ``init`` and any model option; each may be given once, either as a
scalar in ``[model]`` or as a list in ``[grid]``. An ``init`` entry of the grid is a name or a
table ``{ name = ..., option = value or [values] }`` whose listed options multiply that init
only, so ``chain`` can sweep ``alpha`` while ``orthogonal`` sweeps ``scale``.
"""

from __future__ import annotations

import itertools
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnscope.settings import MODEL_KINDS, TrainSettings
from rnnscope.sweep._values import (
    Where,
    check_keys,
    integer,
    option_value,
    positive,
    show,
    table,
    unique,
)
from rnnscope.sweep.budgets import (
    AnalyzeSettings,
    AttackSettings,
    DynamicsBudget,
    TrainBudget,
    parse_analyze,
    parse_attack,
    parse_dynamics,
    parse_train,
)
from rnnscope.sweep.errors import SweepSpecError

__all__ = [
    "DEFAULTS",
    "AnalyzeSettings",
    "AttackSettings",
    "DynamicsBudget",
    "SweepSpec",
    "TrainBudget",
    "load_spec",
    "parse_spec",
]

#: Defaults of the point settings not given in a SPEC (those of ``rnnscope train``).
DEFAULTS: dict[str, Any] = {
    "hidden": TrainSettings.hidden,
    "lr": TrainSettings.lr,
    "seed": TrainSettings.seed,
    "constrain": None,
}

_SECTIONS = ("name", "task", "model", "grid", "train", "analyze", "attack", "dynamics")
_CONSTRAIN = {"none": None, "radius": "radius", "norm": "norm"}


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
    dynamics : DynamicsBudget or None
        Dynamics of every point, or ``None`` when not asked for.

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
    dynamics: DynamicsBudget | None = None

    def evaluation(self) -> dict[str, Any]:
        """Return the settings of what runs on every trained point, as stored with results.

        Returns
        -------
        dict
            ``{"analyze": dict or None, "attack": dict or None}``, and ``"dynamics"`` when the
            SPEC asks for it (so the results of a sweep without dynamics stay as they were).
        """
        settings: dict[str, Any] = {
            "analyze": None if self.analyze is None else self.analyze.to_dict(),
            "attack": None if self.attack is None else self.attack.to_dict(),
        }
        if self.dynamics is not None:
            settings["dynamics"] = self.dynamics.to_dict()
        return settings

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
    where = Where(source)
    unknown = sorted(set(doc) - set(_SECTIONS))
    if unknown:
        raise where.error(
            f"unknown table or key {', '.join(map(repr, unknown))}; expected {', '.join(_SECTIONS)}"
        )
    name = doc.get("name", Path(source).stem)
    if not isinstance(name, str) or not name.strip():
        raise where.error("name must be a non-empty string, got " + show(name))
    task, task_params = _task(doc, where)
    model = table(doc, "model", where)
    grid = table(doc, "grid", where)
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
            raise at.error(f"must be a list of values to sweep, got {show(values)}")
        if not values:
            raise at.error("is an empty list, so the sweep has no points", bare=True)
        if key == "init":
            expanded: list[Any] = []
            for index, entry in enumerate(values):
                expanded.extend(_init_entries(entry, at.at(f"grid.init[{index}]")))
            checked = expanded
        else:
            checked = [_fixed_value(key, value, at) for value in values]
        axes.append((key, tuple(unique(checked, at))))
    if "kind" not in fixed and "kind" not in grid:
        raise where.error("no model kind: set kind in [model] or a list of kinds in [grid]")
    return SweepSpec(
        source=source,
        name=name.strip(),
        task=task,
        task_params=task_params,
        fixed=fixed,
        axes=tuple(axes),
        train=parse_train(doc, where),
        analyze=parse_analyze(doc, where),
        attack=parse_attack(doc, where),
        dynamics=parse_dynamics(doc, where),
    )


def _axis_order(key: str) -> tuple[int, str]:
    order = {"kind": 0, "hidden": 1, "init": 2, "constrain": 4, "lr": 5, "seed": 6}
    return (order.get(key, 3), key)


def _task(doc: Mapping[str, Any], where: Where) -> tuple[str, dict[str, Any]]:
    if "task" not in doc:
        raise where.error("no [task] table; give at least its name, e.g. name = 'digits'")
    given = table(doc, "task", where)
    check_keys(given, ("name", "params"), where.at("task"))
    name = given.get("name")
    if not isinstance(name, str) or not name:
        raise where.at("task.name").error(f"must be a task name, got {show(name)}")
    params = given.get("params", {})
    if not isinstance(params, dict):
        raise where.at("task.params").error(f"must be a table, got {show(params)}")
    return name, dict(params)


def _fixed_value(key: str, value: Any, where: Where) -> Any:
    """Check one value of a point setting (``init`` gives a dict of model options)."""
    if key == "kind":
        if not isinstance(value, str) or not value:
            raise where.error(f"must be a model kind name, got {show(value)}")
        if value not in MODEL_KINDS:
            raise where.error(
                f"{value!r} is not a model kind; valid kinds: {', '.join(MODEL_KINDS)}", bare=True
            )
        return value
    if key == "hidden":
        return integer(value, where, low=1)
    if key == "seed":
        return integer(value, where, low=0)
    if key == "lr":
        return positive(value, where)
    if key == "constrain":
        if not isinstance(value, str) or value not in _CONSTRAIN:
            raise where.error(f"must be one of none, radius, norm, got {show(value)}")
        return _CONSTRAIN[value]
    if key == "init":
        entries = _init_entries(value, where, allow_lists=False)
        return entries[0]
    return option_value(value, where)


def _init_entries(entry: Any, where: Where, *, allow_lists: bool = True) -> list[dict[str, Any]]:
    """Expand one init entry (a name, or a table with a name and options) to option dicts."""
    if isinstance(entry, str) and entry:
        return [{"init": entry}]
    if not isinstance(entry, dict):
        raise where.error(f"must be an init name or a table with a name, got {show(entry)}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise where.error(f"needs name = '<init>', got {show(name)}")
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
            lists.append(unique([option_value(v, at) for v in value], at))
        else:
            lists.append([option_value(value, at)])
    return [
        {"init": name, **dict(zip(keys, combo, strict=True))} for combo in itertools.product(*lists)
    ]
