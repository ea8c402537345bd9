"""DDPG, the lecture's slide "Deep Deterministic Policy Gradient" [Lillicrap et al., 2016],
and TD3 [Fujimoto et al., 2018] by three switches on the same core.

::

    Randomly initialise critic Q(s, a; θ^Q) and actor π(s; θ^π)             init
    Initialise targets θ^Q′ <- θ^Q, θ^π′ <- θ^π                              init
    Initialise replay memory D                                               replay.init
    For each episode / loop for each step t:                                 train_step
        Select a_t = π(s_t; θ^π) + N_t (exploration noise), clipped          select_action
        Execute a_t, observe reward r_t and next state s_{t+1}               (the environment)
        Store (s_t, a_t, r_t, s_{t+1}) in D                                  store
        Sample a minibatch of N transitions (s_i, a_i, r_i, s_{i+1}) from D  sample
        Set y_i = r_i + γ Q′(s_{i+1}, π′(s_{i+1}; θ^π′); θ^Q′)               critic_target
        Update the critic by minimising (1/N) Σ_i (y_i - Q(s_i, a_i; θ^Q))²  update_critic
        Update the actor by the sampled deterministic policy gradient
            ∇_θπ J ≈ (1/N) Σ_i ∇_a Q(s_i, a; θ^Q)|_{a=π(s_i)} ∇_θπ π(s_i; θ^π)  update_actor
        Update the targets: θ′ <- τ θ + (1 - τ) θ′                           update_targets

The lecture minimises costs; the environments return rewards (``reward = -cost``), so
the actor *ascends* ``Q``. The environment contract (:class:`jaxrl.envs.wrappers.AutoReset`)
gives the true final observation: ``y_i`` bootstraps from it on truncation (a time
limit, Pendulum's only ending) and not at all past termination.

**TD3 by switches** (:func:`td3_config` sets all three; with all three off it is
exactly DDPG, bit for bit, ``tests/test_ddpg.py``):

* ``num_critics = 2``: twin critics, the target takes ``min_k Q′_k`` (clipped double-Q);
  each critic regresses on the same target, the actor ascends ``Q_1``;
* ``policy_delay = d``: the actor and the targets move once every ``d`` critic steps;
* ``target_noise = σ′``: target-policy smoothing,
  ``ã = clip(π′(s′) + clip(σ′ ε, ±c), low, high)``.

Noise scales (``exploration_noise``, ``target_noise``, ``target_noise_clip``) are
fractions of the action half-range ``(high - low) / 2``, so that one config serves
Pendulum-v1's ±2 torque and MountainCarContinuous' ±1 force (TD3's paper uses σ′ = 0.2,
c = 0.5 on ±1 actions).

Environments: any with a ``Box`` action space (gymnax's Pendulum-v1,
MountainCarContinuous-v0, the misc Box envs) and the course's ``Pendulum`` with
``[cos q, sin q, v]`` observations (``DDPGConfig(env="Pendulum",
env_options=(("sincos", True),))``, the DDPG practical). Training runs through
:mod:`jaxrl.driver`::

    state, curve = ddpg.train(DDPGConfig(), jax.random.key(0))
    curves = jax.vmap(lambda c, k: ddpg.train(c, k)[1])(sweep(config, tau=[...]), keys)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from jaxrl import driver
from jaxrl.deep import exploration, replay
from jaxrl.deep.ddpg_setup import (
    NOISES,
    DDPGConfig,
    DDPGSetup,
    action_bounds,
    action_dim,
    actor_optimizer,
    check_values,
    critic_optimizer,
    make,
    td3_config,
)
from jaxrl.deep.networks import input_size, preprocess
from jaxrl.envs.wrappers import Transition
from jaxrl.targets import ddpg_critic_target


class DDPGState(struct.PyTreeNode):
    """The agent: θ^π, θ^Q (a leading axis of ``num_critics``), their targets and
    optimiser states, D, the environments, the exploration noise, counters, key."""

    actor_params: Any
    critic_params: Any
    actor_target: Any
    critic_target: Any
    actor_opt: Any
    critic_opt: Any
    memory: replay.ReplayMemory
    env_state: Any
    noise: jax.Array
    step: jax.Array
    updates: jax.Array
    key: jax.Array


def _obs(setup: DDPGSetup, obs: Any) -> jax.Array:
    return preprocess(obs, setup.env.observation_space(setup.env_params))


def policy(setup: DDPGSetup, actor_params, obs) -> jax.Array:
    """``π(s; θ^π)`` for a batch of raw observations, shaped like the action space."""
    low, high = action_bounds(setup.env, setup.env_params)
    flat = setup.actor.apply(actor_params, _obs(setup, obs), low.reshape(-1), high.reshape(-1))
    return flat.reshape(*flat.shape[:-1], *low.shape)


def q_values(setup: DDPGSetup, critic_params, obs, action) -> jax.Array:
    """``Q_k(s, a; θ^Q_k)`` of every critic: ``[num_critics, batch]`` (the leading axis of
    ``critic_params``)."""
    x = _obs(setup, obs)
    a = jnp.reshape(action, (*x.shape[:-1], -1)).astype(jnp.float32)
    if jax.tree.leaves(critic_params)[0].shape[0] == 1:  # DDPG's one plain network: no vmap
        return setup.critic.apply(jax.tree.map(lambda p: p[0], critic_params), x, a)[None]
    return jax.vmap(setup.critic.apply, in_axes=(0, None, None))(critic_params, x, a)


def init(setup: DDPGSetup, config: DDPGConfig, key: jax.Array) -> DDPGState:
    """θ^π, θ^Q at random, θ′ = θ, an empty D, ``num_envs`` reset environments."""
    env, env_params = setup.env, setup.env_params
    key_actor, key_critic, key_env, key = jax.random.split(key, 4)
    x = jnp.zeros((1, input_size(env.observation_space(env_params))), jnp.float32)
    a = jnp.zeros((1, action_dim(env, env_params)), jnp.float32)
    actor_params = setup.actor.init(key_actor, x)
    critic_keys = jax.random.split(key_critic, config.num_critics)
    critic_params = jax.vmap(setup.critic.init, in_axes=(0, None, None))(critic_keys, x, a)
    obs, env_state = env.batch_reset(key_env, env_params, config.num_envs)
    low, _ = action_bounds(env, env_params)
    return DDPGState(
        actor_params=actor_params,
        critic_params=critic_params,
        actor_target=actor_params,
        critic_target=critic_params,
        actor_opt=actor_optimizer(setup, config).init(actor_params),
        critic_opt=critic_optimizer(setup, config).init(critic_params),
        memory=replay.init_transitions(obs, jnp.zeros(low.shape, jnp.float32),
                                       config.buffer_size),
        env_state=env_state,
        noise=jnp.zeros((config.num_envs, *low.shape), jnp.float32),
        step=jnp.zeros((), jnp.int32),
        updates=jnp.zeros((), jnp.int32),
        key=key,
    )


# -- the slide's lines ------------------------------------------------------------------


def select_action(setup: DDPGSetup, config: DDPGConfig, state: DDPGState, key):
    """``a_t = clip(π(s_t; θ^π) + N_t, low, high)`` in each environment: ``(a_t, N_t)``.

    ``N_t`` is Gaussian ``σ ε_t`` or the OU process (state carried in ``state.noise``),
    scaled by the action half-range. Before ``learning_starts`` with ``random_warmup``
    the action is uniform in ``[low, high]`` instead.
    """
    low, high = action_bounds(setup.env, setup.env_params)
    half = (high - low) / 2
    key_noise, key_uniform = jax.random.split(key)
    mu = policy(setup, state.actor_params, state.env_state.obs)
    if config.noise == "ou":
        noise = exploration.ornstein_uhlenbeck(key_noise, state.noise, config.exploration_noise,
                                               config.ou_theta, config.ou_dt)
    else:
        noise = exploration.gaussian_noise(key_noise, mu.shape, config.exploration_noise)
    action = exploration.clip_action(mu + noise * half, low, high)
    if config.random_warmup:
        uniform = jax.random.uniform(key_uniform, mu.shape, minval=low, maxval=high)
        action = jnp.where(state.step < config.learning_starts, uniform, action)
    return action, noise


#: Store the transitions in D (the ring buffer of :mod:`jaxrl.deep.replay`).
store = replay.store
#: Sample a minibatch uniformly from D.
sample = replay.sample


def target_action(setup: DDPGSetup, config: DDPGConfig, actor_target, next_obs,
                  key) -> jax.Array:
    """``π′(s′; θ^π′)``; with TD3's smoothing ``clip(π′(s′) + clip(σ′ε, ±c), low, high)``.

    With ``target_noise = 0`` the noise is exactly 0 and ``π′(s′)`` is inside the bounds,
    so the result is ``π′(s′)`` bit for bit.
    """
    low, high = action_bounds(setup.env, setup.env_params)
    half = (high - low) / 2
    action = policy(setup, actor_target, next_obs)
    eps = config.target_noise * jax.random.normal(key, action.shape)
    eps = jnp.clip(eps, -config.target_noise_clip, config.target_noise_clip)
    return jnp.clip(action + eps * half, low, high)


def critic_target(config: DDPGConfig, reward, terminated, q_next) -> jax.Array:
    """``y_i = r_i + γ (1 - terminated_i) min_k Q′_k(s_{i+1}, ã_{i+1})``
    (:func:`jaxrl.targets.ddpg_critic_target`).

    ``q_next``: ``[num_critics, batch]`` target critics' values at the next observation
    (the true final one on the step that ends an episode) and the target action. One
    critic: the slide's ``r + γ Q′(s′, π′(s′))``; no bootstrap past termination,
    bootstrap on truncation.
    """
    return ddpg_critic_target(reward, terminated, q_next, config.gamma)


def critic_loss(setup: DDPGSetup, critic_params, batch: Transition, y) -> jax.Array:
    """``Σ_k (1/N) Σ_i (y_i - Q_k(s_i, a_i; θ^Q_k))²`` (one critic: the slide's loss)."""
    q = q_values(setup, critic_params, batch.obs, batch.action)
    return jnp.sum(jnp.mean(jnp.square(q - y[None]), axis=-1))


def update_critic(setup: DDPGSetup, config: DDPGConfig, state: DDPGState, batch: Transition,
                  key):
    """One gradient step on θ^Q towards :func:`critic_target`: ``(params, opt, loss)``."""
    a_next = target_action(setup, config, state.actor_target, batch.next_obs, key)
    q_next = q_values(setup, state.critic_target, batch.next_obs, a_next)
    y = jax.lax.stop_gradient(critic_target(config, batch.reward, batch.terminated, q_next))
    loss, grads = jax.value_and_grad(critic_loss, argnums=1)(setup, state.critic_params,
                                                              batch, y)
    updates, opt = critic_optimizer(setup, config).update(
        grads, state.critic_opt, state.critic_params)
    return optax.apply_updates(state.critic_params, updates), opt, loss


def actor_loss(setup: DDPGSetup, actor_params, critic_params, obs) -> jax.Array:
    """``-(1/N) Σ_i Q_1(s_i, π(s_i; θ^π); θ^Q_1)``: its gradient is minus the slide's
    deterministic policy gradient ``(1/N) Σ_i ∇_a Q(s_i, a)|_{a=π(s_i)} ∇_θπ π(s_i)``."""
    action = policy(setup, actor_params, obs)
    first = jax.tree.map(lambda p: p[:1], critic_params)
    return -jnp.mean(q_values(setup, first, obs, action)[0])


def update_actor(setup: DDPGSetup, config: DDPGConfig, state: DDPGState, batch: Transition):
    """One step of gradient *ascent* of ``mean_i Q(s_i, π(s_i))`` on θ^π (Adam)."""
    loss, grads = jax.value_and_grad(actor_loss, argnums=1)(
        setup, state.actor_params, state.critic_params, batch.obs)
    updates, opt = actor_optimizer(setup, config).update(
        grads, state.actor_opt, state.actor_params)
    return optax.apply_updates(state.actor_params, updates), opt, loss


def update_targets(config, state: DDPGState) -> tuple[Any, Any]:
    """``θ^Q′ <- τ θ^Q + (1 - τ) θ^Q′`` and ``θ^π′ <- τ θ^π + (1 - τ) θ^π′``
    (``optax.incremental_update``)."""
    return (optax.incremental_update(state.actor_params, state.actor_target, config.tau),
            optax.incremental_update(state.critic_params, state.critic_target, config.tau))


def learn(setup: DDPGSetup, config: DDPGConfig, state: DDPGState,
          key) -> tuple[DDPGState, dict]:
    """One gradient iteration: sample; critic step; every ``policy_delay`` critic steps,
    an actor step and the target updates."""
    key_sample, key_target = jax.random.split(key)
    batch = sample(state.memory, key_sample, config.batch_size)
    critic_params, critic_opt, c_loss = update_critic(setup, config, state, batch, key_target)
    state = state.replace(critic_params=critic_params, critic_opt=critic_opt,
                          updates=state.updates + 1)

    def actor_and_targets(state):
        actor_params, actor_opt, a_loss = update_actor(setup, config, state, batch)
        state = state.replace(actor_params=actor_params, actor_opt=actor_opt)
        actor_target, critic_target_ = update_targets(config, state)
        return state.replace(actor_target=actor_target, critic_target=critic_target_), a_loss

    if config.policy_delay == 1:
        state, a_loss = actor_and_targets(state)
    else:
        state, a_loss = jax.lax.cond(
            state.updates % config.policy_delay == 0, actor_and_targets,
            lambda s: (s, jnp.zeros((), jnp.float32)), state)
    return state, {"critic_loss": c_loss, "actor_loss": a_loss}


def train_step(setup: DDPGSetup, config: DDPGConfig, state: DDPGState):
    """One step of the ``num_envs`` environments (select, execute, store), then
    ``updates_per_step`` gradient iterations (:func:`learn`) once ``learning_starts``
    steps are stored."""
    key, key_act, key_env, key_learn = jax.random.split(state.key, 4)
    actions, noise = select_action(setup, config, state, key_act)
    env_state, transitions = setup.env.batch_step(key_env, state.env_state, actions,
                                                  setup.env_params)
    done = transitions.done.reshape(-1, *([1] * (noise.ndim - 1)))
    noise = jnp.where(done, 0.0, noise)  # a fresh OU process for each episode
    state = state.replace(memory=store(state.memory, transitions), env_state=env_state,
                          noise=noise, step=state.step + config.num_envs, key=key)

    def learning(state):
        if config.updates_per_step == 1:
            return learn(setup, config, state, key_learn)
        keys = jax.random.split(key_learn, config.updates_per_step)
        state, losses = jax.lax.scan(lambda s, k: learn(setup, config, s, k), state, keys)
        return state, jax.tree.map(jnp.mean, losses)

    def waiting(state):
        return state, {"critic_loss": jnp.zeros((), jnp.float32),
                       "actor_loss": jnp.zeros((), jnp.float32)}

    active = state.step >= config.learning_starts
    state, losses = jax.lax.cond(active, learning, waiting, state)
    metrics = {
        **losses,
        "updates": active.astype(jnp.int32) * config.updates_per_step,
        **env_state.stats.step_totals(),
    }
    return state, metrics


def greedy_action(setup: DDPGSetup, config: DDPGConfig, state: DDPGState, obs) -> jax.Array:
    """``π(s; θ^π)``, no noise, for a batch of observations."""
    return policy(setup, state.actor_params, obs)


def greedy_rollout(setup: DDPGSetup, actor_params, env_state, num_steps: int):
    """Run ``π`` from ``env_state`` for ``num_steps`` steps of the raw environment (no
    reset, no time limit): ``(env_states, rewards)``, stacked over time."""
    env, env_params = setup.env.env, setup.env_params

    def step(env_state, _):
        obs = env.get_obs(env_state, env_params)
        action = policy(setup, actor_params, obs[None])[0]
        _, env_state, reward, _, _ = env.step_env(jax.random.key(0), env_state, action,
                                                   env_params)
        return env_state, (env_state, reward)

    _, (states, rewards) = jax.lax.scan(step, env_state, length=num_steps)
    return states, rewards


ALGORITHM = driver.Algorithm(make=make, init=init, train_step=train_step,
                             greedy_action=greedy_action)


def train(config: DDPGConfig, key: jax.Array, env: Any = None, env_params: Any = None):
    """Train one seed: ``(DDPGState, Curve)``; jitted, ``jax.vmap`` it over keys/configs."""
    return driver.train(ALGORITHM, config, key, env, env_params)


def run(config: DDPGConfig, keys: jax.Array, **kwargs) -> driver.RunResult:
    """Train many seeds in compiled chunks (:func:`jaxrl.driver.run`)."""
    return driver.run(ALGORITHM, config, keys, **kwargs)


__all__ = [
    "ALGORITHM", "NOISES", "DDPGConfig", "DDPGSetup", "DDPGState", "action_bounds",
    "actor_optimizer", "critic_optimizer",
    "actor_loss", "check_values", "critic_loss", "critic_target", "greedy_action",
    "greedy_rollout", "init", "learn", "make", "policy", "q_values", "run", "sample",
    "select_action", "store", "target_action", "td3_config", "train", "train_step",
    "update_actor", "update_critic", "update_targets",
]
