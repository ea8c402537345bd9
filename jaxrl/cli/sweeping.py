"""Training a checked :class:`jaxrl.cli.sweep.SweepPlan` into its sweep folder::

    sweep.json     the algorithm, environment, seeds, base config, grid, each config's
                   swept values, the groups (one compiled program each), versions, device
    results.csv    one row per config × seed × evaluation: the swept values, the headline
    summary.json   the configs ranked by final score: IQM over the seeds with its 95 %
                   stratified-bootstrap interval, mean, min, max; each group's times
    curves.png     the IQM curve of each config with its interval band
    best.toml      the winning config whole: ``jaxrl train --config best.toml`` trains it
    groups/G/      group G's checkpoints (after each chunk) and, once done, its curves
    configs/NAME/  each config's metrics.csv (as a run folder's, its seeds' rows) and
                   TensorBoard events (:mod:`jaxrl.cli.boards`; not with --no-tensorboard)

The groups run one after another with one progress bar; SIGINT/SIGTERM stop after the
chunk running, save, and ``jaxrl sweep --resume DIR`` goes on bit-identically (a
finished group is not trained again, the running one goes on from its checkpoint).
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxrl import driver, presets, runs, stats
from jaxrl import sweep as sweeps
from jaxrl.cli import boards, compare, report
from jaxrl.cli.execute import _device, _status, _versions, curve_values, metric_names
from jaxrl.cli.fields import to_json
from jaxrl.cli.sweep import INFO, SweepPlan
from jaxrl.cli.train import Stop

RESULTS, SUMMARY, PLOT, BEST, GROUPS, CURVES, CONFIGS = (
    "results.csv", "summary.json", "curves.png", "best.toml", "groups", "curves.npz",
    "configs")


def execute(plan: SweepPlan, progress: bool = True, tensorboard: bool = True,
            wandb: dict[str, Any] | None = None) -> int:
    """Train the sweep; the exit status (0 done, 130/143 stopped by SIGINT/SIGTERM and
    saved). ``tensorboard``: each config's TensorBoard events in ``configs/NAME/``;
    ``wandb``: W&B settings, a W&B run per config and seed, a group per config."""
    with Stop() as stop:
        return _execute(plan, progress, stop, {"tensorboard": tensorboard, "wandb": wandb})


def config_folder(folder: Path, values: dict[str, Any]) -> Path:
    """``configs/NAME/`` of the config of these swept values (its name without spaces:
    TensorBoard's name of the run)."""
    return folder / CONFIGS / name_of(values).replace(" ", "")


def stacked(configs: list[Any]) -> Any:
    """The configs of one group (the same static fields) as one stacked config."""
    return jax.tree.map(lambda *xs: jnp.stack([jnp.asarray(x) for x in xs]), *configs)


def _execute(plan: SweepPlan, progress: bool, stop: Stop, logs: dict[str, Any]) -> int:
    learner = presets.LEARNERS[plan.algo]
    algo, folder, info = learner.load().ALGORITHM, plan.folder, plan.info
    for note in plan.notes:
        print(f"jaxrl: note: {note}")
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / INFO).exists():
        info.update(versions=_versions(), device=_device())
        runs.write_json(folder / INFO, info)
    seeds = int(info["seeds"])
    keys = runs.keys_of(info)
    unit = "episodes" if learner.budget == "episodes" else "steps"
    totals = [_total(algo, plan.configs[g[0]]) for g in plan.groups]
    print(f"jaxrl sweep {plan.algo}: {info['env']}, {len(plan.configs)} config(s) x "
          f"{seeds} seed(s) x {totals[0]} {unit}, {len(plan.groups)} program(s); "
          f"{info['preset']}")
    print(f"sweep folder: {folder}")
    done_before = 0
    with report.Bar(sum(totals), seeds, unit, "", progress) as bar:
        for g, members in enumerate(plan.groups):
            where = folder / GROUPS / str(g)
            if (where / CURVES).exists():
                done_before += totals[g]
                continue
            status = _group(algo, plan, members, keys, where, stop, bar, done_before,
                            logs)
            if status:
                return status
            done_before += totals[g]
    return finish(plan, unit)


def _total(algo: driver.Algorithm, config: Any) -> int:
    schedule = algo.make(config).schedule
    return schedule.calls * schedule.steps_per_call


def _group(algo: driver.Algorithm, plan: SweepPlan, members: list[int], keys: jax.Array,
           where: Path, stop: Stop, bar: report.Bar, offset: int, logs: dict[str, Any]
           ) -> int:
    """Train one group (one program) of the sweep; a non-zero status when stopped."""
    if stop():  # stopped between two programs: the next one not even compiled
        print(f"jaxrl: stopped before program {plan.groups.index(members) + 1} of "
              f"{len(plan.groups)}; go on with: jaxrl sweep --resume {plan.folder}",
              flush=True)
        return 128 + (stop.signum or 0) if stop.signum else 1
    rows, row_keys = sweeps.tile(stacked([plan.configs[i] for i in members]), keys)
    resume = runs.latest_checkpoint(where)
    found: dict[str, str] = {}
    seeds, chunk0 = keys.shape[0], 0 if resume is None else int(resume["chunk"])
    bar.seeds = len(members) * seeds
    folders = [config_folder(plan.folder, plan.info["configs"][i]) for i in members]
    for f in folders:  # a resumed group writes the rows after its checkpoint again
        f.mkdir(parents=True, exist_ok=True)
        runs.keep_rows(f, chunk0 - 1)
    config = plan.configs[members[0]]
    names = metric_names(algo, algo.make(config), config, keys[0])
    logs_open = contextlib.ExitStack()
    opened: list[list[Any]] = []  # each config's loggers, from the first report
    wandb = logs["wandb"]

    def hook(p: driver.Progress) -> None:
        if not found:
            found["name"], found["label"] = report.headline(p.outputs, p.metrics)
            bar.label = found["label"]
            opened.extend(boards.open_logs(
                logs_open, f, to_json(plan.configs[i]), seeds, found["name"],
                logs["tensorboard"], wandb and {  # a W&B group per config
                    **wandb, "group": f"{wandb['group'] or plan.folder.name}/{f.name}"})
                for f, i in zip(folders, members, strict=True))
        for j, f in enumerate(folders):  # config j's seeds: rows j * seeds, ...
            mine = slice(j * seeds, (j + 1) * seeds)
            metrics_rows = report.rows(
                p.chunk, p.env_steps, {k: np.asarray(v)[mine] for k, v in p.outputs.items()},
                {k: None if p.metrics.get(k) is None else np.asarray(p.metrics[k])[mine]
                 for k in names})
            runs.append_rows(f, metrics_rows)
            for log in opened[j] if opened else ():
                log.add(metrics_rows)
        value = report.headline_values(found["name"], p.evaluation, p.metrics)
        bar.update(offset + p.env_steps, None if value is None else float(value.mean()),
                   first=p.chunk == chunk0)

    with runs.checkpoints(where) as saved, logs_open:
        result = driver.run(algo, rows, row_keys, stacked_config=True, hook=hook,
                            checkpoint=saved.save, resume=resume, stop=stop)
        if result.complete:  # each config's plot, as a run folder's
            steps, values = curve_values(result.curve, found["name"])
            for j, f in enumerate(folders):
                mine = values[j * seeds:(j + 1) * seeds]
                runs.plot_curve(f / runs.PLOT, steps, mine,
                                f"{plan.algo} on {plan.info['env']}, {f.name}",
                                ylabel=found["label"])
                for log in opened[j] if opened else ():
                    log.end(f / runs.PLOT, [float(v) for v in mine[:, -1]], found["label"])
    if not result.complete:
        print(f"jaxrl: stopped in program {plan.groups.index(members) + 1} of "
              f"{len(plan.groups)}, checkpoint saved; go on with: jaxrl sweep --resume "
              f"{plan.folder}", flush=True)
        return _status(result, stop)
    steps, values = curve_values(result.curve, found["name"])
    where.mkdir(parents=True, exist_ok=True)
    times = {"compile_s": result.compile_s, "wall_s": result.wall_s}
    if resume is not None and (where / "times.json").exists():  # the parts before
        before = json.loads((where / "times.json").read_text())
        times = {k: v + before[k] for k, v in times.items()}
    np.savez(where / "curves.tmp.npz", steps=steps, values=values, label=found["label"],
             **times)
    (where / "curves.tmp.npz").replace(where / CURVES)
    return 0


def load_curves(folder: Path, plan: SweepPlan) -> tuple[list[np.ndarray], np.ndarray, str,
                                                        list[dict[str, float]]]:
    """``(steps per config, values[configs, seeds, E], label, times per group)``."""
    seeds = int(plan.info["seeds"])
    steps: list[Any] = [None] * len(plan.configs)
    values: list[Any] = [None] * len(plan.configs)
    times, label = [], ""
    for g, members in enumerate(plan.groups):
        with np.load(folder / GROUPS / str(g) / CURVES) as data:
            v = data["values"].reshape(len(members), seeds, -1)
            for j, i in enumerate(members):
                steps[i], values[i] = data["steps"], v[j]
            label = str(data["label"])
            times.append({"configs": len(members), "compile_s": float(data["compile_s"]),
                          "wall_s": float(data["wall_s"])})
    return steps, np.stack(values) if len({len(s) for s in steps}) == 1 else values, \
        label, times


def name_of(values: dict[str, Any]) -> str:
    """A config's swept values as one short label: ``learning_rate=0.001, gamma=0.99``."""
    return ", ".join(f"{k}={_text(v)}" for k, v in values.items())


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "(" + ",".join(_text(v) for v in value) + ")"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def finish(plan: SweepPlan, unit: str) -> int:
    """Write ``results.csv``, ``summary.json``, ``curves.png`` and ``best.toml``; print the
    ranked table."""
    folder, info = plan.folder, plan.info
    steps, values, label, times = load_curves(folder, plan)
    names = [name_of(c) for c in info["configs"]]
    _write_results(folder / RESULTS, info, steps, values)
    finals = {n: np.asarray(values[i])[:, -1] for i, n in enumerate(names)}
    table = stats.score_table({n: v for n, v in finals.items() if np.isfinite(v).all()})
    by_name = {row["name"]: row for row in table}
    rows = []
    for i, name in enumerate(names):
        row = by_name.get(name) or {"name": name, "runs": int(info["seeds"]),
                                    **dict.fromkeys(("iqm", "iqm_low", "iqm_high", "mean",
                                                     "min", "max"), math.nan)}
        rows.append({"config": i, "values": info["configs"][i], **row})
    rows = ranked(rows)
    best = rows[0]["config"]
    wall = sum(t["wall_s"] for t in times)
    runs.write_json(folder / SUMMARY, {
        "algo": plan.algo, "env": info["env"], "metric": label, "seeds": info["seeds"],
        "unit": unit, "env_steps": int(np.asarray(steps[0])[-1]), "ranked": rows,
        "best": best, "programs": times, "wall_s": wall,
        "compile_s": sum(t["compile_s"] for t in times),
        "seconds_per_config_seed": wall / (len(names) * int(info["seeds"]))})
    compare.plot(folder / PLOT, [compare.Entry(n, info["env"], label, np.asarray(steps[i]),
                                               np.asarray(values[i]))
                                 for i, n in enumerate(names)],
                 f"{plan.algo} on {info['env']}, {len(names)} configs x {info['seeds']} seeds",
                 "episodes per seed" if unit == "episodes" else "environment steps per seed",
                 label_seeds=False, legend_outside=True)
    write_toml(folder / BEST, plan.configs[best], f"jaxrl sweep {folder}: the best of "
               f"{len(names)} configs by IQM final {label} ({rows[0]['name']})")
    print(report_table(rows, label))
    print(f"best: {rows[0]['name']}; `jaxrl train {plan.algo} --config {folder / BEST}` "
          "trains it")
    print(f"sweep folder: {folder}  ({INFO}, {RESULTS}, {SUMMARY}, {PLOT}, {BEST}, "
          f"{CONFIGS}/)")
    return 0


def ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The configs' rows best first, each given its ``rank``: by IQM, ties (configs that
    all reach a return's cap) by mean, then by the interval's lower end; a config with
    no finite score (it diverged) last, in its order."""
    def key(r: dict[str, Any]) -> tuple[float, ...]:
        return (-r["iqm"], -r["mean"], -r["iqm_low"]) if np.isfinite(r["iqm"]) else \
            (math.inf,) * 3

    out = sorted(rows, key=key)
    for rank, row in enumerate(out, 1):
        row["rank"] = rank
    return out


def report_table(rows: list[dict[str, Any]], label: str) -> str:
    """The configs ranked, one line each: IQM [95 % interval], mean, min, max."""
    width = max(len(r["name"]) for r in rows)
    lines = [f"{'rank':>4}  {'config':<{width}}  {'IQM final ' + label:>22}  "
             f"{'95% interval':>19}  {'mean':>9}  {'min':>9}  {'max':>9}"]
    for r in rows:
        lines.append(f"{r['rank']:>4}  {r['name']:<{width}}  {r['iqm']:>22.4g}  "
                     f"{'[' + format(r['iqm_low'], '.4g') + ', ' + format(r['iqm_high'], '.4g') + ']':>19}  "  # noqa: E501
                     f"{r['mean']:>9.4g}  {r['min']:>9.4g}  {r['max']:>9.4g}")
    return "\n".join(lines)


def _write_results(path: Path, info: dict[str, Any], steps: list[np.ndarray],
                   values: Any) -> None:
    fields = list(info["configs"][0])
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["config", *fields, "seed", "env_steps", "value"])
        for i, changes in enumerate(info["configs"]):
            v = np.asarray(values[i])
            for s in range(v.shape[0]):
                for e, step in enumerate(np.asarray(steps[i])):
                    out.writerow([i, *(_text(changes[k]) for k in fields), s, int(step),
                                  float(v[s, e])])
    tmp.replace(path)


def write_toml(path: Path, config: Any, comment: str) -> None:
    """The config's every field as TOML (``None`` as ``"none"``, which the command line
    reads back as ``None``): ``jaxrl train --config`` trains exactly this config."""
    lines = [f"# {comment}"]
    lines += [f"{name} = {_toml(value)}" for name, value in to_json(config).items()]
    path.write_text("\n".join(lines) + "\n")


def _toml(value: Any) -> str:
    if value is None:
        return '"none"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")  # pragma: no cover
