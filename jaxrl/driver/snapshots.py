"""What a run of :func:`jaxrl.driver.run` saves after each chunk and goes on from: the
:class:`Snapshot` of its carry and curve so far, its flat host form (a checkpoint's
arrays) and back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


@dataclass
class Snapshot:
    """Everything a run needs to go on exactly where it stopped, after ``chunk`` chunks:
    the driver's carry (every seed's agent state: parameters, optimiser states, replay
    memory, environment states, keys, counters), the first evaluation and the outputs of
    the chunks done. :func:`run` hands one to its ``checkpoint`` callback after each
    chunk; :meth:`to_host` makes it a flat dict of numpy arrays (keys as their raw
    data), which :func:`run` takes back as ``resume``."""

    chunk: int
    carry: Any
    first: dict[str, Any]
    chunks: list[Any]
    #: the chunks' outputs stacked (``[chunk, ...]`` leaves, numpy), if at hand
    stacked: Any = None

    def to_host(self) -> dict[str, np.ndarray]:
        """``{"chunk": ..., "leaf_00000": ..., ...}``: the carry's, the first
        evaluation's and the stacked chunk outputs' leaves, on the host."""
        stacked = self.stacked
        if stacked is None:  # numpy: a jnp.stack of n arrays compiles anew for each n
            stacked = jax.tree.map(lambda *xs: np.stack(xs), *jax.device_get(self.chunks))
        leaves = jax.tree.leaves((self.carry, self.first, stacked))
        leaves = jax.device_get([_key_data(x) for x in leaves])
        return {"chunk": np.asarray(self.chunk, np.int64),
                **{f"leaf_{i:05d}": np.asarray(x) for i, x in enumerate(leaves)}}


def _key_data(x):
    if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(x)
    return x


class _Outputs:
    """The chunks' outputs on the host, stacked as they come: ``[chunks, ...]`` leaves in
    buffers that double when full, so that a chunk copies its own outputs only (a stack
    of every chunk's, after each chunk, cost O(chunks) a chunk)."""

    def __init__(self, stacked: Any = None):
        self.rows, self.treedef, self.buffers = 0, None, []
        if stacked is not None:
            leaves, self.treedef = jax.tree.flatten(stacked)
            self.buffers = [np.array(x) for x in leaves]
            self.rows = len(self.buffers[0]) if self.buffers else 0

    def append(self, out: Any) -> None:
        """Add one chunk's outputs (a tree of host arrays)."""
        leaves, treedef = jax.tree.flatten(out)
        if self.treedef is None:
            self.treedef = treedef
            self.buffers = [np.empty((16, *np.shape(x)), np.asarray(x).dtype) for x in leaves]
        if self.buffers and self.rows == len(self.buffers[0]):
            self.buffers = [np.concatenate([b, np.empty_like(b)]) for b in self.buffers]
        for b, x in zip(self.buffers, leaves, strict=True):
            b[self.rows] = x
        self.rows += 1

    def stacked(self) -> Any:
        """The outputs so far, ``[chunks, ...]`` leaves (views: later chunks only write
        past them)."""
        return jax.tree.unflatten(self.treedef, [b[:self.rows] for b in self.buffers])


def _restore(host: dict[str, np.ndarray], like: tuple, impl: Any) -> Snapshot:
    """The :class:`Snapshot` of ``host`` (from :meth:`Snapshot.to_host`), shaped as
    ``like`` (``(carry, first, one chunk's outputs)`` shapes), its outputs on the host;
    ``ValueError`` when it does not fit (another config, seeds or version)."""
    chunk = int(host["chunk"])
    carry, first, out = like
    stacked = jax.tree.map(lambda x: jax.ShapeDtypeStruct((chunk, *x.shape), x.dtype), out)
    expected, treedef = jax.tree.flatten((carry, first, stacked))
    names = sorted(k for k in host if k.startswith("leaf_"))
    if chunk < 1 or len(names) != len(expected):
        raise ValueError("the checkpoint does not match this run (another algorithm, "
                         "config or number of seeds)")
    leaves, on_device = [], len(jax.tree.leaves(carry))
    for i, (name, want) in enumerate(zip(names, expected, strict=True)):
        x = host[name]
        is_key = jax.dtypes.issubdtype(want.dtype, jax.dtypes.prng_key)
        shape = jax.eval_shape(lambda k: jax.random.key_data(k), want).shape if is_key \
            else want.shape
        if tuple(x.shape) != tuple(shape):
            raise ValueError(f"the checkpoint does not match this run: {name} has shape "
                             f"{tuple(x.shape)}, this config needs {tuple(shape)}")
        leaves.append(jax.random.wrap_key_data(jnp.asarray(x), impl=impl) if is_key
                      else jnp.asarray(x, want.dtype) if i < on_device
                      else np.asarray(x, want.dtype))  # the curve so far: on the host
    carry, first, stacked = jax.tree.unflatten(treedef, leaves)
    return Snapshot(chunk, carry, first,
                    [jax.tree.map(lambda x, i=i: x[i], stacked) for i in range(chunk)],
                    stacked)
