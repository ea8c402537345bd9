"""PPO: exact values on probe environments (truncation bootstrapped, termination not),
a continuous probe, a short CartPole run, a seed's batch independence, and clear errors
on bad input."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnax.environments import spaces

from jaxrl.deep import ppo
from jaxrl.envs.probes import ActionReward, ConstantReward, ObservationReward, TimeLimit

GAMMA = 0.9


def _probe_config(**changes):
    """Small and fast: 64 steps per iteration, one hidden layer, no value clip."""
    config = ppo.PPOConfig(
        env="probe", total_steps=6_400, num_envs=4, num_steps=16, num_minibatches=2,
        update_epochs=4, hidden_sizes=(16,), eval_every=6_400, eval_episodes=2,
        learning_rate=1e-2, learning_rate_end=None, gamma=GAMMA, vf_clip=math.inf,
        max_grad_norm=10.0, ent_coef=0.0)
    return config.replace(**changes)


def _values(config, env, state, obs):
    setup = ppo.make(config, env)
    x = ppo.features(setup, config, state.obs_stats, jnp.array(obs, jnp.float32))
    return np.asarray(setup.network.apply(state.params, x)[2])


def test_constant_reward_value_is_one():
    config = _probe_config()
    state, _ = ppo.train(config, jax.random.key(0), env=ConstantReward())
    np.testing.assert_allclose(_values(config, ConstantReward(), state, [[0.0]]), [1.0],
                               atol=0.03)


def test_observation_reward_values_with_normalised_observations():
    config = _probe_config(normalize_observations=True)
    state, _ = ppo.train(config, jax.random.key(0), env=ObservationReward())
    np.testing.assert_allclose(_values(config, ObservationReward(), state, [[-1.0], [1.0]]),
                               [-1.0, 1.0], atol=0.05)
    assert abs(float(state.obs_stats.mean[0])) < 0.2  # ±1 at random: mean 0, var 1
    np.testing.assert_allclose(state.obs_stats.var, [1.0], atol=0.05)
    assert float(state.obs_stats.count) == pytest.approx(6_400, rel=1e-4)


def test_time_limit_value_needs_the_truncation_bootstrap():
    """V = 1/(1-γ) = 10 when truncation bootstraps from V(S'); treating the time limit as a
    termination (``bootstrap_truncation=False``, the peers' convention) learns far less."""
    config = _probe_config(total_steps=12_800, eval_every=12_800)
    state, _ = ppo.train(config, jax.random.key(0), env=TimeLimit())
    np.testing.assert_allclose(_values(config, TimeLimit(), state, [[0.0]]), [10.0],
                               atol=0.3)
    peers = config.replace(bootstrap_truncation=False)
    state, _ = ppo.train(peers, jax.random.key(0), env=TimeLimit())
    assert _values(peers, TimeLimit(), state, [[0.0]])[0] < 7.0


def _gae_ending_every_episode(reward, done, value, last_value, gamma, lam):
    """GAE as PureJaxRL and CleanRL write it, by hand: ``done`` ends the return, the
    next value is V(S_{t+1}), and ``last_value`` follows the rollout's last step."""
    advantage, future = np.zeros_like(reward), np.zeros_like(last_value)
    for t in reversed(range(len(reward))):
        v_next = last_value if t == len(reward) - 1 else value[t + 1]
        delta = reward[t] + gamma * v_next * (1 - done[t]) - value[t]
        future = delta + gamma * lam * (1 - done[t]) * future
        advantage[t] = future
    return advantage


def test_truncation_as_termination_is_the_peers_gae():
    """With ``bootstrap_truncation=False`` the advantages are those of the peers' GAE (a
    truncation ends the return, V(S_{t+1}) from the acting pass, V after the rollout)."""
    config = _probe_config(bootstrap_truncation=False, gae_lambda=0.8)
    setup = ppo.make(config, ObservationReward())
    state = ppo.init(setup, config, jax.random.key(0))
    _, ro = ppo.collect_rollout(setup, config, state, jax.random.key(1))
    tr, (_, _, value) = ro.transitions, ro.extras
    # an episode ends by termination at t = 3 and by truncation at t = 9, in every env
    tr = tr.replace(terminated=tr.terminated.at[3].set(True),
                    truncated=tr.truncated.at[9].set(True))
    obs_after = tr.next_obs[-1] + 0.5  # not the last next observation: V of it is used
    ended, value_next = ppo.next_values(setup, config, state.params, state.obs_stats, tr,
                                        value, obs_after)
    advantage, _ = ppo.advantages(config, ended, value, value_next)
    last_value = _values(config, ObservationReward(), state, obs_after)
    expected = _gae_ending_every_episode(
        np.asarray(tr.reward), np.asarray(tr.terminated | tr.truncated, np.float32),
        np.asarray(value), last_value, config.gamma, config.gae_lambda)
    np.testing.assert_allclose(advantage, expected, rtol=1e-5, atol=1e-6)
    assert not ended.truncated.any() and bool(ended.terminated[9].all())


def test_action_reward_greedy_picks_the_rewarded_action():
    config = _probe_config(ent_coef=0.01)
    state, curve = ppo.train(config, jax.random.key(0), env=ActionReward())
    setup = ppo.make(config, ActionReward())
    assert int(ppo.greedy_action(setup, config, state, jnp.zeros((1, 1)))[0]) == 1
    np.testing.assert_array_equal(curve.eval_return[-1], 1.0)
    np.testing.assert_allclose(_values(config, ActionReward(), state, [[0.0]]), [1.0],
                               atol=0.1)


class ContinuousTarget(ConstantReward):
    """One step with a ``Box(-2, 2)`` action; reward ``-(a - 1)²``: the best action is 1."""

    def action_space(self, params=None):
        return spaces.Box(-2.0, 2.0, (1,), jnp.float32)

    def _rule(self, state, action):
        return -jnp.square(action[0] - 1.0), state.value, jnp.ones((), bool)


def test_gaussian_policy_learns_a_continuous_action():
    # No entropy bonus: σ collapses once μ ≈ 1, and with a constant step size the
    # standardised advantages keep pushing μ about; the step size decays to 0 as PPO's.
    config = _probe_config(total_steps=6_400, eval_every=6_400, log_std_init=-0.5,
                           learning_rate_end=0.0)
    state, curve = ppo.train(config, jax.random.key(0), env=ContinuousTarget())
    setup = ppo.make(config, ContinuousTarget())
    action = ppo.greedy_action(setup, config, state, jnp.zeros((1, 1)))
    assert action.shape == (1, 1)
    np.testing.assert_allclose(action, [[1.0]], atol=0.02)
    assert float(curve.eval_return[-1].mean()) > -0.01
    assert float(curve.eval_return[0].mean()) < -0.5  # μ ≈ 0 at first: reward ≈ -1


def test_cartpole_learns_in_a_short_run():
    config = ppo.PPOConfig(total_steps=20_480, eval_every=20_480, eval_episodes=8)
    curve = ppo.run(config, jax.random.split(jax.random.key(3), 2)).curve
    assert np.all(np.asarray(curve.eval_return[:, 0].mean(-1)) < 60)  # untrained
    assert float(curve.eval_return[:, -1].mean()) > 150  # random play: about 22


def test_a_seed_in_a_batch_of_two_equals_it_in_a_batch_of_three():
    config = _probe_config(total_steps=1_280, eval_every=640, normalize_observations=True)
    keys = jax.random.split(jax.random.key(7), 3)
    two = ppo.run(config, keys[:2], env=ObservationReward())
    three = ppo.run(config, keys, env=ObservationReward())
    np.testing.assert_array_equal(three.state.step, 1_280)
    pairs = [*zip(jax.tree.leaves(two.state.replace(key=None)),
                  jax.tree.leaves(three.state.replace(key=None)), strict=True),
             *zip(jax.tree.leaves(two.curve), jax.tree.leaves(three.curve), strict=True),
             (jax.random.key_data(two.state.key), jax.random.key_data(three.state.key))]
    for a, b in pairs:
        np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(two.state.params["params"]["Dense_0"]["kernel"][0],
                              two.state.params["params"]["Dense_0"]["kernel"][1])


def test_discrete_observations_are_one_hot():
    config = _probe_config(env="Maze", total_steps=640, eval_every=640)
    setup = ppo.make(config)
    assert isinstance(setup.env.observation_space(setup.env_params), spaces.Discrete)
    state, curve = ppo.train(config, jax.random.key(0))
    assert state.params["params"]["Dense_0"]["kernel"].shape[0] == 11
    assert np.all(np.isfinite(curve.eval_return))


class TupleActions(ConstantReward):
    def action_space(self, params=None):
        return spaces.Tuple([spaces.Discrete(2), spaces.Discrete(2)])


@pytest.mark.parametrize("changes, message", [
    ({"num_minibatches": 3}, "num_minibatches (3) must divide num_envs * num_steps"),
    ({"num_envs": 0}, "num_envs must be >= 1"),
    ({"update_epochs": 0}, "update_epochs must be >= 1"),
    ({"clip_eps": 0.0}, "clip_eps must be > 0"),
    ({"gae_lambda": 1.5}, "gae_lambda must be in [0, 1]"),
    ({"gamma": -0.1}, "gamma (γ) must be in [0, 1]"),
    ({"activation": "sigmoid"}, "activation must be one of"),
])
def test_bad_config_is_one_clear_line(changes, message):
    with pytest.raises(ValueError) as error:
        _probe_config(**changes)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_unsupported_action_space_is_one_clear_line():
    with pytest.raises(ValueError, match="PPO needs a Discrete or Box action space") as error:
        ppo.make(_probe_config(), TupleActions())
    assert "\n" not in str(error.value)


def test_conv_features_on_an_image_and_not_elsewhere():
    """Convolutions before the actor's and the critic's MLPs on MinAtar's grid (each its
    own), a short run trains them; on a flat observation, one clear line."""
    config = ppo.PPOConfig(env="Breakout-MinAtar", conv_features=(8,), hidden_sizes=(16,),
                           num_envs=4, num_steps=8, num_minibatches=2, total_steps=64,
                           eval_every=64, eval_episodes=1)
    state, curve = ppo.train(config, jax.random.key(0))
    params = state.params["params"]
    assert params["Conv_0"]["kernel"].shape == params["Conv_1"]["kernel"].shape == (3, 3, 4, 8)
    assert params["Dense_0"]["kernel"].shape == (8 * 8 * 8, 16)
    assert np.all(np.isfinite(curve.eval_return))
    with pytest.raises(ValueError, match=r"PPO: conv_features \(8,\) need an image") as error:
        ppo.make(config.replace(env="CartPole-v1"))
    assert "\n" not in str(error.value)
