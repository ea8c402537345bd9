"""The lecture's maze: "Get out of the maze" (3 x 4 grid, gamma = 0.9).

::

    0   0   0  -1        green (-1 cost): the exit, top right
    0   X   0  +1        red (+1 cost): a trap, absorbing; X: a wall
    0   0   0   0

Conventions that reproduce every table of the slides (``reference/course.md`` §5):

* the cost is per state and paid in the current state:
  ``V_{n+1}(s) = min_a [c(s) + γ V_n(s'(s, a))]``;
* moves N, E, S, W are deterministic; into the wall or off the grid, you stay;
* the red cell is absorbing and keeps paying +1; the green cell keeps paying -1;
* the slides start from ``V_0 = c``.

The states are the 11 free cells in row-major order.
"""

from __future__ import annotations

import numpy as np

from jaxrl.tabular.mdp import TabularMDP

ROWS, COLS = 3, 4
WALL = (1, 1)
GREEN = (0, 3)
RED = (1, 3)
GAMMA = 0.9
#: The iterations shown on the slides.
LECTURE_ITERATIONS = (0, 1, 2, 3, 4, 10, 100, 1000)
#: Actions, in order: North, East, South, West (row, column offsets).
ACTIONS = ("N", "E", "S", "W")
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))
ARROWS = ("↑", "→", "↓", "←")

#: Cell of each state, row-major, the wall left out.
CELLS: tuple[tuple[int, int], ...] = tuple(
    (r, c) for r in range(ROWS) for c in range(COLS) if (r, c) != WALL
)
STATE_OF_CELL = {cell: s for s, cell in enumerate(CELLS)}
NUM_STATES = len(CELLS)
NUM_ACTIONS = len(ACTIONS)


def cell_cost(cell: tuple[int, int]) -> float:
    """The lecture's cost of standing in a cell: -1 green, +1 red, 0 elsewhere."""
    return {GREEN: -1.0, RED: 1.0}.get(cell, 0.0)


def next_cell(cell: tuple[int, int], action: int) -> tuple[int, int]:
    """Where a move leads: the red trap never lets go, the wall and the border block."""
    if cell == RED:
        return cell
    r, c = cell[0] + MOVES[action][0], cell[1] + MOVES[action][1]
    if not (0 <= r < ROWS and 0 <= c < COLS) or (r, c) == WALL:
        return cell
    return (r, c)


def costs() -> np.ndarray:
    """The cost ``c(s)`` of each of the 11 states."""
    return np.array([cell_cost(cell) for cell in CELLS])


def maze_mdp(*, cost: bool = False) -> TabularMDP:
    """The maze as a deterministic :class:`TabularMDP` (``K = 1``).

    Rewards are ``-c(s)`` for every action; with ``cost=True`` the ``rewards`` array
    holds the lecture's costs ``c(s)`` instead, to be planned with ``minimize=True``.
    """
    next_states = np.array(
        [[[STATE_OF_CELL[next_cell(cell, a)]] for a in range(NUM_ACTIONS)] for cell in CELLS]
    )
    per_state = costs() if cost else -costs()
    rewards = np.repeat(per_state[:, None], NUM_ACTIONS, axis=1)
    return TabularMDP.create(next_states, np.ones_like(next_states, float), rewards)


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


def lecture_tables(iterations=LECTURE_ITERATIONS):
    """Run the slides' value iteration (cost form, ``V_0 = c``, γ = 0.9).

    Returns ``({n: V_n}, greedy policy of the last table)`` with ``V_n`` as numpy arrays
    in the lecture's cost sign.
    """
    from jaxrl.tabular.planning import value_iteration

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
