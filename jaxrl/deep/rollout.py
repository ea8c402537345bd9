"""On-policy rollouts: ``num_steps`` steps of ``num_envs`` environments in one ``lax.scan``.

The learners that update from what they just did, without a replay memory (PQN,
REINFORCE, PPO), gather a batch of experience the same way: act in every environment
with the current policy, step them all through the environment contract
(:class:`jaxrl.envs.wrappers.AutoReset`: each transition holds the true next
observation and both ``terminated`` and ``truncated``), repeat. :func:`collect` is that
loop, once; what a learner keeps of each step besides the transition (log π, V(S)) is
the ``extras`` its ``act`` returns.

The arrays come back time first, ``[num_steps, num_envs, ...]``, as the return
recursions of :mod:`jaxrl.targets` (``lambda_returns``, ``gae_advantages``) take them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from jaxrl.envs.wrappers import AutoReset, Transition


class Rollout(struct.PyTreeNode):
    """``num_steps`` steps of ``num_envs`` environments, time first.

    Attributes:
      transitions: ``Transition`` with ``[T, N, ...]`` leaves.
      extras: what ``act`` returned beside the actions, ``[T, N, ...]`` leaves.
      totals: the finished episodes' counts and returns summed over the rollout
        (``EpisodeStats.step_totals``), the driver's training metrics.
    """

    transitions: Transition
    extras: Any
    totals: dict[str, jax.Array]


def collect(env: AutoReset, env_params: Any, env_state: Any,
            act: Callable[[Any, jax.Array], tuple[jax.Array, Any]], key: jax.Array,
            num_steps: int) -> tuple[Any, Rollout]:
    """Run ``act(obs, key) -> (actions, extras)`` for ``num_steps`` steps of the batch of
    environments in ``env_state``: ``(env_state after the rollout, Rollout)``."""

    def step(carry, key):
        env_state, totals = carry
        key_act, key_env = jax.random.split(key)
        actions, extras = act(env_state.obs, key_act)
        env_state, transition = env.batch_step(key_env, env_state, actions, env_params)
        totals = jax.tree.map(jnp.add, totals, env_state.stats.step_totals())
        return (env_state, totals), (transition, extras)

    zeros = {"episodes": jnp.zeros((), jnp.int32), "return_sum": jnp.zeros((), jnp.float32)}
    (env_state, totals), (transitions, extras) = jax.lax.scan(
        step, (env_state, zeros), jax.random.split(key, num_steps))
    return env_state, Rollout(transitions=transitions, extras=extras, totals=totals)


def shuffled_order(key: jax.Array, size: int) -> jax.Array:
    """A uniformly random order of ``range(size)`` (int32), as ``jax.random.permutation``
    draws it, at a fifth to a half of its cost on a CPU.

    Both sort the indices by fresh random keys in as many rounds as make the keys
    ``3 log2(size)`` bits long together (a round's ties keep the order of the round before,
    so the rounds amount to one sort by their keys side by side, ties broken by index;
    the chance of any tie is below ``1 / size``). ``jax.random.permutation`` sorts 32-bit
    keys with the indices carried beside them, a two-operand sort; here each round's key
    and the index share one ``uint32`` (the key in the high bits), a one-operand integer
    sort, which XLA's CPU backend runs several times faster: it is a third of a single
    seed's PPO iteration on rejax's Pendulum config otherwise (``benchmarks/ppo.py
    --parts profile``). The orders differ from ``jax.random.permutation``'s; same key,
    same order.

    >>> order = shuffled_order(jax.random.key(0), 10)
    >>> sorted(order.tolist()) == list(range(10))
    True
    """
    index_bits = max(1, (size - 1).bit_length())
    key_bits = 32 - index_bits
    if key_bits < 8:  # over 2**24 rows: too few bits beside the index
        return jax.random.permutation(key, size).astype(jnp.int32)
    rounds = math.ceil(3 * math.log2(max(size, 2)) / key_bits)
    index = jnp.arange(size, dtype=jnp.uint32)
    order, low = index, jnp.uint32((1 << index_bits) - 1)
    for round_key in jax.random.split(key, rounds):
        draw = jax.random.bits(round_key, (size,), jnp.uint32) & ~low  # the high bits
        order = order[jnp.sort(draw | index) & low]
    return order.astype(jnp.int32)


def minibatches(key: jax.Array, data: Any, num_minibatches: int) -> Any:
    """Shuffle the rows of ``data`` (leaves ``[B, ...]``, :func:`shuffled_order`) and cut them into
    ``num_minibatches`` minibatches: leaves ``[num_minibatches, B / num_minibatches, ...]``
    (``B`` must divide; the learners' configs check it).

    The leaves of one dtype are gathered together, as the columns of one ``[B, F]``
    array, then cut apart: one gather per dtype rather than one per leaf, a few small
    ops fewer per epoch, which is what a single seed's iteration is made of. The rows
    are the same as a gather per leaf would give, bit for bit."""
    leaves, treedef = jax.tree.flatten(data)
    size = leaves[0].shape[0]
    order = shuffled_order(key, size)
    out: list[Any] = [None] * len(leaves)
    for dtype in dict.fromkeys(x.dtype for x in leaves):
        group = [i for i, x in enumerate(leaves) if x.dtype == dtype]
        columns = jnp.concatenate([jnp.reshape(leaves[i], (size, -1)) for i in group], 1)
        shuffled = jnp.reshape(columns[order], (num_minibatches, size // num_minibatches, -1))
        start = 0
        for i in group:
            width = math.prod(leaves[i].shape[1:])
            out[i] = jnp.reshape(shuffled[..., start:start + width],
                                 (*shuffled.shape[:2], *leaves[i].shape[1:]))
            start += width
    return jax.tree.unflatten(treedef, out)


def epochs(update: Callable[[Any, Any], tuple[Any, dict[str, jax.Array]]], carry: Any,
           data: Any, key: jax.Array, num_epochs: int, num_minibatches: int):
    """``num_epochs`` passes over ``data`` (leaves ``[B, ...]``), each a fresh shuffle
    into ``num_minibatches`` minibatches (:func:`minibatches`), one
    ``update(carry, batch) -> (carry, metrics)`` per minibatch: ``(carry, metrics
    averaged over the num_epochs × num_minibatches updates)``. The metrics are summed in
    the carry, one add per update: a reduction over stacked metrics can round differently
    in another batch of seeds (:mod:`jaxrl.driver`)."""
    size = jax.tree.leaves(data)[0].shape[0] // num_minibatches
    shapes = jax.eval_shape(lambda c, b: update(c, b)[1], carry,
                            jax.tree.map(lambda x: x[:size], data))
    zeros = jax.tree.map(lambda m: jnp.zeros(m.shape, m.dtype), shapes)

    def step(state, batch):
        carry, sums = state
        carry, metrics = update(carry, batch)
        return (carry, jax.tree.map(jnp.add, sums, metrics)), None

    def epoch(state, key):
        return jax.lax.scan(step, state, minibatches(key, data, num_minibatches))[0], None

    (carry, sums), _ = jax.lax.scan(epoch, (carry, zeros), jax.random.split(key, num_epochs))
    return carry, jax.tree.map(lambda v: v / (num_epochs * num_minibatches), sums)


def flatten_time(data: Any) -> Any:
    """``[T, N, ...]`` leaves to ``[T * N, ...]``: a rollout as one batch of samples."""
    return jax.tree.map(lambda x: jnp.reshape(x, (-1, *x.shape[2:])), data)
