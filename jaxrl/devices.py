"""Devices for seeds: one XLA device per CPU core, and the seeds split over a mesh.

XLA runs a small network's update on one CPU core: the batched (``vmap``) update of 16
seeds takes as long on a 1-core ``taskset`` as on 2 cores. Started with
``--xla_force_host_platform_device_count=N``, the CPU backend shows ``N`` devices, and
:func:`jaxrl.driver.run` splits the seeds over them (``shard_map``), one core each.

The flag must be set before JAX starts its CPU backend, so this is for programs that
own their process (the ``jaxrl`` command line, the benchmarks); a library user sets
``XLA_FLAGS`` themselves. It changes nothing on a GPU or TPU (their devices are used
as they are) and leaves a flag already given in ``XLA_FLAGS`` alone.

:func:`start_processes` joins the processes of a run over many hosts
(:mod:`jaxrl.driver.hosts`); it too must come before JAX starts.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

FLAG = "--xla_force_host_platform_device_count"


def use_cpu_cores(count: int | None = None) -> bool:
    """Ask XLA for ``count`` CPU devices (default: the cores this process may use).

    Returns whether the flag was set: ``False`` when ``XLA_FLAGS`` already names a
    device count (left as given), or, with a warning, when JAX's backends are already
    running (too late to change: call it before the first JAX computation).
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if FLAG in flags:
        return False
    if _backends_started():
        warnings.warn("use_cpu_cores: JAX has already started its backends, too late to "
                      "ask for one CPU device per core; call it before the first JAX "
                      "computation (or set XLA_FLAGS)", RuntimeWarning, stacklevel=2)
        return False
    count = count or len(os.sched_getaffinity(0))
    os.environ["XLA_FLAGS"] = f"{flags} {FLAG}={count}".strip()
    return True


def start_processes(coordinator: str | None = None, num_processes: int | None = None,
                    process_id: int | None = None, *, heartbeat_timeout_s: int = 100,
                    initialization_timeout_s: int = 300) -> None:
    """Join this process to a run of ``num_processes`` (``jax.distributed.initialize``;
    with no arguments, from the cluster's environment). Call it before any other JAX
    computation. On CPUs the processes' collectives go through gloo (XLA's CPU
    collectives; GPUs and TPUs use their own)."""
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator, num_processes, process_id,
                               heartbeat_timeout_seconds=heartbeat_timeout_s,
                               initialization_timeout=initialization_timeout_s)


def _backends_started() -> bool:
    try:
        from jax._src import xla_bridge
    except ImportError:  # pragma: no cover - jax's private layout changed
        return False
    return bool(getattr(xla_bridge, "_backends", None))


def seed_mesh(num_seeds: int, devices: Any = None) -> Any:
    """A one-axis mesh (``"seeds"``) over ``devices`` (default: all), or over
    ``num_seeds`` of them when there are fewer seeds; ``None`` when that is a single
    device. A seed count the mesh does not divide is padded by :func:`jaxrl.driver.run`
    (:func:`padded_seeds`)."""
    import jax
    import numpy as np
    devices = list(jax.devices() if devices is None else devices)
    count = min(len(devices), num_seeds)
    if count <= 1:
        return None
    return jax.sharding.Mesh(np.array(devices[:count]), ("seeds",))


def padded_seeds(num_seeds: int, mesh: Any) -> int:
    """The seed count that fills every device of ``mesh`` equally: ``num_seeds``
    rounded up to a multiple of its size (``num_seeds`` without a mesh)."""
    if mesh is None:
        return num_seeds
    size = mesh.devices.size
    return -(-num_seeds // size) * size


def pad_rows(x: Any, width: int) -> Any:
    """``x`` with copies of its first row appended, to ``width`` rows (the padding seeds
    of :func:`padded_seeds`, and of a process's share in :mod:`jaxrl.driver.hosts`)."""
    import jax.numpy as jnp

    if x.shape[0] >= width:
        return x
    return jnp.concatenate([x, jnp.repeat(x[:1], width - x.shape[0], axis=0)])


def shard_seeds(start: Any, chunk: Any, mesh: Any, config_axis: int | None,
                carry_axes: Any) -> tuple[Any, Any]:
    """``start`` and ``chunk`` run by ``shard_map``: each device trains its own seeds
    (batched leaves split over the mesh, the `shared` ones replicated), no communication.

    ``config_axis``: 0 for a stacked config (a sweep: split with the seeds), else
    ``None`` (replicated); ``carry_axes``: the carry's vmap axes, ``None`` for the
    leaves every seed shares.
    """
    import jax
    from jax.sharding import PartitionSpec as P

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
