"""Hyper-parameter sweeps in one call: stack configs so that ``jax.vmap`` runs them all.

:func:`sweep` stacks values that move together (a zip), :func:`grid` their product, and
:func:`run` trains every stacked config with every seed in one compiled program, its
results indexed ``[config, seed]``::

    stacked = grid(dqn.DQNConfig(), learning_rate=[1e-4, 1e-3], gamma=[0.9, 0.99])
    result = run(dqn.ALGORITHM, stacked, jax.random.split(jax.random.key(0), 8))
    result.curve.eval_return  # [4 configs, 8 seeds, evaluations, episodes]
"""

from __future__ import annotations

import itertools
from typing import Any, TypeVar

import jax
import jax.numpy as jnp
import numpy as np

from jaxrl import driver

Config = TypeVar("Config")


def sweep(config: Config, **values: Any) -> Config:
    """A stacked config: each named field takes its values, every other leaf is repeated.

    ``jax.vmap(lambda c: train(c, key))(sweep(config, learning_rate=[0.1, 0.5]))`` trains
    one run per value. Several fields must have the same number of values (they move
    together, a zip, not a grid). Only pytree leaves of the config (numbers such as
    learning rates, γ, ε) can be swept; static fields (sizes, names) cannot.

    Examples:
      >>> from jaxrl.sweep import sweep
      >>> from jaxrl.tabular.qlearning import QLearningConfig
      >>> stacked = sweep(QLearningConfig(gamma=0.5), learning_rate=[0.25, 0.5])
      >>> stacked.learning_rate.tolist(), stacked.gamma.tolist(), stacked.episodes
      ([0.25, 0.5], [0.5, 0.5], 500)
      >>> sweep(QLearningConfig(), episodes=[10, 20])
      Traceback (most recent call last):
      ...
      ValueError: 'episodes' is a static field (a size or a name): it cannot be swept
    """
    if not values:
        raise ValueError("name at least one field to sweep")
    stacked = {name: jnp.asarray(v) for name, v in values.items()}
    sizes = {name: v.shape[0] if v.ndim else None for name, v in stacked.items()}
    if None in sizes.values() or len(set(sizes.values())) != 1:
        raise ValueError(f"each swept field needs a list of values of one length, got {sizes}")
    static = {f for f in getattr(config, "__dataclass_fields__", {})
              if not config.__dataclass_fields__[f].metadata.get("pytree_node", True)}
    for name in stacked:
        if name not in getattr(config, "__dataclass_fields__", {}):
            raise ValueError(f"{type(config).__name__} has no field {name!r}")
        if name in static:
            raise ValueError(f"{name!r} is a static field (a size or a name): it cannot be swept")
    (size,) = set(sizes.values())
    base = jax.tree.map(lambda leaf: jnp.broadcast_to(jnp.asarray(leaf), (size,)), config)
    return base.replace(**stacked)


def grid(config: Config, **values: Any) -> Config:
    """A stacked config of every combination of the value lists (their product, the last
    field varying fastest), as :func:`sweep` stacks them.

    Examples:
      >>> from jaxrl.sweep import grid
      >>> from jaxrl.tabular.qlearning import QLearningConfig
      >>> stacked = grid(QLearningConfig(), learning_rate=[0.25, 0.5], gamma=[0.5, 0.75])
      >>> stacked.learning_rate.tolist(), stacked.gamma.tolist()
      ([0.25, 0.25, 0.5, 0.5], [0.5, 0.75, 0.5, 0.75])
    """
    if not values:
        raise ValueError("name at least one field to sweep")
    lists = {name: np.asarray(v).reshape(-1).tolist() for name, v in values.items()}
    combos = list(itertools.product(*lists.values()))
    return sweep(config, **{name: [c[i] for c in combos] for i, name in enumerate(lists)})


def size(stacked: Any) -> int:
    """How many configs a stacked config holds (its leaves' leading axis).

    Examples:
      >>> from jaxrl.sweep import grid, size
      >>> from jaxrl.tabular.qlearning import QLearningConfig
      >>> size(grid(QLearningConfig(), learning_rate=[0.25, 0.5], gamma=[0.5, 0.75, 0.9]))
      6
    """
    return int(jax.tree.leaves(stacked)[0].shape[0])


def tile(stacked: Config, keys: jax.Array) -> tuple[Config, jax.Array]:
    """Configs × seeds as rows for :func:`jaxrl.driver.run` (``stacked_config=True``):
    row ``c * S + s`` is config ``c`` with key ``s``, so that each config's seeds are the
    seeds of a run of that config alone with the same keys.

    Examples:
      Two configs, three seeds (their indices stand in for the keys here):

      >>> import jax.numpy as jnp
      >>> from jaxrl.sweep import sweep, tile
      >>> from jaxrl.tabular.qlearning import QLearningConfig
      >>> rows, seeds = tile(sweep(QLearningConfig(), learning_rate=[0.25, 0.5]), jnp.arange(3))
      >>> rows.learning_rate.tolist(), seeds.tolist()
      ([0.25, 0.25, 0.25, 0.5, 0.5, 0.5], [0, 1, 2, 0, 1, 2])
    """
    configs, seeds = size(stacked), keys.shape[0]
    config_of_row = np.repeat(np.arange(configs), seeds)
    rows = jax.tree.map(lambda x: jnp.asarray(x)[config_of_row], stacked)
    return rows, keys[np.tile(np.arange(seeds), configs)]


def run(algo: driver.Algorithm, stacked: Config, keys: jax.Array,
        **kwargs: Any) -> driver.RunResult:
    """Train every config of ``stacked`` with every key in one compiled program
    (:func:`jaxrl.driver.run` over :func:`tile`'s rows): the result's ``curve`` and
    ``state`` have leading axes ``[configs, seeds]`` (in a run over several processes
    ``state`` keeps this process's rows, flat, from ``first_seed``).

    Examples:
      Tabular Q-learning on the maze, two step sizes by three seeds, an evaluation every
      10 episodes:

      >>> import jax
      >>> from jaxrl.sweep import run, sweep
      >>> from jaxrl.tabular import qlearning
      >>> config = qlearning.QLearningConfig(env="Maze", episodes=20, max_steps=20,
      ...                                    eval_every_episodes=10, track_optimum=False)
      >>> stacked = sweep(config, learning_rate=[0.25, 0.5])
      >>> result = run(qlearning.ALGORITHM, stacked, jax.random.split(jax.random.key(0), 3))
      >>> result.curve.env_steps.shape, result.curve.env_steps[0, 0].tolist()
      ((2, 3, 3), [0, 10, 20])
    """
    configs, seeds = size(stacked), keys.shape[0]
    rows, row_keys = tile(stacked, keys)
    result = driver.run(algo, rows, row_keys, stacked_config=True, **kwargs)
    split = lambda x: x.reshape(configs, seeds, *x.shape[1:])  # noqa: E731
    state = result.state
    if result.first_seed == 0 and jax.tree.leaves(state)[0].shape[0] == configs * seeds:
        state = jax.tree.map(split, state)
    return driver.RunResult(state, jax.tree.map(split, result.curve), result.compile_s,
                            result.wall_s, result.env_steps, result.devices,
                            result.chunks_done, result.complete, result.first_seed)
