"""The lecture's value-iteration tables of the maze, as text (``jaxrl maze``).

"Get out of the maze" (:mod:`jaxrl.envs.maze`): value iteration in the cost form
``V_{n+1}(s) = min_a [c(s) + 0.9 V_n(s'(s, a))]`` from ``V_0 = c``, printed the way the
slides print it: one row of the 3 x 4 grid per line, values rounded to 2 decimals, X for
the wall; the greedy policy as arrows. It sits on the command-line side, above both
:mod:`jaxrl.envs` and :mod:`jaxrl.tabular`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jaxrl.envs.maze import (
    CELLS,
    COLS,
    GAMMA,
    GREEN,
    RED,
    ROWS,
    STATE_OF_CELL,
    WALL,
    costs,
    maze_mdp,
)
from jaxrl.tabular.planning import value_iteration

__all__ = [
    "ARROWS",
    "LECTURE_ITERATIONS",
    "format_policy",
    "format_table",
    "format_value",
    "lecture_tables",
    "to_grid",
]

#: The iterations shown on the slides.
LECTURE_ITERATIONS = (0, 1, 2, 3, 4, 10, 100, 1000)
#: The moves N, E, S, W (the maze's action order) as arrows.
ARROWS = ("↑", "→", "↓", "←")


def to_grid(values) -> list[list[float | None]]:
    """State values laid out on the 3 x 4 grid, ``None`` on the wall."""
    grid: list[list[float | None]] = [[None] * COLS for _ in range(ROWS)]
    for s, (r, c) in enumerate(CELLS):
        grid[r][c] = float(values[s])
    return grid


def format_value(value: float) -> str:
    """A value as the slides print it: rounded to 2 decimals, trailing zeros dropped."""
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_table(values) -> str:
    """A value table as on the slides: one row of the grid per line, X for the wall."""
    lines = []
    for row in to_grid(values):
        cells = ["X" if v is None else format_value(v) for v in row]
        lines.append("".join(f"{cell:>7}" for cell in cells))
    return "\n".join(lines)


def format_policy(policy) -> str:
    """A policy as arrows on the grid (X for the wall, G for the exit, R for the trap)."""
    marks = {GREEN: "G", RED: "R", WALL: "X"}
    lines = []
    for r in range(ROWS):
        cells = [
            marks.get((r, c)) or ARROWS[int(policy[STATE_OF_CELL[(r, c)]])] for c in range(COLS)
        ]
        lines.append("".join(f"{cell:>3}" for cell in cells))
    return "\n".join(lines)


def lecture_tables(
    iterations: Sequence[int] = LECTURE_ITERATIONS,
) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Run the slides' value iteration (cost form, ``V_0 = c``, γ = 0.9).

    Returns ``({n: V_n}, greedy policy of the last table)`` with ``V_n`` as numpy arrays
    in the lecture's cost sign.
    """
    result = value_iteration(
        maze_mdp(cost=True),
        GAMMA,
        v0=costs().astype(np.float32),
        tol=None,
        max_sweeps=max(iterations),
        minimize=True,
        history=True,
    )
    history = np.asarray(result.history)
    return {n: history[n] for n in iterations}, np.asarray(result.policy)
