"""The driver over many seeds: :func:`run` trains ``len(keys)`` seeds (or a sweep) in
compiled chunks, split over the devices, with a Python hook between chunks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from jaxrl.devices import pad_rows, padded_seeds, seed_mesh, shard_seeds
from jaxrl.driver import groups, hosts
from jaxrl.driver.loop import Algorithm, Curve, _chunk, _curve, _start
from jaxrl.driver.snapshots import Snapshot, _Outputs, _restore


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
      outputs: this evaluation's outputs whole, ``[seeds, ...]`` each (greedy
        episodes: one value per episode).
    """

    chunk: int
    num_chunks: int
    env_steps: int
    total_env_steps: int
    evaluation: dict[str, np.ndarray]
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    elapsed_s: float = 0.0
    outputs: dict[str, np.ndarray] = field(default_factory=dict)

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
      devices: how many devices the seeds were split over (in all processes).
      chunks_done: chunks trained, counting those of a resumed run.
      complete: all the schedule's chunks are done (``False`` when ``stop`` ended it).
      first_seed: the seed ``state``'s first row is (not 0 only in a run over several
        processes, where ``state`` holds this process's seeds and ``curve`` all of them).
    """

    state: Any
    curve: Curve
    compile_s: float
    wall_s: float
    env_steps: int
    devices: int = 1
    chunks_done: int = 0
    complete: bool = True
    first_seed: int = 0


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
    checkpoint: Callable[[Snapshot], None] | None = None,
    resume: dict[str, np.ndarray] | None = None,
    stop: Callable[[], bool] | None = None,
) -> RunResult:
    """Train ``len(keys)`` seeds in compiled chunks, calling ``hook`` between chunks.

    Each chunk is one call of ``jit(vmap(chunk))`` with the state donated. With
    ``stacked_config`` the config has a leading axis matching ``keys`` (a sweep from
    :func:`jaxrl.sweep.sweep`): run ``i`` uses config ``i`` and key ``i``.

    The seeds are split over ``devices`` (default: all of ``jax.devices()``, or as many
    as there are seeds), each running its share on its own; a seed count they do not
    divide is padded with copies of the first seed, dropped from every output (hook,
    checkpoint, result): the real seeds' numbers do not depend on them. On a
    CPU started with one XLA device per core (:func:`jaxrl.devices.use_cpu_cores`), the
    cores train seeds in parallel, where one device would run them on one core.

    In a run over several processes (:func:`jaxrl.devices.start_processes`) and with
    ``devices`` not given, every process calls ``run`` with the same arguments and trains
    its :class:`~jaxrl.driver.hosts.Share` of the seeds on its local devices; the hook's
    numbers and the result's curve hold every seed in every process, the result's
    ``state`` and the checkpoints this process's seeds (from ``first_seed``), and a
    ``stop()`` in any process stops them all after the same chunk.

    After each chunk ``checkpoint(snapshot)`` (if given) gets a :class:`Snapshot` of the
    run, then ``stop()`` (if given) may end it early (the result has the chunks done).
    ``resume`` (a :meth:`Snapshot.to_host` of a run of the same config and keys) goes
    on from it: the result, parameters and curve, is bit-identical to the run that was
    not stopped.
    """
    keys = _check_keys(keys)
    part = hosts.share(keys.shape[0]) if devices is None and jax.process_count() > 1 \
        else None
    if part is not None:  # this process's seeds, on its own devices
        keys, devices = hosts.rows(keys, part), jax.local_devices()
        if stacked_config:
            config = jax.tree.map(lambda x: hosts.rows(x, part), config)
    exchange = jax.device_get if part is None else partial(hosts.gather, share=part)
    probe = jax.tree.map(lambda x: x[0], config) if stacked_config else config
    setup = algo.make(probe, env, env_params)  # a stacked config checked all its values
    schedule = setup.schedule
    axis = 0 if stacked_config else None
    cpu = all(d.platform == "cpu" for d in (jax.devices() if devices is None else devices))
    start, chunk, carry_axes = _batched(algo, setup, probe, keys, axis,
                                        groups.CPU_GROUP if cpu else None,
                                        alone=keys.shape[0] == 1 and part is None)
    seeds = keys.shape[0]
    mesh = seed_mesh(seeds, devices)
    width = padded_seeds(seeds, mesh)
    if width > seeds:  # each device the same share: copies of seed 0, dropped from outputs
        keys = pad_rows(keys, width)
        if stacked_config:
            config = jax.tree.map(lambda x: pad_rows(x, width), config)
    real, real_carry = _real(seeds, width, carry_axes)
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
    per_chunk = schedule.calls_per_chunk * schedule.steps_per_call
    total = schedule.num_chunks * per_chunk
    if resume is None:
        carry, first = start_c(config, keys)
        first, done, outputs = real(jax.device_get(first)), 0, []
    else:
        like = jax.eval_shape(lambda c, f, o: (real_carry(c), real(f), real(o)),
                              carry_shape, jax.eval_shape(start, config, keys)[1],
                              jax.eval_shape(chunk, config, carry_shape)[1])
        snap = _restore(resume, like, _impl(keys))
        carry = snap.carry if width == seeds else _pad_carry(snap.carry, carry_axes, width)
        carry = jax.device_put(carry, start_c.output_shardings[0])
        first, done, outputs = snap.first, snap.chunk, snap.chunks
    history = _Outputs(None if resume is None else snap.stacked)  # outputs, stacked
    def report(out: tuple[Any, Any]) -> None:  # every seed's numbers, in every process
        if hook is not None:
            evaluation, metrics = exchange(out)
            hook(Progress(done, schedule.num_chunks, done * per_chunk, total,
                          _per_seed(evaluation), _per_seed(metrics),
                          time.perf_counter() - t0, evaluation))

    def stopping() -> bool:  # the processes stop together, after the same chunk
        if stop is None:
            return False
        asked = bool(stop())
        return asked if part is None else hosts.any_process(asked)

    report(outputs[-1] if outputs else (first, {}))
    while done < schedule.num_chunks and not stopping():
        carry, out = chunk_c(config, carry)
        out = real(jax.device_get(out))  # on the host: no device buffers kept per chunk
        outputs.append(out)
        history.append(out)
        done += 1
        report(out)
        if checkpoint is not None:
            checkpoint(Snapshot(done, real_carry(carry), first, list(outputs),
                                history.stacked()))
    jax.block_until_ready(carry)
    wall_s = time.perf_counter() - t0
    if not outputs:  # stopped before the first chunk: a curve of one point
        outputs = [jax.tree.map(lambda x: jnp.zeros((seeds, 0, *x.shape[1:]), x.dtype),
                                jax.eval_shape(chunk, config, carry_shape)[1])]
        chunks = jax.tree.map(lambda *xs: jnp.concatenate(xs, axis=1), *outputs)
    else:
        chunks = jax.tree.map(lambda x: np.moveaxis(x, 0, 1), history.stacked())
    curve = jax.vmap(lambda f, c: _curve(schedule, f, c, done))(
        *((first, chunks) if part is None else exchange((first, chunks))))
    # every leaf with its seed axis again (the `shared` ones were kept once)
    carry = real_carry(carry)
    agent = carry.agent.replace(**{
        name: jax.tree.map(lambda x: jnp.broadcast_to(x, (seeds, *x.shape)),
                           getattr(carry.agent, name)) for name in algo.shared})
    if part is not None:  # this process's real seeds
        agent = jax.tree.map(lambda x: x[:part.real], agent)
    used = (1 if mesh is None else mesh.devices.size) * (1 if part is None else part.processes)
    return RunResult(state=agent, curve=curve, compile_s=compile_s, wall_s=wall_s,
                     env_steps=total, devices=used, chunks_done=done,
                     complete=done == schedule.num_chunks,
                     first_seed=0 if part is None else part.start)


def _pad_carry(carry: Any, carry_axes: Any, width: int) -> Any:
    """A restored carry's batched leaves padded to ``width`` seeds (the shared ones as
    they are)."""
    return jax.tree.map(lambda a, x: x if a is None else pad_rows(x, width), carry_axes, carry,
                        is_leaf=lambda a: a is None)


def _real(seeds: int, width: int, carry_axes: Any) -> tuple[Callable, Callable]:
    """``(real, real_carry)``: a seed-leading tree, and the carry, without the padding
    seeds (the identity when there are none)."""
    if width == seeds:
        return (lambda tree: tree), (lambda carry: carry)

    def real(tree):
        return jax.tree.map(lambda x: x[:seeds], tree)

    def real_carry(carry):
        return jax.tree.map(lambda a, x: x if a is None else x[:seeds], carry_axes, carry,
                            is_leaf=lambda a: a is None)

    return real, real_carry


def _batched(algo: Algorithm, setup: Any, probe: Any, keys: jax.Array, axis: int | None,
             group: int | None = None, alone: bool = False):
    """``vmap`` of the driver's start and chunk over the seeds, and the carry's axes.

    The carry is batched over seeds but for the agent's `shared` fields and the chunk
    counter, the same in every seed: unbatched, a `lax.cond` on them stays a branch.
    ``alone`` (a run of one seed): no ``vmap``, the seed axis of one is dropped and put
    back around the unbatched program (:func:`_one`).
    """
    carry_axes = jax.eval_shape(lambda c, k: _start(algo, setup, c, k)[0], probe, keys[0])
    carry_axes = jax.tree.map(lambda _: 0, carry_axes).replace(chunk=None)
    carry_axes = carry_axes.replace(
        agent=carry_axes.agent.replace(**{name: None for name in algo.shared}))
    batch = _one if alone else jax.vmap
    start = batch(lambda c, k: _start(algo, setup, c, k),
                  in_axes=(axis, 0), out_axes=(carry_axes, 0))
    chunk = batch(lambda c, s: _chunk(algo, setup, c, s),
                  in_axes=(axis, carry_axes), out_axes=(carry_axes, 0))
    if group is not None and not alone:
        chunk = groups.in_groups(chunk, algo, setup, axis, carry_axes, group)
    return start, chunk, carry_axes


def _one(fn, in_axes, out_axes):
    """``fn`` on a batch of one seed, as ``jax.vmap(fn, in_axes, out_axes)`` would take and
    give it, but running the unbatched program: on a CPU a ``vmap`` over one seed ran
    twice as long as the seed alone (batched dot products and gathers of small networks)."""

    def over(axes, tree, change):
        return jax.tree.map(lambda a, sub: sub if a is None else jax.tree.map(change, sub),
                            axes, tree, is_leaf=lambda a: a is None)

    def one(*args):
        args = over(in_axes, args, lambda x: x[0])
        return over(out_axes, fn(*args), lambda x: x[None])

    return one


def restore(algo: Algorithm, config: Any, keys: jax.Array, host: dict[str, np.ndarray],
            env: Any = None, env_params: Any = None) -> Snapshot:
    """The :class:`Snapshot` saved as ``host`` (:meth:`Snapshot.to_host`) by a
    :func:`run` of ``config`` and ``keys``, without training: its ``carry.agent`` holds
    every seed's state (the `shared` fields once). ``ValueError`` if it does not fit."""
    keys = _check_keys(keys)
    setup = algo.make(config, env, env_params)
    start, chunk, _ = _batched(algo, setup, config, keys, None)
    carry, first = jax.eval_shape(start, config, keys)
    like = (carry, first, jax.eval_shape(chunk, config, carry)[1])
    return _restore(host, like, _impl(keys))


def _impl(keys: jax.Array) -> Any:
    """The PRNG implementation of typed ``keys`` (``None``: raw keys, the default)."""
    if jax.dtypes.issubdtype(keys.dtype, jax.dtypes.prng_key):
        return jax.random.key_impl(keys)
    return None


def _check_keys(keys: Any) -> jax.Array:
    """One key per seed: ``jax.random.split(key, seeds)``; else one clear line."""
    if isinstance(keys, jax.Array) and jax.dtypes.issubdtype(keys.dtype, jax.dtypes.prng_key):
        if keys.ndim == 1:
            return keys
    elif isinstance(keys, jax.Array | np.ndarray) and keys.ndim == 2 and keys.shape[1] == 2:
        return keys  # raw uint32 keys, one row per seed
    raise ValueError("keys must be one key per seed, jax.random.split(jax.random.key(0), "
                     f"seeds); got {type(keys).__name__} {getattr(keys, 'shape', '')}")


def _per_seed(outputs: dict[str, jax.Array]) -> dict[str, np.ndarray]:
    """Each output's mean over all but the seed axis, on the host."""
    return {k: np.asarray(v).reshape(v.shape[0], -1).mean(-1) for k, v in outputs.items()}
