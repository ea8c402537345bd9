"""Model-predictive control on a learned model (jaxrl.deep.mpc, jaxrl.deep.dynamics):
the exact model's swing-up, the learned model's one-step error, the closed-form linear
model on a system it represents exactly, the config checks, the driver."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrl.deep import dynamics, mpc, replay
from jaxrl.envs.wrappers import Transition

#: A tiny run for the driver's tests: 200 random steps, then 200 planned ones.
TINY = dict(total_steps=400, num_envs=4, random_steps=200, refit_every=100, fit_steps=50,
            buffer_size=400, horizon=10, samples=16, elites=4, iterations=2,
            eval_every=400, eval_episodes=2, probe_transitions=64, hidden_sizes=(16, 16))


def test_exact_model_mpc_swings_up_from_hanging_at_rest():
    config = mpc.MPCConfig(model="exact", eval_episodes=2, samples=150, elites=15,
                           iterations=3, random_steps=0, total_steps=4, eval_every=4)
    state, curve = mpc.train(config, jax.random.key(1))  # jitted, the setup traced
    assert int(state.step) == 4 and int(state.fits) == 0  # one call, nothing to fit
    chex.assert_shape([curve.evaluation["return"], curve.evaluation["hold"]], (2, 2))
    out = jax.tree.map(lambda x: x[-1], curve.evaluation)
    chex.assert_shape([out["swing_up"], out["model_error"]], ())
    assert bool(out["swing_up"]) and bool(out["hold"][0])  # |q| < 0.1 over steps 81-100
    assert float(out["return"][0]) > -24.0  # measured -20.9; u = 0 from hanging: -49.4
    np.testing.assert_array_equal(out["length"], [100, 100])
    assert float(out["model_error"]) < 1e-5 and float(out["path_error"]) < 1e-5  # rounding


@pytest.mark.parametrize("planner", mpc.PLANNERS)
def test_plan_improves_on_its_warm_start_within_the_bounds(planner):
    config = mpc.MPCConfig(model="exact", planner=planner, horizon=20, samples=64,
                           elites=8, iterations=3, temperature=0.05)
    setup = mpc.make(config)
    obs = jnp.array([-1.0, 0.0, 0.0])  # hanging at rest
    start = mpc.centre_plan(setup, config)
    mu = jax.jit(lambda k: mpc.plan(setup, config, {}, obs, start, k))(jax.random.key(0))
    chex.assert_shape(mu, (20, 1))
    assert float(jnp.max(jnp.abs(mu))) <= 2.0
    value = lambda plan: mpc.model_returns(setup, config, {}, obs, plan[None])[0]  # noqa: E731
    assert float(value(mu)) > float(value(start))
    shifted = mpc.shift(setup, config, mu)
    np.testing.assert_array_equal(shifted[:-1], mu[1:])
    np.testing.assert_array_equal(shifted[-1], [0.0])


def test_learned_model_one_step_error_is_small_after_fitting():
    config = mpc.MPCConfig(random_steps=2_000, fit_steps=2_000)
    setup = mpc.make(config)
    never = config.replace(refit_every=10**6)

    @jax.jit
    def fitted(key):
        state = mpc.init(setup, config, key)
        state = jax.lax.fori_loop(  # 2000 random steps (500 calls of 4 environments)
            0, config.random_steps // config.num_envs,
            lambda i, s: mpc.collect(setup, never, s, jax.random.fold_in(key, i)), state)
        before = mpc.probe_errors(setup, config, state.model, jax.random.key(7))
        state, loss = mpc.fit_model(setup, config, state, key)
        return state, loss, before, mpc.probe_errors(setup, config, state.model,
                                                     jax.random.key(7))

    state, loss, before, after = fitted(jax.random.key(0))
    chex.assert_shape(state.plan, (config.num_envs, config.horizon, 1))
    assert int(state.memory.size) == 2_000 and int(state.fits) == 1
    # measured on fresh transitions (reset states, uniform torques), keys 0-5: ŝ' RMSE
    # 0.005-0.008 (0.26-0.37 untrained; key 0: 0.0079), r̂ RMSE 0.006-0.008 (0.22)
    assert float(before["model_error"]) > 0.1
    assert float(after["model_error"]) < 0.015
    assert float(after["reward_error"]) < 0.015
    assert np.isfinite(float(loss))


def _memory(x: jax.Array, y: jax.Array) -> replay.ReplayMemory:
    """A memory of transitions with inputs ``x = [s, a]`` and targets ``y = [Δs, r]``."""
    obs, action = x[:, :3], x[:, 3:]
    items = Transition(obs=obs, action=action, reward=y[:, -1], next_obs=obs + y[:, :-1],
                       terminated=jnp.zeros(len(x), bool), truncated=jnp.zeros(len(x), bool))
    memory = replay.init_transitions(obs, action[0], 600)
    return replay.store(memory, items)


def test_linear_model_fits_a_system_linear_in_its_features_exactly():
    keys = jax.random.split(jax.random.key(0), 4)
    x = jax.random.uniform(keys[0], (500, 4), minval=-2.0, maxval=2.0)  # 500 of 600 slots
    weights = jax.random.normal(keys[1], (15, 4))  # y = W^T φ(x): degree <= 2 in x

    def truth(x):
        return dynamics.features(x) @ weights

    model, error = jax.jit(dynamics.fit_linear)(_memory(x, truth(x)), 0.0)
    chex.assert_shape(model["weights"], (dynamics.num_features(4), 4))
    x_new = jax.random.uniform(keys[2], (200, 4), minval=-3.0, maxval=3.0)
    next_obs, reward = dynamics.learned_step("linear", None, model, x_new[:, :3],
                                             x_new[:, 3:])
    y_new = truth(x_new)  # points outside the data, too: a polynomial, not a fit
    np.testing.assert_allclose(next_obs - x_new[:, :3], y_new[:, :-1], atol=2e-3, rtol=1e-3)
    np.testing.assert_allclose(reward, y_new[:, -1], atol=2e-3, rtol=1e-3)
    assert float(error) < 1e-8


def test_linear_model_learns_the_pendulums_velocity_step():
    config = mpc.MPCConfig(model="linear", random_steps=400, refit_every=10**6)
    setup = mpc.make(config)

    @jax.jit
    def fitted(key):
        state = mpc.init(setup, config, key)
        state = jax.lax.fori_loop(0, 100, lambda i, s: mpc.collect(
            setup, config, s, jax.random.fold_in(key, i)), state)
        return mpc.fit_model(setup, config, state, key)[0]

    state = fitted(jax.random.key(0))
    obs = jnp.array([[1.0, 0.0, 0.0], [0.0, 1.0, 2.0], [-1.0, 0.0, -1.0]])
    u = jnp.array([[1.0], [-2.0], [0.5]])
    predicted, _ = mpc.model_step(setup, config, state.model, obs, u)
    exact, _ = dynamics.exact_step(setup.env_params, obs, u)
    # Δv = h Σ (u - Kf v + 4.905 sin q) / M: linear in the features, up to the sub-steps
    np.testing.assert_allclose(predicted[:, 2], exact[:, 2], atol=5e-3)


@pytest.mark.parametrize("changes, message", [
    (dict(horizon=0), "horizon must be >= 1, got 0"),
    (dict(samples=0, elites=0), "samples must be >= 1, got 0"),
    (dict(samples=10, elites=20), "elites (20) must not exceed samples (10)"),
    (dict(iterations=-1), "iterations must be >= 1"),
    (dict(random_steps=-5), "random_steps must be >= 0"),
    (dict(planner="ilqr"), "planner must be one of ('cem', 'mppi')"),
    (dict(model="gp"), "model must be one of ('mlp', 'linear', 'exact')"),
    (dict(momentum=1.0), "momentum must be in [0, 1)"),
    (dict(learning_rate=0.0), "learning_rate must be > 0"),
    (dict(reward_scale=-1.0), "reward_scale must be > 0"),
])
def test_bad_config_is_one_clear_line(changes, message):
    with pytest.raises(ValueError) as info:
        mpc.MPCConfig(**changes)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("config, message", [
    (mpc.MPCConfig(env="HybridPendulum"), "MPC needs a Box action space; HybridPendulum"),
    (mpc.MPCConfig(env="DiscretePendulum", env_options=()),
     "MPC needs a Box action space; DiscretePendulum"),
    (mpc.MPCConfig(env="Pendulum-v1", env_options=(), model="exact"),
     "model='exact' needs the course's Pendulum"),
])
def test_an_environment_mpc_cannot_run_is_one_clear_line(config, message):
    with pytest.raises(ValueError) as info:
        mpc.make(config)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_run_over_seeds_same_key_same_result():
    config = mpc.MPCConfig(**TINY)
    k0, k1 = jax.random.split(jax.random.key(3))
    result = mpc.run(config, jnp.stack([k0, k1, k0, k1]))  # two seeds, each twice
    curve = result.curve
    chex.assert_shape([curve.evaluation["return"], curve.evaluation["hold"]], (4, 2, 2))
    chex.assert_shape([curve.evaluation["model_error"], curve.evaluation["swing_up"]], (4, 2))
    chex.assert_shape(result.state.plan, (4, config.num_envs, config.horizon, 1))
    chex.assert_tree_all_finite(curve.evaluation["return"])
    # refits at the end of the random phase (200) and at 300, 400
    np.testing.assert_array_equal(np.asarray(curve.train["fits"])[:, -1], [3, 3, 3, 3])
    np.testing.assert_array_equal(np.asarray(result.state.fits), [3, 3, 3, 3])
    assert int(result.state.memory.size[0]) == 400
    # the model learned: its one-step error fell from the untrained one
    errors = np.asarray(curve.evaluation["model_error"])
    assert np.all(errors[:, -1] < 0.5 * errors[:, 0])
    for leaf_a, leaf_b in zip(jax.tree.leaves((result.state.model, curve)),
                              jax.tree.leaves((jax.tree.map(lambda x: x[2:], result.state.model),
                                               jax.tree.map(lambda x: x[2:], curve))),
                              strict=True):
        np.testing.assert_array_equal(np.asarray(leaf_a)[:2], np.asarray(leaf_b))
    assert not np.array_equal(np.asarray(curve.evaluation["return"][0]),
                              np.asarray(curve.evaluation["return"][1]))

