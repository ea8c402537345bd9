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
from jaxrl.tabular.scoring import reference_optimum


def _q_star(mdp, gamma):
    """``Q*`` in float64 on the host, γ as float32 rounds it: numpy's policy iteration
    with exact solves (LAPACK, float64), independent of the code under test."""
    next_states, states = np.asarray(mdp.next_states), np.arange(mdp.num_states)
    probs, rewards = np.asarray(mdp.probs, np.float64), np.asarray(mdp.rewards, np.float64)
    gamma, policy = float(np.float32(gamma)), np.zeros(mdp.num_states, int)
    for _ in range(100):
        chain = np.zeros((mdp.num_states, mdp.num_states))
        np.add.at(chain, (states[:, None], next_states[states, policy]), probs[states, policy])
        values = np.linalg.solve(np.eye(mdp.num_states) - gamma * chain,
                                 rewards[states, policy])
        q = rewards + gamma * np.sum(probs * values[next_states], -1)
        better = q.max(-1) > q[states, policy] + 1e-12 * np.abs(q).max()
        if not better.any():
            return q
        policy = np.where(better, q.argmax(-1), policy)
    raise AssertionError("numpy's policy iteration did not end")


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
    the terminal states are found, the plan equals value iteration's on the truth, and
    ``q_error`` is the plan's own distance to Q*: 0 to float32's rounding."""
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
    # The reference is Q* to float32's rounding (policy iteration, exact solves in
    # float32); it was float32 value iteration stopped at 1e-6, 6.7e-6 max|Q| from Q*
    # on the maze: more than the plan it scored.
    q_star = _q_star(exact, config.gamma)
    scale = np.abs(q_star).max()
    reference_error = np.abs(np.asarray(state.optimum.q_values, np.float64) - q_star).max()
    assert reference_error <= 2**-23 * scale  # measured: 4.8e-8, 2.9e-8 (x max|Q*|)
    q_error = float(curve.evaluation["q_error"][-1])
    plan_error = np.abs(np.asarray(converged.q_values) - q_star)[live].max()
    assert abs(q_error - plan_error) <= 2**-23 * scale
    assert q_error <= 1e-6 * scale
    assert float(curve.evaluation["value_gap"][-1]) < 1e-4


@pytest.mark.parametrize("name, env_kwargs, gammas", [
    ("Maze", None, [0.9, 0.99, 0.999, 1.0]),
    ("DiscretePendulum", None, [0.9, 0.99]),
    ("FrozenLake-misc", None, [0.99, 0.999]),  # slippery: three successors a pair
])
def test_the_reference_optimum_is_q_star_to_float32_rounding(name, env_kwargs, gammas):
    """Scoring's ``Q*`` (float32, jitted, vmapped over γ) against numpy's in float64:
    within 1e-6 max|Q*| (measured: 5e-8 on the maze and the pendulum, 4e-7 and 5e-7 on
    slippery FrozenLake; float32 value iteration to 1e-6, the old reference, is 7e-6,
    9e-5 and 9e-4 off on the maze at γ = 0.9, 0.99, 0.999, and 3e-5 on FrozenLake).
    At γ = 1 (I - P_π singular) it is value iteration's."""
    assert not jax.config.jax_enable_x64  # float32 throughout, as on a TPU
    env, params = make(name, env_kwargs=env_kwargs)
    mdp = exact_model(env, params).mdp
    optimum = jax.jit(jax.vmap(reference_optimum, in_axes=(None, 0)))(
        mdp, jnp.asarray(gammas, jnp.float32))
    assert optimum.q_values.dtype == jnp.float32
    live = ~np.asarray(mdp.terminal)
    for i, gamma in enumerate(gammas):
        if gamma == 1.0:
            fallback = value_iteration(mdp, gamma, tol=1e-6, max_sweeps=10_000)
            np.testing.assert_allclose(optimum.q_values[i], fallback.q_values, rtol=1e-6)
            continue
        q_star = _q_star(mdp, gamma)
        error = np.abs(np.asarray(optimum.q_values[i], np.float64) - q_star)[live].max()
        assert error <= 1e-6 * np.abs(q_star).max(), (gamma, error)
        assert bool(optimum.converged[i])


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
