"""One run over many processes (hosts), through JAX's own multi-controller runtime.

:func:`jaxrl.devices.start_processes` joins the processes with
``jax.distributed.initialize`` (given a coordinator, or from the cluster JAX detects:
SLURM, Open MPI, Cloud TPU). Then
:func:`jaxrl.driver.run`, called with the same config and keys in every process, trains
in each one its :class:`Share` of the seeds on its local devices: seeds need no
communication, so each process runs its own compiled chunks, and between chunks the
processes exchange only small host-side numbers (each chunk's evaluation and metrics, a
stop flag) through ``jax.experimental.multihost_utils``. A seed count the processes do
not divide is padded with copies of seed 0, as over devices.

Checkpoints (:func:`to_global`, :func:`local_rows_of`): every leaf of a process's
:class:`~jaxrl.driver.Snapshot` gets a leading process axis, a global array whose row
``p`` lives on process ``p``, so that orbax's multi-host save has each process write
its own row, and a restore read only its own; one process alone reads every row.

A process that dies fails the others at their next exchange (``JaxRuntimeError``), or
JAX's runtime terminates them when its heartbeats stop: nothing hangs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils

from jaxrl.devices import pad_rows

#: The mesh axis of :func:`to_global`: one device per process.
AXIS = "processes"


@dataclass(frozen=True)
class Share:
    """The seeds of process ``index`` of ``processes``: ``per`` rows from ``start``;
    the rows past ``seeds`` are padding (copies of seed 0).

    Attributes:
      seeds: the run's seeds, in all processes.
      processes: how many processes.
      index: this process.
      per: seeds each process trains, ``ceil(seeds / processes)``.
    """

    seeds: int
    processes: int
    index: int
    per: int

    @property
    def start(self) -> int:
        """The first seed of this process."""
        return self.index * self.per

    @property
    def real(self) -> int:
        """How many of this process's rows are real seeds (the rest: padding)."""
        return int(np.clip(self.seeds - self.start, 0, self.per))


def share(seeds: int, processes: int | None = None, index: int | None = None) -> Share:
    """Process ``index``'s share of ``seeds`` (default: this process of this run)."""
    processes = jax.process_count() if processes is None else processes
    index = jax.process_index() if index is None else index
    return Share(seeds, processes, index, -(-seeds // processes))


def rows(x: Any, share: Share) -> Any:
    """Process ``share.index``'s rows of the seed-leading array ``x`` (keys, a stacked
    config's leaves), padded with copies of row 0 past ``x``'s end."""
    return pad_rows(x, share.per * share.processes)[share.start:share.start + share.per]


def gather(tree: Any, share: Share) -> Any:
    """Every process's ``[per, ...]`` leaves of ``tree`` as ``[seeds, ...]`` numpy
    arrays, in every process (the padding dropped)."""
    tree = jax.device_get(tree)
    whole = multihost_utils.process_allgather(tree, tiled=True)
    return jax.tree.map(lambda x: np.asarray(x)[:share.seeds], whole)


def largest(value: int) -> int:
    """The largest ``value`` over the processes (every process must ask)."""
    values = multihost_utils.process_allgather(np.asarray([value]), tiled=True)
    return int(np.max(values))


def any_process(flag: bool) -> bool:
    """Whether ``flag`` is true in any process (every process must ask)."""
    return largest(int(flag)) > 0


def _mesh() -> jax.sharding.Mesh:
    firsts = [min((d for d in jax.devices() if d.process_index == p), key=lambda d: d.id)
              for p in range(jax.process_count())]
    return jax.sharding.Mesh(np.array(firsts), (AXIS,))


def sharding() -> jax.sharding.NamedSharding:
    """Row ``p`` of a leading process axis on process ``p``'s first device."""
    return jax.sharding.NamedSharding(_mesh(), jax.sharding.PartitionSpec(AXIS))


def to_global(host: dict[str, np.ndarray]) -> dict[str, jax.Array]:
    """This process's checkpoint leaves as rows of global ``[processes, ...]`` arrays
    (every process calls it with leaves of the same shapes)."""
    where = sharding()
    return {k: jax.make_array_from_process_local_data(where, np.asarray(v)[None])
            for k, v in host.items()}


def restore_target(shapes: dict[str, Any]) -> dict[str, jax.ShapeDtypeStruct]:
    """The restore target of a checkpoint whose leaves have ``shapes`` (from its
    metadata): in a run over several processes, each process reads its row of the
    ``[processes, ...]`` leaves of :func:`to_global`; in one process, the whole."""
    where = sharding() if jax.process_count() > 1 else \
        jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    return {k: jax.ShapeDtypeStruct(tuple(m.shape), m.dtype, sharding=where)
            for k, m in shapes.items()}


def local_rows_of(restored: dict[str, jax.Array]) -> dict[str, np.ndarray]:
    """What :func:`restore_target` read, on the host: this process's row of each
    global leaf (in a run over several processes), or each leaf whole."""
    if jax.process_count() == 1:
        return {k: np.asarray(v) for k, v in restored.items()}
    return {k: np.asarray(v.addressable_shards[0].data)[0] for k, v in restored.items()}
