"""Run folders: what ``jaxrl train`` writes, and :func:`load` to use a trained agent.

A run folder holds::

    config.json          the algorithm, environment, seeds, full config, versions, device
    metrics.csv          one row per evaluation per seed (env steps, greedy return
                         mean/min/max, the evaluation's and training's other numbers)
    summary.json         final return per seed, mean/min/max, wall and compile time
    learning_curve.png   mean greedy return over the seeds, with a min-max band
    checkpoints/         the whole training state of every seed after each chunk (orbax)
    times.json           compile and training time of each part (a start, each resume)

``load(folder)`` gives back the config, every seed's agent state and a greedy
``policy(obs)``.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxrl import checkpointing, driver, presets
from jaxrl.driver import hosts

CONFIG, METRICS, SUMMARY, PLOT, CHECKPOINTS, TIMES = (
    "config.json", "metrics.csv", "summary.json", "learning_curve.png", "checkpoints",
    "times.json")
#: config.json's ``kind``: a folder is a jaxrl run folder if its config.json says so.
KIND = "jaxrl-run"


class RunError(ValueError):
    """A folder that is not (or not yet, or no longer) a usable run: one line."""


def read_info(folder: Path) -> dict[str, Any]:
    """``config.json`` of a run folder, or a :class:`RunError` saying why not."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunError(f"{folder}: no such run folder")
    path = folder / CONFIG
    try:
        info = json.loads(path.read_text())
    except FileNotFoundError:
        raise RunError(f"{folder}: not a jaxrl run folder (no {CONFIG})") from None
    except (OSError, json.JSONDecodeError) as error:
        raise RunError(f"{path}: unreadable ({error})") from None
    if not isinstance(info, dict) or info.get("kind") != KIND or info.get("algo") not in \
            presets.LEARNERS:
        raise RunError(f"{folder}: {CONFIG} is not a jaxrl run's")
    return info


def config_of(info: dict[str, Any]) -> Any:
    """The config a run's ``config.json`` records."""
    from jaxrl.cli.fields import apply

    return apply(presets.LEARNERS[info["algo"]].default_config(), info["config"])


def keys_of(info: dict[str, Any]) -> jax.Array:
    """The run's seed keys: ``seeds`` keys split from ``jax.random.key(seed)``."""
    return jax.random.split(jax.random.key(info["seed"]), info["seeds"])


def checkpoints(folder: Path) -> checkpointing.Checkpoints:
    """The run folder's checkpoints, one orbax manager for a whole run: ``with
    runs.checkpoints(folder) as saved: ... saved.save(snapshot)`` after each chunk (see
    :meth:`jaxrl.checkpointing.Checkpoints.save`)."""
    return checkpointing.Checkpoints(Path(folder) / CHECKPOINTS)


def save_checkpoint(folder: Path, snapshot: driver.Snapshot) -> None:
    """Save ``snapshot`` as checkpoint ``snapshot.chunk``, opening the folder's
    checkpoints for this save alone (a run saves through one :func:`checkpoints`)."""
    with checkpoints(folder) as saved:
        saved.save(snapshot)


def latest_checkpoint(folder: Path, say: Callable[[str], None] | None = None
                      ) -> dict[str, np.ndarray] | None:
    """The newest readable checkpoint's arrays (``None`` if there is none). Newer ones
    that do not read are passed over, said in one line (``say``, default: a ``jaxrl:
    note:`` on stderr) and left as they are; a :class:`RunError` (one line) when none
    reads. In a run over several processes each reads its own row; read by one process,
    a run of ``P`` processes gives every leaf with a leading axis of ``P``."""
    if not (Path(folder) / CHECKPOINTS).is_dir():
        return None
    host, step, passed = checkpointing.read_newest(Path(folder) / CHECKPOINTS)
    if host is None and passed:
        raise RunError(f"{folder}: no checkpoint reads: {'; '.join(passed)}")
    if passed:
        (say or _note)(f"{', '.join(passed)}; going on from {CHECKPOINTS}/{step}")
    return host


def _note(text: str) -> None:
    if jax.process_index() == 0:
        print(f"jaxrl: note: {text}", file=sys.stderr, flush=True)


def append_rows(folder: Path, rows: list[dict[str, Any]]) -> None:
    """Append ``rows`` to ``metrics.csv`` (its header from the first row)."""
    path = Path(folder) / METRICS
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        if new:
            writer.writeheader()
        writer.writerows(rows)


def keep_rows(folder: Path, last_chunk: int) -> None:
    """Drop the rows of ``metrics.csv`` past chunk ``last_chunk`` (a resumed run
    writes them again)."""
    path = Path(folder) / METRICS
    if not path.exists():
        return
    with path.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["chunk"]) <= last_chunk]
    path.unlink()
    if rows:
        append_rows(folder, rows)


def keep_parts(folder: Path, last_chunk: int) -> list[dict[str, Any]]:
    """The timing of the parts of a run (``times.json``: each start or resume is a part,
    its chunks, compile and training wall time) that began before chunk ``last_chunk``:
    the ones a run resumed after that chunk goes on from. A part that trained past it
    (stopped by ``kill -9`` between a chunk's report and its checkpoint) keeps its time:
    it was spent."""
    try:
        parts = json.loads((Path(folder) / TIMES).read_text())["parts"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [p for p in parts if isinstance(p, dict) and p.get("first_chunk", 0) < last_chunk]


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON atomically (a temporary file, then a rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")
    os.replace(tmp, path)


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return float(value)


def plot_curve(path: Path, steps: np.ndarray, returns: np.ndarray, title: str,
               xlabel: str = "environment steps per seed",
               ylabel: str = "greedy return") -> None:
    """``returns[seeds, E]`` (the run's headline, ``ylabel``: a greedy return, a greedy
    success rate...) against ``steps[E]``: the mean over seeds with a min-max band, axes
    labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    mean = returns.mean(0)
    ax.fill_between(steps, returns.min(0), returns.max(0), alpha=0.25,
                    label=f"min-max over {returns.shape[0]} seed(s)")
    ax.plot(steps, mean, lw=2, label="mean")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    fig.tight_layout()
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


@dataclass
class Loaded:
    """A trained run, from :func:`load`.

    Attributes:
      algo: the learner's name (``"dqn"``...).
      config: its config.
      state: every seed's agent state (a leading seed axis).
      best: the seed with the best final headline number, the one the run's summary
        gives (greedy return, else greedy success...: :func:`jaxrl.cli.report.headline`).
      info: ``config.json``.
      chunks: chunks trained (all of them unless the run was interrupted).
      complete: whether the run trained its whole budget.
    """

    algo: str
    config: Any
    state: Any
    best: int
    info: dict[str, Any]
    chunks: int
    complete: bool

    @property
    def algorithm(self) -> driver.Algorithm:
        """The learner's :class:`jaxrl.driver.Algorithm`."""
        return presets.LEARNERS[self.algo].load().ALGORITHM

    def seed_state(self, seed: int | None = None) -> Any:
        """The agent state of ``seed`` (default: the best)."""
        seed = self.best if seed is None else seed
        return jax.tree.map(lambda x: x[seed], self.state)

    def policy(self, seed: int | None = None):
        """``policy(obs) -> action``, greedy, of ``seed`` (default: the best); ``obs``
        one observation, or a batch with a leading axis."""
        algo, config = self.algorithm, self.config
        setup = algo.make(config)
        state = self.seed_state(seed)

        @jax.jit
        def act(obs):
            batched = jax.tree.map(lambda x: x[None], obs)
            return algo.greedy_action(setup, config, state, batched)[0]

        @jax.jit
        def act_batch(obs):
            return algo.greedy_action(setup, config, state, obs)

        space = setup.env.observation_space(setup.env_params)
        single = tuple(getattr(space, "shape", ()) or ())

        def policy(obs):
            obs = jax.numpy.asarray(obs)
            return act(obs) if obs.shape == single else act_batch(obs)

        return policy


def load(folder: str | Path) -> Loaded:
    """A run folder's config and trained agents (its newest checkpoint)."""
    folder = Path(folder)
    info = read_info(folder)
    host = latest_checkpoint(folder)
    if host is None:
        raise RunError(f"{folder}: no checkpoint yet (the run stopped before its first "
                       "chunk ended)")
    config = config_of(info)
    learner = presets.LEARNERS[info["algo"]]
    algo = learner.load().ALGORITHM
    seeds, processes = info["seeds"], info.get("processes", 1)
    agents, lasts, every = [], [], keys_of(info)
    for p in range(processes):  # a run over P processes: each one's row, its seeds
        part = hosts.share(seeds, processes, p)
        keys = hosts.rows(every, part) if processes > 1 else every
        snapshot = driver.restore(algo, config, keys, host if processes == 1 else
                                  {k: v[p] for k, v in host.items()})
        agent = snapshot.carry.agent
        agent = agent.replace(**{
            name: jax.tree.map(lambda x, n=part.per: jax.numpy.broadcast_to(x, (n, *x.shape)),
                               getattr(agent, name)) for name in algo.shared})
        agents.append(jax.tree.map(lambda x, n=part.real: x[:n], agent))
        lasts.append(jax.tree.map(lambda x, n=part.real: np.asarray(x)[:n],
                                  snapshot.chunks[-1]))
    agent = jax.tree.map(lambda *xs: jax.numpy.concatenate(xs), *agents)
    evaluation, metrics = jax.tree.map(lambda *xs: np.concatenate(xs), *lasts)
    final = _headline(evaluation, metrics)
    num_chunks = algo.make(config).schedule.num_chunks
    return Loaded(info["algo"], config, agent, int(np.argmax(final)), info,
                  snapshot.chunk, snapshot.chunk == num_chunks)


def _headline(evaluation: dict[str, Any], metrics: dict[str, Any]) -> np.ndarray:
    """``[seeds]``: the last chunk's headline number per seed, as the summary's."""
    from jaxrl.cli import report

    name, _ = report.headline(evaluation, metrics)
    return report.headline_values(name, evaluation, metrics)
