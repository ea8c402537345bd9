"""DQN: exact Q-values on probe environments, the TD target by hand, the target update,
a short CartPole run, and clear errors on bad input."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrl.deep import dqn
from jaxrl.envs.probes import PROBES
from jaxrl.envs.wrappers import AutoReset

GAMMA = 0.9


def _probe_config(**changes):
    """Small and fast; a uniform behaviour policy (Q-learning is off-policy)."""
    config = dqn.DQNConfig(
        env="probe", total_steps=4_000, num_envs=4, buffer_size=1_000, batch_size=32,
        learning_starts=100, updates_per_step=1, target_update_every=4,
        exploration_steps=1, hidden_sizes=(16,), double=False, loss="l2",
        eval_every=4_000, eval_episodes=2, learning_rate=1e-2, gamma=GAMMA, tau=0.2,
        epsilon_start=1.0, epsilon_end=1.0,
    )
    return config.replace(**changes)


@pytest.mark.parametrize("name", list(PROBES))
def test_probe_learns_exact_q_values(name):
    cls, exact = PROBES[name]
    env = cls()
    # TimeLimit needs the value to propagate over many bootstraps: more steps.
    steps = 16_000 if name == "TimeLimit" else 4_000
    config = _probe_config(total_steps=steps, eval_every=steps)
    state, curve = dqn.train(config, jax.random.key(0), env=env)
    setup = dqn.make(config, env)
    for obs, values in exact(GAMMA).items():
        q = dqn.q_values(setup, state.params, jnp.array([[obs]]))[0]
        np.testing.assert_allclose(np.asarray(q), values, atol=0.03, err_msg=f"obs {obs}")
    assert curve.eval_return.shape == (2, 2)


def test_layer_norm_network_learns_exact_q_values():
    cls, exact = PROBES["ObservationReward"]
    env = cls()
    config = _probe_config(layer_norm=True)
    state, _ = dqn.train(config, jax.random.key(0), env=env)
    assert "LayerNorm_0" in state.params["params"]
    setup = dqn.make(config, env)
    for obs, values in exact(GAMMA).items():
        q = dqn.q_values(setup, state.params, jnp.array([[obs]]))[0]
        np.testing.assert_allclose(np.asarray(q), values, atol=0.03, err_msg=f"obs {obs}")


def _step_sizes(config, count):
    """Adam's first ``count`` update sizes on a constant gradient: ≈ the step size."""
    optimizer = dqn.optimizer(dqn.make(config, PROBES["ConstantReward"][0]()), config)
    params = {"w": jnp.zeros(())}
    opt = optimizer.init(params)
    sizes = []
    for _ in range(count):
        updates, opt = optimizer.update({"w": jnp.ones(())}, opt, params)
        sizes.append(abs(float(updates["w"])))
    return np.array(sizes)


@pytest.mark.parametrize("decay", ["linear", "cosine"])
def test_learning_rate_schedule_shapes(decay):
    config = _probe_config(learning_rate=1e-2, learning_rate_end=1e-4, decay=decay)
    sizes = _step_sizes(config, 976)  # num_updates = 975 (next test), then the end value
    t = np.array([0, 487, 975])
    if decay == "linear":
        expected = 1e-2 + (1e-4 - 1e-2) * t / 975
    else:  # end + (start - end) (1 + cos(π t / T)) / 2
        expected = 1e-4 + (1e-2 - 1e-4) * (1 + np.cos(np.pi * t / 975)) / 2
    np.testing.assert_allclose(sizes[t], expected, rtol=2e-3)


def test_learning_rate_schedule_spans_the_learning_steps():
    config = _probe_config(learning_rate=1e-2, learning_rate_end=1e-4)
    _, curve = dqn.train(config, jax.random.key(0), env=PROBES["ConstantReward"][0]())
    made = int(np.asarray(curve.train["updates"]).sum())
    # 1000 train steps, learning once 100 transitions are stored (from the 25th on)
    assert dqn.make(config, PROBES["ConstantReward"][0]()).num_updates == 975
    assert made in (975, 976)  # DQN learns from the step that stores the 100th
    # The step size of the run's last update is the end value.
    assert _step_sizes(config, made)[-1] == pytest.approx(1e-4, rel=1e-3)


def test_td_target_by_hand_terminated_vs_truncated():
    config = dqn.DQNConfig(gamma=0.5, double=False)
    reward = jnp.array([1.0, 1.0, 1.0])
    terminated = jnp.array([False, True, False])  # the third is a truncation: bootstrap
    q_next = jnp.array([[2.0, 4.0], [2.0, 4.0], [-6.0, -2.0]])
    target = dqn.td_target(config, reward, terminated, q_next)
    np.testing.assert_allclose(target, [1.0 + 0.5 * 4.0, 1.0, 1.0 + 0.5 * -2.0])


def test_double_dqn_target_uses_online_argmax_and_target_value():
    config = dqn.DQNConfig(gamma=0.5, double=True)
    q_next_target = jnp.array([[10.0, 0.0]])
    q_next_online = jnp.array([[0.0, 1.0]])  # the online network prefers action 1
    target = dqn.td_target(config, jnp.array([1.0]), jnp.array([False]), q_next_target,
                           q_next_online)
    np.testing.assert_allclose(target, [1.0 + 0.5 * 0.0])


def test_truncated_transition_bootstraps_from_true_final_observation():
    """The loss on a stored truncated transition uses next_obs (the final observation)."""
    env = AutoReset(PROBES["TimeLimit"][0]())
    params_env = env.default_params.replace(max_steps_in_episode=1)
    _, state = env.reset(jax.random.key(0), params_env)
    _, tr = env.step(jax.random.key(1), state, 0, params_env)
    assert bool(tr.truncated) and not bool(tr.terminated)
    config = dqn.DQNConfig(gamma=0.5, double=False)
    batch = jax.tree.map(lambda x: jnp.asarray(x)[None], tr)
    q = jnp.array([[3.0]])
    target = dqn.td_target(config, batch.reward, batch.terminated, q)
    np.testing.assert_allclose(target, [1.0 + 0.5 * 3.0])


def test_target_update_on_boundary_crossing():
    """With t moving by 3 and C = 10, θ⁻ is copied at the steps that cross 10, 20, ..."""
    config = dqn.DQNConfig(target_update_every=10, tau=1.0)
    params, target = {"w": jnp.array(1.0)}, {"w": jnp.array(0.0)}
    copied = []
    for previous in range(0, 30, 3):
        new = dqn.update_target(config, params, target, jnp.array(previous + 3),
                                jnp.array(previous))
        copied.append(float(new["w"]))
    # steps 3, 6, 9, 12, 15, 18, 21, 24, 27, 30: crossings at 12, 21, 30
    assert copied == [0, 0, 0, 1, 0, 0, 1, 0, 0, 1]
    soft = dqn.update_target(config.replace(tau=0.25), params, target, jnp.array(10),
                             jnp.array(9))
    assert float(soft["w"]) == 0.25


def test_greedy_policy_acts_on_the_running_average_of_theta():
    """θ̄ <- θ̄ + s (θ - θ̄) after each learning step; the greedy action is argmax Q(·; θ̄);
    with s = 1, θ̄ is θ bit for bit (the slide's DQN)."""
    cls, _ = PROBES["ObservationReward"]
    config = _probe_config(learning_starts=4, average_step=0.25)
    setup = dqn.make(config, cls())
    state = dqn.init(setup, config, jax.random.key(0))
    expected = state.average_params
    for _ in range(3):
        state, _ = dqn.train_step(setup, config, state)
        expected = jax.tree.map(lambda a, p: a + 0.25 * (p - a), expected, state.params)
    chex.assert_trees_all_close(state.average_params, expected, rtol=1e-5, atol=1e-7)
    assert not np.allclose(state.average_params["params"]["Dense_0"]["kernel"],
                           state.params["params"]["Dense_0"]["kernel"])
    obs = jnp.array([[0.0], [1.0]])
    # the greedy action reads θ̄ alone: scrambling θ does not change it
    scrambled = state.replace(params=jax.tree.map(lambda x: -x, state.params))
    np.testing.assert_array_equal(
        dqn.greedy_action(setup, config, scrambled, obs),
        jnp.argmax(dqn.q_values(setup, state.average_params, obs), -1))

    plain = config.replace(average_step=1.0)
    state = dqn.init(setup, plain, jax.random.key(0))
    for _ in range(3):
        state, _ = dqn.train_step(setup, plain, state)
    chex.assert_trees_all_equal(state.average_params, state.params)


def test_cartpole_short_run_improves_well_above_random():
    # (64, 64): the default (128, 128)'s untrained greedy policy can balance for a
    # while by chance (268 with this key), which would hide the improvement.
    config = dqn.DQNConfig(total_steps=20_000, eval_every=10_000, eval_episodes=8,
                           hidden_sizes=(64, 64))
    _, curve = dqn.train(config, jax.random.key(0))
    returns = np.asarray(curve.eval_return).mean(-1)
    assert returns[0] < 60  # an untrained network: about random (≈ 22)
    assert returns[-1] > 100, returns  # over 4x random, after 20k of the default's 100k steps


def test_discrete_observations_are_one_hot():
    config = dqn.DQNConfig(env="DiscretePendulum", total_steps=200, num_envs=2,
                           learning_starts=50, batch_size=16, buffer_size=100,
                           eval_every=200, eval_episodes=2, hidden_sizes=(8,))
    state, curve = dqn.train(config, jax.random.key(0))
    kernel = state.params["params"]["Dense_0"]["kernel"]
    assert kernel.shape == (380, 8)
    assert np.isfinite(np.asarray(curve.eval_return)).all()


@pytest.mark.parametrize(
    ("changes", "env", "message"),
    [
        ({}, "Pendulum-v1", "DDPG"),
        ({"batch_size": 64, "buffer_size": 32}, None, "larger than the replay memory"),
        ({"learning_rate": 0.0}, None, "learning_rate must be > 0"),
        ({"learning_rate": -1e-3}, None, "learning_rate must be > 0"),
        ({"gamma": 1.5}, None, r"gamma \(γ\) must be in \[0, 1\]"),
        ({"gamma": -0.1}, None, r"gamma \(γ\) must be in \[0, 1\]"),
        ({"loss": "l1"}, None, "loss must be one of"),
        ({"decay": "step"}, None, "decay must be one of"),
        ({"average_step": 0.0}, None, r"average_step must be in \(0, 1\]"),
        ({"average_step": 1.5}, None, r"average_step must be in \(0, 1\]"),
    ],
)
def test_bad_input_raises_clear_error(changes, env, message):
    # a bad value fails when the config is made, the environment when the run is
    with pytest.raises(ValueError, match=message):
        dqn.train(dqn.DQNConfig(**changes, **({"env": env} if env else {})),
                  jax.random.key(0))
