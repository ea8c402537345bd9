"""The driver over many seeds: :func:`run` trains ``len(keys)`` seeds (or a sweep) in
compiled chunks, split over the devices, with a Python hook between chunks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from jaxrl.devices import seed_mesh, shard_seeds
from jaxrl.driver.loop import Algorithm, Curve, _chunk, _curve, _start


@dataclass
class Progress:
    """What the ``hook`` of :func:`run` receives after each chunk (host-side numbers).

    Attributes:
      chunk: chunks done (0: the initial evaluation only).
      num_chunks: chunks in all.
      env_steps: environment steps done per seed (tabular Q-learning: episodes).
      total_env_steps: environment steps per seed at the end.
      evaluation: this evaluation's outputs, ``[seeds]`` each (a mean per seed).
      metrics: this chunk's ``train_step`` metrics, ``[seeds]`` each (summed over the
        chunk; a mean per seed for stacked metrics).
      elapsed_s: wall time since the start of training (compile excluded).
    """

    chunk: int
    num_chunks: int
    env_steps: int
    total_env_steps: int
    evaluation: dict[str, np.ndarray]
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def eval_return(self) -> np.ndarray:
        """``[seeds]`` mean greedy return of this evaluation, per seed."""
        return self.evaluation["return"]


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
    setup = algo.make(probe, env, env_params)
    if stacked_config:
        # check every swept value, not only the first
        for i in range(keys.shape[0]):
            algo.check(setup, jax.tree.map(lambda x, i=i: x[i], config))
    schedule = setup.schedule
    axis = 0 if stacked_config else None

    # The carry is batched over seeds but for the agent's `shared` fields and the chunk
    # counter, the same in every seed: unbatched, a `lax.cond` on them stays a branch.
    carry_axes = jax.eval_shape(lambda c, k: _start(algo, setup, c, k)[0], probe, keys[0])
    carry_axes = jax.tree.map(lambda _: 0, carry_axes).replace(chunk=None)
    carry_axes = carry_axes.replace(
        agent=carry_axes.agent.replace(**{name: None for name in algo.shared}))
    start = jax.vmap(lambda c, k: _start(algo, setup, c, k),
                     in_axes=(axis, 0), out_axes=(carry_axes, 0))
    chunk = jax.vmap(lambda c, s: _chunk(algo, setup, c, s),
                     in_axes=(axis, carry_axes), out_axes=(carry_axes, 0))
    mesh = seed_mesh(keys.shape[0], devices)
    if mesh is not None:
        start, chunk = shard_seeds(start, chunk, mesh, axis, carry_axes)
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
    per_chunk = schedule.calls_per_chunk * schedule.steps_per_call
    total = schedule.num_chunks * per_chunk
    outputs = []
    if hook is not None:
        hook(Progress(0, schedule.num_chunks, 0, total, _per_seed(first),
                      elapsed_s=time.perf_counter() - t0))
    for i in range(schedule.num_chunks):
        carry, out = chunk_c(config, carry)
        outputs.append(out)
        if hook is not None:
            hook(Progress(i + 1, schedule.num_chunks, (i + 1) * per_chunk, total,
                          _per_seed(out[0]), _per_seed(out[1]), time.perf_counter() - t0))
    jax.block_until_ready(carry)
    wall_s = time.perf_counter() - t0
    chunks = jax.tree.map(lambda *xs: jnp.stack(xs, axis=1), *outputs)
    curve = jax.vmap(lambda f, c: _curve(schedule, f, c))(first, chunks)
    # every leaf with its seed axis again (the `shared` ones were kept once)
    seeds = keys.shape[0]
    agent = carry.agent.replace(**{
        name: jax.tree.map(lambda x: jnp.broadcast_to(x, (seeds, *x.shape)),
                           getattr(carry.agent, name)) for name in algo.shared})
    return RunResult(state=agent, curve=curve, compile_s=compile_s, wall_s=wall_s,
                     env_steps=total, devices=1 if mesh is None else mesh.devices.size)


def _per_seed(outputs: dict[str, jax.Array]) -> dict[str, np.ndarray]:
    """Each output's mean over all but the seed axis, on the host."""
    return {k: np.asarray(v).reshape(v.shape[0], -1).mean(-1) for k, v in outputs.items()}
