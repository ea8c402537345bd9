"""``jaxrl sweep ALGO --grid FIELD=V1,V2 ...``: configs × seeds checked whole before
anything compiles or touches the disk, as ``jaxrl train`` checks one config.

The grid's configs are grouped by their static fields (sizes, switches, names): each
group is one compiled program, a stacked config under ``vmap`` whose leaves (step
sizes, γ, ε, …) differ row by row (:func:`jaxrl.sweep.tile`); the groups run one after
another into one sweep folder (:mod:`jaxrl.cli.sweeping`).
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jaxrl import presets
from jaxrl.cli import fields, paths, schema, train
from jaxrl.cli.budget import shorten
from jaxrl.cli.errors import UsageError

#: sweep.json's ``kind``: a folder is a jaxrl sweep folder if its sweep.json says so.
KIND = "jaxrl-sweep"
INFO = "sweep.json"


def add_options(parser: argparse.ArgumentParser) -> None:
    """``--grid`` and ``--zip``, beside the options ``jaxrl train`` has."""
    group = parser.add_argument_group("the sweep (configs × seeds, trained together)")
    group.add_argument("--grid", action="append", default=[], metavar="FIELD=V1,V2,...",
                       help="every combination of the --grid fields' values (repeatable); "
                       "a tuple field's values are separated by ';' (hidden_sizes=64,64;"
                       "128,128); a static field (a size, switch or name) makes one "
                       "program per value, run in turn")
    group.add_argument("--zip", action="append", default=[], metavar="FIELD=V1,V2,...",
                       help="fields whose values move together, the same count each, "
                       "crossed with the grid (repeatable; numeric leaves only)")


@dataclass
class SweepRequest:
    """A ``jaxrl sweep`` command line checked without JAX: the base request (as
    ``train``'s) and the swept values, parsed: ``{field: [value, ...]}``."""

    base: train.Request
    grid: dict[str, list[Any]] = field(default_factory=dict)
    zipped: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class SweepPlan:
    """A sweep, checked: its configs, their groups (one program each), the folder."""

    algo: str
    configs: list[Any]
    changes: list[dict[str, Any]]
    groups: list[list[int]]
    info: dict[str, Any]
    folder: Path
    notes: list[str]


def precheck(args: argparse.Namespace) -> SweepRequest:
    """Everything that needs no JAX: the base options (as ``train``'s), then each
    ``--grid``/``--zip`` field's name, kind and values; a :class:`UsageError` line."""
    if args.resume is not None:
        if args.grid or args.zip:
            raise UsageError("--resume goes on with the sweep as it was configured: give "
                             "no other options than --no-progress and --no-tensorboard")
        return SweepRequest(train.precheck(args))
    if not args.grid and not args.zip:
        raise UsageError("give the values to sweep: --grid FIELD=V1,V2,... (or --zip)")
    base = train.precheck(args)
    learner = presets.LEARNERS[args.algo]
    known = schema.fields(learner.module, learner.config)
    request = SweepRequest(base)
    for option, items, into in (("--grid", args.grid, request.grid),
                                ("--zip", args.zip, request.zipped)):
        for item in items:
            name, values = _values(option, item, known, learner.config)
            if name in request.grid or name in request.zipped:
                raise UsageError(f"{option} {name}: swept twice; give each field once")
            if name in (base.changes or {}) and name != "total_steps":
                raise UsageError(f"{option} {name}: also set by --set, --{name} or "
                                 "--config; sweep it or set it, not both")
            if option == "--zip" and known[name].static:
                raise UsageError(f"--zip {name}: a static field (a size, switch or name) "
                                 "cannot vary inside one program; give it as --grid")
            into[name] = values
    lengths = {name: len(v) for name, v in request.zipped.items()}
    if len(set(lengths.values())) > 1:
        raise UsageError(f"--zip fields need as many values each, got "
                         f"{', '.join(f'{k}: {v}' for k, v in lengths.items())}")
    if "total_steps" in request.grid or "total_steps" in request.zipped:
        raise UsageError("the budget cannot be swept: the configs of a sweep are compared "
                         "at the same --steps")
    return request


def _values(option: str, item: str, known: dict[str, schema.Field],
            config_class: str) -> tuple[str, list[Any]]:
    if "=" not in item:
        raise UsageError(f"{option} {item!r}: expected FIELD=V1,V2,...")
    name, text = (part.strip() for part in item.split("=", 1))
    name = fields.check_in(config_class, list(known), name)
    if name == "env":
        raise UsageError(f"{option} env: a sweep compares configs on one environment; "
                         "give it --env, and one sweep per environment")
    kind = known[name].kind
    tuple_kind = kind is not None and "tuple" in str(kind)
    parts = [p.strip() for p in text.split(";" if tuple_kind else ",")]
    if not text.strip() or any(not p for p in parts):
        raise UsageError(f"{option} {name}={text}: an empty value; expected "
                         + ("V1;V2;... (each a comma-separated tuple)" if tuple_kind
                            else "V1,V2,..."))
    values = [fields.parse(name, kind, p) for p in parts]
    if len({repr(v) for v in values}) < len(values):
        raise UsageError(f"{option} {name}={text}: a value given twice")
    return name, values


def combinations(request: SweepRequest) -> list[dict[str, Any]]:
    """Each config's swept values: the grid's product (the last field fastest), each
    combination crossed with the zipped values in turn."""
    grid = [dict(zip(request.grid, c, strict=True))
            for c in itertools.product(*request.grid.values())] or [{}]
    count = len(next(iter(request.zipped.values()), [None]))
    zipped = [{k: v[i] for k, v in request.zipped.items()} for i in range(count)]
    return [{**g, **z} for g in grid for z in zipped]


def plan(request: SweepRequest, argv: list[str]) -> SweepPlan:
    """The checked sweep, or a :class:`UsageError` (nothing compiled or written)."""
    args = request.base.args
    if args.resume is not None:
        return _resume(args.resume)
    algo, seeds, seed = args.algo, request.base.seeds, request.base.seed
    changes = dict(request.base.changes or {})
    env = changes.pop("env", None)
    base, preset_text = presets.preset(algo, env and train._env(str(env)))
    base = fields.apply(base, changes)
    learner = presets.LEARNERS[algo]
    swept = combinations(request)
    configs, notes = [], []
    for values in swept:
        try:
            config = fields.apply(base, values)
        except fields.ConfigError as error:
            said = ", ".join(f"{k}={v}" for k, v in values.items())
            raise UsageError(f"the config {said}: {error}") from None
        setup = train.check(algo, config) if learner.budget == "total_steps" else None
        config, more = shorten(config, set(changes) | set(values),
                               setup.schedule.steps_per_call if setup else 1)
        notes += [n for n in more if n not in notes]
        configs.append(config)
    groups = group_by_static(configs)
    for members in groups:
        setup = train.check(algo, configs[members[0]])
        train._check_memory(algo, configs[members[0]], setup, seeds * len(members),
                            what=f"{len(members)} config(s) x {seeds} seed(s)")
    folder = args.out or Path("sweeps") / f"{algo}-{base.env}-{train._timestamp()}"
    check_new_folder(folder)
    info = {"kind": KIND, "algo": algo, "env": base.env, "seeds": seeds, "seed": seed,
            "preset": preset_text, "config": fields.to_json(base),
            "grid": {k: _json(v) for k, v in request.grid.items()},
            "zip": {k: _json(v) for k, v in request.zipped.items()},
            "configs": [{k: _json(v) for k, v in values.items()} for values in swept],
            "groups": groups, "command": ["jaxrl", *argv]}
    return SweepPlan(algo, configs, swept, groups, info, folder, notes)


def _json(value: Any) -> Any:
    return [_json(v) for v in value] if isinstance(value, tuple | list) else value


def group_by_static(configs: list[Any]) -> list[list[int]]:
    """The configs' indices grouped by their static fields (one program a group), in
    the order of their first config."""
    import dataclasses

    keys: dict[str, list[int]] = {}
    for i, config in enumerate(configs):
        static = tuple((f.name, repr(getattr(config, f.name))) for f in
                       dataclasses.fields(config) if not f.metadata.get("pytree_node", True))
        keys.setdefault(repr(static), []).append(i)
    return list(keys.values())


def read_info(folder: Path) -> dict[str, Any]:
    """``sweep.json`` of a sweep folder, or a :class:`UsageError` line saying why not."""
    import json

    if not Path(folder).is_dir():
        raise UsageError(f"{folder}: no such sweep folder")
    try:
        info = json.loads((Path(folder) / INFO).read_text())
    except FileNotFoundError:
        raise UsageError(f"{folder}: not a jaxrl sweep folder (no {INFO})") from None
    except (OSError, json.JSONDecodeError) as error:
        raise UsageError(f"{folder}/{INFO}: unreadable ({error})") from None
    if not isinstance(info, dict) or info.get("kind") != KIND or \
            info.get("algo") not in presets.LEARNERS:
        raise UsageError(f"{folder}: {INFO} is not a jaxrl sweep's")
    return info


def configs_of(info: dict[str, Any]) -> list[Any]:
    """The configs a ``sweep.json`` records, in order."""
    base = fields.apply(presets.LEARNERS[info["algo"]].default_config(), info["config"])
    return [fields.apply(base, values) for values in info["configs"]]


def _resume(folder: Path) -> SweepPlan:
    info = read_info(folder)
    paths.check_output_folder("--resume", folder)
    try:
        configs = configs_of(info)
    except UsageError as error:
        raise UsageError(f"--resume {folder}: {error}") from None
    return SweepPlan(info["algo"], configs, info["configs"], info["groups"], info, folder,
                     [])


def check_new_folder(folder: Path) -> None:
    """``--out`` must be a new or empty folder, in a place that can be written."""
    if folder.exists():
        if not folder.is_dir():
            raise UsageError(f"--out {folder}: exists and is not a folder")
        if any(folder.iterdir()):
            what = "a sweep: `jaxrl sweep --resume` goes on with it" if \
                (folder / INFO).exists() else "files"
            raise UsageError(f"--out {folder}: holds {what}; choose a new or empty folder")
    paths.check_output_folder("--out", folder)
