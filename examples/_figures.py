"""The examples' figures (not an example itself): where they go, and the three kinds of
picture the slides need, the learning curves drawn by the library's own plotters.

A figure is written to ``$JAXRL_FIGURES/<name>.png`` if that variable is set, else to
the repository's ``docs/figures/`` (the tutorial's pictures).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from jaxrl.cli.compare import Entry, plot  # noqa: E402
from jaxrl.runs import plot_curve  # noqa: E402

__all__ = ["curves", "figure_path", "maze_tables", "one_curve", "pendulum_maps"]


def figure_path(name: str) -> Path:
    """``<figures dir>/<name>.png``, the folder made if missing."""
    folder = Path(os.environ.get("JAXRL_FIGURES")
                  or Path(__file__).resolve().parents[1] / "docs" / "figures")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


def _done(path: Path) -> Path:
    print(f"figure: {path}")
    return path


def curves(name: str, title: str, runs: dict[str, tuple[np.ndarray, np.ndarray]],
           metric: str = "greedy return", xlabel: str = "environment steps per seed") -> Path:
    """Learning curves ``{label: (steps[E], values[seeds, E])}``: each the IQM over its
    seeds with a 95 % bootstrap band (``jaxrl compare``'s plot)."""
    entries = [Entry(label, "", metric, np.asarray(steps), np.asarray(values, float))
               for label, (steps, values) in runs.items()]
    path = figure_path(name)
    plot(path, entries, title, xlabel=xlabel)
    return _done(path)


def one_curve(name: str, title: str, steps, values, ylabel: str,
              xlabel: str = "environment steps per seed") -> Path:
    """One learning curve ``values[seeds, E]``: the mean with its min-max band."""
    path = figure_path(name)
    plot_curve(path, np.asarray(steps), np.asarray(values, float), title, xlabel, ylabel)
    return _done(path)


def _save(fig, name: str) -> Path:
    path = figure_path(name)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return _done(path)


def maze_tables(name: str, tables: dict[int, list[list[float | None]]],
                policy: list[list[str]]) -> Path:
    """The maze's value tables ``{n: grid}`` (``None`` on the wall) as heat maps, each
    cell written as on the slides, then the greedy policy's arrows."""
    panels = len(tables) + 1
    cols = 3
    rows = -(-panels // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.5 * rows))
    axes = axes.ravel()
    for ax, (n, grid) in zip(axes, tables.items(), strict=False):
        values = np.array([[np.nan if v is None else v for v in row] for row in grid])
        ax.imshow(values, cmap="RdYlGn_r", vmin=-10, vmax=10)
        for (r, c), v in np.ndenumerate(values):
            ax.text(c, r, "X" if np.isnan(v) else f"{v:.2f}".rstrip("0").rstrip("."),
                    ha="center", va="center", fontsize=9)
        ax.set_title(f"V_{n}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    ax = axes[len(tables)]
    ax.imshow(np.zeros((len(policy), len(policy[0]))), cmap="Greys", vmin=0, vmax=1)
    for r, row in enumerate(policy):
        for c, mark in enumerate(row):
            ax.text(c, r, mark, ha="center", va="center", fontsize=16)
    ax.set_title("greedy policy", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    for ax in axes[panels:]:
        ax.axis("off")
    fig.tight_layout()
    return _save(fig, name)


def pendulum_maps(name: str, maps: dict[str, tuple[np.ndarray, str]],
                  extent: tuple[float, float, float, float], title: str) -> Path:
    """Tables over (angle, velocity), ``{title: (image[velocities, angles], colormap)}``,
    side by side, each with its colour bar."""
    fig, axes = plt.subplots(1, len(maps), figsize=(5.2 * len(maps), 4.0))
    for ax, (label, (image, cmap)) in zip(np.atleast_1d(axes), maps.items(), strict=True):
        shown = ax.imshow(image, origin="lower", aspect="auto", extent=extent, cmap=cmap)
        fig.colorbar(shown, ax=ax)
        ax.set_title(label)
        ax.set_xlabel("angle q (rad, 0 upright)")
        ax.set_ylabel("velocity v (rad/s)")
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, name)
