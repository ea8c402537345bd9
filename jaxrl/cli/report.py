"""What a run reports, for every learner alike: its headline number, the rows of
``metrics.csv`` (and how its loggers read them back), ``summary.json``, the progress bar
and the closing lines."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

#: ``(evaluation key, label)``, the first the learner's evaluation has: the headline
#: number of a run (tabular Q-learning is scored against the exact model's optimum:
#: the share of states from which its greedy policy reaches the goal).
HEADLINES = (("return", "greedy return"),
             ("greedy_success", "greedy success"))
TRAIN_HEADLINE = ("episode_return", "training episode return")
#: The evaluation output of the environment steps done per seed, for a learner whose
#: budget counts episodes (the driver's ``env_steps`` count them then).
STEPS = "env_steps"
#: Columns of ``metrics.csv`` that say where a row is, not what was measured.
PLACE = ("chunk", "seed", "episodes")


def headline(evaluation: dict[str, Any], metrics: dict[str, Any]) -> tuple[str, str]:
    """``(where:key, label)`` of the headline number, from what a chunk reports."""
    for key, label in HEADLINES:
        if key in evaluation:
            return f"evaluation:{key}", label
    return f"train:{TRAIN_HEADLINE[0]}", TRAIN_HEADLINE[1]


def headline_values(name: str, evaluation: dict[str, Any], metrics: dict[str, Any]
                    ) -> np.ndarray | None:
    """``[seeds]`` headline value per seed (``None`` when this point has none, as the
    training metrics before the first chunk)."""
    where, key = name.split(":", 1)
    source = evaluation if where == "evaluation" else metrics
    if key not in source:
        return None
    x = np.asarray(source[key], dtype=float)
    return x.reshape(x.shape[0], -1).mean(-1)


def rows(chunk: int, env_steps: int, evaluation: dict[str, np.ndarray],
         metrics: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """One ``metrics.csv`` row per seed: the chunk, env steps, each evaluation output
    (its mean/min/max where it has several values per seed, as greedy episodes) and each
    training metric (its mean per seed over the chunk), with the same columns at every
    chunk (empty before training). A learner whose budget counts episodes (tabular
    Q-learning: ``env_steps`` are then episodes) reports the environment steps it took
    in its evaluation's ``env_steps``: the rows give both, ``env_steps`` and
    ``episodes``."""
    seeds = next(iter(evaluation.values())).shape[0] if evaluation else \
        next(iter(metrics.values())).shape[0]
    out = []
    for s in range(seeds):
        row: dict[str, Any] = {"chunk": chunk, "env_steps": env_steps, "seed": s}
        if STEPS in evaluation:
            row.update(env_steps=int(np.asarray(evaluation[STEPS])[s]), episodes=env_steps)
        for key, value in ((k, v) for k, v in evaluation.items() if k != STEPS):
            x = np.asarray(value[s], dtype=float).ravel()
            if x.size > 1:
                row.update({f"{key}_mean": x.mean(), f"{key}_min": x.min(),
                            f"{key}_max": x.max()})
            else:
                row[key] = x[0]
        for key, value in metrics.items():
            row[f"train_{key}"] = "" if value is None else \
                float(np.asarray(value[s], dtype=float).mean())
        out.append(row)
    return out


def number(text: Any) -> float | None:
    """A ``metrics.csv`` cell as a float (``None`` for an empty one)."""
    return None if text in ("", None) else float(text)


def step_of(row: dict[str, Any]) -> int:
    """A row's step: its chunk's environment steps per seed (episodes, for a learner
    whose budget counts them)."""
    return int(number(row["episodes"] if "episodes" in row else row["env_steps"]))


def measured(row: dict[str, Any]) -> list[tuple[str, float]]:
    """``(column, value)`` of what a row measured: every column but its place (a
    learner counting episodes measures its environment steps too), empty ones left out
    (the training metrics before any training)."""
    values = ((column, number(text)) for column, text in row.items()
              if column not in PLACE and not (column == "env_steps" and "episodes" not in row))
    return [(column, value) for column, value in values if value is not None]


def non_finite(metrics: dict[str, np.ndarray]) -> str | None:
    """The first training metric that is not finite in some seed, as text."""
    for key, value in metrics.items():
        x = np.asarray(value, dtype=float).reshape(len(value), -1)
        bad = ~np.isfinite(x).all(-1)
        if bad.any():
            return f"{key} is {x[bad][0][~np.isfinite(x[bad][0])][0]} in seed " \
                   f"{int(np.argmax(bad))}"
    return None


#: The evaluation's swing-up measure on the course's pendulums (:func:`jaxrl.driver.swing_up`).
SWING_UP = "swing_up"


def summary(info: dict[str, Any], finals: np.ndarray, label: str, result: Any,
            budget: int, unit: str, folder: str,
            parts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``summary.json``: the same keys for every learner. ``env_steps`` are environment
    steps per seed, ``steps_per_s`` environment steps per second over all seeds; a
    learner whose budget counts episodes (``unit``) adds ``episodes`` (done, per seed as
    its budget) and ``episodes_per_s``, and its ``env_steps`` are the mean over the
    seeds of the steps each took (episodes end early at a goal); on the course's pendulums
    ``swing_up_per_seed`` and ``swing_up_seeds`` say which seeds' final policy swings the
    pendulum up from hanging and holds it (:func:`jaxrl.driver.swing_up`). ``wall_s`` and
    ``compile_s`` add up the ``parts`` of the run (its start and each resume:
    ``times.json``), so that ``steps_per_s`` is the whole run's; ``parts`` counts them."""
    seeds = int(info["seeds"])
    done = int(result.curve.env_steps[0, -1])
    parts = parts or [{"wall_s": result.wall_s, "compile_s": result.compile_s}]
    wall_s = float(sum(p["wall_s"] for p in parts))

    def rate(count: float) -> float:
        return count / wall_s if wall_s > 0 else math.nan

    extra: dict[str, Any] = {}
    steps = float(seeds * done)
    if STEPS in result.curve.evaluation:  # `done` counts episodes: the steps they took
        steps = float(np.asarray(result.curve.evaluation[STEPS])[:, -1].sum())
        extra = {"episodes": done, "episodes_per_s": rate(seeds * done)}
    if SWING_UP in result.curve.evaluation:  # the course's pendulums: the swing-up task
        held = np.asarray(result.curve.evaluation[SWING_UP]).reshape(seeds, -1)[:, -1]
        extra |= {"swing_up_per_seed": [bool(v) for v in held],
                  "swing_up_seeds": int(held.sum())}
    return {
        "algo": info["algo"], "env": info["env"], "preset": info["preset"],
        "seeds": seeds, "seed": info["seed"], "complete": bool(result.complete),
        "budget": budget, "unit": unit, "env_steps": round(steps / seeds),
        "metric": label, "final_per_seed": [float(v) for v in finals],
        "final_mean": float(finals.mean()), "final_min": float(finals.min()),
        "final_max": float(finals.max()),
        "wall_s": wall_s, "compile_s": float(sum(p["compile_s"] for p in parts)),
        "parts": len(parts), "steps_per_s": rate(steps), **extra,
        "devices": result.devices, "run_folder": folder,
    }


class Bar:
    """The one progress bar: steps, steps/s over all seeds, ETA, the headline mean over
    the seeds; ``enabled=False`` prints nothing."""

    def __init__(self, total: int, seeds: int, unit: str, label: str, enabled: bool = True,
                 console: Any = None):
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.seeds, self.label, self.start, self.total = seeds, label, None, total
        # compact numbers and a short bar: the line fits 80 columns, never cut
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(bar_width=20),
            TextColumn("{task.fields[count]}"), TextColumn(unit),
            TextColumn("{task.fields[speed]}"), TimeRemainingColumn(),
            TextColumn("{task.fields[value]}"), disable=not enabled, console=console)
        self.task = self.progress.add_task("compiling", total=total, speed="", value="",
                                           count=f"0/{compact(total)}")

    def __enter__(self) -> Bar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def update(self, done: int, value: float | None, first: bool = False) -> None:
        """``done`` steps (per seed) so far; ``value``: the headline mean."""
        now = time.perf_counter()
        if first or self.start is None:
            self.start, self.start_done = now, done
        rate = (done - self.start_done) * self.seeds / max(now - self.start, 1e-9)
        self.progress.update(
            self.task, completed=done, description="training",
            count=f"{compact(done)}/{compact(self.total)}",
            speed=f"{compact(rate)}/s" if done > self.start_done else "",
            value="" if value is None else f"{self.label} {value:.3g}")


def compact(number: float) -> str:
    """``1234567`` as ``1.23M``: three significant digits and a suffix past 9 999."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= 10_000 and abs(number) >= size:
            return f"{number / size:.3g}{suffix}"
    return f"{number:.0f}"
