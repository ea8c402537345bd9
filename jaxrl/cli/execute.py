"""Training a checked :class:`jaxrl.cli.train.Plan` into its run folder: the progress
bar, ``metrics.csv`` as the chunks come, a checkpoint after each chunk, then
``summary.json`` and ``learning_curve.png``; a signal or a non-finite loss stops it
cleanly after the chunk running."""

from __future__ import annotations

import contextlib
import functools
import platform
import time
from collections.abc import Callable
from importlib import metadata
from typing import Any

import jax
import numpy as np

from jaxrl import driver, presets, runs
from jaxrl.cli import boards, report
from jaxrl.cli.train import Plan, Stop


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("jaxrl", "jax", "jaxlib", "flax", "optax", "gymnax", "orbax-checkpoint"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - a source checkout
            out[name] = "unknown"
    return out


def _device() -> dict[str, Any]:
    device = jax.devices()[0]
    return {"backend": jax.default_backend(), "kind": getattr(device, "device_kind", ""),
            "count": jax.device_count(), "processor": platform.machine()}


def execute(plan: Plan, progress: bool = True, tensorboard: bool = True,
            wandb: dict[str, Any] | None = None) -> int:
    """Train the plan; the exit status (0 done, 130/143 stopped by SIGINT/SIGTERM and
    saved, 1 a non-finite training metric). A signal from the start on stops the run
    after the chunk running (before the first chunk: nothing trained, and said so).
    ``tensorboard``: TensorBoard events in the run folder; ``wandb``: W&B settings, a
    W&B run per seed (:func:`jaxrl.cli.boards.open_logs`)."""
    with Stop() as stop, contextlib.ExitStack() as logs_open:
        return _execute(plan, progress, stop,
                        functools.partial(boards.open_logs, logs_open, plan.folder,
                                          plan.info["config"], plan.info["seeds"],
                                          tensorboard=tensorboard, wandb=wandb))


def _execute(plan: Plan, progress: bool, stop: Stop, open_logs: Callable[..., list]) -> int:
    learner = presets.LEARNERS[plan.algo]
    algo, config, folder, info = learner.load().ALGORITHM, plan.config, plan.folder, plan.info
    # over several processes, process 0 writes the folder's files and prints (every
    # process writes its own rows of the checkpoints), once every process has checked
    main = jax.process_index() == 0
    say = print if main else _silent
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices("jaxrl: every process checked the run")
    for note in plan.notes:
        say(f"jaxrl: note: {note}")
    chunk0 = -1 if plan.resume is None else int(plan.resume["chunk"])
    if main:
        folder.mkdir(parents=True, exist_ok=True)
        if plan.resume is None and not (folder / runs.CONFIG).exists():
            info.update(versions=_versions(), device=_device())
            runs.write_json(folder / runs.CONFIG, info)
        runs.keep_rows(folder, chunk0 - 1)
    # this part's timing, after the parts before it (a resumed run's times add up)
    parts = runs.keep_parts(folder, chunk0) if main else []
    part = {"first_chunk": max(chunk0, 0), "last_chunk": max(chunk0, 0),
            "compile_s": 0.0, "wall_s": 0.0}
    called = time.perf_counter()
    keys = runs.keys_of(info)
    setup = algo.make(config)
    schedule = setup.schedule
    unit = "episodes" if learner.budget == "episodes" else "steps"
    total = schedule.calls * schedule.steps_per_call
    names = metric_names(algo, setup, config, keys[0])
    over = f" over {jax.process_count()} processes" if jax.process_count() > 1 else ""
    say(f"jaxrl train {plan.algo}: {config.env}, {info['seeds']} seed(s) x {total} "
        f"{unit}{over}; {info['preset']}")
    say(f"run folder: {folder}" + (f" (resuming after chunk {chunk0})" if chunk0 > 0
                                   else ""))
    found: dict[str, str] = {}
    logs: list[Any] = []  # TensorBoard, W&B: opened at the first report (process 0)

    def hook(p: driver.Progress) -> None:
        if not found:
            found["name"], found["label"] = report.headline(p.outputs, p.metrics)
            bar.label = found["label"]
        metrics = {k: p.metrics.get(k) for k in names} if p.metrics else \
            dict.fromkeys(names)
        if main:
            if p.chunk == max(chunk0, 0):  # after the rows of the parts before
                logs.extend(open_logs(found["name"]))
            rows = report.rows(p.chunk, p.env_steps, p.outputs, metrics)
            runs.append_rows(folder, rows)
            for log in logs:
                log.add(rows)
            if p.chunk == part["first_chunk"]:  # compiled just before the first report
                part["compile_s"] = time.perf_counter() - called - p.elapsed_s
            part.update(last_chunk=p.chunk, wall_s=p.elapsed_s)
            runs.write_json(folder / runs.TIMES, {"parts": [*parts, part]})
        bad = report.non_finite(p.metrics)
        if bad is not None and stop.reason is None:
            stop.reason = f"{bad} in chunk {p.chunk}"
        value = report.headline_values(found["name"], p.evaluation, p.metrics)
        bar.update(p.env_steps, None if value is None else float(value.mean()),
                   first=p.chunk == max(chunk0, 0))

    def checkpoint(snapshot: driver.Snapshot) -> None:
        if stop.reason is None:  # keep the last finite checkpoint
            saved.save(snapshot)

    with runs.checkpoints(folder) as saved, \
            report.Bar(total, info["seeds"], unit, "", progress and main) as bar:
        result = driver.run(algo, config, keys, hook=hook, checkpoint=checkpoint,
                            resume=plan.resume, stop=stop)
    if jax.process_count() > 1:  # a signal to one process stopped them all: say which
        from jaxrl.driver import hosts

        stop.signum = hosts.largest(stop.signum or 0) or None
    part.update(last_chunk=result.chunks_done, compile_s=result.compile_s,
                wall_s=result.wall_s)
    if main:
        runs.write_json(folder / runs.TIMES, {"parts": [*parts, part]})
    status = finish(plan, result, found, stop, total, unit, main, [*parts, part])
    if status == 0 and logs:
        finals = [float(v) for v in curve_values(result.curve, found["name"])[1][:, -1]]
        for log in logs:
            log.end(folder / runs.PLOT, finals, found["label"])
        if any(isinstance(log, boards.Board) for log in logs):
            print(f"TensorBoard: tensorboard --logdir {folder.parent}")
    return status


def metric_names(algo: driver.Algorithm, setup: Any, config: Any, key: jax.Array
                 ) -> list[str]:
    """The names of the metrics ``train_step`` reports (traced, nothing computed): the
    training columns of ``metrics.csv``, the same at every chunk."""
    state = jax.eval_shape(lambda k: algo.init(setup, config, k), key)
    return list(jax.eval_shape(lambda s: algo.train_step(setup, config, s)[1], state))


def _silent(*args: Any, **kwargs: Any) -> None:
    """``print`` in the processes other than process 0."""


def finish(plan: Plan, result: driver.RunResult, found: dict[str, str], stop: Stop,
           total: int, unit: str, main: bool = True,
           parts: list[dict[str, Any]] | None = None) -> int:
    """Write the summary and the plot, print the closing lines (process 0), return the
    status (every process). ``parts``: the timing of each part of the run."""
    status = _status(result, stop)
    if main:
        _write_summary(plan, result, found, stop, total, unit, parts)
    return status


def _status(result: driver.RunResult, stop: Stop) -> int:
    if stop.reason is not None:
        return 1
    if stop.signum is not None:
        return 128 + stop.signum
    if not result.complete:  # pragma: no cover - the driver stops only when asked
        return 1
    return 0


def _write_summary(plan: Plan, result: driver.RunResult, found: dict[str, str], stop: Stop,
                   total: int, unit: str, parts: list[dict[str, Any]] | None = None) -> None:
    folder, info = plan.folder, plan.info
    steps, values = curve_values(result.curve, found["name"])
    finals = values[:, -1]
    summary = report.summary(info, finals, found["label"], result, total, unit, str(folder),
                             parts)
    runs.write_json(folder / runs.SUMMARY, summary)
    runs.plot_curve(folder / runs.PLOT, steps, values,
                    f"{plan.algo} on {info['env']}, {info['seeds']} seed(s)",
                    f"{'episodes' if unit == 'episodes' else 'environment steps'} per seed",
                    ylabel=found["label"])
    if result.chunks_done:
        print(f"final {found['label']} per seed: " + " ".join(f"{v:.3g}" for v in finals))
        print(f"mean {finals.mean():.4g}, min {finals.min():.4g}, max {finals.max():.4g}; "
              f"compile {summary['compile_s']:.1f} s, train {summary['wall_s']:.1f} s"
              + (f" (over {summary['parts']} parts)" if summary["parts"] > 1 else ""))
        if "swing_up_seeds" in summary:
            print(f"swung up from hanging and held (|q| < 0.1 over the last 20 steps): "
                  f"{summary['swing_up_seeds']} of {info['seeds']} seeds")
    print(f"run folder: {folder}  ({runs.CONFIG}, {runs.METRICS}, {runs.SUMMARY}, "
          f"{runs.PLOT}, {runs.CHECKPOINTS}/)")
    done = int(result.curve.env_steps[0, -1])
    if stop.reason is not None:
        print(f"jaxrl: error: training diverged: {stop.reason}; stopped, keeping the last "
              f"finite checkpoint ({done - done // max(result.chunks_done, 1)} {unit})",
              flush=True)
    elif stop.signum is not None and result.chunks_done == 0:  # while compiling
        print(f"jaxrl: stopped before the first chunk ended: nothing trained, no "
              f"checkpoint; `jaxrl train --resume {folder}` starts it again", flush=True)
    elif stop.signum is not None:
        resumed = 0 if plan.resume is None else int(plan.resume["chunk"])
        what = "checkpoint saved" if result.chunks_done > resumed else \
            "no chunk ended since the resume, its checkpoint kept"
        print(f"jaxrl: stopped after {done} of {total} {unit} per seed, {what}; go on with: "
              f"jaxrl train --resume {folder}", flush=True)


def curve_values(curve: driver.Curve, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(steps[E], values[seeds, E])`` of the headline over the run."""
    where, key = name.split(":", 1)
    steps = np.asarray(curve.env_steps[0])
    if where == "evaluation":
        x = np.asarray(curve.evaluation[key], dtype=float)
    else:
        x = np.asarray(curve.train[key], dtype=float)
        steps = steps[1:]
    return steps, x.reshape(*x.shape[:2], -1).mean(-1)

