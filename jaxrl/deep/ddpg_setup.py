"""DDPG's (and TD3's) hyper-parameters and what is fixed for a run: the config, its
checks, the networks, the action bounds and the optimisers, bound once by :func:`make`
(:mod:`jaxrl.deep.ddpg` is the algorithm itself, the slide's lines)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct
from gymnax.environments import spaces

from jaxrl import driver
from jaxrl.checks import (
    NON_NEGATIVE,
    POSITIVE,
    RATE,
    check_choices,
    check_counts,
    check_gamma,
    check_numbers,
    check_space,
    check_widths,
)
from jaxrl.deep.networks import ACTIVATIONS, Actor, Critic, clipped, step_size
from jaxrl.envs.wrappers import AutoReset

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
      actor_learning_rate, critic_learning_rate: Adam step sizes.
      actor_learning_rate_end, critic_learning_rate_end: if set, the step size decays
        linearly to it over the run's gradient steps (a settled final policy, not a
        snapshot of a noisy one).
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
    actor_learning_rate: float = 1e-3
    critic_learning_rate: float = 1e-3
    actor_learning_rate_end: float | None = None
    critic_learning_rate_end: float | None = None
    gamma: float = 0.99
    tau: float = 0.005
    exploration_noise: float = 0.1
    ou_theta: float = 0.15
    ou_dt: float = 1e-2
    target_noise: float = 0.0
    target_noise_clip: float = 0.5
    max_grad_norm: float | None = None

    def __post_init__(self) -> None:
        check_values(self)


def td3_config(**overrides: Any) -> DDPGConfig:
    """DDPG with TD3's three switches on: twin critics, policy delay 2, smoothing 0.2/0.5."""
    td3 = dict(num_critics=2, policy_delay=2, target_noise=0.2, target_noise_clip=0.5)
    return DDPGConfig(**{**td3, **overrides})


class DDPGSetup(struct.PyTreeNode):
    """What is fixed for a run, bound once by :func:`make`: the environment behind the
    contract, the actor and critic networks, the action bounds, the driver's schedule and
    the step-size decays' lengths (critic steps; actor steps, ``policy_delay`` fewer)."""

    env: AutoReset = struct.field(pytree_node=False)
    actor: Actor = struct.field(pytree_node=False)
    critic: Critic = struct.field(pytree_node=False)
    schedule: driver.Schedule = struct.field(pytree_node=False)
    critic_updates: int = struct.field(pytree_node=False)
    actor_updates: int = struct.field(pytree_node=False)
    env_params: Any = None


def make(config: DDPGConfig, env: Any = None, env_params: Any = None) -> DDPGSetup:
    """Bind the run (the config checked its values when made): ``env``/``env_params``
    default to ``jaxrl.make(config.env, **config.env_options)``. ``ValueError`` (one
    line) for an environment DDPG cannot run."""
    env, env_params = driver.environment(config.env, env, env_params,
                                         **dict(config.env_options))
    check_space("DDPG/TD3", env, "action", env.action_space(env_params), (spaces.Box,),
                "use DQN (jaxrl.deep.dqn, `jaxrl train dqn`) for discrete actions")
    check_space("DDPG/TD3", env, "observation", env.observation_space(env_params),
                (spaces.Box, spaces.Discrete))
    schedule = driver.Schedule.of(config.total_steps, config.eval_every, config.num_envs)
    updates = schedule.learning_updates(config.learning_starts, config.updates_per_step)
    return DDPGSetup(
        env=env,
        actor=Actor(action_dim=action_dim(env, env_params),
                    hidden_sizes=tuple(config.hidden_sizes), activation=config.activation,
                    final_scale=config.final_scale),
        critic=Critic(hidden_sizes=tuple(config.hidden_sizes), activation=config.activation,
                      final_scale=config.final_scale),
        schedule=schedule,
        critic_updates=updates,
        actor_updates=max(1, updates // max(1, config.policy_delay)),
        env_params=env_params)


def check_values(config: DDPGConfig) -> None:
    """Raise ``ValueError`` (one clear line) for a value DDPG cannot run; every value of a
    stacked (swept) field is checked, traced ones are not."""
    check_counts(config, ("total_steps", "num_envs", "buffer_size", "batch_size",
                          "updates_per_step", "num_critics", "policy_delay", "eval_every",
                          "eval_episodes"))
    check_widths(config, ("hidden_sizes",))
    check_counts(config, ("learning_starts",), minimum=0)
    if config.batch_size > config.buffer_size or config.num_envs > config.buffer_size:
        raise ValueError(f"batch_size ({config.batch_size}) and num_envs ({config.num_envs})"
                         f" must not exceed buffer_size ({config.buffer_size})")
    check_choices({"noise": (config.noise, NOISES),
                   "activation": (config.activation, ACTIVATIONS)})
    noise_sigma = (NON_NEGATIVE[0], ">= 0 (a noise σ)")
    check_numbers(config, {
        "tau": (RATE[0], "in (0, 1] (1 copies the online weights)"),
        "actor_learning_rate": POSITIVE,
        "critic_learning_rate": POSITIVE,
        "actor_learning_rate_end": POSITIVE,
        "critic_learning_rate_end": POSITIVE,
        "exploration_noise": noise_sigma,
        "target_noise": noise_sigma,
        "target_noise_clip": NON_NEGATIVE,
        "ou_theta": NON_NEGATIVE,
        "ou_dt": POSITIVE,
        "max_grad_norm": POSITIVE,
    })
    check_gamma(config.gamma)


def action_bounds(env: Any, env_params: Any) -> tuple[jax.Array, jax.Array]:
    """``(low, high)`` of the Box action space, broadcast to the action's shape."""
    space = env.action_space(env_params)
    shape = tuple(space.shape)
    low = jnp.broadcast_to(jnp.asarray(space.low, jnp.float32), shape)
    high = jnp.broadcast_to(jnp.asarray(space.high, jnp.float32), shape)
    return low, high


def action_dim(env: Any, env_params: Any) -> int:
    """The number of action components (the Box's shape, flattened)."""
    size = 1
    for dim in env.action_space(env_params).shape:
        size *= int(dim)
    return size


def _optimizer(config: DDPGConfig, lr: Any, lr_end: Any = None,
               steps: int = 1) -> optax.GradientTransformation:
    """Adam at ``lr`` (linearly to ``lr_end`` over ``steps`` updates if set), clipped."""
    return clipped(optax.adam(step_size(lr, lr_end, steps)), config.max_grad_norm)


def actor_optimizer(setup: DDPGSetup, config: DDPGConfig) -> optax.GradientTransformation:
    """Adam for θ^π (one step per ``policy_delay`` critic steps)."""
    return _optimizer(config, config.actor_learning_rate, config.actor_learning_rate_end,
                      setup.actor_updates)


def critic_optimizer(setup: DDPGSetup, config: DDPGConfig) -> optax.GradientTransformation:
    """Adam for θ^Q (one step per critic update)."""
    return _optimizer(config, config.critic_learning_rate, config.critic_learning_rate_end,
                      setup.critic_updates)
