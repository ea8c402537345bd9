"""TensorBoard event files of a run, written with tensorboardX (no TensorFlow) from the
rows of ``metrics.csv``: between chunks, in the hook that writes those rows, on process
0; never inside the compiled chunk. ``tensorboard --logdir runs`` shows every run::

    seed_S/COLUMN           each seed's evaluation outputs and training metrics
    iqm/COLUMN              the interquartile mean over the seeds (jaxrl.stats.iqm);
    mean/, min/, max/       the mean, least and greatest over the seeds
    hparams                 the config (TensorBoard's HPARAMS tab), with the headline's
                            IQM as its metric
    learning_curve          the run's plot, once it ends

A point's step is the chunk's environment steps per seed (episodes, for a learner whose
budget counts them). TensorBoard stores float32: the events hold ``metrics.csv``'s
values rounded to float32.

When a run starts or resumes, its events are rewritten from ``metrics.csv`` (which keeps
the rows up to the checkpoint it goes on from) before it goes on: whatever chunk a run
stopped in, no step is missing or logged twice, for any reader. (tensorboardX's
``purge_step`` would hide the rows after the checkpoint only from readers that apply
it, as TensorBoard does, and not from tbparse or a plain event reader.)
"""

from __future__ import annotations

import contextlib
import csv
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from jaxrl import stats

#: The event files' prefix, tensorboardX's (and TensorBoard's) own.
EVENTS = "events.out.tfevents."
#: Columns of ``metrics.csv`` that say where a row is, not what was measured.
PLACE = ("chunk", "seed", "episodes")
#: The aggregates over the seeds: name, function of ``[seeds]`` values.
AGGREGATES = {"iqm": lambda x: float(stats.iqm(x)), "mean": np.mean, "min": np.min,
              "max": np.max}


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
    return [(column, number(text)) for column, text in row.items()
            if column not in PLACE and not (column == "env_steps" and "episodes" not in row)
            and number(text) is not None]


def points(rows: list[dict[str, Any]]) -> list[tuple[str, float, int]]:
    """``(tag, value, step)`` of one chunk's rows (one per seed, as ``metrics.csv``
    holds them): each seed's value of each column and the aggregates over the seeds."""
    step = step_of(rows[0])
    seeds = [dict(measured(r)) for r in rows]
    out: list[tuple[str, float, int]] = []
    for column in seeds[0]:
        if any(column not in s for s in seeds):
            continue
        out += [(f"seed_{int(number(r['seed']))}/{column}", s[column], step)
                for r, s in zip(rows, seeds, strict=True)]
        x = np.asarray([s[column] for s in seeds], dtype=float)
        finite = bool(np.isfinite(x).all())
        out += [(f"{name}/{column}", float(f(x)) if finite else math.nan, step)
                for name, f in AGGREGATES.items()]
    return out


def by_chunk(rows: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rows of ``metrics.csv`` grouped by chunk, in order."""
    chunks: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        chunks.setdefault(str(row["chunk"]), []).append(row)
    return list(chunks.values())


def hparams(config: dict[str, Any], seeds: int) -> dict[str, bool | int | float | str]:
    """The config's fields (``config.json``'s) as TensorBoard hyper-parameters: numbers,
    switches and names as they are; sizes and ``None`` as the command line writes them
    (``64,64``, ``none``)."""
    out: dict[str, bool | int | float | str] = {"seeds": seeds}
    for name, value in config.items():
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        out[name] = "none" if value is None else value if isinstance(
            value, bool | int | float | str) else str(value)
    return out


def open_logs(stack: contextlib.ExitStack, folder: Path, config: dict[str, Any], seeds: int,
              headline: str, tensorboard: bool, wandb: dict[str, Any] | None) -> list[Any]:
    """The loggers of a run folder (or a sweep's config folder), opened in ``stack``:
    TensorBoard's events rebuilt from ``metrics.csv`` (``tensorboard``), and the W&B
    runs of its seeds (``wandb``: new ones with these settings; a folder whose runs
    began before goes on with them). Each has ``add(rows)`` and ``end(png, finals,
    label)``."""
    from jaxrl.cli import wandb_runs

    out: list[Any] = []
    if tensorboard:
        out.append(stack.enter_context(Board.rebuilt(folder, folder / "metrics.csv", config,
                                                     seeds, headline)))
    if wandb is not None or (folder / wandb_runs.FILE).exists():
        out.append(stack.enter_context(wandb_runs.WandbRuns(folder, config, seeds, wandb)))
    return out


class Board:
    """The event files of one run folder (or one config of a sweep): :meth:`add` one
    chunk's rows at a time, :meth:`end` with the plot once the run is done,
    :meth:`close`."""

    def __init__(self, folder: Path, config: dict[str, Any], seeds: int,
                 headline: str) -> None:
        from tensorboardX import SummaryWriter

        self.folder = Path(folder)
        for old in self.folder.glob(f"{EVENTS}*"):  # rewritten from metrics.csv below
            old.unlink()
        self.writer = SummaryWriter(logdir=str(self.folder), flush_secs=3600)
        self.config, self.seeds, self.headline = config, seeds, headline
        self.started = False

    @classmethod
    def rebuilt(cls, folder: Path, metrics: Path, config: dict[str, Any], seeds: int,
                headline: str) -> Board:
        """A board whose events are those of the rows ``metrics`` already holds."""
        board = cls(folder, config, seeds, headline)
        if metrics.exists():
            with metrics.open(newline="") as f:
                for rows in by_chunk(csv.DictReader(f)):
                    board.add(rows, flush=False)
        board.writer.flush()
        return board

    def add(self, rows: list[dict[str, Any]], flush: bool = True) -> None:
        """One chunk's rows: their points, and the hyper-parameters before the first."""
        if not self.started:
            self._hparams(list(rows[0]))
        for tag, value, step in points(rows):
            self.writer.add_scalar(tag, value, step)
        if flush:  # a run killed later keeps its events up to this chunk
            self.writer.flush()

    def _hparams(self, columns: list[str]) -> None:
        from tensorboardX.summary import hparams as summaries

        where, key = self.headline.split(":", 1)
        name = key if where == "evaluation" else f"train_{key}"
        metrics = {f"iqm/{c}": 0.0 for c in columns if c in (name, f"{name}_mean")}
        experiment, start, self.ended = summaries(hparams(self.config, self.seeds), metrics)
        self.writer.file_writer.add_summary(experiment)
        self.writer.file_writer.add_summary(start)
        self.started = True

    def end(self, png: Path, finals: list[float], label: str) -> None:
        """The run ended: its plot as the ``learning_curve`` image, its hparams session
        closed as done (the final values are in the series already)."""
        import matplotlib.pyplot as plt

        self.writer.add_image("learning_curve", plt.imread(png), dataformats="HWC")
        if self.started:
            self.writer.file_writer.add_summary(self.ended)
        self.writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self.writer.close()

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
