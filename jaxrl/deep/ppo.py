"""PPO, the lecture's last slide: the clipped surrogate [Schulman et al., "Proximal policy
optimization algorithms", 2017], implemented as PureJaxRL and Huang et al. (2022) do.

::

    Initialize policy π_θ and value V_φ (one ActorCritic)                   init
    Loop for each iteration:                                                 train_step
        Run π_θ in N environments for T steps: (S_t, A_t, R_t, S'_t),
            keeping log π_old(A_t|S_t) and V(S_t) of the acting pass         collect_rollout
        V(S'_t) of the true next observations (the critic alone)            next_values
        Advantages Â_t = G^λ_t - V(S_t) by GAE(λ)                            advantages
        For K epochs, for each of M minibatches of the N T samples:          update_epochs
            maximise the clipped surrogate
            min(ρ Â, clip(ρ, 1 ± ε) Â), ρ = π_θ(A|S) / π_old(A|S),
            minus c_v × value loss, plus c_e × entropy                       loss_fn, update
        Merge the rollout's observations into the running statistics        update_stats
    The greedy policy: the mode of π_θ (argmax, or μ clipped to the bounds)  greedy_action

The environment contract (:class:`jaxrl.envs.wrappers.AutoReset`) gives the true final
observation ``S'_t``: GAE bootstraps from ``V(S'_t)`` on a truncation (a time limit) and
on the rollout's last step, never past a termination
(:func:`jaxrl.targets.gae_advantages`).

Switches and options (:class:`PPOConfig`): observation normalisation (running mean and
variance in the state, :class:`jaxrl.deep.policies.RunningStats`; an iteration's rollout
and updates use the statistics of the earlier rollouts, so the updates see the inputs
the policy acted on, and its own observations join them after), per-minibatch
advantage normalisation, a clipped value loss (``vf_clip``; ``inf``: the plain squared
error), ``optax.clip_by_global_norm`` then Adam(ε = 1e-5), a linear decay of the step
size over the run's gradient steps. ``Discrete`` actions use a softmax policy, ``Box``
actions a Gaussian whose samples are clipped to the bounds by the environment step only
(``log π`` is that of the unclipped sample, stored in the rollout).

Environments: ``Discrete`` or ``Box`` actions, array (or ``Discrete``, one-hot)
observations. Training runs through :mod:`jaxrl.driver`::

    state, curve = ppo.train(PPOConfig(env="CartPole-v1"), jax.random.key(0))
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from jaxrl import driver
from jaxrl.checks import (
    NON_NEGATIVE,
    POSITIVE,
    UNIT_INTERVAL,
    check_choices,
    check_counts,
    check_gamma,
    check_minibatches,
    check_numbers,
    check_widths,
)
from jaxrl.deep import policies, rollout
from jaxrl.deep.networks import ACTIVATIONS, clipped, input_size, preprocess, step_size
from jaxrl.deep.policies import ActorCritic, RunningStats
from jaxrl.targets import clipped_surrogate_loss, clipped_value_loss, gae_advantages


class PPOConfig(struct.PyTreeNode):
    """Hyper-parameters of PPO. Defaults: tuned for CartPole-v1 at 500k steps, from
    PureJaxRL's CartPole config (4 envs × 128 steps, 4 epochs of 4 minibatches, Adam
    2.5e-4 decaying linearly to 0, γ 0.99, λ 0.95, ε 0.2, c_v 0.5, c_e 0.01, gradient
    norm 0.5, (64, 64) tanh networks).

    Static fields (sizes, counts, names, switches) are fixed at compile time; the others
    are pytree leaves, so ``jax.vmap`` over a stacked config sweeps them.

    Attributes:
      env: environment name for :func:`jaxrl.make`.
      env_options: ``((field, value), ...)`` replacing fields of the environment's
        default params.
      total_steps: environment steps per seed (over all ``num_envs``).
      num_envs: N, parallel environments.
      num_steps: T, steps of each environment per rollout (``train_step`` makes N T).
      num_minibatches: M, minibatches per epoch (must divide N T).
      update_epochs: K, passes over the rollout.
      hidden_sizes: widths of the actor's and the critic's hidden layers.
      conv_features: channels of 3 × 3 convolutions before each of them, for an image
        observation such as MinAtar's (``()``: none).
      activation: hidden activation (:data:`jaxrl.deep.networks.ACTIVATIONS`).
      normalize_observations: feed the networks ``(s - μ) / σ`` from running statistics.
      normalize_advantages: standardise Â within each minibatch.
      bootstrap_truncation: bootstrap a truncated episode's return from ``V`` of its
        true final observation (``False``: end it like a termination and take
        ``V(S_{t+1})`` from the acting pass, as PureJaxRL, CleanRL and rejax do, so the
        critic runs only on the observations after the rollout).
      log_std_init: the Gaussian policy's initial log σ (``Box`` actions).
      eval_every: environment steps between greedy evaluations.
      eval_episodes: greedy episodes per evaluation.
      learning_rate: Adam's step size (> 0).
      learning_rate_end: if set, the step size decays linearly to it over the run's
        gradient steps.
      gamma: discount γ in [0, 1].
      gae_lambda: GAE's λ in [0, 1] (0: one-step TD advantages, 1: Monte Carlo).
      clip_eps: ε of the clipped surrogate (> 0).
      vf_coef: c_v, the value loss's weight.
      ent_coef: c_e, the entropy bonus's weight.
      vf_clip: the value loss's clip around the rollout's values (``inf``: none).
      max_grad_norm: global-norm gradient clip (``inf``: none).
    """

    env: str = struct.field(pytree_node=False, default="CartPole-v1")
    env_options: tuple[tuple[str, Any], ...] = struct.field(pytree_node=False, default=())
    total_steps: int = struct.field(pytree_node=False, default=500_000)
    num_envs: int = struct.field(pytree_node=False, default=4)
    num_steps: int = struct.field(pytree_node=False, default=128)
    num_minibatches: int = struct.field(pytree_node=False, default=4)
    update_epochs: int = struct.field(pytree_node=False, default=4)
    hidden_sizes: tuple[int, ...] = struct.field(pytree_node=False, default=(64, 64))
    conv_features: tuple[int, ...] = struct.field(pytree_node=False, default=())
    activation: str = struct.field(pytree_node=False, default="tanh")
    normalize_observations: bool = struct.field(pytree_node=False, default=False)
    normalize_advantages: bool = struct.field(pytree_node=False, default=True)
    bootstrap_truncation: bool = struct.field(pytree_node=False, default=True)
    log_std_init: float = struct.field(pytree_node=False, default=0.0)
    eval_every: int = struct.field(pytree_node=False, default=50_000)
    eval_episodes: int = struct.field(pytree_node=False, default=16)
    learning_rate: float = 2.5e-4
    learning_rate_end: float | None = 0.0
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    vf_coef: float = 0.5
    ent_coef: float = 0.01
    vf_clip: float = 0.2
    max_grad_norm: float = 0.5

    def __post_init__(self) -> None:
        check_values(self)


def pendulum_config() -> PPOConfig:
    """A Gaussian policy for Pendulum-v1 at 1M steps: 16 envs × 128 steps, 10 epochs of 8
    minibatches, Adam 1e-3 decaying to 0, γ 0.95, normalised observations, no entropy
    bonus, no value clip."""
    return PPOConfig(
        env="Pendulum-v1", total_steps=1_000_000, num_envs=16, num_steps=128,
        num_minibatches=8, update_epochs=10, normalize_observations=True,
        eval_every=100_000, learning_rate=1e-3, gamma=0.95, ent_coef=0.0, vf_clip=math.inf)


class PPOState(struct.PyTreeNode):
    """θ (actor and critic), the optimiser state, the observations' running statistics,
    the environments, the step counter, the key."""

    params: Any
    opt_state: Any
    obs_stats: RunningStats
    env_state: Any
    step: jax.Array
    key: jax.Array


class PPOSetup(struct.PyTreeNode):
    """What is fixed for a run, bound once by :func:`make`: the environment behind the
    contract, the actor-critic, the driver's schedule, the step-size decay's length."""

    env: Any = struct.field(pytree_node=False)
    network: ActorCritic = struct.field(pytree_node=False)
    schedule: driver.Schedule = struct.field(pytree_node=False)
    num_updates: int = struct.field(pytree_node=False)
    env_params: Any = None


def make(config: PPOConfig, env: Any = None, env_params: Any = None) -> PPOSetup:
    """Bind the run (the config checked its values when made): ``env``/``env_params``
    default to ``jaxrl.make(config.env)``; the network and schedules are built here, once.
    ``ValueError`` (one line) for an environment PPO cannot run."""
    env, env_params = driver.environment(config.env, env, env_params,
                                         **dict(config.env_options))
    network = policies.actor_critic("PPO", env, env_params, config.hidden_sizes,
                                    config.activation, config.log_std_init,
                                    config.conv_features)
    schedule = driver.Schedule.of(config.total_steps, config.eval_every,
                                  config.num_envs * config.num_steps)
    return PPOSetup(env=env, network=network, schedule=schedule,
                    num_updates=schedule.calls * config.update_epochs * config.num_minibatches,
                    env_params=env_params)


def check_values(config: PPOConfig) -> None:
    """One clear ``ValueError`` line for a value PPO cannot run (every value of a stacked
    field; traced ones are not checked)."""
    check_counts(config, ("total_steps", "num_envs", "num_steps", "num_minibatches",
                          "update_epochs", "eval_every", "eval_episodes"))
    check_widths(config, ("hidden_sizes", "conv_features"))
    check_minibatches(config)
    check_choices({"activation": (config.activation, ACTIVATIONS)})
    check_numbers(config, {
        "learning_rate": POSITIVE, "learning_rate_end": NON_NEGATIVE,
        "gae_lambda": UNIT_INTERVAL, "clip_eps": POSITIVE, "vf_coef": NON_NEGATIVE,
        "ent_coef": NON_NEGATIVE, "vf_clip": POSITIVE, "max_grad_norm": POSITIVE})
    check_gamma(config.gamma)


def optimizer(setup: PPOSetup, config: PPOConfig) -> optax.GradientTransformation:
    """``clip_by_global_norm`` then Adam(ε = 1e-5), the step size decaying linearly to
    ``learning_rate_end`` over the run's gradient steps (``setup.num_updates``).

    Built from the config at each use: the step size is a leaf that a sweep varies."""
    lr = step_size(config.learning_rate, config.learning_rate_end, setup.num_updates)
    return clipped(optax.adam(lr, eps=1e-5), config.max_grad_norm)


def features(setup: PPOSetup, config: PPOConfig, stats: RunningStats, obs) -> jax.Array:
    """The networks' input: the flat (one-hot) observation, normalised with ``stats``
    when ``normalize_observations`` is on."""
    x = preprocess(obs, setup.env.observation_space(setup.env_params))
    return stats.normalize(x) if config.normalize_observations else x


def env_action(setup: PPOSetup, action: jax.Array) -> jax.Array:
    """The action the environment gets (:func:`jaxrl.deep.policies.env_action`)."""
    return policies.env_action(setup.network.discrete,
                               setup.env.action_space(setup.env_params), action)


def init(setup: PPOSetup, config: PPOConfig, key: jax.Array) -> PPOState:
    """θ at random (orthogonal), no observation seen, ``num_envs`` reset environments."""
    key_net, key_env, key = jax.random.split(key, 3)
    size = input_size(setup.env.observation_space(setup.env_params))
    params = setup.network.init(key_net, jnp.zeros((1, size)))
    _, env_state = setup.env.batch_reset(key_env, setup.env_params, config.num_envs)
    return PPOState(params=params, opt_state=optimizer(setup, config).init(params),
                    obs_stats=RunningStats.zeros(size), env_state=env_state,
                    step=jnp.zeros((), jnp.int32), key=key)


def collect_rollout(setup: PPOSetup, config: PPOConfig, state: PPOState, key):
    """T steps of the N environments with ``A_t ~ π_θ(·|S_t)``: ``(env_state, Rollout)``.
    The rollout's ``extras`` are ``(A_t, log π_old(A_t|S_t), V(S_t))``, from the one
    network call that chose the action (``A_t`` the unclipped sample)."""

    def act(obs, key):
        head, log_std, value = setup.network.apply(
            state.params, features(setup, config, state.obs_stats, obs))
        action = policies.sample(setup.network.discrete, key, head, log_std)
        log_prob = policies.log_prob(setup.network.discrete, head, log_std, action)
        return env_action(setup, action), (action, log_prob, value)

    return rollout.collect(setup.env, setup.env_params, state.env_state, act, key,
                           config.num_steps)


def next_values(setup: PPOSetup, config: PPOConfig, params, stats: RunningStats,
                transitions, value, obs_after) -> tuple[Any, jax.Array]:
    """What GAE bootstraps from: ``(transitions, V(S'_t))``. By default ``V`` of the true
    next observations ``[T, N, ...]`` (the final one where an episode ended), for a
    truncation and the rollout's end. With ``bootstrap_truncation=False`` a truncation
    counts as a termination, and ``V(S'_t) = V(S_{t+1})`` from the acting pass, then
    ``V`` of ``obs_after`` (the observations after the rollout) at its end. The policy
    head's outputs are unused, so XLA computes the critic alone."""
    critic = lambda obs: setup.network.apply(  # noqa: E731
        params, features(setup, config, stats, obs))[2]
    if config.bootstrap_truncation:
        return transitions, critic(transitions.next_obs)
    ended = transitions.replace(terminated=transitions.terminated | transitions.truncated,
                                truncated=jnp.zeros_like(transitions.truncated))
    return ended, jnp.concatenate([value[1:], critic(obs_after)[None]])


def update_stats(setup: PPOSetup, config: PPOConfig, stats: RunningStats,
                 obs) -> RunningStats:
    """Merge the rollout's observations ``[T, N, ...]`` into the running statistics
    (unchanged when ``normalize_observations`` is off)."""
    if not config.normalize_observations:
        return stats
    x = preprocess(obs, setup.env.observation_space(setup.env_params))
    return stats.update(jnp.reshape(x, (-1, x.shape[-1])))


def advantages(config: PPOConfig, transitions, value, value_next):
    """GAE(λ): ``(Â, G^λ)`` (:func:`jaxrl.targets.gae_advantages`), bootstrapping from
    ``V(S'_t)`` on truncation and at the rollout's end, not past termination."""
    return gae_advantages(transitions.reward, transitions.terminated, transitions.truncated,
                          value, value_next, config.gamma, config.gae_lambda)


class Batch(struct.PyTreeNode):
    """Samples (leaves ``[B, ...]``): input, action, ``log π_old``, ``V_old``, Â, target."""

    x: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    advantage: jax.Array
    target: jax.Array


def loss_fn(setup: PPOSetup, config: PPOConfig, params, batch: Batch):
    """``L = L_clip + c_v L_V - c_e H``: ``(loss, metrics)``, with the clipped surrogate
    and value losses of :mod:`jaxrl.targets`, the approximate KL ``E[(ρ - 1) - log ρ]``
    and the fraction of samples whose ratio is clipped."""
    discrete = setup.network.discrete
    head, log_std, value = setup.network.apply(params, batch.x)
    log_ratio = policies.log_prob(discrete, head, log_std, batch.action) - batch.log_prob
    advantage = batch.advantage
    if config.normalize_advantages:
        advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
    policy_loss = clipped_surrogate_loss(log_ratio, advantage, config.clip_eps)
    value_loss = clipped_value_loss(value, batch.value, batch.target, config.vf_clip)
    entropy = jnp.mean(policies.entropy(discrete, head, log_std))
    loss = policy_loss + config.vf_coef * value_loss - config.ent_coef * entropy
    ratio = jnp.exp(log_ratio)
    return loss, {
        "loss": loss, "policy_loss": policy_loss, "value_loss": value_loss,
        "entropy": entropy, "approx_kl": jnp.mean((ratio - 1.0) - log_ratio),
        "clip_fraction": jnp.mean((jnp.abs(ratio - 1.0) > config.clip_eps).astype(jnp.float32)),
    }


def update(setup: PPOSetup, config: PPOConfig, params, opt_state, batch: Batch):
    """One gradient step on θ: ``(params, opt_state, metrics)``."""
    grads, metrics = jax.grad(loss_fn, argnums=2, has_aux=True)(setup, config, params, batch)
    updates, opt_state = optimizer(setup, config).update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, metrics


def update_epochs(setup: PPOSetup, config: PPOConfig, params, opt_state, data: Batch, key):
    """K epochs over the rollout, each a fresh shuffle into M minibatches, one gradient
    step per minibatch (:func:`jaxrl.deep.rollout.epochs`): ``(params, opt_state,
    metrics averaged over the K M steps)``."""

    def step(carry, batch):
        params, opt_state, metrics = update(setup, config, *carry, batch)
        return (params, opt_state), metrics

    (params, opt_state), metrics = rollout.epochs(
        step, (params, opt_state), data, key, config.update_epochs, config.num_minibatches)
    return params, opt_state, metrics


def train_step(setup: PPOSetup, config: PPOConfig, state: PPOState):
    """One iteration: a rollout of N T steps, GAE, K epochs of updates, the statistics."""
    key, key_rollout, key_update = jax.random.split(state.key, 3)
    env_state, ro = collect_rollout(setup, config, state, key_rollout)
    transitions, (action, log_prob, value) = ro.transitions, ro.extras
    ended, value_next = next_values(setup, config, state.params, state.obs_stats,
                                    transitions, value, env_state.obs)
    advantage, target = advantages(config, ended, value, value_next)
    data = rollout.flatten_time(Batch(
        x=features(setup, config, state.obs_stats, transitions.obs), action=action,
        log_prob=log_prob, value=value, advantage=advantage, target=target))
    params, opt_state, metrics = update_epochs(setup, config, state.params, state.opt_state,
                                               jax.lax.stop_gradient(data), key_update)
    stats = update_stats(setup, config, state.obs_stats, transitions.obs)
    step = state.step + config.num_envs * config.num_steps
    updates = jnp.asarray(config.update_epochs * config.num_minibatches, jnp.int32)
    return PPOState(params=params, opt_state=opt_state, obs_stats=stats, env_state=env_state,
                    step=step, key=key), {**metrics, "updates": updates, **ro.totals}


def greedy_action(setup: PPOSetup, config: PPOConfig, state: PPOState, obs) -> jax.Array:
    """The mode of π_θ for a batch of observations: ``argmax_a`` of the logits, or the
    Gaussian's mean clipped to the bounds."""
    head, _, _ = setup.network.apply(state.params,
                                     features(setup, config, state.obs_stats, obs))
    return env_action(setup, policies.mode(setup.network.discrete, head))


ALGORITHM = driver.Algorithm(make=make, init=init, train_step=train_step,
                             greedy_action=greedy_action)


def train(config: PPOConfig, key: jax.Array, env: Any = None, env_params: Any = None):
    """Train one seed: ``(PPOState, Curve)``; jitted, ``jax.vmap`` it over keys/configs."""
    return driver.train(ALGORITHM, config, key, env, env_params)


def run(config: PPOConfig, keys: jax.Array, **kwargs) -> driver.RunResult:
    """Train many seeds in compiled chunks (:func:`jaxrl.driver.run`)."""
    return driver.run(ALGORITHM, config, keys, **kwargs)


__all__ = [
    "ALGORITHM", "Batch", "PPOConfig", "PPOSetup", "PPOState", "advantages",
    "check_values", "collect_rollout", "env_action", "features", "greedy_action",
    "init", "loss_fn", "make", "next_values", "optimizer", "pendulum_config", "run",
    "train", "train_step", "update", "update_epochs", "update_stats",
]
