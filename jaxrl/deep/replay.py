"""The replay memory ``D`` of DQN: a ring buffer held in a pytree.

Hand-written rather than flashbax or rejax's buffer: it is a few lines, it lives inside
the jitted, vmapped training state with no extra dependency (flashbax pulls in
tensorstore), and sampling is ``randint(0, size)``, O(batch) work. rejax's
``random.choice(..., p=mask)`` over the whole capacity is O(capacity) per sample.
Sampling is uniform *with* replacement, as in Mnih et al.'s implementation.

::

    memory = init(example_transition, capacity)     # zeros, size 0
    memory = store(memory, transitions)              # a batch (leading axis) of items
    batch = sample(memory, key, batch_size)          # uniform over the written items
    batch = sample_from_bits(memory, bits)           # the same, from given random words
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from jaxrl.envs.wrappers import Transition


class ReplayMemory(struct.PyTreeNode):
    """A ring buffer of items (any pytree), ``capacity`` slots on the leading axis.

    Attributes:
      data: the items, each leaf with leading axis ``capacity``.
      index: the next slot to write.
      size: how many slots hold written items (up to ``capacity``).
    """

    data: Any
    index: jax.Array
    size: jax.Array

    @property
    def capacity(self) -> int:
        """Number of slots (static: the leading size of the leaves)."""
        return jax.tree.leaves(self.data)[0].shape[0]


def init(example: Any, capacity: int) -> ReplayMemory:
    """An empty memory for items shaped like ``example`` (one item, no batch axis)."""
    data = jax.tree.map(
        lambda x: jnp.zeros((capacity, *jnp.shape(x)), jnp.result_type(x)), example
    )
    zero = jnp.zeros((), jnp.int32)
    return ReplayMemory(data=data, index=zero, size=zero)


def init_transitions(obs: Any, action: jax.Array, capacity: int) -> ReplayMemory:
    """An empty memory of the environment contract's :class:`Transition` s: observations
    shaped like one of ``obs`` (a batch, as ``batch_reset`` returns it), actions like
    ``action`` (one action, no batch axis), scalar rewards and flags."""
    one = jax.tree.map(lambda x: x[0], obs)
    example = Transition(obs=one, action=action, reward=jnp.zeros((), jnp.float32),
                         next_obs=one, terminated=jnp.zeros((), bool),
                         truncated=jnp.zeros((), bool))
    return init(example, capacity)


def store(memory: ReplayMemory, items: Any) -> ReplayMemory:
    """Write a batch of items (leading axis) at the write position, wrapping around.

    The batch must not be larger than the capacity.
    """
    count = jax.tree.leaves(items)[0].shape[0]
    capacity = memory.capacity
    if count > capacity:
        raise ValueError(f"cannot store {count} items in a memory of capacity {capacity}")
    slots = (memory.index + jnp.arange(count)) % capacity
    data = jax.tree.map(lambda buf, x: buf.at[slots].set(x.astype(buf.dtype)), memory.data,
                        items)
    return ReplayMemory(
        data=data,
        index=(memory.index + count) % capacity,
        size=jnp.minimum(memory.size + count, capacity),
    )


def sample(memory: ReplayMemory, key: jax.Array, batch_size: int) -> Any:
    """``batch_size`` items drawn uniformly, with replacement, from the written ones.

    O(batch_size): one ``randint`` and one gather. The memory must hold at least one
    item (an empty memory returns its zero slots).
    """
    slots = jax.random.randint(key, (batch_size,), 0, jnp.maximum(memory.size, 1))
    return _gather(memory, slots)


def sample_from_bits(memory: ReplayMemory, bits: jax.Array) -> Any:
    """One item per 32-bit random word of ``bits`` (``jax.random.bits``, ``uint32``), the
    word modulo the number written: uniform up to a bias below ``size / 2^32`` (2e-4 of
    an item's probability at a million items), where :func:`sample`'s ``randint`` is
    exact at the price of two more threefry hashes. For a learner that draws all of a
    step's random numbers at once (:mod:`jaxrl.deep.sac`)."""
    slots = bits % jnp.maximum(memory.size, 1).astype(jnp.uint32)
    return _gather(memory, slots)


def _gather(memory: ReplayMemory, slots: jax.Array) -> Any:
    """The items at ``slots`` (a batch on the leading axis)."""
    return jax.tree.map(lambda buf: buf[slots], memory.data)
