"""The lecture's maze: "Get out of the maze" (3 x 4 grid, gamma = 0.9).

::

    0   0   0  -1        green (-1 cost): the exit, top right
    0   X   0  +1        red (+1 cost): a trap, absorbing; X: a wall
    0   0   0   0

Conventions that reproduce every table of the lecture's slides:

* the cost is per state and paid in the current state:
  ``V_{n+1}(s) = min_a [c(s) + γ V_n(s'(s, a))]``;
* moves N, E, S, W are deterministic; into the wall or off the grid, you stay;
* the red cell is absorbing and keeps paying +1; the green cell keeps paying -1;
* the slides start from ``V_0 = c``.

The states are the 11 free cells in row-major order.

:class:`Maze` is the same maze as a gymnax environment (reward ``-c(s')`` of the cell
arrived in), built from the tables of :func:`maze_mdp`, so that learners can run on it.
The slides' tables are printed by :mod:`jaxrl.maze_tables` (``jaxrl maze``); the maze
is drawn here too (:func:`render_maze`, :func:`render`, ``Maze.render``), with the
primitives of :mod:`jaxrl.envs.rendering`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces

from jaxrl.envs import rendering
from jaxrl.mdp import TabularMDP

ROWS, COLS = 3, 4
WALL = (1, 1)
GREEN = (0, 3)
RED = (1, 3)
GAMMA = 0.9
#: Actions, in order: North, East, South, West (row, column offsets).
ACTIONS = ("N", "E", "S", "W")
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))

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


def maze_env_mdp(params=None) -> tuple[TabularMDP, np.ndarray]:
    """The exact model of the :class:`Maze` environment, and its goal mask.

    Rewards are ``-c(s')`` of the cell arrived in. When ``params.exit_terminates``
    (default) the exit is terminal: absorbing, with reward 0, so planning solves the
    episodic problem that the environment poses.
    """
    exit_terminates = True if params is None else bool(params.exit_terminates)
    moves = maze_mdp()
    next_states = np.array(moves.next_states)
    rewards = -costs()[next_states[..., 0]]
    terminal = np.zeros(NUM_STATES, dtype=bool)
    green = STATE_OF_CELL[GREEN]
    if exit_terminates:
        terminal[green] = True
        next_states[green] = green
        rewards[green] = 0.0
    goal = np.zeros(NUM_STATES, dtype=bool)
    goal[green] = True
    mdp = TabularMDP.create(next_states, np.ones_like(next_states, float), rewards, terminal)
    return mdp, goal


# --------------------------------------------------------------------------------------
# The maze as a gymnax environment, so that learners can run on it.
# --------------------------------------------------------------------------------------

#: The state of the bottom-left cell, where episodes start by default.
START_STATE = STATE_OF_CELL[(2, 0)]
#: ``EnvParams.start_state`` value that draws the start uniformly over the states that do
#: not end the episode (see :class:`EnvParams`).
RANDOM_START = -1
GREEN_STATE = STATE_OF_CELL[GREEN]
RED_STATE = STATE_OF_CELL[RED]


@struct.dataclass
class EnvState(environment.EnvState):
    """The agent's state index (0..10, row-major over the free cells) and the time step."""

    position: jax.Array
    time: int


@struct.dataclass
class EnvParams(environment.EnvParams):
    """Episode settings of :class:`Maze` (all pytree leaves, so they can be vmapped).

    Attributes:
      start_state: the state every episode starts in (default the bottom-left cell
        (2, 0)), or :data:`RANDOM_START` (-1) for a start drawn uniformly over the
        states that do not end the episode (all 11, less the exit when
        ``exit_terminates``; the red trap is included).
      exit_terminates: whether arriving in the green exit ends the episode (default).
        With ``False`` the exit keeps paying +1 for every step spent in it, like the
        slides' tables, which keep paying its cost -1 forever (a continuing task).
      max_steps_in_episode: time limit; an episode stuck in the absorbing red trap ends
        by truncation.
    """

    start_state: int = START_STATE
    exit_terminates: bool = True
    max_steps_in_episode: int = 100


class Maze(environment.Environment[EnvState, EnvParams]):
    """The lecture's 3 x 4 maze with the gymnax 1.0 API.

    * observation: the state index, an ``int32`` scalar in ``Discrete(11)``;
    * actions: ``Discrete(4)``, North, East, South, West (:data:`ACTIONS`);
    * reward: ``-c(s')`` of the cell arrived in: +1 on reaching the green exit (which
      ends the episode), -1 on entering or staying in the red trap, 0 elsewhere. The
      slides pay ``c(s)`` in the cell left instead; both give the same optimal moves,
      and paying on arrival is what lets an episode end at the exit (gymnax's
      FrozenLake pays on arrival too);
    * dynamics: deterministic; the wall and the border block; the red trap is absorbing.

    The moves are those of :func:`maze_mdp`, and :func:`maze_env_mdp` is the exact model
    of the environment itself, so planning and learning cannot disagree. An action
    outside ``0..3`` is not checked inside a compiled step (JAX clamps the table index);
    the wrappers in :mod:`jaxrl.envs.wrappers` reject it when called eagerly.
    """

    def __init__(self) -> None:
        super().__init__()
        with jax.ensure_compile_time_eval():  # constructible inside a jit trace too
            mdp = maze_mdp()
        #: Successor of each (state, action), ``int32 [11, 4]``.
        self.next_states = np.asarray(mdp.next_states)[..., 0].astype(np.int32)
        #: Reward of each (state, action): ``-c`` of the cell arrived in, ``float32 [11, 4]``.
        self.rewards = -costs().astype(np.float32)[self.next_states] + np.float32(0.0)

    @property
    def default_params(self) -> EnvParams:
        """Start in (2, 0), episodic exit, 100 steps."""
        return EnvParams()

    @property
    def name(self) -> str:
        """The registry name."""
        return "Maze"

    @property
    def num_actions(self) -> int:
        """North, East, South, West."""
        return NUM_ACTIONS

    def step_env(
        self,
        key: jax.Array,
        state: EnvState,
        action: int | float | jax.Array,
        params: EnvParams,
    ) -> tuple[jax.Array, EnvState, jax.Array, jax.Array, dict[Any, Any]]:
        """One deterministic move; the reward is that of the cell arrived in."""
        del key
        action = jnp.asarray(action, dtype=jnp.int32)
        position = jnp.asarray(state.position, dtype=jnp.int32)
        next_state = EnvState(
            position=jnp.asarray(self.next_states)[position, action],
            time=state.time + 1,
        )
        reward = jnp.asarray(self.rewards)[position, action]
        terminated = jnp.logical_and(params.exit_terminates, next_state.position == GREEN_STATE)
        return next_state.position, next_state, reward, terminated, {}

    def reset(
        self, key: jax.Array, params: EnvParams | None = None
    ) -> tuple[jax.Array, EnvState]:
        """gymnax's ``reset``, after a host-side check of ``params.start_state``.

        Raises:
          ValueError: ``start_state`` is neither a state index nor :data:`RANDOM_START`.
        """
        if params is None:
            params = self.default_params
        start = params.start_state
        if not isinstance(start, jax.core.Tracer) and not isinstance(start, jax.Array):
            values = np.asarray(start)
            if np.any((values < RANDOM_START) | (values >= NUM_STATES)):
                raise ValueError(
                    f"start_state must be a state index in [0, {NUM_STATES}) or "
                    f"RANDOM_START ({RANDOM_START}), got {start!r}"
                )
        return super().reset(key, params)

    def reset_env(self, key: jax.Array, params: EnvParams) -> tuple[jax.Array, EnvState]:
        """Start in ``params.start_state``, or uniformly (see :class:`EnvParams`)."""
        exit_terminates = jnp.asarray(params.exit_terminates, dtype=bool)
        count = NUM_STATES - exit_terminates.astype(jnp.int32)
        drawn = jax.random.randint(key, (), 0, count, dtype=jnp.int32)
        # Skip the exit when it is terminal: indices at or past it move up by one.
        drawn = drawn + jnp.logical_and(exit_terminates, drawn >= GREEN_STATE)
        start = jnp.asarray(params.start_state, dtype=jnp.int32)
        position = jnp.where(start == RANDOM_START, drawn, start)
        state = EnvState(position=position, time=jnp.zeros((), jnp.int32))
        return position, state

    def is_terminated(self, state: EnvState, params: EnvParams) -> jax.Array:
        """The agent has reached the exit and the exit is terminal."""
        return jnp.logical_and(params.exit_terminates, state.position == GREEN_STATE)

    def action_space(self, params: EnvParams | None = None) -> spaces.Discrete:
        """``Discrete(4)``: N, E, S, W."""
        del params
        return spaces.Discrete(NUM_ACTIONS)

    def observation_space(self, params: EnvParams) -> spaces.Discrete:
        """``Discrete(11)``: the state index."""
        del params
        return spaces.Discrete(NUM_STATES)

    def state_space(self, params: EnvParams) -> spaces.Dict:
        """The state index and the time step."""
        return spaces.Dict(
            {
                "position": spaces.Discrete(NUM_STATES),
                "time": spaces.Discrete(params.max_steps_in_episode + 1),
            }
        )

    def render(self, state: EnvState, params: EnvParams | None = None) -> np.ndarray:
        """The maze as a ``uint8`` RGB image ``[H, W, 3]`` (see :func:`render`)."""
        return render(state, params)


# -- drawing the maze (numpy only; colours in RGB) -------------------------------------

_WHITE = (255, 255, 255)
_GRID = (170, 170, 170)
_WALL = (60, 60, 60)
_RED = (220, 60, 60)
_GREEN = (60, 170, 80)
_AGENT = (40, 90, 220)


def render_maze(position: int | None = None, *, cell: int = 48) -> np.ndarray:
    """Draw the maze: the wall, the red trap, the green exit, grid lines, the agent.

    Args:
      position: the agent's state index (0..10), or ``None`` to draw no agent.
      cell: the side of a cell in pixels.

    Returns:
      A ``uint8`` array ``[3 * cell + 1, 4 * cell + 1, 3]``.
    """
    if position is not None and not 0 <= position < NUM_STATES:
        raise ValueError(f"position must be a state index in [0, {NUM_STATES}), got {position}")
    image = rendering.blank(ROWS * cell + 1, COLS * cell + 1, _WHITE)
    for (r, c), colour in ((WALL, _WALL), (RED, _RED), (GREEN, _GREEN)):
        rendering.fill_rect(image, c * cell, r * cell, (c + 1) * cell, (r + 1) * cell, colour)
    image[::cell, :] = _GRID
    image[:, ::cell] = _GRID
    if position is not None:
        r, c = CELLS[position]
        rendering.draw_disc(image, (c + 0.5) * cell, (r + 0.5) * cell, 0.3 * cell, _AGENT)
    return image


def render(env_state: EnvState, env_params: EnvParams | None = None, *,
           cell: int = 48) -> np.ndarray:
    """Draw a :class:`~jaxrl.envs.maze.Maze` state as a ``uint8`` RGB image.

    See :func:`render_maze`; ``env_params`` is accepted for the common
    ``render(state, params)`` signature and not needed.

    Raises:
      ValueError: for a batched state (render one environment at a time).
    """
    del env_params
    position = np.asarray(env_state.position)
    if position.ndim:
        raise ValueError(f"render draws one state, got a batch of shape {position.shape}")
    return render_maze(int(position), cell=cell)
