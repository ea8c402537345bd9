"""DDPG and TD3 (jaxrl.deep.ddpg): the slide's equations, TD3's switches, the driver."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import assert_trees_equal

from jaxrl import driver
from jaxrl.deep import ddpg, exploration, replay
from jaxrl.envs.registry import make
from jaxrl.envs.wrappers import AutoReset, Transition
from jaxrl.sweep import sweep

SMALL = dict(total_steps=240, learning_starts=60, batch_size=16, buffer_size=200,
             hidden_sizes=(16, 16), eval_every=120, eval_episodes=2)


def _env(name="Pendulum-v1", **params):
    env, env_params = make(name, **params)
    return AutoReset(env), env_params


@functools.cache
def _filled_state(config, key=0, steps=80):
    """An agent after ``steps`` environment steps (D holds them), no learning yet, and
    its setup."""
    setup = ddpg.make(config, *_env(config.env, **dict(config.env_options)))
    config = config.replace(learning_starts=10**9)
    state = ddpg.init(setup, config, jax.random.key(key))

    def step(_, s):
        return ddpg.train_step(setup, config, s)[0]

    state = jax.jit(lambda s: jax.lax.fori_loop(0, steps, step, s))(state)
    # make the targets differ from the online networks, as after some training
    perturb = lambda p, k: jax.tree.map(  # noqa: E731
        lambda x: x + 0.05 * jax.random.normal(k, x.shape), p)
    return state.replace(actor_target=perturb(state.actor_params, jax.random.key(1)),
                         critic_target=perturb(state.critic_params, jax.random.key(2)),
                         step=jnp.asarray(steps, jnp.int32)), setup


def _batch(state, config, key=3):
    return ddpg.sample(state.memory, jax.random.key(key), config.batch_size)


def _numpy_mlp(params, x):
    """A flax Dense/ReLU stack evaluated in numpy (float64)."""
    layers = params["params"]
    names = sorted(layers, key=lambda n: int(n.split("_")[1]))
    for i, name in enumerate(names):
        x = x @ np.asarray(layers[name]["kernel"], np.float64) + np.asarray(
            layers[name]["bias"], np.float64)
        if i < len(names) - 1:
            x = np.maximum(x, 0.0)
    return x


def test_critic_target_matches_hand_computation():
    state, setup = _filled_state(ddpg.DDPGConfig(**SMALL))
    config = ddpg.DDPGConfig(**SMALL, gamma=0.9)
    batch = _batch(state, config)
    batch = batch.replace(terminated=jnp.arange(config.batch_size) % 3 == 0)  # some ends
    a_next = ddpg.target_action(setup, config, state.actor_target, batch.next_obs,
                                jax.random.key(4))
    q_next = ddpg.q_values(setup, state.critic_target, batch.next_obs, a_next)
    y = ddpg.critic_target(config, batch.reward, batch.terminated, q_next)
    # by hand, in numpy: r + γ (1 - terminated) Q′(s′, π′(s′)), π′ = 2 tanh(MLP) here
    s2 = np.asarray(batch.next_obs, np.float64)
    pi = 2.0 * np.tanh(_numpy_mlp(state.actor_target, s2))
    critic0 = jax.tree.map(lambda p: p[0], state.critic_target)
    q2 = _numpy_mlp(critic0, np.concatenate([s2, pi], axis=-1))[:, 0]
    hand = np.asarray(batch.reward) + 0.9 * (1 - np.asarray(batch.terminated)) * q2
    np.testing.assert_allclose(np.asarray(y), hand, rtol=1e-5, atol=1e-5)
    assert np.all(np.abs(np.asarray(a_next)) <= 2.0)


def test_no_bootstrap_past_termination_but_on_truncation():
    config = ddpg.DDPGConfig(gamma=0.5)
    q_next = jnp.array([[10.0, 10.0, 10.0]])
    y = ddpg.critic_target(config, jnp.array([1.0, 1.0, 1.0]), jnp.array([False, True, False]),
                           q_next)
    np.testing.assert_array_equal(np.asarray(y), [6.0, 1.0, 6.0])
    # twin critics: the minimum
    y2 = ddpg.critic_target(config.replace(num_critics=2), jnp.array([0.0]), jnp.array([False]),
                            jnp.array([[4.0], [2.0]]))
    assert float(y2[0]) == 1.0


def test_actor_gradient_is_the_chain_rule():
    config = ddpg.DDPGConfig(**SMALL)
    state, setup = _filled_state(config)
    obs = _batch(state, config).obs
    grad = jax.grad(ddpg.actor_loss, argnums=1)(setup, state.actor_params,
                                                state.critic_params, obs)
    # separately: dQ/da at a = π(s) for each sample, then (1/N) Σ_i dQ/da_i · dπ(s_i)/dθ
    critic = lambda a: ddpg.q_values(setup, state.critic_params, obs, a)[0].sum()  # noqa: E731
    actions = ddpg.policy(setup, state.actor_params, obs)
    dq_da = jax.grad(critic)(actions)                      # [N, 1], row i is ∇_a Q(s_i, a)
    _, vjp = jax.vjp(lambda p: ddpg.policy(setup, p, obs), state.actor_params)
    (chain,) = vjp(dq_da / obs.shape[0])
    expected = jax.tree.map(lambda g: -g, chain)           # the loss is -mean Q
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7),
                 grad, expected)
    assert any(float(jnp.abs(g).max()) > 0 for g in jax.tree.leaves(grad))


def test_soft_update_is_the_formula():
    state, _ = _filled_state(ddpg.DDPGConfig(**SMALL))
    config = ddpg.DDPGConfig(**SMALL, tau=0.25)
    actor_target, critic_target = ddpg.update_targets(config, state)
    for new, online, old in ((actor_target, state.actor_params, state.actor_target),
                             (critic_target, state.critic_params, state.critic_target)):
        jax.tree.map(lambda n, p, o: np.testing.assert_allclose(
            n, 0.25 * np.asarray(p) + 0.75 * np.asarray(o), rtol=1e-6, atol=1e-7),
            new, online, old)
    full = ddpg.update_targets(config.replace(tau=1.0), state)
    jax.tree.map(np.testing.assert_array_equal, full[0], state.actor_params)


def _reference_ddpg_learn(config, state, key, setup):
    """The slide's DDPG iteration written out plainly (one critic, no TD3 code)."""
    actor, critic = setup.actor, setup.critic
    low, high = ddpg.action_bounds(setup.env, setup.env_params)
    key_sample, _ = jax.random.split(key)
    b = replay.sample(state.memory, key_sample, config.batch_size)
    c_params = jax.tree.map(lambda p: p[0], state.critic_params)
    c_target = jax.tree.map(lambda p: p[0], state.critic_target)
    y = b.reward + config.gamma * jnp.where(
        b.terminated, 0.0, critic.apply(c_target, b.next_obs,
                                        actor.apply(state.actor_target, b.next_obs, low, high)))
    y = jax.lax.stop_gradient(y)
    c_grad = jax.grad(lambda p: jnp.mean(jnp.square(critic.apply(p, b.obs, b.action) - y)))(
        c_params)
    c_upd, c_opt = optax.adam(config.critic_learning_rate).update(
        jax.tree.map(lambda g: g[None], c_grad), state.critic_opt)
    c_new = optax.apply_updates(state.critic_params, c_upd)
    c_new0 = jax.tree.map(lambda p: p[0], c_new)
    a_grad = jax.grad(lambda p: -jnp.mean(critic.apply(c_new0, b.obs,
                                                       actor.apply(p, b.obs, low, high))))(
        state.actor_params)
    a_upd, a_opt = optax.adam(config.actor_learning_rate).update(a_grad, state.actor_opt)
    a_new = optax.apply_updates(state.actor_params, a_upd)
    tau = config.tau
    return (a_new, c_new, optax.incremental_update(a_new, state.actor_target, tau),
            optax.incremental_update(c_new, state.critic_target, tau))


def test_td3_switches_off_is_exactly_ddpg():
    base = dict(SMALL, gamma=0.95, tau=0.05, actor_learning_rate=3e-4, critic_learning_rate=2e-3)
    d = ddpg.DDPGConfig(**base)
    off = ddpg.td3_config(**base).replace(num_critics=1, policy_delay=1, target_noise=0.0)
    state, setup = _filled_state(ddpg.DDPGConfig(**SMALL))
    key = jax.random.key(7)
    # one learning iteration: TD3's code path with the switches off vs the plain slide
    got = jax.jit(lambda s: ddpg.learn(setup, off, s, key)[0])(state)
    ref = jax.jit(lambda s: _reference_ddpg_learn(d, s, key, setup))(state)
    for a, b in zip((got.actor_params, got.critic_params, got.actor_target,
                     got.critic_target), ref, strict=True):
        jax.tree.map(np.testing.assert_allclose, a, b)
    # whole runs: bit for bit (the configs are equal: one static graph, the same numbers)
    assert off == d
    s1, c1 = ddpg.train(d, jax.random.key(0))
    s2, c2 = ddpg.train(off, jax.random.key(0))
    assert_trees_equal((s1, c1), (s2, c2))


def test_policy_delay_moves_actor_every_other_critic_step():
    config = ddpg.td3_config(**SMALL)
    state, setup = _filled_state(config)
    learn = jax.jit(lambda s, k: ddpg.learn(setup, config, s, k)[0])
    s1 = learn(state, jax.random.key(0))        # updates 0 -> 1: critic only
    jax.tree.map(np.testing.assert_array_equal, s1.actor_params, state.actor_params)
    jax.tree.map(np.testing.assert_array_equal, s1.actor_target, state.actor_target)
    s2 = learn(s1, jax.random.key(1))           # 1 -> 2: critic, actor and targets
    assert not np.array_equal(jax.tree.leaves(s2.actor_params)[0],
                              jax.tree.leaves(s1.actor_params)[0])
    assert not np.array_equal(jax.tree.leaves(s2.critic_target)[0],
                              jax.tree.leaves(s1.critic_target)[0])


def test_learning_rates_decay_linearly_over_the_run():
    config = ddpg.td3_config(**SMALL, actor_learning_rate_end=1e-5, critic_learning_rate_end=1e-4)
    # 240 steps, the first 60 without learning: 180 critic steps, 90 actor steps
    setup = ddpg.make(config)
    assert (setup.critic_updates, setup.actor_updates) == (180, 90)
    params = {"w": jnp.zeros(3)}
    grads = {"w": jnp.ones(3)}
    for optimizer, steps, end in ((ddpg.critic_optimizer(setup, config), 180, 1e-4),
                                  (ddpg.actor_optimizer(setup, config), 90, 1e-5)):
        opt = optimizer.init(params)
        sizes = []
        for _ in range(steps + 1):
            updates, opt = optimizer.update(grads, opt, params)
            sizes.append(float(-updates["w"][0]))  # Adam on a constant gradient: the lr
        np.testing.assert_allclose(sizes[0], 1e-3, rtol=1e-4)
        np.testing.assert_allclose(sizes[steps // 2], (1e-3 + end) / 2, rtol=1e-4)
        np.testing.assert_allclose(sizes[-1], end, rtol=1e-4)


def test_target_smoothing_stays_in_bounds_and_clips():
    state, setup = _filled_state(ddpg.td3_config(**SMALL))
    config = ddpg.td3_config(**SMALL, target_noise=5.0, target_noise_clip=0.25)
    obs = _batch(state, config).obs
    a = ddpg.target_action(setup, config, state.actor_target, obs, jax.random.key(0))
    mu = ddpg.policy(setup, state.actor_target, obs)
    assert np.all(np.abs(np.asarray(a)) <= 2.0)
    assert np.all(np.abs(np.asarray(a - mu)) <= 0.25 * 2.0 + 1e-6)  # c x half-range


def test_exploration_noise_gaussian_and_ou():
    key = jax.random.key(0)
    n = exploration.gaussian_noise(key, (20000,), 0.3)
    assert abs(float(jnp.std(n)) - 0.3) < 0.01
    x = jnp.full((3,), 0.5)
    eps = jax.random.normal(key, (3,))
    got = exploration.ornstein_uhlenbeck(key, x, 0.2, 0.15, 0.01)
    np.testing.assert_allclose(got, 0.5 - 0.15 * 0.5 * 0.01 + 0.2 * 0.1 * eps, rtol=1e-6)
    assert np.array_equal(exploration.clip_action(jnp.array([-3.0, 0.5, 3.0]), -2.0, 2.0),
                          jnp.array([-2.0, 0.5, 2.0]))
    # OU in training: runs, stays in bounds, noise reset at episode ends
    config = ddpg.DDPGConfig(**SMALL, noise="ou", exploration_noise=2.0, random_warmup=False)
    state, setup = _filled_state(ddpg.DDPGConfig(**SMALL))
    a, noise = ddpg.select_action(setup, config, state, jax.random.key(1))
    assert a.shape == (1, 1) and np.all(np.abs(np.asarray(a)) <= 2.0)
    assert noise.shape == (1, 1)


def test_batch_of_seeds_equals_each_seed_alone():
    """Bit-identical between batches of sizes 3 and 2; against the seed alone (no batch
    axis) equal up to float rounding, as for DQN (tests/test_train.py: XLA simplifies
    Adam's scalar arithmetic differently without a batch axis)."""
    config = ddpg.td3_config(**SMALL)
    keys = jax.random.split(jax.random.key(42), 3)
    three = ddpg.run(config, keys)
    two = ddpg.run(config, keys[1:])
    assert_trees_equal(jax.tree.map(lambda x: x[1], (three.state, three.curve)),
           jax.tree.map(lambda x: x[0], (two.state, two.curve)))
    alone, _ = driver.train(ddpg.ALGORITHM, config, keys[1])
    jax.tree.map(lambda b, a: np.testing.assert_allclose(b[1], a, rtol=1e-3, atol=1e-4),
                 (three.state.actor_params, three.state.critic_params),
                 (alone.actor_params, alone.critic_params))


def test_sweep_over_tau_and_noise_is_one_call():
    config = ddpg.DDPGConfig(**SMALL)
    configs = sweep(config, tau=[0.01, 1.0], exploration_noise=[0.1, 0.5])
    keys = jnp.stack([jax.random.key(0)] * 2)
    result = ddpg.run(config=configs, keys=keys, stacked_config=True)
    returns = np.asarray(result.curve.eval_return)
    assert returns.shape[0] == 2 and not np.array_equal(returns[0], returns[1])
    with pytest.raises(ValueError, match="tau"):
        ddpg.run(sweep(config, tau=[0.5, 0.0]), keys, stacked_config=True)


def test_course_pendulum_with_sincos_and_rollout():
    config = ddpg.DDPGConfig(**SMALL, env="Pendulum", env_options=(("sincos", True),))
    setup = ddpg.make(config)
    env, env_params = setup.env, setup.env_params
    assert env.observation_space(env_params).shape == (3,)
    state, curve = ddpg.train(config, jax.random.key(0))
    assert curve.eval_return.shape == (3, 2)
    start = env.env.reset_env(jax.random.key(0), env_params)[1].replace(q=jnp.pi, v=0.0)
    states, rewards = ddpg.greedy_rollout(setup, state.actor_params, start, 100)
    assert states.q.shape == (100,) and rewards.shape == (100,)
    # u = 0 from hanging at rest stays there: -0.493 per step (course scale: -49.4 / 100)
    zero = jax.tree.map(jnp.zeros_like, state.actor_params)
    _, r0 = ddpg.greedy_rollout(setup, zero, start, 100)
    assert abs(float(r0.sum()) + 49.35) < 0.1


@pytest.mark.parametrize("name", ["MountainCarContinuous-v0"])
def test_other_box_environments_run(name):
    config = ddpg.td3_config(**{**SMALL, "total_steps": 60, "eval_every": 60}, env=name)
    _, curve = ddpg.train(config, jax.random.key(0))
    assert np.all(np.isfinite(np.asarray(curve.eval_return)))


def test_bad_input_gives_clear_errors():
    with pytest.raises(ValueError, match="DQN"):
        ddpg.train(ddpg.DDPGConfig(env="CartPole-v1"), jax.random.key(0))
    for tau in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"tau must be in \(0, 1\]"):
            ddpg.train(ddpg.DDPGConfig(**SMALL, tau=tau), jax.random.key(0))
    for field in ("exploration_noise", "target_noise"):
        with pytest.raises(ValueError, match=f"{field} must be >= 0"):
            ddpg.train(ddpg.DDPGConfig(**SMALL, **{field: -0.1}), jax.random.key(0))
    with pytest.raises(ValueError, match="noise must be one of"):
        ddpg.train(ddpg.DDPGConfig(**SMALL, noise="pink"), jax.random.key(0))
    with pytest.raises(ValueError, match="num_critics"):
        ddpg.train(ddpg.DDPGConfig(**SMALL, num_critics=0), jax.random.key(0))


def test_learns_pendulum():
    """A short fixed-seed run: far better than the untrained policy (about -1200)."""
    config = ddpg.DDPGConfig(total_steps=5000, eval_every=5000, eval_episodes=16,
                             learning_starts=500, buffer_size=5000)
    _, curve = ddpg.train(config, jax.random.key(0))
    before, after = np.asarray(curve.eval_return).mean(-1)
    assert before < -900, before
    assert after > -500, after


def test_transition_contract_used():
    # D stores the true final observation (Transition), so truncation bootstraps from it
    config = ddpg.DDPGConfig(**SMALL)
    state, _ = _filled_state(config)
    assert isinstance(state.memory.data, Transition)
    assert int(state.memory.size) == 80
