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
:mod:`jaxrl.train`::

    state, curve = ddpg.train(DDPGConfig(), jax.random.key(0))
    curves = jax.vmap(lambda c, k: ddpg.train(c, k)[1])(sweep(config, tau=[...]), keys)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct
from gymnax.environments import spaces

from jaxrl import train as driver
from jaxrl.checks import (
    NON_NEGATIVE,
    POSITIVE,
    RATE,
    UNIT_INTERVAL,
    check_choices,
    check_counts,
    check_numbers,
    check_space,
)
from jaxrl.deep import exploration, replay
from jaxrl.deep.networks import ACTIVATIONS, Actor, Critic, input_size, preprocess
from jaxrl.envs.registry import make
from jaxrl.envs.wrappers import AutoReset, Transition

NOISES = ("gaussian", "ou")


class DDPGConfig(struct.PyTreeNode):
    """Hyper-parameters of DDPG (and TD3). Defaults: DDPG tuned on Pendulum-v1, 20k steps.

    Static fields (sizes, counts, names, switches) are fixed at compile time; the others
    are pytree leaves, so ``jax.vmap`` over a stacked config
    (:func:`jaxrl.sweep.sweep`) sweeps them.

    Attributes:
      env: environment name for :func:`jaxrl.make`.
      env_options: ``((field, value), ...)`` replacing fields of the environment's
        default params (``(("sincos", True),)`` for the course's pendulum).
      total_steps: environment steps per seed (over all ``num_envs``).
      num_envs: parallel environments; one ``train_step`` steps them all once.
      buffer_size: capacity of the replay memory D (transitions).
      batch_size: N, transitions per gradient step.
      learning_starts: environment steps before the first gradient step.
      random_warmup: before ``learning_starts``, act uniformly at random (else
        ``π + N`` from the start, as the course does).
      updates_per_step: critic steps per ``train_step``.
      hidden_sizes: widths of the actor's and critics' hidden layers.
      activation: hidden activation (:data:`jaxrl.deep.networks.ACTIVATIONS`).
      final_scale: output layers' weights ``U(±final_scale)`` (0: LeCun normal).
      noise: exploration noise, ``"gaussian"`` or ``"ou"`` (Ornstein-Uhlenbeck).
      num_critics: 1 (DDPG) or 2 (TD3's clipped double-Q).
      policy_delay: critic steps per actor and target step (1: DDPG, 2: TD3).
      eval_every: environment steps between greedy evaluations.
      eval_episodes: greedy episodes per evaluation.
      actor_lr, critic_lr: Adam step sizes.
      actor_lr_end, critic_lr_end: if set, the step size decays linearly to it over the
        run's gradient steps (a settled final policy, not a snapshot of a noisy one).
      gamma: discount γ in [0, 1].
      tau: soft target update τ in (0, 1].
      exploration_noise: σ of the exploration noise (fraction of the half-range).
      ou_theta, ou_dt: the OU process's mean reversion θ and time step.
      target_noise: σ′ of target-policy smoothing (0: DDPG; fraction of the half-range).
      target_noise_clip: c, the smoothing noise's clip (fraction of the half-range).
      max_grad_norm: global-norm gradient clip of both networks (``None``: none).
    """

    env: str = struct.field(pytree_node=False, default="Pendulum-v1")
    env_options: tuple[tuple[str, Any], ...] = struct.field(pytree_node=False, default=())
    total_steps: int = struct.field(pytree_node=False, default=20_000)
    num_envs: int = struct.field(pytree_node=False, default=1)
    buffer_size: int = struct.field(pytree_node=False, default=20_000)
    batch_size: int = struct.field(pytree_node=False, default=128)
    learning_starts: int = struct.field(pytree_node=False, default=1_000)
    random_warmup: bool = struct.field(pytree_node=False, default=True)
    updates_per_step: int = struct.field(pytree_node=False, default=1)
    hidden_sizes: tuple[int, ...] = struct.field(pytree_node=False, default=(64, 64))
    activation: str = struct.field(pytree_node=False, default="relu")
    final_scale: float = struct.field(pytree_node=False, default=3e-3)
    noise: str = struct.field(pytree_node=False, default="gaussian")
    num_critics: int = struct.field(pytree_node=False, default=1)
    policy_delay: int = struct.field(pytree_node=False, default=1)
    eval_every: int = struct.field(pytree_node=False, default=1_000)
    eval_episodes: int = struct.field(pytree_node=False, default=16)
    actor_lr: float = 1e-3
    critic_lr: float = 1e-3
    actor_lr_end: float | None = None
    critic_lr_end: float | None = None
    gamma: float = 0.99
    tau: float = 0.005
    exploration_noise: float = 0.1
    ou_theta: float = 0.15
    ou_dt: float = 1e-2
    target_noise: float = 0.0
    target_noise_clip: float = 0.5
    max_grad_norm: float | None = None


def td3_config(**overrides: Any) -> DDPGConfig:
    """DDPG with TD3's three switches on: twin critics, policy delay 2, smoothing 0.2/0.5."""
    td3 = dict(num_critics=2, policy_delay=2, target_noise=0.2, target_noise_clip=0.5)
    return DDPGConfig(**{**td3, **overrides})


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


# -- checks, networks, optimisers -------------------------------------------------------


def check_config(config: DDPGConfig, env: Any, env_params: Any) -> None:
    """Raise ``ValueError`` (one clear line) for a config or environment DDPG cannot run."""
    check_space("DDPG/TD3", env, "action", env.action_space(env_params), (spaces.Box,),
                "use DQN (jaxrl.deep.dqn, `jaxrl train dqn`) for discrete actions")
    check_space("DDPG/TD3", env, "observation", env.observation_space(env_params),
                (spaces.Box, spaces.Discrete))
    check_counts(config, ("total_steps", "num_envs", "buffer_size", "batch_size",
                          "updates_per_step", "num_critics", "policy_delay", "eval_every",
                          "eval_episodes"))
    check_counts(config, ("learning_starts",), minimum=0)
    if config.batch_size > config.buffer_size or config.num_envs > config.buffer_size:
        raise ValueError(f"batch_size ({config.batch_size}) and num_envs ({config.num_envs})"
                         f" must not exceed buffer_size ({config.buffer_size})")
    check_choices({"noise": (config.noise, NOISES),
                   "activation": (config.activation, ACTIVATIONS)})
    noise_sigma = (NON_NEGATIVE[0], ">= 0 (a noise σ)")
    check_numbers(config, {
        "tau": (RATE[0], "in (0, 1] (1 copies the online weights)"),
        "gamma": UNIT_INTERVAL,
        "actor_lr": POSITIVE,
        "critic_lr": POSITIVE,
        "actor_lr_end": POSITIVE,
        "critic_lr_end": POSITIVE,
        "exploration_noise": noise_sigma,
        "target_noise": noise_sigma,
        "target_noise_clip": NON_NEGATIVE,
        "ou_theta": NON_NEGATIVE,
        "ou_dt": POSITIVE,
        "max_grad_norm": POSITIVE,
    })


def action_bounds(env: Any, env_params: Any) -> tuple[jax.Array, jax.Array]:
    """``(low, high)`` of the Box action space, broadcast to the action's shape."""
    space = env.action_space(env_params)
    shape = tuple(space.shape)
    low = jnp.broadcast_to(jnp.asarray(space.low, jnp.float32), shape)
    high = jnp.broadcast_to(jnp.asarray(space.high, jnp.float32), shape)
    return low, high


def _action_dim(env: Any, env_params: Any) -> int:
    size = 1
    for dim in env.action_space(env_params).shape:
        size *= int(dim)
    return size


def actor_network(config: DDPGConfig, env: Any, env_params: Any) -> Actor:
    """π(s; θ^π) for the config and environment."""
    return Actor(action_dim=_action_dim(env, env_params),
                 hidden_sizes=tuple(config.hidden_sizes), activation=config.activation,
                 final_scale=config.final_scale)


def critic_network(config: DDPGConfig) -> Critic:
    """Q(s, a; θ^Q) for the config (one of the ``num_critics``)."""
    return Critic(hidden_sizes=tuple(config.hidden_sizes), activation=config.activation,
                  final_scale=config.final_scale)


def _optimizer(config: DDPGConfig, lr: Any, lr_end: Any = None,
               steps: int = 1) -> optax.GradientTransformation:
    """Adam at ``lr`` (linearly to ``lr_end`` over ``steps`` updates if set), clipped."""
    if lr_end is not None:
        lr = optax.linear_schedule(lr, lr_end, steps)
    adam = optax.adam(lr)
    if config.max_grad_norm is None:
        return adam
    return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), adam)


def actor_optimizer(config: DDPGConfig) -> optax.GradientTransformation:
    """Adam for θ^π (one step per ``policy_delay`` critic steps)."""
    return _optimizer(config, config.actor_lr, config.actor_lr_end,
                      max(1, driver.num_updates(config) // config.policy_delay))


def critic_optimizer(config: DDPGConfig) -> optax.GradientTransformation:
    """Adam for θ^Q (one step per critic update: :func:`jaxrl.train.num_updates`)."""
    return _optimizer(config, config.critic_lr, config.critic_lr_end,
                      driver.num_updates(config))


def _obs(obs: Any, env: Any, env_params: Any) -> jax.Array:
    return preprocess(obs, env.observation_space(env_params))


def policy(config, actor_params, obs, env, env_params) -> jax.Array:
    """``π(s; θ^π)`` for a batch of raw observations, shaped like the action space."""
    low, high = action_bounds(env, env_params)
    x = _obs(obs, env, env_params)
    flat = actor_network(config, env, env_params).apply(
        actor_params, x, low.reshape(-1), high.reshape(-1))
    return flat.reshape(*flat.shape[:-1], *low.shape)


def q_values(config, critic_params, obs, action, env, env_params) -> jax.Array:
    """``Q_k(s, a; θ^Q_k)`` of every critic: ``[num_critics, batch]``."""
    x = _obs(obs, env, env_params)
    a = jnp.reshape(action, (*x.shape[:-1], -1)).astype(jnp.float32)
    apply = critic_network(config).apply
    if config.num_critics == 1:  # no vmap: DDPG's critic is one plain network
        return apply(jax.tree.map(lambda p: p[0], critic_params), x, a)[None]
    return jax.vmap(apply, in_axes=(0, None, None))(critic_params, x, a)


def init(config: DDPGConfig, key: jax.Array, env: AutoReset, env_params: Any) -> DDPGState:
    """θ^π, θ^Q at random, θ′ = θ, an empty D, ``num_envs`` reset environments."""
    key_actor, key_critic, key_env, key = jax.random.split(key, 4)
    x = jnp.zeros((1, input_size(env.observation_space(env_params))), jnp.float32)
    a = jnp.zeros((1, _action_dim(env, env_params)), jnp.float32)
    actor_params = actor_network(config, env, env_params).init(key_actor, x)
    critic_keys = jax.random.split(key_critic, config.num_critics)
    critic_params = jax.vmap(critic_network(config).init, in_axes=(0, None, None))(
        critic_keys, x, a)
    obs, env_state = env.batch_reset(key_env, env_params, config.num_envs)
    low, _ = action_bounds(env, env_params)
    return DDPGState(
        actor_params=actor_params,
        critic_params=critic_params,
        actor_target=actor_params,
        critic_target=critic_params,
        actor_opt=actor_optimizer(config).init(actor_params),
        critic_opt=critic_optimizer(config).init(critic_params),
        memory=replay.init_transitions(obs, jnp.zeros(low.shape, jnp.float32),
                                       config.buffer_size),
        env_state=env_state,
        noise=jnp.zeros((config.num_envs, *low.shape), jnp.float32),
        step=jnp.zeros((), jnp.int32),
        updates=jnp.zeros((), jnp.int32),
        key=key,
    )


# -- the slide's lines ------------------------------------------------------------------


def select_action(config, state: DDPGState, key, env, env_params):
    """``a_t = clip(π(s_t; θ^π) + N_t, low, high)`` in each environment: ``(a_t, N_t)``.

    ``N_t`` is Gaussian ``σ ε_t`` or the OU process (state carried in ``state.noise``),
    scaled by the action half-range. Before ``learning_starts`` with ``random_warmup``
    the action is uniform in ``[low, high]`` instead.
    """
    low, high = action_bounds(env, env_params)
    half = (high - low) / 2
    key_noise, key_uniform = jax.random.split(key)
    mu = policy(config, state.actor_params, state.env_state.obs, env, env_params)
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


def target_action(config, actor_target, next_obs, key, env, env_params) -> jax.Array:
    """``π′(s′; θ^π′)``; with TD3's smoothing ``clip(π′(s′) + clip(σ′ε, ±c), low, high)``.

    With ``target_noise = 0`` the noise is exactly 0 and ``π′(s′)`` is inside the bounds,
    so the result is ``π′(s′)`` bit for bit.
    """
    low, high = action_bounds(env, env_params)
    half = (high - low) / 2
    action = policy(config, actor_target, next_obs, env, env_params)
    eps = config.target_noise * jax.random.normal(key, action.shape)
    eps = jnp.clip(eps, -config.target_noise_clip, config.target_noise_clip)
    return jnp.clip(action + eps * half, low, high)


def critic_target(config, reward, terminated, q_next) -> jax.Array:
    """``y_i = r_i + γ (1 - terminated_i) min_k Q′_k(s_{i+1}, ã_{i+1})``.

    ``q_next``: ``[num_critics, batch]`` target critics' values at the next observation
    (the true final one on the step that ends an episode) and the target action. One
    critic: the slide's ``r + γ Q′(s′, π′(s′))``; no bootstrap past termination,
    bootstrap on truncation.
    """
    bootstrap = jnp.min(q_next, axis=0)
    return reward + config.gamma * jnp.where(terminated, 0.0, bootstrap)


def critic_loss(config, critic_params, batch: Transition, y, env, env_params) -> jax.Array:
    """``Σ_k (1/N) Σ_i (y_i - Q_k(s_i, a_i; θ^Q_k))²`` (one critic: the slide's loss)."""
    q = q_values(config, critic_params, batch.obs, batch.action, env, env_params)
    return jnp.sum(jnp.mean(jnp.square(q - y[None]), axis=-1))


def update_critic(config, state: DDPGState, batch: Transition, key, env, env_params):
    """One gradient step on θ^Q towards :func:`critic_target`: ``(params, opt, loss)``."""
    a_next = target_action(config, state.actor_target, batch.next_obs, key, env, env_params)
    q_next = q_values(config, state.critic_target, batch.next_obs, a_next, env, env_params)
    y = jax.lax.stop_gradient(critic_target(config, batch.reward, batch.terminated, q_next))
    loss, grads = jax.value_and_grad(critic_loss, argnums=1)(
        config, state.critic_params, batch, y, env, env_params)
    updates, opt = critic_optimizer(config).update(
        grads, state.critic_opt, state.critic_params)
    return optax.apply_updates(state.critic_params, updates), opt, loss


def actor_loss(config, actor_params, critic_params, obs, env, env_params) -> jax.Array:
    """``-(1/N) Σ_i Q_1(s_i, π(s_i; θ^π); θ^Q_1)``: its gradient is minus the slide's
    deterministic policy gradient ``(1/N) Σ_i ∇_a Q(s_i, a)|_{a=π(s_i)} ∇_θπ π(s_i)``."""
    action = policy(config, actor_params, obs, env, env_params)
    first = jax.tree.map(lambda p: p[:1], critic_params)
    q = q_values(config.replace(num_critics=1), first, obs, action, env, env_params)
    return -jnp.mean(q[0])


def update_actor(config, state: DDPGState, batch: Transition, env, env_params):
    """One step of gradient *ascent* of ``mean_i Q(s_i, π(s_i))`` on θ^π (Adam)."""
    loss, grads = jax.value_and_grad(actor_loss, argnums=1)(
        config, state.actor_params, state.critic_params, batch.obs, env, env_params)
    updates, opt = actor_optimizer(config).update(
        grads, state.actor_opt, state.actor_params)
    return optax.apply_updates(state.actor_params, updates), opt, loss


def update_targets(config, state: DDPGState) -> tuple[Any, Any]:
    """``θ^Q′ <- τ θ^Q + (1 - τ) θ^Q′`` and ``θ^π′ <- τ θ^π + (1 - τ) θ^π′``
    (``optax.incremental_update``)."""
    return (optax.incremental_update(state.actor_params, state.actor_target, config.tau),
            optax.incremental_update(state.critic_params, state.critic_target, config.tau))


def learn(config, state: DDPGState, key, env, env_params) -> tuple[DDPGState, dict]:
    """One gradient iteration: sample; critic step; every ``policy_delay`` critic steps,
    an actor step and the target updates."""
    key_sample, key_target = jax.random.split(key)
    batch = sample(state.memory, key_sample, config.batch_size)
    critic_params, critic_opt, c_loss = update_critic(config, state, batch, key_target, env,
                                                      env_params)
    state = state.replace(critic_params=critic_params, critic_opt=critic_opt,
                          updates=state.updates + 1)

    def actor_and_targets(state):
        actor_params, actor_opt, a_loss = update_actor(config, state, batch, env, env_params)
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


def train_step(config: DDPGConfig, state: DDPGState, env: AutoReset, env_params: Any):
    """One step of the ``num_envs`` environments (select, execute, store), then
    ``updates_per_step`` gradient iterations (:func:`learn`) once ``learning_starts``
    steps are stored."""
    key, key_act, key_env, key_learn = jax.random.split(state.key, 4)
    actions, noise = select_action(config, state, key_act, env, env_params)
    env_state, transitions = env.batch_step(key_env, state.env_state, actions, env_params)
    done = transitions.done.reshape(-1, *([1] * (noise.ndim - 1)))
    noise = jnp.where(done, 0.0, noise)  # a fresh OU process for each episode
    state = state.replace(memory=store(state.memory, transitions), env_state=env_state,
                          noise=noise, step=state.step + config.num_envs, key=key)

    def learning(state):
        if config.updates_per_step == 1:
            return learn(config, state, key_learn, env, env_params)
        keys = jax.random.split(key_learn, config.updates_per_step)
        state, losses = jax.lax.scan(lambda s, k: learn(config, s, k, env, env_params),
                                     state, keys)
        return state, jax.tree.map(jnp.mean, losses)

    def waiting(state):
        return state, {"critic_loss": jnp.zeros((), jnp.float32),
                       "actor_loss": jnp.zeros((), jnp.float32)}

    active = state.step >= config.learning_starts
    state, losses = jax.lax.cond(active, learning, waiting, state)
    stats = env_state.stats
    metrics = {
        **losses,
        "updates": active.astype(jnp.int32) * config.updates_per_step,
        "episodes": jnp.sum(stats.finished.astype(jnp.int32)),
        "return_sum": jnp.sum(jnp.where(stats.finished, stats.last_return, 0.0)),
    }
    return state, metrics


def greedy_action(config, state: DDPGState, obs, env, env_params) -> jax.Array:
    """``π(s; θ^π)``, no noise, for a batch of observations."""
    return policy(config, state.actor_params, obs, env, env_params)


def greedy_rollout(config, actor_params, env, env_params, env_state, num_steps: int):
    """Run ``π`` from ``env_state`` for ``num_steps`` steps of the raw environment (no
    reset, no time limit): ``(env_states, rewards)``, stacked over time."""
    def step(env_state, _):
        obs = env.get_obs(env_state, env_params)
        action = policy(config, actor_params, obs[None], env, env_params)[0]
        _, env_state, reward, _, _ = env.step_env(jax.random.key(0), env_state, action,
                                                   env_params)
        return env_state, (env_state, reward)

    _, (states, rewards) = jax.lax.scan(step, env_state, length=num_steps)
    return states, rewards


def make_env(config: DDPGConfig) -> tuple[AutoReset, Any]:
    """The configured environment behind the contract."""
    env, env_params = make(config.env, **dict(config.env_options))
    return AutoReset(env), env_params


def _algorithm(name: str) -> driver.Algorithm:
    return driver.Algorithm(name=name, make_env=make_env, check=check_config, init=init,
                            train_step=train_step, greedy_action=greedy_action)


ALGORITHM = _algorithm("ddpg")
TD3_ALGORITHM = _algorithm("td3")


def train(config: DDPGConfig, key: jax.Array, env: Any = None, env_params: Any = None):
    """Train one seed: ``(DDPGState, Curve)``; jitted, ``jax.vmap`` it over keys/configs."""
    return driver.train(ALGORITHM, config, key, env, env_params)


def run(config: DDPGConfig, keys: jax.Array, **kwargs) -> driver.RunResult:
    """Train many seeds in compiled chunks (:func:`jaxrl.train.run`)."""
    return driver.run(ALGORITHM, config, keys, **kwargs)


__all__ = [
    "ALGORITHM", "NOISES", "TD3_ALGORITHM", "DDPGConfig", "DDPGState", "action_bounds",
    "actor_loss", "actor_network", "check_config", "critic_loss", "critic_network",
    "critic_target", "greedy_action", "greedy_rollout", "init", "learn", "make_env",
    "policy", "q_values", "run", "sample", "select_action", "store", "target_action",
    "td3_config", "train", "train_step", "update_actor", "update_critic", "update_targets",
]
