"""Tabular Q-learning: the slide's update by hand, convergence to planning's optimum, vmap."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrl import make
from jaxrl.envs.tabular import exact_model
from jaxrl.envs.wrappers import AutoReset, Transition
from jaxrl.sweep import sweep
from jaxrl.tabular.planning import value_iteration
from jaxrl.tabular.qlearning import (
    QLearningConfig,
    metrics,
    run,
    td_target,
    train,
    update_q,
)


def test_one_update_is_the_slides_formula():
    """Two states, two actions: Q(s,a) <- (1 - α) Q(s,a) + α (r + γ max_a' Q(s',a'))."""
    q = jnp.array([[0.5, -1.0], [2.0, 3.0]])
    alpha, gamma = 0.3, 0.9
    step = Transition(
        obs=jnp.array([0]), action=jnp.array([1]), reward=jnp.array([1.5]),
        next_obs=jnp.array([1]), terminated=jnp.array([False]), truncated=jnp.array([False]),
    )
    target = td_target(q, step, gamma)
    new = update_q(q, step, target, alpha, jnp.array([True]))
    by_hand = (1 - alpha) * -1.0 + alpha * (1.5 + gamma * 3.0)
    assert float(new[0, 1]) == pytest.approx(by_hand)
    np.testing.assert_array_equal(np.asarray(new)[[0, 1, 1], [0, 0, 1]], [0.5, 2.0, 3.0])

    # Terminated: no bootstrap. Truncated: bootstrap from the true final observation.
    ended = step.replace(terminated=jnp.array([True]))
    assert float(td_target(q, ended, gamma)[0]) == pytest.approx(1.5)
    cut = step.replace(truncated=jnp.array([True]))
    assert float(td_target(q, cut, gamma)[0]) == pytest.approx(1.5 + gamma * 3.0)
    # An inactive environment (its episode is over) changes nothing.
    np.testing.assert_array_equal(update_q(q, step, target, alpha, jnp.array([False])), q)


def test_parallel_updates_of_one_pair_are_averaged():
    q = jnp.zeros((2, 2))
    step = Transition(
        obs=jnp.array([0, 0]), action=jnp.array([1, 1]), reward=jnp.array([1.0, 3.0]),
        next_obs=jnp.array([1, 1]), terminated=jnp.array([True, True]),
        truncated=jnp.array([False, False]),
    )
    new = update_q(q, step, td_target(q, step, 0.9), 0.5, jnp.array([True, True]))
    assert float(new[0, 1]) == pytest.approx(0.5 * 2.0)  # α times the mean target


def assert_greedy_is_optimal(q, model, gamma, atol=1e-3):
    """Every non-terminal state's greedy action has the optimal value (ties allowed)."""
    optimum = value_iteration(model.mdp, gamma, tol=1e-7)
    live = ~np.asarray(model.mdp.terminal)
    states = np.arange(model.mdp.num_states)
    chosen = np.asarray(optimum.q_values)[states, np.asarray(q).argmax(-1)]
    np.testing.assert_allclose(chosen[live], np.asarray(optimum.values)[live], atol=atol)


@pytest.mark.parametrize(
    "name, env_args, kwargs",
    [
        ("Maze", {"start_state": -1}, dict(gamma=0.9, episodes=400, max_steps=50, epsilon=0.3)),
        (
            "FrozenLake-misc",
            {},
            dict(gamma=0.95, episodes=2000, max_steps=100, epsilon=0.6),
        ),
    ],
)
def test_reaches_the_greedy_policy_of_value_iteration(name, env_args, kwargs):
    env_kwargs = {"is_slippery": False} if name == "FrozenLake-misc" else None
    env, params = make(name, env_kwargs=env_kwargs, **env_args)
    config = QLearningConfig(
        env=name, exploration="epsilon_greedy", learning_rate=0.5, **kwargs
    )
    params = params.replace(max_steps_in_episode=config.max_steps)
    keys = jax.random.split(jax.random.key(0), 4)
    states, metrics = jax.vmap(lambda k: train(config, k, env, params))(keys)
    model = exact_model(env, params)
    for q in states.q:
        assert_greedy_is_optimal(q, model, config.gamma)
    assert np.asarray(metrics.greedy_success)[:, -1].min() == pytest.approx(
        float(np.mean(np.asarray(_reachable_goal(model))))
    )


def _reachable_goal(model):
    """States from which the optimal policy reaches the goal (holes and traps cannot)."""
    optimum = value_iteration(model.mdp, 0.99, tol=1e-7)
    return (np.asarray(optimum.values) > 0) | np.asarray(model.goal)


def test_course_practical_learns_the_swing_up():
    """DiscretePendulum, the practical's settings (α 0.85, γ 0.99, noisy argmax, 50-step
    episodes), 500 episodes."""
    config = QLearningConfig(episodes=500, eval_every_episodes=100)
    states, metrics = jax.vmap(lambda k: train(config, k))(jax.random.split(jax.random.key(1), 8))
    assert metrics.episode_return.shape == (8, 500, 1)
    success = np.asarray(metrics.greedy_success)
    assert success.shape == (8, 6)  # the untrained table, then every 100 episodes
    np.testing.assert_array_equal(np.asarray(metrics.eval_episode)[0], [0, 100, 200, 300,
                                                                       400, 500])
    assert success[:, 1].mean() > success[:, 0].mean()  # 100 episodes already help
    # The greedy policy swings up from most states (100 seeds: 99.4 % on average).
    assert success[:, -1].mean() > 0.95
    assert success[:, -1].mean() > success[:, 0].mean()
    assert np.asarray(metrics.value_gap)[:, -1].mean() < np.asarray(metrics.value_gap)[:, 0].mean()
    # Training success climbs: late episodes succeed more often than early ones.
    early, late = metrics.success[:, :50].mean(), metrics.success[:, -50:].mean()
    assert late > early and late > 0.9


@pytest.mark.parametrize("env", ["Maze", "DiscretePendulum"])
def test_a_seed_in_a_batch_equals_the_seed_alone(env):
    """What the README states: the Q-table and every metric bit for bit, but for
    ``value_gap`` (a linear solve, batched or not: a few float32 ulps apart)."""
    config = QLearningConfig(env=env, episodes=40, max_steps=30, num_envs=3,
                             eval_every_episodes=10, exploration="epsilon_greedy")
    keys = jax.random.split(jax.random.key(2), 5)
    batch_states, batch_metrics = jax.jit(jax.vmap(lambda k: train(config, k)))(keys)
    for i in (1, 3):
        alone_states, alone_metrics = train(config, keys[i])
        np.testing.assert_array_equal(batch_states.q[i], alone_states.q)
        for name in ("episode_return", "episode_length", "success", "eval_episode",
                     "q_error", "greedy_success"):
            np.testing.assert_array_equal(getattr(batch_metrics, name)[i],
                                          getattr(alone_metrics, name), err_msg=name)
        np.testing.assert_allclose(batch_metrics.value_gap[i], alone_metrics.value_gap,
                                   rtol=0, atol=1e-6)


def test_vmap_over_learning_rate_gamma_epsilon_equals_a_loop():
    base = QLearningConfig(env="Maze", episodes=30, max_steps=30,
                           exploration="epsilon_greedy", epsilon_end=0.01)
    alphas, gammas, epsilons = [0.1, 0.5, 1.0], [0.8, 0.9, 0.99], [0.05, 0.2, 0.5]
    stacked = sweep(base, learning_rate=alphas, gamma=gammas, epsilon=epsilons)
    key = jax.random.key(3)
    swept, _ = jax.vmap(lambda c: train(c, key))(stacked)
    for i in range(3):
        alone, _ = train(
            base.replace(learning_rate=alphas[i], gamma=gammas[i], epsilon=epsilons[i]), key
        )
        np.testing.assert_allclose(swept.q[i], alone.q, rtol=1e-6, atol=1e-6)


def test_noisy_argmax_and_decaying_schedules_run():
    config = QLearningConfig(env="Maze", episodes=20, max_steps=20, learning_rate_end=0.1)
    state, metrics = train(config, jax.random.key(4))
    assert int(state.episode) == 20
    assert metrics.success.dtype == bool


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"env": "Pendulum"}, "Discrete observation"),
        ({"learning_rate": 0.0}, r"\(0, 1\]"),
        ({"learning_rate": 1.5}, r"\(0, 1\]"),
        ({"episodes": -5}, "episodes must be >= 1"),
        ({"gamma": 1.2}, "gamma"),
        ({"epsilon": -0.1}, "epsilon"),
        ({"exploration": "boltzmann"}, "exploration"),
        ({"episodes": 10, "eval_every_episodes": 3}, "eval_every_episodes"),
    ],
)
def test_bad_input_is_a_clear_error(changes, message):
    # a bad value fails when the config is made, the environment when the run is
    with pytest.raises(ValueError, match=message):
        train(QLearningConfig(**{"env": "Maze", **changes}), jax.random.key(0))


def test_trains_on_an_env_given_directly():
    env, params = make("FrozenLake-misc", env_kwargs={"is_slippery": False})
    config = QLearningConfig(env="unused", episodes=10, max_steps=20)
    state, _ = train(config, jax.random.key(5), AutoReset(env), params)
    assert state.q.shape == (16, 4)


def test_chunked_training_equals_one_call():
    config = QLearningConfig(env="Maze", episodes=30, max_steps=20, eval_every_episodes=10,
                             exploration="epsilon_greedy")
    keys = jax.random.split(jax.random.key(6), 2)
    seen = []
    result = run(config, keys, hook=lambda p: seen.append(p.env_steps))
    chunked, chunked_metrics = result.state, metrics(config, result.curve)
    assert seen == [0, 10, 20, 30]  # the driver's hook: before training, then each chunk
    whole, whole_metrics = jax.vmap(lambda k: train(config, k))(keys)
    np.testing.assert_allclose(chunked.q, whole.q, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(chunked_metrics.episode_length, whole_metrics.episode_length)
    np.testing.assert_allclose(chunked_metrics.greedy_success, whole_metrics.greedy_success)
