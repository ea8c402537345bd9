"""TabularMDP: construction, validation, and the exact models of the builders."""

import chex
import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnax.environments.misc.frozen_lake import EnvState, FrozenLake

from jaxrl.envs.tabular import frozen_lake_mdp, grid_world_mdp, random_mdp
from jaxrl.mdp import TabularMDP


def two_state_arrays():
    next_states = np.array([[[0, 1], [1, 1]], [[0, 0], [1, 0]]])
    probs = np.array([[[0.5, 0.5], [1.0, 0.0]], [[1.0, 0.0], [0.25, 0.75]]])
    rewards = np.array([[0.0, 1.0], [2.0, 3.0]])
    return next_states, probs, rewards


def test_create_and_dense_round_trip():
    mdp = TabularMDP.create(*two_state_arrays())
    chex.assert_shape([mdp.next_states, mdp.probs], (2, 2, 2))
    chex.assert_type([mdp.next_states, mdp.probs, mdp.rewards], [jnp.int32, float, float])
    assert (mdp.num_states, mdp.num_actions, mdp.num_successors) == (2, 2, 2)
    dense = np.asarray(mdp.to_dense())
    np.testing.assert_allclose(dense[0, 0], [0.5, 0.5])
    np.testing.assert_allclose(dense[1, 1], [0.75, 0.25])
    again = TabularMDP.from_dense(dense, mdp.rewards)
    assert again.num_successors == 2
    np.testing.assert_allclose(again.to_dense(), dense)


def test_from_dense_is_sparse():
    dense = np.zeros((5, 2, 5))
    dense[:, 0, 0] = 1.0
    dense[:, 1, 3] = 0.4
    dense[:, 1, 4] = 0.6
    mdp = TabularMDP.from_dense(dense, np.zeros((5, 2)))
    assert mdp.num_successors == 2
    np.testing.assert_allclose(mdp.to_dense(), dense)


def test_is_a_pytree():
    mdp = TabularMDP.create(*two_state_arrays())
    doubled = jax.tree.map(lambda x: x, mdp)
    assert isinstance(doubled, TabularMDP)
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), mdp, mdp)
    assert stacked.next_states.shape == (2, 2, 2, 2)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda n, p, r: (n, p * 1.1, r), r"\(s=0, a=0\) sum to 1.1"),
        (lambda n, p, r: (n, np.where(p == 0.25, -0.25, p), r), r"non-negative at \(s=1, a=1\)"),
        (lambda n, p, r: (np.where(n == 1, 2, n), p, r), r"out of range \[0, 2\) at \(s=0, a=0\)"),
        (lambda n, p, r: (n, p[:, :1], r), "probs has shape"),
        (lambda n, p, r: (n, p, r[:1]), "rewards must have shape"),
        (lambda n, p, r: (n.astype(float), p, r), "integers"),
        (lambda n, p, r: (n, p, r * np.nan), r"not finite at \(s=0, a=0\)"),
    ],
)
def test_validation_names_the_first_bad_pair(mutate, message):
    with pytest.raises(ValueError, match=message):
        TabularMDP.create(*mutate(*two_state_arrays()))


def test_dense_validation():
    dense = np.zeros((3, 2, 3))
    dense[:, :, 0] = 1.0
    dense[2, 1] = [0.5, 0.2, 0.2]
    with pytest.raises(ValueError, match=r"\(s=2, a=1\) sum to 0.9"):
        TabularMDP.from_dense(dense, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        TabularMDP.from_dense(np.ones((3, 2, 4)), np.zeros((3, 2)))


def test_random_mdp_is_valid_and_keyed():
    mdp = random_mdp(jax.random.key(0), 100, 4, 3)
    TabularMDP.create(mdp.next_states, mdp.probs, mdp.rewards)  # passes validation
    again = random_mdp(jax.random.key(0), 100, 4, 3)
    np.testing.assert_array_equal(mdp.next_states, again.next_states)
    other = random_mdp(jax.random.key(1), 100, 4, 3)
    assert not np.array_equal(mdp.next_states, other.next_states)
    batch = jax.vmap(lambda k: random_mdp(k, 10, 2, 2))(jax.random.split(jax.random.key(2), 3))
    assert batch.probs.shape == (3, 10, 2, 2)


@pytest.mark.parametrize("map_name", ["4x4", "8x8"])
@pytest.mark.parametrize("slippery", [True, False])
def test_frozen_lake_model_matches_gymnax_by_sampling(map_name, slippery):
    """Step gymnax's own step_env from every (s, a) many times; compare with the model."""
    env = FrozenLake(map_name=map_name, is_slippery=slippery)
    params = env.default_params
    mdp = frozen_lake_mdp(env)
    num_states, samples = env.n_states, 4000

    def sample(state, action, key):
        keys = jax.random.split(key, samples)
        env_state = EnvState(position=jnp.int32(state), time=0)
        _, next_state, reward, done, _ = jax.vmap(
            lambda k: env.step_env(k, env_state, action, params)
        )(keys)
        counts = jnp.zeros(num_states).at[next_state.position].add(1.0) / samples
        return counts, reward.mean(), done.mean()

    states, actions = np.meshgrid(np.arange(num_states), np.arange(4), indexing="ij")
    keys = jax.random.split(jax.random.key(7), states.size).reshape(states.shape)
    freq, mean_reward, done = jax.jit(jax.vmap(jax.vmap(sample)))(
        jnp.asarray(states), jnp.asarray(actions), keys
    )
    dense = np.asarray(mdp.to_dense())
    live = ~np.asarray(mdp.terminal)
    # 4000 samples: a probability of 1/3 is within 0.04 with overwhelming odds.
    np.testing.assert_allclose(np.asarray(freq)[live], dense[live], atol=0.04)
    np.testing.assert_allclose(np.asarray(mean_reward)[live], np.asarray(mdp.rewards)[live],
                               atol=0.04)
    # The episode ends exactly when the successor is a hole or the goal.
    ends = dense[live] @ np.asarray(mdp.terminal, float)
    np.testing.assert_allclose(np.asarray(done)[live], ends, atol=0.04)
    if not slippery:
        np.testing.assert_array_equal(np.asarray(freq)[live], dense[live])
    # Terminal states are absorbing and pay nothing.
    term = np.asarray(mdp.terminal)
    assert term.sum() == (5 if map_name == "4x4" else 11)
    np.testing.assert_array_equal(np.asarray(mdp.rewards)[term], 0.0)


def test_frozen_lake_via_gymnax_make():
    env, _ = gymnax.make("FrozenLake-misc")
    assert frozen_lake_mdp(env).num_states == 16
    with pytest.raises(ValueError):
        frozen_lake_mdp(env, map_name="8x8")


def test_grid_world_shape_walls_and_slip():
    mdp = grid_world_mdp(5, slip=0.2, wall_density=0.3, seed=0)
    assert (mdp.num_states, mdp.num_actions, mdp.num_successors) == (25, 4, 5)
    assert bool(mdp.terminal[24]) and int(mdp.terminal.sum()) == 1
    walls = np.zeros((3, 3), bool)
    walls[1, 1] = True
    small = grid_world_mdp(3, walls=walls)
    # From (0, 1) going south hits the wall and stays; east goes to (0, 2).
    assert int(small.next_states[1, 2, 0]) == 1
    assert int(small.next_states[1, 1, 0]) == 2
    # Off the grid: stay.
    assert int(small.next_states[0, 0, 0]) == 0
    with pytest.raises(ValueError, match="slip"):
        grid_world_mdp(3, slip=1.5)


def test_grid_world_scales_to_a_million_states():
    mdp = grid_world_mdp(1000, slip=0.1)
    assert mdp.num_states == 10**6
    assert mdp.next_states.shape == (10**6, 4, 5)
