"""``jaxrl compare RUN_OR_SWEEP ...``: learning curves of several run or sweep folders on
one plot (the IQM over seeds with its 95 % stratified-bootstrap band, per environment
step), their final scores in one table with intervals, and the probability that each
improves on the first (Agarwal et al., 2021; :mod:`jaxrl.stats`).

A run folder gives its ``metrics.csv`` (the headline, or ``--metric COLUMN``); a sweep
folder its best config's curves from ``results.csv`` (its headline). The folders must be
of one environment. Every check comes before anything is written.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jaxrl import stats
from jaxrl.cli import paths
from jaxrl.cli.errors import UsageError, closest

#: metrics.csv's column of each headline label (summary.json's ``metric``).
HEADLINE_COLUMNS = {"greedy return": ("return_mean", "return"),
                    "greedy success": ("greedy_success",),
                    "training episode return": ("train_episode_return",)}


def add_options(parser: argparse.ArgumentParser) -> None:
    """The folders, ``--out`` and ``--metric``."""
    parser.add_argument("folders", nargs="*", type=Path, metavar="RUN_OR_SWEEP",
                        help="two or more run or sweep folders (the first is the baseline)")
    parser.add_argument("--out", type=Path, default=Path("compare.png"),
                        help="the plot to write; its table goes beside it as .json "
                        "(default: %(default)s)")
    parser.add_argument("--metric", default=None, metavar="NAME",
                        help="a metrics.csv column of the runs (default: each run's "
                        "headline, the greedy return)")


@dataclass
class Entry:
    """One curve of the comparison: a name, ``steps[E]`` and ``values[seeds, E]``."""

    name: str
    env: str
    metric: str
    steps: np.ndarray
    values: np.ndarray


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as error:
        raise UsageError(f"{path}: unreadable ({error})") from None


def _table(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="") as f:
            return list(csv.DictReader(f))
    except OSError as error:
        raise UsageError(f"{path}: unreadable ({error.strerror})") from None


def _curves(rows: list[dict[str, str]], column: str, where: Path) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """``(steps[E], values[seeds, E])`` of a table with ``seed``, ``env_steps`` columns."""
    try:
        points = {(int(r["seed"]), int(float(r["env_steps"]))): float(r[column])
                  for r in rows if r.get(column, "") != ""}
    except (KeyError, ValueError):
        raise UsageError(f"{where}: its rows do not read as numbers") from None
    seeds = sorted({s for s, _ in points})
    steps = sorted({e for _, e in points})
    if not points or any((s, e) not in points for s in seeds for e in steps):
        raise UsageError(f"{where}: no complete curve of {column} (an unfinished run?)")
    return np.array(steps), np.array([[points[s, e] for e in steps] for s in seeds])


def read(folder: Path, metric: str | None) -> Entry:
    """A run or sweep folder's curves, or a :class:`UsageError` line saying why not."""
    from jaxrl.cli.sweep import INFO, KIND

    if not folder.is_dir():
        raise UsageError(f"{folder}: no such run or sweep folder")
    info = _read_json(folder / "config.json")
    if isinstance(info, dict) and info.get("kind") == "jaxrl-run":
        summary = _read_json(folder / "summary.json")
        if not isinstance(summary, dict):
            raise UsageError(f"{folder}: the run has not ended (no summary.json); finish "
                             f"it with `jaxrl train --resume {folder}`")
        rows = _table(folder / "metrics.csv")
        columns = [c for c in (rows[0] if rows else {}) if c not in ("chunk", "seed")]
        if metric is None:
            found = [c for c in HEADLINE_COLUMNS.get(summary.get("metric"), ()) if c in columns]
            column = found[0] if found else "return_mean"
        else:
            column = metric
        if column not in columns:
            raise UsageError(f"--metric {column!r}{closest(column, columns)}: not a column "
                             f"of {folder}/metrics.csv ({', '.join(columns)})")
        steps, values = _curves(rows, column, folder / "metrics.csv")
        label = summary.get("metric", column) if metric is None else column
        return Entry(folder.name, info.get("env", "?"), label, steps, values)
    info = _read_json(folder / INFO)
    if not (isinstance(info, dict) and info.get("kind") == KIND):
        raise UsageError(f"{folder}: not a jaxrl run or sweep folder (no config.json or "
                         f"{INFO})")
    summary = _read_json(folder / "summary.json")
    if not isinstance(summary, dict):
        raise UsageError(f"{folder}: the sweep has not ended (no summary.json); finish it "
                         f"with `jaxrl sweep --resume {folder}`")
    if metric is not None:
        raise UsageError(f"--metric {metric}: {folder} is a sweep, whose results.csv holds "
                         f"its headline only ({summary['metric']}); leave --metric out")
    best = summary["ranked"][0]
    rows = [r for r in _table(folder / "results.csv") if int(r["config"]) == best["config"]]
    steps, values = _curves(rows, "value", folder / "results.csv")
    return Entry(f"{folder.name} best ({best['name']})", info.get("env", "?"),
                 summary["metric"], steps, values)


def command(args: argparse.Namespace) -> int:
    """``jaxrl compare``: check every folder, then write the plot and its table."""
    folders = args.folders
    if len(folders) < 2:
        raise UsageError("give two or more run or sweep folders to compare")
    if len({f.resolve() for f in folders}) < len(folders):
        raise UsageError("a folder is given twice")
    paths.check_output_file("--out", args.out, (".png",))
    entries = [read(f, args.metric) for f in folders]
    envs = {e.env for e in entries}
    if len(envs) > 1:
        raise UsageError("compare runs of one environment: " + ", ".join(
            f"{f} is {e.env}" for f, e in zip(folders, entries, strict=True)))
    if len({e.metric for e in entries}) > 1:
        raise UsageError("compare one metric: " + ", ".join(
            f"{f} has {e.metric}" for f, e in zip(folders, entries, strict=True)))
    rows = table(entries)
    plot(args.out, entries, f"{entries[0].env}: {len(entries)} runs compared")
    out_json = args.out.with_suffix(".json")
    out_json.write_text(json.dumps({"env": entries[0].env, "rows": rows}, indent=2) + "\n")
    print(format_table(rows))
    print(f"wrote {args.out} and {out_json}")
    return 0


def table(entries: list[Entry]) -> list[dict[str, Any]]:
    """Each entry's final score (IQM with its interval, mean, min, max) and P(it improves
    on the first), with its interval."""
    finals = [e.values[:, -1] for e in entries]
    rows = stats.score_table({e.name: f for e, f in zip(entries, finals, strict=True)})
    for row, entry, final in zip(rows, entries, finals, strict=True):
        row["env_steps"] = int(entry.steps[-1])
        if entry is entries[0]:
            row.update(p_improve=math.nan, p_low=math.nan, p_high=math.nan)
        else:
            p, low, high = stats.probability_of_improvement_interval(final, finals[0])
            row.update(p_improve=p, p_low=low, p_high=high)
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """One line per entry: final IQM [interval], mean, min, max, P(> the first)."""
    width = max(len(r["name"]) for r in rows)
    lines = [f"{'run':<{width}}  {'seeds':>5}  {'steps':>8}  {'IQM final':>9}  "
             f"{'95% interval':>19}  {'mean':>9}  {'P(> first) [95%]':>22}"]
    for r in rows:
        interval = f"[{r['iqm_low']:.4g}, {r['iqm_high']:.4g}]"
        better = "(the baseline)" if math.isnan(r["p_improve"]) else \
            f"{r['p_improve']:.2f} [{r['p_low']:.2f}, {r['p_high']:.2f}]"
        lines.append(f"{r['name']:<{width}}  {r['runs']:>5}  {r['env_steps']:>8}  "
                     f"{r['iqm']:>9.4g}  {interval:>19}  {r['mean']:>9.4g}  {better:>22}")
    return "\n".join(lines)


def plot(path: Path, entries: list[Entry], title: str,
         xlabel: str = "environment steps per seed", label_seeds: bool = True,
         legend_outside: bool = False) -> None:
    """The entries' IQM curves over their seeds, each with its 95 % stratified-bootstrap
    band (``jaxrl compare``'s plot and a sweep's ``curves.png``); the legend names each
    entry (and its seeds, ``label_seeds``), beside the axes with ``legend_outside``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.0, 4.8))
    colours = plt.get_cmap("tab20" if len(entries) > 10 else "tab10")
    for i, entry in enumerate(entries):
        iqm, low, high = stats.curve_bands(entry.values, reps=500)
        label = f"{entry.name} ({entry.values.shape[0]} seeds)" if label_seeds else entry.name
        ax.plot(entry.steps, iqm, lw=1.8, color=colours(i % colours.N), label=label)
        ax.fill_between(entry.steps, low, high, alpha=0.2, color=colours(i % colours.N))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{entries[0].metric} (IQM over seeds, 95% band)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if legend_outside:
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, frameon=False)
    else:
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
