"""SAC (jaxrl.deep.sac): the squashed Gaussian's density, the soft value and the
temperature's loss by hand, exact values on probe environments (discrete and continuous),
the learned temperature at its target entropy, batch against alone, and bad input."""

from __future__ import annotations

import math

import distrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import assert_trees_equal

from jaxrl import driver
from jaxrl.deep import policies, sac
from jaxrl.envs.probes import PROBES, BoxActionReward
from jaxrl.sweep import sweep
from jaxrl.targets import soft_q_target, soft_value, temperature_loss

GAMMA = 0.9
SMALL = dict(total_steps=240, learning_starts=60, batch_size=16, buffer_size=200,
             hidden_sizes=(16, 16), eval_every=120, eval_episodes=2)


def _probe_config(**changes):
    """Small and fast, for the one-step and two-step probes."""
    config = sac.SACConfig(env="probe", total_steps=3_000, num_envs=4, buffer_size=1_000,
                           batch_size=64, learning_starts=100, hidden_sizes=(32, 32),
                           eval_every=3_000, eval_episodes=2, learning_rate=3e-3,
                           gamma=GAMMA, tau=0.05)
    return config.replace(**changes)


# -- the distributions and the equations ------------------------------------------------


MEAN = jnp.array([[0.3, -1.2], [0.0, 2.0]])
LOG_STD = jnp.array([[-0.5, 0.2], [0.4, -1.0]])


def test_squashed_log_prob_equals_distrax_transformed_distribution():
    """jaxrl's change of variables against distrax's ``Transformed(Normal, Tanh)``."""
    reference = distrax.Transformed(
        distrax.MultivariateNormalDiag(MEAN, jnp.exp(LOG_STD)), distrax.Block(distrax.Tanh(), 1))
    action, log_prob = policies.squashed_sample(jax.random.normal(jax.random.key(0), MEAN.shape),
                                                MEAN, LOG_STD)
    assert bool(jnp.all(jnp.abs(action) < 1))
    np.testing.assert_allclose(log_prob, reference.log_prob(action), rtol=1e-5, atol=1e-5)
    grid = jnp.array([[-0.9, 0.5], [0.1, 0.99]])
    np.testing.assert_allclose(policies.squashed_log_prob(MEAN, LOG_STD, grid),
                               reference.log_prob(grid), rtol=1e-5, atol=1e-5)


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def test_squashed_density_integrates_to_the_gaussian_mass_and_stays_finite():
    """∫ π(a) da over [a_0, a_1] (numerically) equals P(atanh a_0 < u < atanh a_1) of the
    Gaussian (exactly): the change of variables is right."""
    a = np.linspace(-0.9999, 0.9999, 400_001)
    for mean, log_std in ((0.3, -0.5), (-1.0, 0.3), (0.0, -2.0)):
        density = np.exp(np.asarray(policies.squashed_log_prob(
            jnp.full((a.size, 1), mean), jnp.full((a.size, 1), log_std),
            jnp.asarray(a, jnp.float32)[:, None]), np.float64))
        z = (np.arctanh(a[[0, -1]]) - mean) / math.exp(log_std)
        mass = _normal_cdf(z[1]) - _normal_cdf(z[0])
        assert abs(np.trapezoid(density, a) - mass) < 1e-5, (mean, log_std)
    # a sample that rounds to ±1 in float32 keeps a finite log-density (computed from u)
    _, log_prob = policies.squashed_sample(jnp.array([[0.5]]), jnp.array([[12.0]]),
                                           jnp.array([[-3.0]]))
    assert bool(jnp.isfinite(log_prob).all())


def test_draws_from_random_words_have_their_distributions():
    """SAC draws a step's random numbers as 32-bit words: ``open_uniform`` keeps them in
    (0, 1) (both extreme words), their inverse CDF is N(0, 1) (mean, variance, tails),
    and discrete SAC's Gumbel-max sample follows the softmax (chi-square, the hybrid
    pendulum's 9 torques at probabilities from 0.03 to 0.19)."""
    extremes = policies.open_uniform(jnp.array([0, 2**32 - 1], jnp.uint32))
    np.testing.assert_array_equal(extremes, [2.0**-24, 1 - 2.0**-24])
    u = policies.open_uniform(jax.random.bits(jax.random.key(0), (400_000,)))
    assert float(u.min()) > 0 and float(u.max()) < 1
    z = np.asarray(jax.scipy.special.ndtri(u), np.float64)
    assert abs(z.mean()) < 0.01 and abs(z.var() - 1) < 0.01
    assert np.mean(z < -1.959964) == pytest.approx(0.025, abs=0.002)
    config = sac.SACConfig(**SMALL, env="HybridPendulum")
    setup = sac.make(config)
    state = sac.init(setup, config, jax.random.key(0))
    draws = 40_000
    obs = jnp.broadcast_to(jnp.array([0.4, -1.5]), (draws, 2))
    uniform = policies.open_uniform(jax.random.bits(jax.random.key(1), (draws, 9)))
    action, _, probs = sac.action_distribution(setup, config, state.actor_params, obs,
                                               uniform)
    counts = np.bincount(np.asarray(action), minlength=9)
    expected = draws * np.asarray(probs[0], np.float64)
    assert expected.min() > 1000  # every torque drawn often enough for the test
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 26.12, (counts, expected)  # 8 degrees of freedom: P(chi2 > 26.12) = 0.001


def test_discrete_soft_value_is_alpha_log_sum_exp_for_the_soft_greedy_policy():
    q = jnp.array([[[1.0, -0.5, 2.0], [0.3, 0.3, -4.0]]])  # one critic, 2 states, 3 actions
    for alpha in (0.1, 1.0, 5.0):
        log_probs = jax.nn.log_softmax(q[0] / alpha)
        value = soft_value(q, log_probs, alpha, jnp.exp(log_probs))
        np.testing.assert_allclose(value, alpha * jax.nn.logsumexp(q[0] / alpha, -1),
                                   rtol=1e-5)
    # two critics: the minimum of the two, action by action
    q2 = jnp.stack([q[0], q[0] + jnp.array([[0.5, -1.0, 0.0]])])
    probs = jnp.full((2, 3), 1 / 3)
    want = jnp.sum(probs * (jnp.minimum(q2[0], q2[1]) - 0.2 * jnp.log(probs)), -1)
    np.testing.assert_allclose(soft_value(q2, jnp.log(probs), 0.2, probs), want, rtol=1e-6)


def test_soft_q_target_bootstraps_on_truncation_not_past_termination():
    reward, value = jnp.array([1.0, 2.0]), jnp.array([10.0, 10.0])
    y = soft_q_target(reward, jnp.array([False, True]), value, 0.9)
    np.testing.assert_allclose(y, [1.0 + 9.0, 2.0])


def test_temperature_gradient_sign_and_value_by_hand():
    """``dJ/dα = H(π) - H̄``: an entropy below the target raises α, above it lowers α."""
    log_prob = jnp.array([-0.2, 0.4])  # H = -mean log π = -0.1
    grad = jax.grad(lambda a: temperature_loss(a, log_prob, 0.5))(1.3)
    assert float(grad) == pytest.approx(-0.1 - 0.5)  # H < H̄: gradient < 0, α rises
    grad = jax.grad(lambda a: temperature_loss(a, log_prob, -1.0))(1.3)
    assert float(grad) == pytest.approx(-0.1 + 1.0)  # H > H̄: α falls
    probs = jnp.array([[0.25, 0.75]])  # discrete: the exact entropy
    entropy = -float(jnp.sum(probs * jnp.log(probs)))
    grad = jax.grad(lambda a: temperature_loss(a, jnp.log(probs), 0.6, probs))(0.7)
    assert float(grad) == pytest.approx(entropy - 0.6, rel=1e-6)


def test_critic_target_by_hand():
    config = sac.SACConfig(**SMALL)
    setup = sac.make(config)
    state = sac.init(setup, config, jax.random.key(0))
    state = state.replace(log_alpha=jnp.log(0.3),
                          critic_target=jax.tree.map(lambda p: p * 1.1, state.critic_params))
    obs = jnp.array([[0.6, 0.8, -1.0], [1.0, 0.0, 2.0]])
    batch = state.memory.data.replace(obs=obs, next_obs=obs[::-1], action=jnp.zeros((2, 1)),
                                      reward=jnp.array([-1.0, -2.0]),
                                      terminated=jnp.array([False, True]),
                                      truncated=jnp.array([True, False]))
    uniform = jnp.array([[0.3], [0.9]])
    y = sac.critic_target(setup, config, state, batch, uniform)
    head, log_std = setup.actor.apply(state.actor_params, batch.next_obs)
    eps = jnp.array([[-0.5244005], [1.2815512]])  # Φ⁻¹(0.3), Φ⁻¹(0.9)
    u = head + jnp.exp(jnp.clip(log_std, -20, 2)) * eps
    a = 2.0 * jnp.tanh(u)  # Pendulum-v1: ±2
    log_prob = (-0.5 * ((u - head) / jnp.exp(log_std)) ** 2 - log_std
                - 0.5 * math.log(2 * math.pi) - jnp.log(1 - jnp.tanh(u) ** 2))[:, 0]
    q = jnp.stack([setup.critic.apply(jax.tree.map(lambda p, k=k: p[k], state.critic_target),
                                      batch.next_obs, a) for k in range(2)])
    want = batch.reward + config.gamma * jnp.where(
        batch.terminated, 0.0, q.min(0) - 0.3 * log_prob)
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)


# -- probes ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["TwoStep", "ActionReward", "TimeLimit"])
def test_discrete_probe_learns_exact_soft_q_values(name):
    """One action: log π = 0 and the soft values are the plain ones; ActionReward's
    one step terminates: Q = r whatever α."""
    cls, exact = PROBES[name]
    env = cls()
    # TimeLimit: Q = 1/(1-γ) = 10 through truncations; an observation of 0 leaves only
    # the biases, which Adam moves by about the step size per update: larger steps.
    # ActionReward: the worse action's Q nears -1 from 0 more slowly (3 000 steps left it
    # 0.04 off for some keys of 0-5; 5 000 put all six within 0.001).
    config = {"TimeLimit": _probe_config(total_steps=12_000, eval_every=12_000,
                                         learning_rate=1e-2, tau=0.2),
              "ActionReward": _probe_config(total_steps=5_000, eval_every=5_000)
              }.get(name, _probe_config())
    state, curve = sac.train(config, jax.random.key(0), env=env)
    setup = sac.make(config, env)
    for obs, values in exact(GAMMA).items():
        q = sac.q_values(setup, state.critic_params, jnp.array([[obs]]))[:, 0]
        np.testing.assert_allclose(np.asarray(q), np.broadcast_to(values, q.shape),
                                   rtol=0.02, atol=0.02, err_msg=f"obs {obs}")
    assert curve.eval_return.shape == (2, 2)


def _entropy_of_softmax(alpha: float) -> float:
    p = jax.nn.softmax(jnp.array([-1.0, 1.0]) / alpha)
    return float(-jnp.sum(p * jnp.log(p)))


def test_discrete_bandit_policy_is_soft_greedy_and_alpha_reaches_target_entropy():
    """ActionReward, Q(0, ·) = [-1, 1]: with α fixed the policy is softmax(Q/α); with α
    learned its entropy reaches H̄ and α the value α* where softmax(Q/α*) has entropy H̄."""
    env = PROBES["ActionReward"][0]()
    config = _probe_config(learn_alpha=False, alpha=0.8)
    state, _ = sac.train(config, jax.random.key(0), env=env)
    setup = sac.make(config, env)
    assert float(sac.alpha_of(state)) == pytest.approx(0.8)  # fixed: it stays put
    head, _ = sac.policy_head(setup, config, state.actor_params, jnp.zeros((1, 1)))
    np.testing.assert_allclose(jax.nn.softmax(head[0]),
                               jax.nn.softmax(jnp.array([-1.0, 1.0]) / 0.8), atol=0.02)
    goal = 0.4  # below log 2
    config = _probe_config(total_steps=6_000, eval_every=6_000, target_entropy=goal)
    state, _ = sac.train(config, jax.random.key(1), env=env)
    head, _ = sac.policy_head(setup, config, state.actor_params, jnp.zeros((1, 1)))
    p = jax.nn.softmax(head[0])
    assert float(-jnp.sum(p * jnp.log(p))) == pytest.approx(goal, abs=0.03)
    lo, hi = 0.01, 10.0  # α* by bisection: the entropy rises with α
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _entropy_of_softmax(mid) < goal else (lo, mid)
    assert float(sac.alpha_of(state)) == pytest.approx(lo, rel=0.1)


def test_continuous_probe_learns_q_best_action_and_target_entropy():
    """BoxActionReward: Q(0, a) = -(a - 0.5)²; the greedy action near 0.5; the policy's
    entropy (sampled) at the default target, -dim(A) = -1."""
    env = BoxActionReward()
    # entropy -1 asks for σ ≈ 0.1 around 0.5, α ≈ 0.016: start α nearer and step faster
    config = _probe_config(total_steps=6_000, eval_every=6_000, alpha=0.1, learning_rate=1e-2)
    state, curve = sac.train(config, jax.random.key(0), env=env)
    setup = sac.make(config, env)
    obs = jnp.zeros((1, 1))
    best = float(sac.greedy_action(setup, config, state, obs)[0, 0])
    assert best == pytest.approx(0.5, abs=0.05)
    actions = jnp.array([[0.2], [0.5], [0.7]])
    q = sac.q_values(setup, state.critic_params, jnp.zeros((3, 1)), actions)
    np.testing.assert_allclose(q, jnp.broadcast_to(-(actions[:, 0] - 0.5) ** 2, q.shape),
                               atol=0.03)
    _, log_prob, _ = sac.action_distribution(setup, config, state.actor_params,
                                             jnp.zeros((4096, 1)),
                                             policies.open_uniform(
                                                 jax.random.bits(jax.random.key(3), (4096, 1))))
    assert float(-log_prob.mean()) == pytest.approx(-1.0, abs=0.15)
    assert float(curve.eval_return[-1].mean()) > -0.01


# -- the driver, sweeps, the environments ------------------------------------------------


def test_batch_of_seeds_equals_each_seed_alone():
    """In batches of the same size a seed is bit-identical whatever the other seeds and
    its place. Between batch sizes, and against the seed alone (no batch axis), equal up
    to float rounding: XLA's CPU compiler may emit the actor's elementwise ``exp`` and
    ``log`` differently for another array length (``jax.jit(jnp.exp)`` over 3 float32
    values differs in the last bit from over 2 or 4 for some inputs), so a seed in a
    batch of 3 and in one of 2 part after some 190 steps of this config; and XLA
    simplifies Adam's scalar arithmetic differently without a batch axis, as for DQN.
    Measured: up to 6e-8 between batches of 3 and 2 and 7e-4 against the seed alone,
    where another seed's parameters differ by 2."""
    config = sac.SACConfig(**SMALL)
    keys = jax.random.split(jax.random.key(42), 5)
    three = sac.run(config, keys[:3])
    others = sac.run(config, keys[jnp.array([3, 4, 1])])
    assert_trees_equal(jax.tree.map(lambda x: x[1], (three.state, three.curve)),
                       jax.tree.map(lambda x: x[2], (others.state, others.curve)))
    two = sac.run(config, keys[1:3])
    alone, _ = driver.train(sac.ALGORITHM, config, keys[1])
    for other in (jax.tree.map(lambda x: x[0], two.state), alone):
        jax.tree.map(lambda b, a: np.testing.assert_allclose(b[1], a, rtol=1e-2, atol=2e-3),
                     (three.state.actor_params, three.state.critic_params,
                      three.state.log_alpha),
                     (other.actor_params, other.critic_params, other.log_alpha))


def test_sweep_over_tau_and_alpha_is_one_call():
    config = sac.SACConfig(**SMALL)
    configs = sweep(config, tau=[0.01, 1.0], alpha=[0.1, 2.0])
    keys = jnp.stack([jax.random.key(0)] * 2)
    result = sac.run(config=configs, keys=keys, stacked_config=True)
    assert not np.array_equal(np.asarray(result.state.log_alpha[0]),
                              np.asarray(result.state.log_alpha[1]))
    with pytest.raises(ValueError, match="alpha"):
        sac.run(sweep(config, alpha=[0.5, 0.0]), keys, stacked_config=True)


def test_colored_acting_noise_has_unit_variance_and_the_asked_correlation():
    config = sac.SACConfig(**{**SMALL, "buffer_size": 1024}, num_envs=512,
                           noise_correlation=0.9)
    setup = sac.make(config)
    state = sac.init(setup, config, jax.random.key(0))
    state = state.replace(step=jnp.asarray(10**6, jnp.int32))  # past the random warm-up

    def act(state, key):
        _, noise, _ = sac.select_action(setup, config, state, sac.draw_words(setup, config, key)[0])
        return state.replace(noise=noise), noise[:, 0]

    _, eps = jax.lax.scan(act, state, jax.random.split(jax.random.key(1), 200))
    eps = np.asarray(eps)  # [time, envs]
    assert np.var(eps) == pytest.approx(1.0, abs=0.03)
    lag1 = np.mean(eps[1:] * eps[:-1]) / np.var(eps)
    assert lag1 == pytest.approx(0.9, abs=0.02)
    white = config.replace(noise_correlation=0.0)  # the paper's: independent draws
    _, eps = jax.lax.scan(
        lambda s, k: (s, sac.select_action(setup, white, s,
                                           sac.draw_words(setup, white, k)[0])[1][:, 0]),
        state, jax.random.split(jax.random.key(1), 200))
    assert abs(float(np.mean(np.asarray(eps)[1:] * np.asarray(eps)[:-1]))) < 0.02


def test_course_pendulums_report_the_swing_up_for_every_learner():
    """The course's pendulums: the default evaluation adds ``swing_up`` (held from
    hanging at rest), one per evaluation and seed, beside the returns; discrete SAC on
    the hybrid pendulum's 9 torques, DDPG on the continuous one."""
    from jaxrl.deep import ddpg
    config = sac.SACConfig(**SMALL, env="HybridPendulum")
    state, curve = sac.train(config, jax.random.key(0))
    assert curve.evaluation["swing_up"].shape == (3,)
    assert curve.evaluation["return"].shape == (3, 2)
    assert np.all(np.isfinite(np.asarray(curve.eval_return)))
    assert bool(jnp.isfinite(state.log_alpha))
    _, curve = ddpg.train(ddpg.DDPGConfig(**SMALL, env="Pendulum"), jax.random.key(0))
    assert curve.evaluation["swing_up"].dtype == bool


def test_bad_input_gives_clear_errors():
    key = jax.random.key(0)
    for tau in (0.0, 1.5):
        with pytest.raises(ValueError, match=r"tau must be in \(0, 1\]"):
            sac.SACConfig(**SMALL, tau=tau)
    for alpha in (0.0, -1.0):
        with pytest.raises(ValueError, match=r"alpha must be > 0 \(the temperature\)"):
            sac.SACConfig(**SMALL, alpha=alpha)
    with pytest.raises(ValueError, match=r"target_entropy must be below dim\(A\) log 2"):
        sac.train(sac.SACConfig(**SMALL, target_entropy=0.7), key)
    for bad in (0.7, -0.1):
        with pytest.raises(ValueError, match=r"target_entropy must be \[0, log \|A\|\)"):
            sac.train(sac.SACConfig(**SMALL, env="CartPole-v1", target_entropy=bad), key)
    with pytest.raises(ValueError, match="log_std_min: the squashed Gaussian's, for a Box"):
        sac.train(sac.SACConfig(**SMALL, env="CartPole-v1", log_std_min=-5.0), key)
    with pytest.raises(ValueError, match="noise_correlation: the squashed Gaussian's"):
        sac.train(sac.SACConfig(**SMALL, env="CartPole-v1", noise_correlation=0.5), key)
    with pytest.raises(ValueError, match=r"noise_correlation must be in \[0, 1\)"):
        sac.SACConfig(**SMALL, noise_correlation=1.0)
    with pytest.raises(ValueError, match="log_std_min .* must be below log_std_max"):
        sac.SACConfig(**SMALL, log_std_min=2.0)
    with pytest.raises(ValueError, match="batch_size"):
        sac.SACConfig(**{**SMALL, "batch_size": 500})


def test_learns_pendulum():
    """A short fixed-seed run: far better than the untrained policy (about -1200)."""
    config = sac.SACConfig(total_steps=5_000, eval_every=5_000, learning_starts=500,
                           buffer_size=5_000)
    _, curve = sac.train(config, jax.random.key(0))
    before, after = np.asarray(curve.eval_return).mean(-1)
    assert before < -900, before
    assert after > -500, after
    assert "swing_up" not in curve.evaluation  # the course's pendulums only
