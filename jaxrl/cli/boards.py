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
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from jaxrl import stats
from jaxrl.cli.report import measured, number, step_of

#: The event files' prefix, tensorboardX's (and TensorBoard's) own.
EVENTS = "events.out.tfevents."
#: Seconds between writes of the events to disk (TensorBoard shows a run that far behind).
FLUSH_SECONDS = 5
#: The aggregates over the seeds: name, function of ``[seeds, columns]`` values.
AGGREGATES = {"iqm": lambda x: stats.iqm(x, axis=0), "mean": lambda x: x.mean(0),
              "min": lambda x: x.min(0), "max": lambda x: x.max(0)}


def points(rows: list[dict[str, Any]]) -> list[tuple[str, float, int]]:
    """``(tag, value, step)`` of one chunk's rows (one per seed, as ``metrics.csv``
    holds them): each seed's value of each column and the aggregates over the seeds."""
    step = step_of(rows[0])
    seeds = [dict(measured(r)) for r in rows]
    columns = [c for c in seeds[0] if all(c in s for s in seeds)]
    x = np.asarray([[s[c] for c in columns] for s in seeds], dtype=float).reshape(
        len(seeds), len(columns))  # [seeds, columns]: each aggregate in one call
    finite = np.isfinite(x).all(0)
    safe = np.where(finite, x, 0.0)
    aggregates = {name: np.where(finite, f(safe), math.nan)
                  for name, f in AGGREGATES.items()}
    out: list[tuple[str, float, int]] = []
    for j, column in enumerate(columns):
        out += [(f"seed_{int(number(r['seed']))}/{column}", float(x[i, j]), step)
                for i, r in enumerate(rows)]
        out += [(f"{name}/{column}", float(a[j]), step) for name, a in aggregates.items()]
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
        from tensorboardX.proto.summary_pb2 import Summary
        from tensorboardX.summary import hparams as summaries

        self.summary, self.summaries = Summary, summaries  # imported once, at the start
        self.folder = Path(folder)
        for old in self.folder.glob(f"{EVENTS}*"):  # rewritten from metrics.csv below
            old.unlink()
        # written to disk every few seconds by tensorboardX's own thread, not after each
        # chunk (its flush syncs the file: a chunk's cost at many short chunks); what a
        # killed run had not written is rewritten from metrics.csv when it resumes
        self.writer = SummaryWriter(logdir=str(self.folder), flush_secs=FLUSH_SECONDS)
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
                    board.add(rows)
        return board

    def add(self, rows: list[dict[str, Any]]) -> None:
        """One chunk's rows: their points, and the hyper-parameters before the first."""
        Summary = self.summary  # noqa: N806 - the protobuf class
        if not self.started:
            self._hparams(list(rows[0]))
        # the chunk's points as one event (add_scalar writes an event a point: ~35x the
        # time, which at many seeds and short chunks is a share of the run)
        summary = Summary(value=[Summary.Value(tag=tag, simple_value=value)
                                 for tag, value, _ in points(rows)])
        self.writer.file_writer.add_summary(summary, step_of(rows[0]))

    def _hparams(self, columns: list[str]) -> None:
        where, key = self.headline.split(":", 1)
        name = key if where == "evaluation" else f"train_{key}"
        metrics = {f"iqm/{c}": 0.0 for c in columns if c in (name, f"{name}_mean")}
        experiment, start, self.ended = self.summaries(hparams(self.config, self.seeds),
                                                       metrics)
        self.writer.file_writer.add_summary(experiment)
        self.writer.file_writer.add_summary(start)
        self.started = True

    def end(self, png: Path, finals: list[float], label: str) -> None:
        """The run ended: its plot as the ``learning_curve`` image, its hparams session
        closed as done (the final values are in the series already)."""
        data = Path(png).read_bytes()  # the PNG as it is (no decoding and encoding again)
        width, height = struct.unpack(">II", data[16:24])  # from its IHDR chunk
        image = self.summary.Image(height=height, width=width, colorspace=4,
                                   encoded_image_string=data)
        self.writer.file_writer.add_summary(self.summary(value=[self.summary.Value(
            tag="learning_curve", image=image)]))
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
