"""The driver: any algorithm's ``train_step``, in compiled chunks, with greedy evaluation.

An algorithm is a bundle of pure functions (:class:`Algorithm`): ``init``,
``train_step`` (one step of ``num_envs`` environments and its learning) and
``greedy_action``. The driver runs it as the lecture's loop, cut into chunks:

::

    state = init(config, key)                      evaluate: the curve's first point
    repeat num_chunks times:
        lax.scan of train_step over eval_every env steps        (one compiled chunk)
        evaluate: eval_episodes greedy episodes                  (the learning curve)
        hook(progress) on the Python side                        (never inside the scan)

Two ways to run it, with the same numbers:

* :func:`train` ``(algo, config, key)``: one seed, a pure jitted function; ``jax.vmap``
  over keys trains many seeds, over a stacked config (:func:`jaxrl.sweep.sweep`) sweeps.
* :func:`run` ``(algo, config, keys, hook=...)``: many seeds (or a sweep) in one
  ``jit(vmap(chunk))`` per chunk with the state donated, a Python ``hook`` between
  chunks (progress bars, logging), compile time measured apart. The seeds are split over
  the devices (``shard_map``; on a CPU, one device per core with
  :func:`jaxrl.devices.use_cpu_cores`), and the step counter, the same in every seed,
  is kept unbatched, so that "learn once ``learning_starts`` steps are stored" stays a
  branch (under ``vmap`` a ``lax.cond`` on a per-seed value computes both sides).

A seed gives bit-identical results in any batch of two or more seeds. Trained alone (no
batch axis) it plays the same greedy episodes in the tests, but its parameters agree only
to float rounding (~1e-7): XLA's algebraic simplifier rewrites Adam's scalar arithmetic
differently without a batch axis (``--xla_disable_hlo_passes=algsimp`` makes them equal).
The same holds for seeds split over several devices against one device.

The config must have the static fields ``total_steps``, ``num_envs``, ``eval_every``
(env steps between evaluations, rounded up to whole ``train_step`` calls) and
``eval_episodes``. Evaluation episodes run at most the environment's
``max_steps_in_episode`` steps and stop early once all of them have ended.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from jax.sharding import PartitionSpec as P

from jaxrl.envs.wrappers import AutoReset


class Algorithm(NamedTuple):
    """What the driver needs from a learner (all pure functions but ``make_env``/``check``).

    Attributes:
      name: the algorithm's name.
      make_env: ``config -> (AutoReset env, env_params)``.
      check: ``(config, env, env_params) -> None``; raises ``ValueError`` on bad input.
      init: ``(config, key, env, env_params) -> state``.
      train_step: ``(config, state, env, env_params) -> (state, metrics)``: one step of
        ``num_envs`` environments; ``metrics`` a dict of scalars, summed over a chunk.
      greedy_action: ``(config, state, obs, env, env_params) -> actions`` for a batch
        of observations.
      shared: fields of the agent state that hold the same value in every seed (the
        step counter): :func:`run` keeps them unbatched, so that a ``lax.cond`` on them
        (DQN's "learn once ``learning_starts`` steps are stored") stays a branch under
        ``vmap``, instead of a ``select`` that computes both sides for every seed.
    """

    name: str
    make_env: Callable[[Any], tuple[AutoReset, Any]]
    check: Callable[[Any, AutoReset, Any], None]
    init: Callable[..., Any]
    train_step: Callable[..., tuple[Any, dict[str, jax.Array]]]
    greedy_action: Callable[..., jax.Array]
    shared: tuple[str, ...] = ("step",)


class Curve(struct.PyTreeNode):
    """The learning curve, as arrays (a leading seed axis under vmap / :func:`run`).

    Attributes:
      env_steps: ``[E]`` environment steps (per seed) done at each evaluation; the first
        is 0 (before training).
      eval_return: ``[E, eval_episodes]`` undiscounted return of each greedy episode.
      eval_length: ``[E, eval_episodes]`` their lengths.
      train: dict of ``[E - 1]`` sums of ``train_step``'s metrics over each chunk.
    """

    env_steps: jax.Array
    eval_return: jax.Array
    eval_length: jax.Array
    train: dict[str, jax.Array]

    @property
    def final_return(self) -> jax.Array:
        """Mean greedy return of the last evaluation (per seed)."""
        return jnp.mean(self.eval_return[..., -1, :], axis=-1)


class Carry(struct.PyTreeNode):
    """The driver's state: the agent's state, the evaluation key, the chunk counter."""

    agent: Any
    eval_key: jax.Array
    chunk: jax.Array


def schedule(config: Any) -> tuple[int, int]:
    """``(train_steps per chunk, number of chunks)`` for the config's budget."""
    total = max(1, math.ceil(config.total_steps / config.num_envs))
    # an evaluation interval longer than the run is the run (no steps past the budget)
    per_chunk = min(total, max(1, math.ceil(config.eval_every / config.num_envs)))
    return per_chunk, max(1, math.ceil(total / per_chunk))


def num_updates(config: Any) -> int:
    """Gradient steps a run makes: its ``train_step`` calls from ``learning_starts`` on,
    times ``updates_per_step``. The length of a learning-rate schedule that should end
    with the run (DQN's and DDPG's ``*_end`` step sizes)."""
    per_chunk, chunks = schedule(config)
    waiting = math.ceil(config.learning_starts / config.num_envs)
    return max(1, per_chunk * chunks - waiting) * config.updates_per_step


def evaluate(
    algo: Algorithm, config: Any, state: Any, key: jax.Array, env: AutoReset, env_params: Any
) -> tuple[jax.Array, jax.Array]:
    """``eval_episodes`` greedy episodes in parallel: ``(returns, lengths)``.

    Uses the environment's cached reset (resets cost nothing; an ended episode is frozen
    anyway) and a ``while_loop`` that stops when every episode has ended.
    """
    episodes = config.eval_episodes
    env = AutoReset(env.env, cached_reset=True)
    max_steps = getattr(env_params, "max_steps_in_episode", 1000)
    key_reset, key_steps = jax.random.split(key)
    _, env_state = env.batch_reset(key_reset, env_params, episodes)

    def cond(carry):
        t, _, _, _, active, _ = carry
        return (t < max_steps) & jnp.any(active)

    def body(carry):
        t, env_state, returns, lengths, active, key = carry
        key, key_step = jax.random.split(key)
        actions = algo.greedy_action(config, state, env_state.obs, env, env_params)
        env_state, tr = env.batch_step(key_step, env_state, actions, env_params)
        returns = returns + jnp.where(active, tr.reward, 0.0)
        lengths = lengths + active.astype(jnp.int32)
        return t + 1, env_state, returns, lengths, active & ~tr.done, key

    init = (
        jnp.zeros((), jnp.int32), env_state, jnp.zeros(episodes, jnp.float32),
        jnp.zeros(episodes, jnp.int32), jnp.ones(episodes, bool), key_steps,
    )
    _, _, returns, lengths, _, _ = jax.lax.while_loop(cond, body, init)
    return returns, lengths


def _start(algo, config, key, env, env_params):
    """Initialise, and evaluate the untrained agent (the curve's first point)."""
    key_init, key_eval = jax.random.split(key)
    agent = algo.init(config, key_init, env, env_params)
    carry = Carry(agent=agent, eval_key=key_eval, chunk=jnp.zeros((), jnp.int32))
    returns, lengths = evaluate(algo, config, agent, jax.random.fold_in(key_eval, 0), env,
                                env_params)
    return carry, (returns, lengths)


def _chunk(algo, config, carry: Carry, env, env_params):
    """``eval_every`` env steps of training (one ``lax.scan``), then an evaluation."""
    per_chunk, _ = schedule(config)

    def step(state, _):
        agent, sums = state
        agent, metrics = algo.train_step(config, agent, env, env_params)
        # Summed in the carry, one add per step: a reduction over the stacked metrics
        # could round differently under vmap, and a seed in a batch must equal it alone.
        return (agent, jax.tree.map(jnp.add, sums, metrics)), None

    metric_shapes = jax.eval_shape(
        lambda a: algo.train_step(config, a, env, env_params)[1], carry.agent)
    zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), metric_shapes)
    (agent, metrics), _ = jax.lax.scan(step, (carry.agent, zeros), length=per_chunk)
    chunk = carry.chunk + 1
    returns, lengths = evaluate(algo, config, agent, jax.random.fold_in(carry.eval_key, chunk),
                                env, env_params)
    return carry.replace(agent=agent, chunk=chunk), (returns, lengths, metrics)


def _curve(config, first, chunks) -> Curve:
    """Stack the first evaluation and the chunks' outputs into a :class:`Curve`."""
    per_chunk, num_chunks = schedule(config)
    returns, lengths, metrics = chunks
    steps = jnp.arange(num_chunks + 1, dtype=jnp.int32) * per_chunk * config.num_envs
    return Curve(
        env_steps=steps,
        eval_return=jnp.concatenate([first[0][None], returns]),
        eval_length=jnp.concatenate([first[1][None], lengths]),
        train=metrics,
    )


def _prepare(algo: Algorithm, config: Any, env: Any, env_params: Any):
    if env is None:
        env, env_params = algo.make_env(config)
    elif not isinstance(env, AutoReset):
        env = AutoReset(env)
    if env_params is None:
        env_params = env.default_params
    algo.check(config, env, env_params)
    return env, env_params


def train(
    algo: Algorithm, config: Any, key: jax.Array, env: Any = None, env_params: Any = None
) -> tuple[Any, Curve]:
    """Train one seed: ``(final agent state, learning curve)``. Pure and jitted.

    ``jax.vmap(lambda k: train(algo, config, k))(keys)`` trains many seeds;
    ``jax.vmap(lambda c, k: train(algo, c, k))(sweep(config, ...), keys)`` sweeps.
    ``env``/``env_params`` default to ``algo.make_env(config)``.
    """
    env, env_params = _prepare(algo, config, env, env_params)
    return _train(algo, config, key, env_params, env)


@partial(jax.jit, static_argnames=("algo", "env"))
def _train(algo, config, key, env_params, env):
    _, num_chunks = schedule(config)
    carry, first = _start(algo, config, key, env, env_params)
    carry, chunks = jax.lax.scan(
        lambda c, _: _chunk(algo, config, c, env, env_params), carry, length=num_chunks
    )
    return carry.agent, _curve(config, first, chunks)


@dataclass
class Progress:
    """What the ``hook`` of :func:`run` receives after each chunk (host-side numbers).

    Attributes:
      chunk: chunks done (0: the initial evaluation only).
      num_chunks: chunks in all.
      env_steps: environment steps done per seed.
      total_env_steps: environment steps per seed at the end.
      eval_return: ``[seeds]`` mean greedy return of this evaluation, per seed.
      metrics: this chunk's summed ``train_step`` metrics, ``[seeds]`` each.
      elapsed_s: wall time since the start of training (compile excluded).
    """

    chunk: int
    num_chunks: int
    env_steps: int
    total_env_steps: int
    eval_return: np.ndarray
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    elapsed_s: float = 0.0


@dataclass
class RunResult:
    """What :func:`run` returns.

    Attributes:
      state: the final agent states (leading seed axis).
      curve: the learning curves (leading seed axis).
      compile_s: time spent compiling (the start and the chunk function).
      wall_s: time spent running, compile excluded.
      env_steps: environment steps per seed.
      devices: how many devices the seeds were split over.
    """

    state: Any
    curve: Curve
    compile_s: float
    wall_s: float
    env_steps: int
    devices: int = 1


def seed_mesh(num_seeds: int, devices: Any = None) -> jax.sharding.Mesh | None:
    """A one-axis mesh (``"seeds"``) over the most of ``devices`` that divides
    ``num_seeds``; ``None`` when that is a single device."""
    devices = list(jax.devices() if devices is None else devices)
    count = max(d for d in range(1, len(devices) + 1) if num_seeds % d == 0)
    if count == 1:
        return None
    return jax.sharding.Mesh(np.array(devices[:count]), ("seeds",))


def _shard(start, chunk, mesh, config_axis, carry_axes):
    """``start`` and ``chunk`` run by ``shard_map``: each device trains its own seeds
    (batched leaves split over the mesh, the `shared` ones replicated), no communication."""
    seeds, same = P("seeds"), P()
    carry = jax.tree.map(lambda a: same if a is None else seeds, carry_axes,
                         is_leaf=lambda a: a is None)
    config = same if config_axis is None else seeds
    # check_vma off: the algorithms' scans start from constants that become per-seed
    # values, which the check would have each algorithm mark by hand (lax.pcast).
    start = jax.shard_map(start, mesh=mesh, in_specs=(config, seeds),
                          out_specs=(carry, seeds), check_vma=False)
    chunk = jax.shard_map(chunk, mesh=mesh, in_specs=(config, carry),
                          out_specs=(carry, seeds), check_vma=False)
    return start, chunk


def run(
    algo: Algorithm,
    config: Any,
    keys: jax.Array,
    *,
    env: Any = None,
    env_params: Any = None,
    hook: Callable[[Progress], None] | None = None,
    stacked_config: bool = False,
    devices: Any = None,
) -> RunResult:
    """Train ``len(keys)`` seeds in compiled chunks, calling ``hook`` between chunks.

    Each chunk is one call of ``jit(vmap(chunk))`` with the state donated. With
    ``stacked_config`` the config has a leading axis matching ``keys`` (a sweep from
    :func:`jaxrl.sweep.sweep`): run ``i`` uses config ``i`` and key ``i``.

    The seeds are split over ``devices`` (default: all of ``jax.devices()``; the most
    of them that divides the number of seeds), each running its share on its own: on a
    CPU started with one XLA device per core (:func:`jaxrl.devices.use_cpu_cores`), the
    cores train seeds in parallel, where one device would run them on one core.
    """
    probe = jax.tree.map(lambda x: x[0], config) if stacked_config else config
    env, env_params = _prepare(algo, probe, env, env_params)
    if stacked_config:
        # check every swept value, not only the first
        for i in range(keys.shape[0]):
            algo.check(jax.tree.map(lambda x, i=i: x[i], config), env, env_params)
    per_chunk, num_chunks = schedule(probe)
    axis = 0 if stacked_config else None

    # The carry is batched over seeds but for the agent's `shared` fields and the chunk
    # counter, the same in every seed: unbatched, a `lax.cond` on them stays a branch.
    carry_axes = jax.eval_shape(lambda c, k: _start(algo, c, k, env, env_params)[0],
                                probe, keys[0])
    carry_axes = jax.tree.map(lambda _: 0, carry_axes).replace(chunk=None)
    carry_axes = carry_axes.replace(
        agent=carry_axes.agent.replace(**{name: None for name in algo.shared}))
    start = jax.vmap(lambda c, k: _start(algo, c, k, env, env_params),
                     in_axes=(axis, 0), out_axes=(carry_axes, 0))
    chunk = jax.vmap(lambda c, s: _chunk(algo, c, s, env, env_params),
                     in_axes=(axis, carry_axes), out_axes=(carry_axes, 0))
    mesh = seed_mesh(keys.shape[0], devices)
    if mesh is not None:
        start, chunk = _shard(start, chunk, mesh, axis, carry_axes)
        keys = jax.device_put(keys, jax.sharding.NamedSharding(mesh, P("seeds")))
        config = jax.device_put(config, jax.sharding.NamedSharding(
            mesh, P("seeds") if stacked_config else P()))
    start, chunk = jax.jit(start), jax.jit(chunk, donate_argnums=(1,))

    t0 = time.perf_counter()
    start_c = start.lower(config, keys).compile()
    carry_shape = jax.eval_shape(start, config, keys)[0]
    chunk_c = chunk.lower(config, carry_shape).compile()
    compile_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    carry, first = start_c(config, keys)
    total = num_chunks * per_chunk * probe.num_envs
    outputs = []
    if hook is not None:
        hook(Progress(0, num_chunks, 0, total, np.asarray(first[0]).mean(-1),
                      elapsed_s=time.perf_counter() - t0))
    for i in range(num_chunks):
        carry, out = chunk_c(config, carry)
        outputs.append(out)
        if hook is not None:
            hook(Progress(
                i + 1, num_chunks, (i + 1) * per_chunk * probe.num_envs, total,
                np.asarray(out[0]).mean(-1),
                {k: np.asarray(v) for k, v in out[2].items()},
                time.perf_counter() - t0,
            ))
    jax.block_until_ready(carry)
    wall_s = time.perf_counter() - t0
    chunks = jax.tree.map(lambda *xs: jnp.stack(xs, axis=1), *outputs)
    curve = jax.vmap(lambda f, c: _curve(probe, f, c))(first, chunks)
    # every leaf with its seed axis again (the `shared` ones were kept once)
    seeds = keys.shape[0]
    agent = carry.agent.replace(**{
        name: jax.tree.map(lambda x: jnp.broadcast_to(x, (seeds, *x.shape)),
                           getattr(carry.agent, name)) for name in algo.shared})
    return RunResult(state=agent, curve=curve, compile_s=compile_s, wall_s=wall_s,
                     env_steps=total, devices=1 if mesh is None else mesh.devices.size)
