"""Tabular model-based RL: the count model against the exact one, its plan against
planning's, R-max's optimism by hand, the swing-up learned, bad input."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrl import make
from jaxrl.envs.tabular import exact_model
from jaxrl.tabular.exploration import note_arrival, novelty_bonus
from jaxrl.tabular.model_based import (
    ModelBasedConfig,
    estimate_model,
    run,
    solve,
    train,
)
from jaxrl.tabular.planning import value_iteration


def _dense(mdp):
    """``P[s, a, s']`` of a sparse model."""
    rows = jax.vmap(jax.vmap(lambda n, p: jnp.zeros(mdp.num_states).at[n].add(p)))
    return np.asarray(rows(mdp.next_states, mdp.probs))


@pytest.mark.parametrize("name, env_kwargs, env_args, steps", [
    ("Maze", None, {"start_state": -1}, 3_000),
    ("FrozenLake-misc", {"is_slippery": False}, {}, 6_000),
])
def test_a_fully_sampled_deterministic_model_is_the_exact_one(name, env_kwargs, env_args,
                                                               steps):
    """Every (s, a) tried: P̂ and r̂ equal the exact model's on every non-terminal pair,
    the terminal states are found, and the plan equals value iteration's on the truth."""
    env, params = make(name, env_kwargs=env_kwargs, **env_args)
    config = ModelBasedConfig(env=name, total_steps=steps, num_envs=4, plan_every=25,
                              exploration="uniform", gamma=0.9)
    state, curve = train(config, jax.random.key(0), env, params)
    exact = exact_model(env, params).mdp
    live = ~np.asarray(exact.terminal)
    assert float(curve.evaluation["coverage"][-1]) == 1.0
    assert float(curve.evaluation["model_error"][-1]) == 0.0
    assert float(curve.evaluation["dropped"][-1]) == 0.0
    learned = estimate_model(state)
    np.testing.assert_array_equal(_dense(learned)[live], _dense(exact)[live])
    np.testing.assert_allclose(np.asarray(learned.rewards)[live],
                               np.asarray(exact.rewards)[live], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(learned.terminal), np.asarray(exact.terminal))
    # the same 300 sweeps on both models (γ^300 < 1e-13: both at the fixed point)
    truth = value_iteration(exact, config.gamma, tol=None, max_sweeps=300)
    planned = value_iteration(learned, config.gamma, tol=None, max_sweeps=300)
    np.testing.assert_allclose(planned.q_values, truth.q_values, rtol=0, atol=1e-5)
    converged = solve(config, state, state.plan, sweeps=10_000)  # the learner's own plan
    np.testing.assert_array_equal(converged.policy[live], truth.policy[live])
    assert float(curve.evaluation["q_error"][-1]) < 1e-4
    assert float(curve.evaluation["value_gap"][-1]) < 1e-4


def test_a_sampled_stochastic_model_is_within_hoeffdings_bound():
    """Slippery FrozenLake (three successors a pair): each P̂(s'|s, a) within the
    Hoeffding bound for its pair's tries, at confidence 1 - 1e-3 over all entries."""
    env, params = make("FrozenLake-misc")
    config = ModelBasedConfig(env="FrozenLake-misc", total_steps=20_000, num_envs=8,
                              plan_every=50, exploration="uniform", successors=3)
    state, curve = train(config, jax.random.key(1), env, params)
    exact = exact_model(env, params).mdp
    live = ~np.asarray(exact.terminal)
    tries = np.asarray(state.counts.sum(-1))[live]
    assert tries.min() >= 30 and float(curve.evaluation["dropped"][-1]) == 0.0
    entries = tries.size * 3
    bound = np.sqrt(np.log(2 * entries / 1e-3) / (2 * tries))  # per pair
    error = np.abs(_dense(estimate_model(state)) - _dense(exact))[live].max(-1)
    assert (error <= bound).all(), (error / bound).max()
    assert 0 < float(curve.evaluation["model_error"][-1]) <= bound.max()


def test_rmax_values_an_unknown_pair_at_rmax_over_one_minus_gamma():
    """One known pair: the others are worth rmax / (1 - γ), the plan goes for them."""
    env, params = make("Maze")
    config = ModelBasedConfig(env="Maze", total_steps=1, plan_every=1, rmax=0.5, gamma=0.9,
                              exploration="epsilon_greedy", epsilon=0.0)
    state, _ = train(config, jax.random.key(0), env, params)
    tries = np.asarray(state.counts.sum(-1))
    assert tries.sum() == 1
    optimistic = solve(config, state, state.explore, explore=True, sweeps=10_000)
    q = np.asarray(optimistic.q_values)[:-1]  # the extra state is R-max's fictitious one
    live = ~np.asarray(state.terminal)
    np.testing.assert_allclose(q[live][tries[live] == 0], 0.5 / (1 - 0.9), rtol=1e-5)
    s, a = np.argwhere(tries == 1)[0]
    # the pair tried: its reward plus γ times the value of where it led (all unknown)
    reward = float(state.reward_sum[s, a])
    np.testing.assert_allclose(q[s, a], reward + 0.9 * 0.5 / (1 - 0.9), rtol=1e-5)


def test_the_swing_up_is_learned_in_a_few_thousand_steps():
    """DiscretePendulum, R-max exploration: the greedy plan swings up from ≥ 99 % of the
    states within 3000 steps (100 seeds: README), the evaluation's metrics are arrays."""
    config = ModelBasedConfig(total_steps=3_000, eval_every=1_000, rmax=0.01, epsilon=0.0)
    result = run(config, jax.random.split(jax.random.key(0), 4))
    evaluation = result.curve.evaluation
    chex.assert_shape(evaluation["greedy_success"], (4, 4))
    np.testing.assert_array_equal(result.curve.env_steps[0], [0, 1000, 2000, 3000])
    assert np.asarray(evaluation["greedy_success"])[:, -1].min() >= 0.99
    assert float(np.asarray(evaluation["model_error"]).max()) == 0.0  # deterministic
    assert (np.diff(np.asarray(evaluation["coverage"]), axis=1) > 0).all()


def test_a_seed_in_a_batch_equals_the_seed_alone():
    """What the README states: the counts, the plans and the evaluation bit for bit, but
    ``value_gap`` and ``coverage``, one float32 rounding apart (XLA divides by the exact
    model's constants differently without a batch axis)."""
    config = ModelBasedConfig(total_steps=400, plan_every=5, num_envs=2, eval_every=100,
                              rmax=1.0)
    keys = jax.random.split(jax.random.key(3), 3)
    states, curves = jax.jit(jax.vmap(lambda k: train(config, k)))(keys)
    chex.assert_shape(curves.evaluation["coverage"], (3, 5))
    assert not np.array_equal(states.counts[0], states.counts[1])
    for i in (0, 2):
        alone, curve = train(config, keys[i])
        for name in ("counts", "next_states", "reward_sum", "terminal"):
            np.testing.assert_array_equal(getattr(states, name)[i], getattr(alone, name))
        np.testing.assert_array_equal(states.plan.q_values[i], alone.plan.q_values)
        np.testing.assert_array_equal(states.explore.q_values[i], alone.explore.q_values)
        for name, values in curves.evaluation.items():
            if name in ("value_gap", "coverage"):  # a linear solve; a share: 1 ulp apart
                np.testing.assert_allclose(values[i], curve.evaluation[name], rtol=1e-6,
                                           atol=1e-7, err_msg=name)
            else:
                np.testing.assert_array_equal(values[i], curve.evaluation[name], err_msg=name)


@pytest.mark.parametrize("env, message", [
    ("CartPole-v1", "tabular model-based RL needs a Discrete observation space; CartPole-v1"),
    ("Pendulum", "tabular model-based RL needs a Discrete observation space"),
])
def test_an_environment_it_cannot_model_is_one_line(env, message):
    with pytest.raises(ValueError) as error:
        train(ModelBasedConfig(env=env, total_steps=10), jax.random.key(0))
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("values, message", [
    ({"total_steps": -5}, "total_steps must be >= 1, got -5"),
    ({"plan_every": 0}, "plan_every must be >= 1, got 0"),
    ({"successors": 0}, "successors must be >= 1, got 0"),
    ({"greedy_horizon": -1}, "greedy_horizon must be >= 1, got -1"),
    ({"epsilon": 1.5}, "epsilon must be in [0, 1], got 1.5"),
])
def test_bad_values_are_one_line(values, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        ModelBasedConfig(**values)


def test_the_novelty_bonus_by_hand():
    """p̂_new(s) = (n_new(s) + 2ḡ) / (n(s) + 2), ḡ = (Σ n_new + 1) / (Σ n + 2)."""
    novel = jnp.array([[1, 2], [0, 0], [3, 3]], jnp.int32)
    rate = (4 + 1) / (5 + 2)
    np.testing.assert_allclose(novelty_bonus(novel), [(1 + 2 * rate) / 4, rate,
                                                      (3 + 2 * rate) / 5], rtol=1e-6)
    novel, arrived = jnp.zeros((3, 2), jnp.int32), jnp.zeros(3, bool)
    for s, s_next, unknown in ((0, 1, True), (1, 1, True), (2, 1, True), (2, 0, False)):
        novel, arrived = note_arrival(novel, arrived, s, s_next, jnp.asarray(unknown))
    np.testing.assert_array_equal(novel, [[1, 1], [0, 1], [0, 1]])  # 1 arrived first
    np.testing.assert_array_equal(arrived, [True, True, False])


def test_the_novelty_plan_values_an_unknown_pair_at_its_bonus():
    """One pair tried in the maze: every unknown pair pays its state's bonus once (then
    the plan's extra state pays nothing), the tried one its reward plus
    novelty_gamma times the best bonus where it led; the plan acts on them."""
    env, params = make("Maze")
    config = ModelBasedConfig(env="Maze", total_steps=1, plan_every=1, gamma=0.9,
                              exploration="novelty", epsilon=0.0, novelty_gamma=0.5)
    state, _ = train(config, jax.random.key(0), env, params)
    tries = np.asarray(state.counts.sum(-1))
    (s, a), = np.argwhere(tries == 1)
    chex.assert_trees_all_equal(state.novel[s], jnp.array([1, 1], jnp.int32))
    bonus = np.asarray(novelty_bonus(state.novel))
    q = np.asarray(solve(config, state, state.explore, explore=True, sweeps=10_000).q_values)
    live = ~np.asarray(state.terminal)
    unknown = (tries == 0) & live[:, None]
    np.testing.assert_allclose(q[:-1][unknown], np.broadcast_to(bonus[:, None],
                                                                tries.shape)[unknown],
                               rtol=1e-6)
    np.testing.assert_array_equal(q[-1], 0.0)  # the extra state: nothing after the bonus
    s_next = int(state.next_states[s, a, 0])
    np.testing.assert_allclose(q[s, a], float(state.reward_sum[s, a])
                               + 0.5 * q[s_next].max(), rtol=1e-6)


def test_the_swing_up_is_learned_with_the_novelty_rule():
    """DiscretePendulum, the novelty rule's plan: the greedy plan swings up from ≥ 99 %
    of the states within 3000 steps (4 seeds; 100: README), as R-max's does."""
    config = ModelBasedConfig(total_steps=3_000, eval_every=1_000, epsilon=0.0,
                              exploration="novelty")
    result = run(config, jax.random.split(jax.random.key(0), 4))
    assert np.asarray(result.curve.evaluation["greedy_success"])[:, -1].min() >= 0.99


@pytest.mark.parametrize("values, message", [
    ({"exploration": "curious"}, "exploration must be one of"),
    ({"rmax": 1.0, "exploration": "novelty"}, "exploration must be 'epsilon_greedy' with it"),
    ({"novelty_gamma": 1.5}, "novelty_gamma must be in [0, 1], got 1.5"),
])
def test_bad_exploration_is_one_line(values, message):
    with pytest.raises(ValueError) as error:
        ModelBasedConfig(**values)
    assert message in str(error.value) and "\n" not in str(error.value)
