"""``rollout.shuffled_order`` and ``rollout.minibatches``: the shuffle of the on-policy
learners' epochs (PPO, PQN, REINFORCE)."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrl.deep import rollout


@pytest.mark.parametrize("size", [1, 2, 3, 7, 512, 2048, 10_000])
def test_shuffled_order_is_a_permutation(size):
    order = np.asarray(rollout.shuffled_order(jax.random.key(size), size))
    assert order.dtype == np.int32
    assert sorted(order.tolist()) == list(range(size))


@pytest.mark.parametrize("size", [5, 2048, 10_000])
def test_shuffled_order_is_its_rounds_of_stable_sorts(size):
    """The definition, in numpy: each round sorts the current order stably by the round's
    random bits above the index bits; the number of rounds makes the keys 3 log2(size)
    bits long together (jax.random.permutation's rule for its 32-bit keys)."""
    key = jax.random.key(3)
    index_bits = (size - 1).bit_length()
    rounds = math.ceil(3 * math.log2(size) / (32 - index_bits))
    order = np.arange(size)
    for round_key in jax.random.split(key, rounds):
        high = np.asarray(jax.random.bits(round_key, (size,), jnp.uint32)) >> index_bits
        order = order[np.argsort(high, kind="stable")]
    np.testing.assert_array_equal(rollout.shuffled_order(key, size), order)


def test_shuffled_order_is_uniform():
    """All 24 orders of 4 rows, 24 000 keys: a chi-square test at p = 1e-4 (fixed keys,
    so the test is deterministic; 23 degrees of freedom, critical value 56.4)."""
    draws = np.asarray(jax.vmap(lambda k: rollout.shuffled_order(k, 4))(
        jax.random.split(jax.random.key(0), 24_000)))
    counts = {p: 0 for p in itertools.permutations(range(4))}
    for row in draws:
        counts[tuple(row.tolist())] += 1
    expected = len(draws) / 24
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 56.4, counts


def test_shuffled_order_same_key_same_order_and_vmaps():
    keys = jax.random.split(jax.random.key(1), 3)
    batched = jax.vmap(lambda k: rollout.shuffled_order(k, 100))(keys)
    for i, key in enumerate(keys):
        np.testing.assert_array_equal(batched[i], rollout.shuffled_order(key, 100))
    assert not np.array_equal(batched[0], batched[1])


def test_minibatches_are_the_rows_in_shuffled_order():
    key = jax.random.key(7)
    data = {"x": jnp.arange(24.0).reshape(12, 2), "a": jnp.arange(12),
            "v": -jnp.arange(12.0)}
    out = rollout.minibatches(key, data, 3)
    order = rollout.shuffled_order(key, 12)
    for name, leaf in data.items():
        assert out[name].shape == (3, 4, *leaf.shape[1:])
        np.testing.assert_array_equal(out[name].reshape(leaf.shape), leaf[order])
