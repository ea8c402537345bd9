"""One XLA device per CPU core, so that :func:`jaxrl.train.run` trains seeds in parallel.

XLA runs a small network's update on one CPU core: the batched (``vmap``) update of 16
seeds takes as long on a 1-core ``taskset`` as on 2 cores. Started with
``--xla_force_host_platform_device_count=N``, the CPU backend shows ``N`` devices, and
:func:`jaxrl.train.run` splits the seeds over them (``shard_map``), one core each.

The flag must be set before JAX starts its CPU backend, so this is for programs that
own their process (the ``jaxrl`` command line, the benchmarks); a library user sets
``XLA_FLAGS`` themselves. It changes nothing on a GPU or TPU (their devices are used
as they are) and leaves a flag already given in ``XLA_FLAGS`` alone.
"""

from __future__ import annotations

import os

FLAG = "--xla_force_host_platform_device_count"


def use_cpu_cores(count: int | None = None) -> bool:
    """Ask XLA for ``count`` CPU devices (default: the cores this process may use).

    Returns whether the flag was set: ``False`` when ``XLA_FLAGS`` already names a
    device count, or when JAX's backends are already running (too late to change).
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if FLAG in flags or _backends_started():
        return False
    count = count or len(os.sched_getaffinity(0))
    os.environ["XLA_FLAGS"] = f"{flags} {FLAG}={count}".strip()
    return True


def _backends_started() -> bool:
    try:
        from jax._src import xla_bridge
    except ImportError:  # pragma: no cover - jax's private layout changed
        return False
    return bool(getattr(xla_bridge, "_backends", None))
