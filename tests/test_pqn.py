"""PQN: Q(λ) targets by hand, exact Q-values on probe environments, a short CartPole
run, batch-vs-alone, the LayerNorm ablation, and clear errors on bad input."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrl.deep import pqn
from jaxrl.envs.probes import PROBES
from jaxrl.envs.wrappers import Transition

GAMMA = 0.9


def _small(**changes):
    """Small and fast: 4 envs × 8 steps, 16 gradient steps each (RAdam warms up over a few
    hundred), a (16,) network, a uniform behaviour policy."""
    config = pqn.PQNConfig(
        env="probe", total_steps=2_048, num_envs=4, num_steps=8, num_minibatches=4,
        update_epochs=4, hidden_sizes=(16,), exploration_steps=1, eval_every=2_048,
        eval_episodes=2, learning_rate=1e-2, learning_rate_end=None, gamma=GAMMA,
        q_lambda=0.65, reward_scale=1.0, epsilon_start=1.0, epsilon_end=1.0,
    )
    return config.replace(**changes)


def _linear_setup(lam, reward_scale=1.0):
    """``Q(obs) = obs · [1, 2]`` (no hidden layer, no bias): ``max_a Q(obs, a) = 2 obs``
    for ``obs > 0``, on ActionReward's ``(1,)`` observations and two actions."""
    config = _small(hidden_sizes=(), layer_norm=False, q_lambda=lam, reward_scale=reward_scale)
    setup = pqn.make(config, PROBES["ActionReward"][0]())
    state = pqn.init(setup, config, jax.random.key(0))
    params = jax.tree.map(jnp.zeros_like, state.params)
    params["params"]["Dense_0"]["kernel"] = jnp.array([[1.0, 2.0]])
    return setup, config, params


# A rollout of T = 5 steps in one environment: a termination at t = 1, a truncation at
# t = 2, and the rollout's end at t = 4; v_t = max_a Q(S_{t+1}, a) = 2 next_obs_t.
REWARD = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
NEXT_OBS = np.array([0.5, 0.25, 0.75, 0.125, 1.0])
TERMINATED = np.array([False, True, False, False, False])
TRUNCATED = np.array([False, False, True, False, False])


def _rollout():
    col = lambda x: jnp.asarray(x)[:, None]  # noqa: E731  [T] -> [T, N = 1]
    return Transition(obs=col(np.zeros((5, 1), np.float32)), action=col(np.zeros(5, np.int32)),
                      reward=col(REWARD), next_obs=col(NEXT_OBS[:, None]),
                      terminated=col(TERMINATED), truncated=col(TRUNCATED))


def _by_hand(lam, g=GAMMA, reward_scale=1.0):
    v = 2.0 * NEXT_OBS
    r = reward_scale * REWARD
    g4 = r[4] + g * v[4]  # the rollout's end: bootstrap from v, like a cut
    g3 = r[3] + g * ((1 - lam) * v[3] + lam * g4)
    g2 = r[2] + g * v[2]  # truncated: bootstrap from the true final observation
    g1 = r[1]  # terminated: no bootstrap
    g0 = r[0] + g * ((1 - lam) * v[0] + lam * g1)
    return np.array([g0, g1, g2, g3, g4])


@pytest.mark.parametrize("lam", [0.65, 0.0, 1.0])
def test_q_lambda_targets_by_hand(lam):
    setup, config, params = _linear_setup(lam)
    targets = pqn.q_lambda_targets(setup, config, params, _rollout(), None, None)
    assert targets.shape == (5, 1)
    np.testing.assert_allclose(np.asarray(targets)[:, 0], _by_hand(lam), rtol=1e-6)


def test_reward_scale_scales_the_rewards_not_the_bootstrap():
    setup, config, params = _linear_setup(0.65, reward_scale=0.5)
    targets = pqn.q_lambda_targets(setup, config, params, _rollout(), None, None)
    np.testing.assert_allclose(np.asarray(targets)[:, 0], _by_hand(0.65, reward_scale=0.5),
                               rtol=1e-6)


# The observations the rollout acted on: S_{t+1} = NEXT_OBS[t] except after an episode's
# end (t = 1, 2), where the next one is a reset observation; then the one after it.
OBS = np.array([0.3, 0.5, 0.9, 0.6, 0.125])
OBS_AFTER = NEXT_OBS[-1:]


@pytest.mark.parametrize("lam", [0.65, 0.0, 1.0])
def test_truncation_as_termination_takes_the_acting_pass_values(lam):
    """bootstrap_truncation=False (purejaxql's, rejax's): the truncation at t = 2 ends
    the return like a termination; the other values are max_a Q(S_{t+1}) of the acting
    pass, and of the observations after the rollout at its end."""
    setup, config, params = _linear_setup(lam)
    config = config.replace(bootstrap_truncation=False)
    q_max = jnp.max(pqn.q_values(setup, params, jnp.asarray(OBS[:, None, None],
                                                            jnp.float32)), axis=-1)
    targets = pqn.q_lambda_targets(setup, config, params, _rollout(), q_max,
                                   jnp.asarray(OBS_AFTER[None], jnp.float32))
    want = _by_hand(lam)
    want[2] = REWARD[2]  # no bootstrap from the truncated episode's final observation
    np.testing.assert_allclose(np.asarray(targets)[:, 0], want, rtol=1e-6)


def test_lambda_zero_is_the_one_step_q_learning_target_and_one_the_return():
    v = 2.0 * NEXT_OBS
    one_step = REWARD + GAMMA * np.where(TERMINATED, 0.0, v)
    np.testing.assert_allclose(_by_hand(0.0), one_step, rtol=1e-12)
    mc = _by_hand(1.0)  # Monte-Carlo within the episode, bootstrapped at the cuts
    assert mc[0] == pytest.approx(REWARD[0] + GAMMA * REWARD[1])
    assert mc[3] == pytest.approx(REWARD[3] + GAMMA * (REWARD[4] + GAMMA * v[4]))


@pytest.mark.parametrize(("name", "optimizer", "bootstrap"), [
    ("ConstantReward", "radam", True), ("TwoStep", "radam", True),
    ("TimeLimit", "radam", True), ("TwoStep", "adam", True), ("TwoStep", "radam", False)])
def test_probe_learns_exact_q_values(name, optimizer, bootstrap):
    cls, exact = PROBES[name]
    env = cls()
    # TimeLimit: the value 1/(1-γ) = 10 propagates through truncations; more steps.
    steps = 8_192 if name == "TimeLimit" else 2_048
    config = _small(total_steps=steps, eval_every=steps, optimizer=optimizer,
                    bootstrap_truncation=bootstrap)
    state, curve = pqn.train(config, jax.random.key(0), env=env)
    setup = pqn.make(config, env)
    for obs, values in exact(GAMMA).items():
        q = pqn.q_values(setup, state.params, jnp.array([[obs]]))[0]
        np.testing.assert_allclose(np.asarray(q), values, rtol=0.02, atol=0.02,
                                   err_msg=f"obs {obs}")
    assert curve.eval_return.shape == (2, 2)
    assert "LayerNorm_0" in state.params["params"]


def test_cartpole_short_run_learns():
    config = pqn.PQNConfig(total_steps=40_960, num_envs=16, num_steps=32,
                           num_minibatches=4, update_epochs=2, hidden_sizes=(64, 64),
                           exploration_steps=10_000, eval_every=20_480, eval_episodes=8,
                           learning_rate=1e-3)
    _, curve = pqn.train(config, jax.random.key(0))
    returns = np.asarray(curve.eval_return).mean(-1)
    assert returns[0] < 60  # an untrained network: about random
    assert returns[-1] > 100, returns  # over 4x random after 41k steps


def test_a_seed_in_a_batch_of_two_equals_it_in_a_batch_of_three():
    config = _small(env="CartPole-v1", total_steps=256, eval_every=256,
                    epsilon_end=0.1, exploration_steps=128)
    keys = jax.random.split(jax.random.key(3), 3)
    two = pqn.run(config, keys[:2])
    three = pqn.run(config, keys)
    chex.assert_trees_all_equal(two.state.params, jax.tree.map(lambda x: x[:2],
                                                               three.state.params))
    chex.assert_trees_all_equal(two.curve, jax.tree.map(lambda x: x[:2], three.curve))


def test_layer_norm_off_runs_without_layer_norm():
    cls, exact = PROBES["ConstantReward"]
    config = _small(layer_norm=False)
    state, curve = pqn.train(config, jax.random.key(0), env=cls())
    assert not any(name.startswith("LayerNorm") for name in state.params["params"])
    q = pqn.q_values(pqn.make(config, cls()), state.params, jnp.array([[0.0]]))[0]
    np.testing.assert_allclose(np.asarray(q), exact(GAMMA)[0.0], atol=0.05)
    assert np.isfinite(np.asarray(curve.train["loss"])).all()


def test_conv_features_see_the_image_whatever_the_leading_axes():
    """MinAtar's 10 x 10 x 4 grid: one unpadded 3 x 3 layer of 16 channels (8 x 8 x 16 =
    1024 inputs to the MLP), the same Q for one observation, a batch and [T, N]; and a
    short run on Breakout-MinAtar trains it."""
    config = pqn.PQNConfig(env="Breakout-MinAtar", conv_features=(16,), hidden_sizes=(32,),
                           num_envs=4, num_steps=8, num_minibatches=2, total_steps=64,
                           eval_every=64, eval_episodes=1)
    setup = pqn.make(config)
    state, curve = pqn.train(config, jax.random.key(0))
    shapes = jax.tree.map(jnp.shape, state.params["params"])
    assert shapes["Conv_0"]["kernel"] == (3, 3, 4, 16)
    assert shapes["Dense_0"]["kernel"] == (1024, 32)
    obs = jax.random.bernoulli(jax.random.key(1), 0.2, (2, 3, 10, 10, 4))
    q = pqn.q_values(setup, state.params, obs)
    assert q.shape == (2, 3, 3)
    np.testing.assert_allclose(pqn.q_values(setup, state.params, obs[1, 2]), q[1, 2],
                               rtol=1e-5, atol=1e-6)
    assert np.isfinite(np.asarray(curve.train["loss"])).all()


def test_step_size_decay_spans_the_runs_gradient_steps():
    config = _small(total_steps=2_048, num_envs=4, num_steps=8, num_minibatches=2,
                    update_epochs=3)
    # 2048 / 32 = 64 calls, each 3 epochs × 2 minibatches
    assert pqn.make(config, PROBES["ConstantReward"][0]()).num_updates == 64 * 6


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"env": "Pendulum-v1"}, r"PQN needs a Discrete action space.*DDPG.*PPO"),
        ({"num_minibatches": 3}, r"num_minibatches \(3\) must divide num_envs \* num_steps"),
        ({"num_steps": 0}, "num_steps must be >= 1"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"q_lambda": 1.5}, r"q_lambda must be in \[0, 1\]"),
        ({"reward_scale": 0.0}, "reward_scale must be > 0"),
        ({"gamma": 1.5}, r"gamma \(γ\) must be in \[0, 1\]"),
        ({"loss": "l1"}, "loss must be one of"),
        ({"optimizer": "sgd"}, r"optimizer must be one of \('radam', 'adam'\)"),
        ({"conv_features": (16,)}, r"conv_features \(16,\) need an image observation"),
        ({"conv_features": (0,)}, r"conv_features must be positive integers, got \(0,\)"),
        ({"hidden_sizes": (64, -1)}, r"hidden_sizes must be positive integers"),
    ],
)
def test_bad_input_raises_clear_error(changes, message):
    with pytest.raises(ValueError, match=message) as err:
        pqn.train(_small(env="CartPole-v1").replace(**changes), jax.random.key(0))
    assert "\n" not in str(err.value)
