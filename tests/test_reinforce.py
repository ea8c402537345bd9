"""REINFORCE (jaxrl.deep.reinforce): the estimator is unbiased (bandits with known
gradients), the returns by hand, exact values on probes, short runs, the driver's
batch-vs-alone rule and clear errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import assert_trees_equal
from gymnax.environments import spaces

from jaxrl.deep import policies, reinforce, rollout
from jaxrl.envs.probes import PROBES, ActionReward
from jaxrl.envs.wrappers import Transition
from jaxrl.targets import policy_gradient_loss

GAMMA = 0.9
SAMPLES = 20_000


def _probe_config(**changes):
    """Small and fast: a tiny network, short rollouts."""
    config = reinforce.ReinforceConfig(
        env="probe", total_steps=8_192, num_envs=4, num_steps=8, hidden_sizes=(16,),
        eval_every=8_192, eval_episodes=2, learning_rate=1e-2, gamma=GAMMA,
    )
    return config.replace(**changes)


def _within_standard_errors(samples, exact, k=4.0):
    """The samples' mean is within ``k`` standard errors of ``exact`` (each component);
    returns the standard errors."""
    samples = np.asarray(samples, np.float64)
    mean = samples.mean(0)
    se = samples.std(0, ddof=1) / np.sqrt(len(samples))
    assert np.all(np.abs(mean - exact) <= k * se + 1e-9), (mean, exact, se)
    return se


# --- the estimator: E[∇θ log π(A) (r_A - b)] = ∇θ J(θ) --------------------------------

@pytest.mark.parametrize("baseline", ["none", "mean reward", "far off"])
def test_softmax_estimate_is_unbiased_on_a_bandit(baseline):
    """K arms, logits θ, J(θ) = Σ_a π_a r_a: ∂J/∂θ_b = π_b (r_b - J). A constant baseline
    leaves the mean as it is; b = J lowers the variance."""
    theta = jnp.array([0.3, -0.2, 0.5, 0.0])
    reward = jnp.array([11.0, 10.0, 12.0, 9.0])  # a common offset: b = 0 is noisy
    pi = jax.nn.softmax(theta)
    value = float(pi @ reward)
    exact = np.asarray(pi * (reward - value))
    b = {"none": 0.0, "mean reward": value, "far off": 20.0}[baseline]
    actions = jax.random.categorical(jax.random.key(0), theta, shape=(SAMPLES,))

    def estimate(theta, a):
        """-∇θ of the loss on a batch of actions ``a``."""
        def loss(t):
            logits = jnp.broadcast_to(t, (a.shape[0], 4))
            return policy_gradient_loss(policies.log_prob(True, logits, jnp.zeros(4), a),
                                        reward[a] - b)
        return -jax.grad(loss)(theta)

    per_sample = jax.vmap(lambda a: estimate(theta, a[None]))(actions)
    se = _within_standard_errors(per_sample, exact)
    # the batch loss's gradient is the mean of the per-sample ones
    np.testing.assert_allclose(estimate(theta, actions), per_sample.mean(0), atol=1e-5)
    if baseline == "mean reward":
        no_baseline = jax.vmap(lambda a: (jax.nn.one_hot(a, 4) - pi) * reward[a])(actions)
        assert se.sum() < 0.2 * np.asarray(no_baseline).std(0).sum() / np.sqrt(SAMPLES)


def test_gaussian_estimate_is_unbiased_on_a_quadratic():
    """a ~ N(μ, σ²), r(a) = -(a - c)²: J = -(μ - c)² - σ², ∂J/∂μ = -2(μ - c),
    ∂J/∂log σ = -2σ²."""
    mu, log_std, c = 0.5, jnp.log(0.8), 1.5
    params = jnp.array([mu, log_std])
    key_noise = jax.random.key(1)
    actions = mu + jnp.exp(log_std) * jax.random.normal(key_noise, (SAMPLES,))

    def estimate(p, a):
        def loss(p):
            log_pi = policies.log_prob(False, p[0][None, None], p[1][None], a[None, None])
            return policy_gradient_loss(log_pi, -jnp.square(a - c)[None])
        return -jax.grad(loss)(p)

    per_sample = jax.vmap(lambda a: estimate(params, a))(actions)
    sigma2 = float(jnp.exp(2 * log_std))
    _within_standard_errors(per_sample, np.array([-2 * (mu - c), -2 * sigma2]))


# --- the returns and the loss by hand ----------------------------------------------------

def _hand_rollout(setup, key=0):
    """One environment, five steps: terminated at t = 1, truncated at t = 3."""
    next_obs = jax.random.normal(jax.random.key(key), (5, 1, 1))
    tr = Transition(
        obs=jnp.zeros((5, 1, 1)), action=jnp.zeros((5, 1), jnp.int32),
        reward=jnp.arange(1.0, 6.0)[:, None], next_obs=next_obs,
        terminated=jnp.array([0, 1, 0, 0, 0], bool)[:, None],
        truncated=jnp.array([0, 0, 0, 1, 0], bool)[:, None])
    return rollout.Rollout(transitions=tr, extras=tr.action, totals={})


@pytest.mark.parametrize("baseline", [True, False])
def test_monte_carlo_returns_by_hand(baseline):
    config = _probe_config(gamma=0.5, baseline=baseline)
    setup = reinforce.make(config, PROBES["TimeLimit"][0]())
    state = reinforce.init(setup, config, jax.random.key(0))
    data = _hand_rollout(setup)
    g = np.asarray(reinforce.monte_carlo_returns(setup, config, state.params, data))[:, 0]
    v = np.asarray(reinforce.policy(setup, state.params, data.transitions.next_obs)[2])[:, 0]
    v = v if baseline else np.zeros(5)
    r = np.arange(1.0, 6.0)
    g4 = r[4] + 0.5 * v[4]  # the rollout's end: bootstrap
    g3 = r[3] + 0.5 * v[3]  # truncated: bootstrap from the true final observation
    g2 = r[2] + 0.5 * g3
    g1 = r[1]  # terminated: no bootstrap
    g0 = r[0] + 0.5 * g1
    np.testing.assert_allclose(g, [g0, g1, g2, g3, g4], rtol=1e-6)


def test_loss_is_the_slide_by_hand():
    config = _probe_config(baseline_coef=0.7, ent_coef=0.05)
    setup = reinforce.make(config, ActionReward())
    params = reinforce.init(setup, config, jax.random.key(0)).params
    obs = jnp.array([[0.0], [0.5], [-0.5]])
    action = jnp.array([1, 0, 1])
    returns = jnp.array([1.0, -1.0, 2.0])
    loss, (pg, bl, ent) = reinforce.loss_fn(setup, config, params, obs, action, returns)
    logits, _, b = reinforce.policy(setup, params, obs)
    log_pi = jax.nn.log_softmax(logits)[jnp.arange(3), action]
    pi = jax.nn.softmax(logits)
    np.testing.assert_allclose(pg, -np.mean(log_pi * (returns - b)), rtol=1e-6)
    np.testing.assert_allclose(bl, 0.5 * np.mean((b - returns) ** 2), rtol=1e-6)
    np.testing.assert_allclose(ent, -np.mean(np.sum(pi * np.log(pi), -1)), rtol=1e-6)
    np.testing.assert_allclose(loss, pg + 0.7 * bl - 0.05 * ent, rtol=1e-6)
    # no baseline: G itself, and no regression loss
    loss0, (pg0, bl0, _) = reinforce.loss_fn(setup, config.replace(baseline=False), params,
                                             obs, action, returns)
    np.testing.assert_allclose(pg0, -np.mean(log_pi * returns), rtol=1e-6)
    assert float(bl0) == 0.0
    # the policy's gradient does not flow into the baseline through the advantage
    grads = jax.grad(lambda p: reinforce.loss_fn(
        setup, config.replace(baseline_coef=0.0), p, obs, action, returns)[0])(params)
    critic = [g for path, g in jax.tree_util.tree_leaves_with_path(grads)
              if "Dense_2" in jax.tree_util.keystr(path) or "Dense_3" in
              jax.tree_util.keystr(path)]
    assert critic and all(float(jnp.abs(g).max()) == 0.0 for g in critic)


# --- probes: the exact answers ----------------------------------------------------------

def test_action_reward_greedy_picks_the_rewarded_action():
    config = _probe_config()
    setup = reinforce.make(config, ActionReward())
    state, curve = reinforce.train(config, jax.random.key(0), env=ActionReward())
    logits, _, _ = reinforce.policy(setup, state.params, jnp.zeros((1, 1)))
    assert int(reinforce.greedy_action(setup, config, state, jnp.zeros((1, 1)))[0]) == 1
    assert float(jax.nn.softmax(logits)[0, 1]) > 0.95
    assert np.asarray(curve.eval_return)[-1].mean() == 1.0


@pytest.mark.parametrize(("name", "num_steps"), [("ConstantReward", 8), ("TimeLimit", 16)])
def test_baseline_learns_the_exact_value(name, num_steps):
    """ConstantReward: b = 1. TimeLimit: b = 1 / (1 - γ) = 10, which the 10-step
    episodes reach only by bootstrapping from b at the truncation."""
    cls, exact = PROBES[name]
    steps = 1_024 * num_steps
    config = _probe_config(total_steps=steps, eval_every=steps, num_steps=num_steps)
    state, _ = reinforce.train(config, jax.random.key(0), env=cls())
    setup = reinforce.make(config, cls())
    b = float(reinforce.policy(setup, state.params, jnp.zeros((1, 1)))[2][0])
    value = exact(GAMMA)[0.0][0]
    assert b == pytest.approx(value, rel=0.01), b


# --- runs ---------------------------------------------------------------------------

def test_cartpole_short_run_learns():
    config = reinforce.ReinforceConfig(total_steps=60_000, eval_every=60_000,
                                       eval_episodes=8)  # 30 updates of the default's 150
    _, curve = reinforce.train(config, jax.random.key(0))
    before, after = np.asarray(curve.eval_return).mean(-1)
    assert before < 60, before  # an untrained policy: about random (≈ 22)
    assert after > 150, after


def test_gaussian_actions_sampled_unclipped_stepped_clipped():
    config = reinforce.pendulum_config(num_envs=4, num_steps=32, total_steps=256,
                                       eval_every=128, eval_episodes=2, log_std_init=1.0)
    setup = reinforce.make(config)
    state = reinforce.init(setup, config, jax.random.key(0))
    _, data = reinforce.collect_rollout(setup, config, state, jax.random.key(1))
    sampled, stepped = np.asarray(data.extras), np.asarray(data.transitions.action)
    assert sampled.shape == stepped.shape == (32, 4, 1)
    assert np.abs(sampled).max() > 2.0  # σ = e: many samples leave [-2, 2]
    np.testing.assert_array_equal(stepped, np.clip(sampled, -2.0, 2.0))
    np.testing.assert_array_equal(reinforce.env_action(setup, jnp.array([[5.0], [-0.5]])),
                                  [[2.0], [-0.5]])
    state, curve = reinforce.train(config, jax.random.key(0))
    assert np.all(np.isfinite(np.asarray(curve.eval_return)))
    assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(state.params))
    assert curve.eval_return.shape == (3, 2)


def test_batch_of_seeds_equals_each_seed_alone():
    config = reinforce.ReinforceConfig(total_steps=768, num_envs=4, num_steps=64,
                                       eval_every=256, eval_episodes=2, hidden_sizes=(16,),
                                       learning_rate_end=1e-4)
    keys = jax.random.split(jax.random.key(42), 3)
    three = reinforce.run(config, keys)
    two = reinforce.run(config, keys[1:])
    assert_trees_equal(jax.tree.map(lambda x: x[1], (three.state, three.curve)),
           jax.tree.map(lambda x: x[0], (two.state, two.curve)))
    assert reinforce.make(config).num_updates == 3


class _TupleActions(ActionReward):
    def action_space(self, params=None):
        return spaces.Tuple([spaces.Discrete(2), spaces.Discrete(2)])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"num_envs": 0}, "num_envs must be >= 1"),
        ({"num_steps": 0}, "num_steps must be >= 1"),
        ({"total_steps": -5}, "total_steps must be >= 1"),
        ({"eval_episodes": 0}, "eval_episodes must be >= 1"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"learning_rate_end": -1e-3}, "learning_rate_end must be > 0"),
        ({"gamma": 1.5}, r"gamma \(γ\) must be in \[0, 1\]"),
        ({"baseline_coef": -1.0}, "baseline_coef must be >= 0"),
        ({"ent_coef": -0.1}, "ent_coef must be >= 0"),
        ({"max_grad_norm": 0.0}, "max_grad_norm must be > 0"),
        ({"activation": "sigmoid"}, "activation must be one of"),
        ({"conv_features": (0,)}, "conv_features must be positive integers"),
    ],
)
def test_bad_values_raise_one_clear_line(changes, message):
    with pytest.raises(ValueError, match=message) as error:
        reinforce.ReinforceConfig(**changes)
    assert "\n" not in str(error.value)


def test_unsupported_action_space_raises_one_clear_line():
    with pytest.raises(ValueError, match="REINFORCE needs a Discrete or Box action space"
                       ) as error:
        reinforce.train(_probe_config(), jax.random.key(0), env=_TupleActions())
    assert "\n" not in str(error.value)


def test_conv_features_need_an_image_and_run_on_one():
    config = reinforce.ReinforceConfig(env="Breakout-MinAtar", conv_features=(4,),
                                       hidden_sizes=(8,), num_envs=2, num_steps=16,
                                       total_steps=64, eval_every=64, eval_episodes=1)
    state, curve = reinforce.train(config, jax.random.key(0))
    assert state.params["params"]["Conv_0"]["kernel"].shape == (3, 3, 4, 4)
    assert np.all(np.isfinite(curve.eval_return))
    with pytest.raises(ValueError, match=r"REINFORCE: conv_features \(4,\) need an image"):
        reinforce.make(config.replace(env="CartPole-v1"))
