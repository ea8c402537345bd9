"""The replay memory: only written items come back, uniformly, in O(batch) work."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrl.deep import replay


def _filled(count: int, capacity: int) -> replay.ReplayMemory:
    memory = replay.init({"x": jnp.zeros((), jnp.int32), "v": jnp.zeros(2)}, capacity)
    for start in range(0, count, 3):
        n = min(3, count - start)
        values = jnp.arange(start + 1, start + 1 + n, dtype=jnp.int32)
        memory = replay.store(memory, {"x": values, "v": jnp.stack([values, values], 1)})
    return memory


def _sample(memory, key, count: int, sampler: str):
    """``sample`` (randint) or ``sample_from_bits`` (a random word per item)."""
    if sampler == "bits":
        return replay.sample_from_bits(memory, jax.random.bits(key, (count,)))
    return replay.sample(memory, key, count)


SAMPLERS = pytest.mark.parametrize("sampler", ["randint", "bits"])


def test_store_counts_and_wraps():
    memory = _filled(5, 10)
    assert int(memory.size) == 5 and int(memory.index) == 5
    memory = _filled(14, 10)
    assert int(memory.size) == 10 and int(memory.index) == 4
    # the oldest items (1..4) were overwritten; 5..14 remain
    assert sorted(np.asarray(memory.data["x"]).tolist()) == list(range(5, 15))


@SAMPLERS
@pytest.mark.parametrize("count", [1, 5, 14])
def test_sample_returns_only_written_items(count, sampler):
    memory = _filled(count, 10)
    batch = _sample(memory, jax.random.key(0), 2000, sampler)
    x = np.asarray(batch["x"])
    low = max(1, count - 9)
    assert x.min() >= low and x.max() <= count
    np.testing.assert_array_equal(np.asarray(batch["v"]), np.stack([x, x], 1))


@SAMPLERS
def test_sample_is_uniform(sampler):
    """Chi-square test of the sample counts against the uniform distribution."""
    memory = _filled(7, 16)
    draws = 70_000
    x = np.asarray(_sample(memory, jax.random.key(1), draws, sampler)["x"])
    counts = np.bincount(x, minlength=8)[1:]
    expected = draws / 7
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    # 6 degrees of freedom: P(chi2 > 22.46) = 0.001
    assert chi2 < 22.46, counts


@SAMPLERS
def test_sample_work_is_o_batch_not_o_capacity(sampler):
    """No intermediate array in sample() has the capacity's length (no O(N) pass)."""
    capacity, batch = 10_007, 32
    memory = _filled(5, capacity)
    jaxpr = jax.make_jaxpr(lambda m, k: _sample(m, k, batch, sampler))(memory,
                                                                        jax.random.key(0))
    for eqn in jaxpr.eqns:
        for var in eqn.outvars:
            assert capacity not in getattr(var.aval, "shape", ()), eqn


def test_store_more_than_capacity_raises():
    memory = replay.init(jnp.zeros(()), 4)
    with pytest.raises(ValueError, match="capacity 4"):
        replay.store(memory, jnp.zeros(5))


def test_vmap_over_memories():
    memories = jax.vmap(lambda _: replay.init(jnp.zeros(()), 8))(jnp.arange(3))
    memories = jax.vmap(replay.store)(memories, jnp.arange(6.0).reshape(3, 2))
    batch = jax.vmap(lambda m, k: replay.sample(m, k, 50))(
        memories, jax.random.split(jax.random.key(0), 3))
    for i in range(3):
        assert set(np.asarray(batch[i]).tolist()) <= {2.0 * i, 2.0 * i + 1}
