"""Exact tabular models (:class:`TabularMDP`) of environments, for planning at scale.

gymnax exposes no transition matrix, so these builders write it down: FrozenLake
(gymnax's ``FrozenLake-misc``, 4x4 and 8x8, slippery or not), a scalable grid world
(N x N, walls, slip) for 10^4 to 10^6 states, and random sparse MDPs.

The builders work in numpy on the host (vectorised, so a 10^6-state grid takes a
second) and return models that :meth:`TabularMDP.create` has validated.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments.misc.frozen_lake import GOAL, HOLE, FrozenLake

from jaxrl.mdp import TabularMDP

# gymnax's FrozenLake moves: 0 left, 1 down, 2 right, 3 up, as (row, column) offsets.
_FROZEN_LAKE_MOVES = np.array(((0, -1), (1, 0), (0, 1), (-1, 0)))
# The grid world's moves: 0 north, 1 east, 2 south, 3 west.
GRID_MOVES = np.array(((-1, 0), (0, 1), (1, 0), (0, -1)))


def frozen_lake_mdp(env: FrozenLake | None = None, **kwargs) -> TabularMDP:
    """The exact model of gymnax's ``FrozenLake`` (``FrozenLake-misc``).

    Pass an environment, or the constructor's arguments (``map_name="8x8"``,
    ``is_slippery=False``, ``desc=...``, ``success_rate=...``). Dynamics as gymnax's
    ``step_env``: the intended move succeeds with ``success_rate`` when slippery, else
    the move turns left or right of it with equal probability; moving off the map
    stays at the border. The reward is that of the tile landed on (goal, hole, frozen
    from ``reward_schedule``), in expectation over the slip. Holes and the goal end the
    episode: they are ``terminal``, absorbing, and pay 0.
    """
    if env is None:
        env = FrozenLake(**kwargs)
    elif kwargs:
        raise ValueError("give either an environment or its constructor's arguments")
    desc = np.asarray(env.desc)
    nrow, ncol = desc.shape
    schedule = np.asarray(env.reward_schedule, dtype=np.float64)
    tile_reward = np.where(desc == GOAL, schedule[0], np.where(desc == HOLE, schedule[1],
                                                               schedule[2])).reshape(-1)
    terminal = np.isin(desc.reshape(-1), (HOLE, GOAL))

    rows, cols = np.divmod(np.arange(nrow * ncol), ncol)
    actions = np.arange(4)
    if env.is_slippery:
        # Slots: the intended move, then a turn either way.
        moves = np.stack([actions, (actions - 1) % 4, (actions + 1) % 4], axis=-1)
        side = (1.0 - env.success_rate) / 2.0
        slot_probs = np.array([env.success_rate, side, side])
    else:
        moves = actions[:, None]
        slot_probs = np.array([1.0])
    offsets = _FROZEN_LAKE_MOVES[moves]  # [A, K, 2]
    next_rows = np.clip(rows[:, None, None] + offsets[..., 0], 0, nrow - 1)
    next_cols = np.clip(cols[:, None, None] + offsets[..., 1], 0, ncol - 1)
    next_states = next_rows * ncol + next_cols  # [S, A, K]
    probs = np.broadcast_to(slot_probs, next_states.shape).copy()
    rewards = (probs * tile_reward[next_states]).sum(-1)

    here = np.arange(nrow * ncol)
    next_states[terminal] = here[terminal, None, None]
    rewards[terminal] = 0.0
    return TabularMDP.create(next_states, probs, rewards, terminal)


def grid_world_mdp(
    size: int,
    *,
    slip: float = 0.0,
    walls: np.ndarray | None = None,
    wall_density: float = 0.0,
    seed: int = 0,
    goal: tuple[int, int] | None = None,
) -> TabularMDP:
    """An ``size x size`` grid world: reach the goal in as few steps as possible.

    Moves N, E, S, W (actions 0..3); a move into a wall or off the grid stays put.
    With probability ``slip`` the move is replaced by one of the four drawn uniformly
    (so ``K = 5``; ``K = 1`` when ``slip = 0``). Every step costs 1 (reward -1) until
    the goal (default: the bottom-right cell), which is terminal, absorbing and free.

    Walls: a boolean ``[size, size]`` mask, or ``wall_density`` of the cells drawn with
    ``seed`` (the goal is never a wall). Wall cells are states too (unreachable) so that
    the state of cell ``(r, c)`` is ``r * size + c``.
    """
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    if not 0.0 <= slip <= 1.0:
        raise ValueError(f"slip must be in [0, 1], got {slip}")
    if not 0.0 <= wall_density < 1.0:
        raise ValueError(f"wall_density must be in [0, 1), got {wall_density}")
    goal = (size - 1, size - 1) if goal is None else goal
    if walls is None:
        walls = np.random.default_rng(seed).random((size, size)) < wall_density
    walls = np.asarray(walls, dtype=bool).copy()
    if walls.shape != (size, size):
        raise ValueError(f"walls must have shape ({size}, {size}), got {walls.shape}")
    walls[goal] = False
    num_states = size * size
    rows, cols = np.divmod(np.arange(num_states, dtype=np.int64), size)

    # Where each of the four moves leads from every cell: [S, 4].
    target_rows = rows[:, None] + GRID_MOVES[:, 0]
    target_cols = cols[:, None] + GRID_MOVES[:, 1]
    inside = (target_rows >= 0) & (target_rows < size) & (target_cols >= 0) & (target_cols < size)
    target = np.where(inside, target_rows * size + target_cols, 0)
    blocked = ~inside | walls.reshape(-1)[target]
    lands = np.where(blocked, np.arange(num_states)[:, None], target)  # [S, 4]

    if slip > 0:
        # Slot 0: the intended move; slots 1-4: the slip, uniform over the four moves.
        intended = lands[:, :, None]
        slipped = np.broadcast_to(lands[:, None, :], (num_states, 4, 4))
        next_states = np.concatenate([intended, slipped], axis=-1)
        probs = np.broadcast_to(
            np.array([1.0 - slip] + [slip / 4] * 4), next_states.shape
        ).copy()
    else:
        next_states = lands[:, :, None]
        probs = np.ones_like(next_states, dtype=np.float64)
    rewards = -np.ones((num_states, 4))
    terminal = np.zeros(num_states, dtype=bool)
    goal_state = goal[0] * size + goal[1]
    terminal[goal_state] = True
    next_states[goal_state] = goal_state
    rewards[goal_state] = 0.0
    return TabularMDP.create(next_states, probs, rewards, terminal)


def random_mdp(
    key: jax.Array,
    num_states: int,
    num_actions: int,
    num_successors: int,
    *,
    dtype=jnp.float32,
) -> TabularMDP:
    """A random sparse MDP for tests and benchmarks.

    Each (s, a) has ``num_successors`` successors drawn uniformly (with replacement),
    probabilities from a flat Dirichlet and a reward uniform in [0, 1). Valid by
    construction, so it is built on the device without the host-side check of
    :meth:`TabularMDP.create`; jit it with the sizes static, or vmap over keys.
    """
    key_next, key_probs, key_rewards = jax.random.split(key, 3)
    shape = (num_states, num_actions, num_successors)
    next_states = jax.random.randint(key_next, shape, 0, num_states, dtype=jnp.int32)
    weights = jax.random.exponential(key_probs, shape, dtype=dtype)
    probs = weights / weights.sum(-1, keepdims=True)
    rewards = jax.random.uniform(key_rewards, shape[:2], dtype=dtype)
    return TabularMDP(
        next_states=next_states,
        probs=probs,
        rewards=rewards,
        terminal=jnp.zeros(num_states, dtype=bool),
    )


class ExactModel(struct.PyTreeNode):
    """The exact model of an environment, and its goal states (for scoring learners)."""

    mdp: TabularMDP
    goal: jax.Array


def exact_model(env, env_params) -> ExactModel | None:
    """The exact :class:`TabularMDP` of an environment under ``env_params``, if known.

    Known: our ``Maze`` and ``DiscretePendulum``, and gymnax's ``FrozenLake``. The model
    follows the environment's episodic convention: an episode ends on arriving in a
    ``terminal`` state, which is absorbing with reward 0. Returns ``None`` for other
    environments, or when ``env_params`` are traced (the model is built on the host).
    """
    if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(env_params)):
        return None
    env = getattr(env, "env", env)  # unwrap AutoReset
    # The model is data, not computation: build it eagerly even inside a jit trace.
    with jax.ensure_compile_time_eval():
        return _exact_model(env, env_params)


def _exact_model(env, env_params) -> ExactModel | None:
    from jaxrl.envs.discrete_pendulum import DiscretePendulum
    from jaxrl.envs.discretization import GOAL as PENDULUM_GOAL
    from jaxrl.envs.maze import Maze, maze_env_mdp

    if isinstance(env, DiscretePendulum):
        mdp = env.tabular_mdp(env_params)
        goal = jnp.zeros(mdp.num_states, bool).at[PENDULUM_GOAL].set(True)
    elif isinstance(env, Maze):
        mdp, goal = maze_env_mdp(env_params)
        goal = jnp.asarray(goal)
    elif isinstance(env, FrozenLake):
        mdp = frozen_lake_mdp(env)
        goal = jnp.asarray(np.asarray(env.desc).reshape(-1) == GOAL)
    else:
        return None
    return ExactModel(mdp=mdp, goal=goal)
