"""REINFORCE, the lecture's last slide "learn directly the policy (use policy gradient)":
Monte-Carlo policy gradient with a learned baseline (Williams 1992; Sutton & Barto 13.4).

::

    Initialize the policy π(a|s; θ) and the baseline b(s; w) at random    init
    Loop (one rollout, one update per iteration):                         train_step
        Act with π in num_envs environments for num_steps steps           collect_rollout
            (S_t, A_t ~ π(·|S_t; θ), R_{t+1}, S_{t+1})
        For each step t of an episode:
            G_t = Σ_k γ^k R_{t+k+1}   (the return, to the episode's end)  monte_carlo_returns
        θ ← θ + α ∇θ log π(A_t|S_t; θ) (G_t − b(S_t))                     loss_fn, update
        w ← w − α ∇w (b(S_t; w) − G_t)² / 2                               (the same step)
    The greedy policy: argmax_a π(a|s), or the Gaussian's mean μ(s)       greedy_action

``G_t − b(S_t)`` is the advantage; the baseline leaves the gradient's expectation as it
is (``E[∇θ log π(A|S)] b(S) = 0``) and lowers its variance. The update averages the
slide's per-step term over the rollout (:func:`jaxrl.targets.policy_gradient_loss`, a
mean over ``num_envs × num_steps`` steps) and takes one Adam step on the sum of the
policy loss, ``baseline_coef`` times the baseline's regression loss, and minus
``ent_coef`` times the policy's entropy (an optional bonus, 0 by default).

The returns are :func:`jaxrl.targets.lambda_returns` at λ = 1: exact Monte-Carlo returns
within each episode. An episode that the time limit cut (truncated), or that the
rollout's end cut, is bootstrapped from the baseline's value ``b(S')`` of its true final
observation (the environment contract, :class:`jaxrl.envs.wrappers.AutoReset`); a
terminated one is not bootstrapped. With ``num_steps`` at least the episodes' length,
almost every return is a full Monte-Carlo return: only each environment's last episode
in the rollout, unfinished, is bootstrapped. Without a baseline
(``baseline=False``, pure REINFORCE: ``b = 0``) there is no value to bootstrap from and
a cut episode's return is its rewards up to the cut.

Policies (:mod:`jaxrl.deep.policies`): a softmax over ``Discrete`` actions, a Gaussian
``N(μ(s), σ²)`` (state-independent σ) for ``Box`` actions; the critic head of
:class:`~jaxrl.deep.policies.ActorCritic` is the baseline. A Gaussian action is sampled
unclipped, clipped to the space's bounds when the environment steps, and ``log π`` is
that of the unclipped sample. Switches: ``baseline``, ``normalize_advantages`` (the
advantages of a rollout scaled to mean 0 and standard deviation 1; off by default, the
slide's update). Training runs through :mod:`jaxrl.driver`::

    state, curve = reinforce.train(ReinforceConfig(env="CartPole-v1"), jax.random.key(0))
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from jaxrl import driver
from jaxrl.checks import (
    NON_NEGATIVE,
    POSITIVE,
    check_choices,
    check_counts,
    check_gamma,
    check_numbers,
    check_widths,
)
from jaxrl.deep import policies, rollout
from jaxrl.deep.networks import ACTIVATIONS, clipped, input_size, preprocess, step_size
from jaxrl.deep.policies import ActorCritic
from jaxrl.envs.wrappers import AutoReset
from jaxrl.targets import lambda_returns, policy_gradient_loss


class ReinforceConfig(struct.PyTreeNode):
    """Hyper-parameters of REINFORCE. Defaults: tuned for CartPole-v1.

    Static fields (sizes, counts, names, switches) are fixed at compile time; the others
    are pytree leaves, so ``jax.vmap`` over a stacked config sweeps them.

    Attributes:
      env: environment name for :func:`jaxrl.make`.
      env_options: ``((field, value), ...)`` replacing fields of the environment's
        default params.
      total_steps: environment steps per seed (over all ``num_envs``).
      num_envs: parallel environments.
      num_steps: steps of each environment per rollout; one ``train_step`` collects
        ``num_envs × num_steps`` steps and makes one gradient step.
      hidden_sizes: widths of the policy's and the baseline's hidden layers.
      conv_features: channels of 3 × 3 convolutions before each of them, for an image
        observation such as MinAtar's (``()``: none).
      activation: hidden activation (:data:`jaxrl.deep.networks.ACTIVATIONS`).
      baseline: subtract the learned baseline ``b(s)`` (and bootstrap cut episodes from
        it); ``False``: ``b = 0``, pure REINFORCE.
      normalize_advantages: scale each rollout's ``G − b`` to mean 0, std 1.
      log_std_init: the Gaussian's initial ``log σ`` (``Box`` actions only).
      eval_every: environment steps between greedy evaluations.
      eval_episodes: greedy episodes per evaluation.
      learning_rate: Adam's step size α (> 0).
      learning_rate_end: if set, α decays linearly to it over the run's updates.
      gamma: discount γ in [0, 1].
      baseline_coef: weight of the baseline's loss ``(b(S) − G)² / 2``.
      ent_coef: weight of the entropy bonus (0: none, the slide's update).
      max_grad_norm: global-norm gradient clip (``inf``: none).
    """

    env: str = struct.field(pytree_node=False, default="CartPole-v1")
    env_options: tuple[tuple[str, Any], ...] = struct.field(pytree_node=False, default=())
    total_steps: int = struct.field(pytree_node=False, default=300_000)
    num_envs: int = struct.field(pytree_node=False, default=4)
    num_steps: int = struct.field(pytree_node=False, default=500)
    hidden_sizes: tuple[int, ...] = struct.field(pytree_node=False, default=(64, 64))
    conv_features: tuple[int, ...] = struct.field(pytree_node=False, default=())
    activation: str = struct.field(pytree_node=False, default="tanh")
    baseline: bool = struct.field(pytree_node=False, default=True)
    normalize_advantages: bool = struct.field(pytree_node=False, default=False)
    log_std_init: float = struct.field(pytree_node=False, default=0.0)
    eval_every: int = struct.field(pytree_node=False, default=20_000)
    eval_episodes: int = struct.field(pytree_node=False, default=16)
    learning_rate: float = 5e-3
    learning_rate_end: float | None = 1e-4
    gamma: float = 0.99
    baseline_coef: float = 0.5
    ent_coef: float = 0.0
    max_grad_norm: float = 1.0

    def __post_init__(self) -> None:
        check_values(self)


class ReinforceState(struct.PyTreeNode):
    """The agent: θ and w (one :class:`ActorCritic`'s parameters), the optimiser state,
    the environments, the step counter, the key."""

    params: Any
    opt_state: Any
    env_state: Any
    step: jax.Array
    key: jax.Array


class ReinforceSetup(struct.PyTreeNode):
    """What is fixed for a run, bound once by :func:`make`: the environment behind the
    contract, the network (``network.discrete``: softmax or Gaussian), the driver's
    schedule and the number of updates (the step-size decay's length)."""

    env: AutoReset = struct.field(pytree_node=False)
    network: ActorCritic = struct.field(pytree_node=False)
    schedule: driver.Schedule = struct.field(pytree_node=False)
    num_updates: int = struct.field(pytree_node=False)
    env_params: Any = None


def check_values(config: ReinforceConfig) -> None:
    """Raise ``ValueError`` (one clear line) for a value REINFORCE cannot run; every
    value of a stacked (swept) field is checked, traced ones are not."""
    check_counts(config, ("total_steps", "num_envs", "num_steps", "eval_every",
                          "eval_episodes"))
    check_widths(config, ("hidden_sizes", "conv_features"))
    check_choices({"activation": (config.activation, ACTIVATIONS)})
    check_numbers(config, {
        "learning_rate": POSITIVE,
        "learning_rate_end": POSITIVE,
        "baseline_coef": NON_NEGATIVE,
        "ent_coef": NON_NEGATIVE,
        "max_grad_norm": POSITIVE,
    })
    check_gamma(config.gamma)


def make(config: ReinforceConfig, env: Any = None, env_params: Any = None) -> ReinforceSetup:
    """Bind the run: ``env``/``env_params`` default to ``jaxrl.make(config.env)``; the
    network and the schedule are built here, once. ``ValueError`` (one line) for an
    environment REINFORCE cannot run."""
    env, env_params = driver.environment(config.env, env, env_params,
                                         **dict(config.env_options))
    network = policies.actor_critic("REINFORCE", env, env_params, config.hidden_sizes,
                                    config.activation, config.log_std_init,
                                    config.conv_features)
    schedule = driver.Schedule.of(config.total_steps, config.eval_every,
                                  config.num_envs * config.num_steps)
    return ReinforceSetup(env=env, network=network, schedule=schedule,
                          num_updates=schedule.calls, env_params=env_params)


def optimizer(setup: ReinforceSetup, config: ReinforceConfig) -> optax.GradientTransformation:
    """``clip_by_global_norm`` then Adam, the step size optionally decaying linearly to
    ``learning_rate_end`` over the run's updates (one per ``train_step``). Built from
    the config at each use: its step sizes are leaves a sweep varies."""
    lr = step_size(config.learning_rate, config.learning_rate_end, setup.num_updates)
    return clipped(optax.adam(lr), config.max_grad_norm)


def policy(setup: ReinforceSetup, params: Any, obs: Any):
    """``(head, log σ, b(s))`` for a batch of raw observations: the softmax's logits or
    the Gaussian's mean, its log standard deviation, and the baseline."""
    x = preprocess(obs, setup.env.observation_space(setup.env_params))
    return setup.network.apply(params, x)


def env_action(setup: ReinforceSetup, action: jax.Array) -> jax.Array:
    """The action the environment gets (:func:`jaxrl.deep.policies.env_action`)."""
    return policies.env_action(setup.network.discrete,
                               setup.env.action_space(setup.env_params), action)


def init(setup: ReinforceSetup, config: ReinforceConfig, key: jax.Array) -> ReinforceState:
    """θ and w at random (:class:`ActorCritic`), ``num_envs`` reset environments."""
    key_net, key_env, key = jax.random.split(key, 3)
    size = input_size(setup.env.observation_space(setup.env_params))
    params = setup.network.init(key_net, jnp.zeros((1, size)))
    _, env_state = setup.env.batch_reset(key_env, setup.env_params, config.num_envs)
    return ReinforceState(params=params, opt_state=optimizer(setup, config).init(params),
                          env_state=env_state, step=jnp.zeros((), jnp.int32), key=key)


def collect_rollout(setup: ReinforceSetup, config: ReinforceConfig, state: ReinforceState,
                    key: jax.Array):
    """``num_steps`` steps of the ``num_envs`` environments with ``A_t ~ π(·|S_t; θ)``:
    ``(env_state, Rollout)``; the rollout's ``extras`` hold the sampled (unclipped)
    actions, whose ``log π`` the update takes."""

    def act(obs, key):
        head, log_std, _ = policy(setup, state.params, obs)
        action = policies.sample(setup.network.discrete, key, head, log_std)
        return env_action(setup, action), action

    return rollout.collect(setup.env, setup.env_params, state.env_state, act, key,
                           config.num_steps)


def monte_carlo_returns(setup: ReinforceSetup, config: ReinforceConfig, params: Any,
                        data: rollout.Rollout) -> jax.Array:
    """``G_t = Σ_k γ^k R_{t+k+1}`` to each episode's end, ``[T, N]``
    (:func:`jaxrl.targets.lambda_returns` at λ = 1); an episode cut by a time limit or by
    the rollout's end is bootstrapped from ``b(S')`` of its true final observation
    (``0`` without a baseline)."""
    tr = data.transitions
    if config.baseline:
        value_next = jax.lax.stop_gradient(policy(setup, params, tr.next_obs)[2])
    else:
        value_next = jnp.zeros_like(tr.reward)
    return lambda_returns(tr.reward, tr.terminated, tr.truncated, value_next, config.gamma,
                          1.0)


def loss_fn(setup: ReinforceSetup, config: ReinforceConfig, params: Any, obs: Any,
            action: jax.Array, returns: jax.Array):
    """``-mean_t log π(A_t|S_t; θ) (G_t − b(S_t)) + c_b mean_t (b(S_t; w) − G_t)² / 2
    − c_H mean_t H(π(·|S_t; θ))`` over a flat batch: ``(loss, (policy loss, baseline
    loss, entropy))``. The advantage ``G − b`` carries no gradient."""
    head, log_std, value = policy(setup, params, obs)
    log_pi = policies.log_prob(setup.network.discrete, head, log_std, action)
    baseline = value if config.baseline else jnp.zeros_like(value)
    advantage = returns - jax.lax.stop_gradient(baseline)
    if config.normalize_advantages:
        advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
    policy_loss = policy_gradient_loss(log_pi, advantage)
    baseline_loss = (0.5 * jnp.mean(jnp.square(value - returns)) if config.baseline
                     else jnp.zeros(()))
    ent = jnp.mean(policies.entropy(setup.network.discrete, head, log_std))
    loss = policy_loss + config.baseline_coef * baseline_loss - config.ent_coef * ent
    return loss, (policy_loss, baseline_loss, ent)


def update(setup: ReinforceSetup, config: ReinforceConfig, params: Any, opt_state: Any,
           data: rollout.Rollout, returns: jax.Array):
    """One gradient step on θ and w on the whole rollout: ``(params, opt_state, loss,
    (policy loss, baseline loss, entropy))``."""
    obs, action, returns = rollout.flatten_time((data.transitions.obs, data.extras, returns))
    (loss, parts), grads = jax.value_and_grad(loss_fn, argnums=2, has_aux=True)(
        setup, config, params, obs, action, returns)
    updates, opt_state = optimizer(setup, config).update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss, parts


def train_step(setup: ReinforceSetup, config: ReinforceConfig, state: ReinforceState):
    """One rollout of ``num_envs × num_steps`` steps, its returns, one update."""
    key, key_rollout = jax.random.split(state.key)
    env_state, data = collect_rollout(setup, config, state, key_rollout)
    returns = monte_carlo_returns(setup, config, state.params, data)
    params, opt_state, loss, (policy_loss, baseline_loss, ent) = update(
        setup, config, state.params, state.opt_state, data, returns)
    metrics = {"loss": loss, "policy_loss": policy_loss, "baseline_loss": baseline_loss,
               "entropy": ent, "updates": jnp.ones((), jnp.int32), **data.totals}
    new_state = ReinforceState(params=params, opt_state=opt_state, env_state=env_state,
                               step=state.step + config.num_envs * config.num_steps, key=key)
    return new_state, metrics


def greedy_action(setup: ReinforceSetup, config: ReinforceConfig, state: ReinforceState,
                  obs) -> jax.Array:
    """The most likely action for a batch of observations: ``argmax_a π(a|s)``, or the
    Gaussian's mean clipped to the bounds."""
    head, _, _ = policy(setup, state.params, obs)
    return env_action(setup, policies.mode(setup.network.discrete, head))


def pendulum_config(**changes: Any) -> ReinforceConfig:
    """A Gaussian policy on gymnax's Pendulum-v1: whole 200-step episodes per rollout,
    normalised advantages, no gradient clip (``changes`` replace fields)."""
    config = ReinforceConfig(env="Pendulum-v1", total_steps=500_000, num_envs=2,
                             num_steps=200, eval_every=50_000, normalize_advantages=True,
                             learning_rate=1e-3, learning_rate_end=None, gamma=0.95,
                             max_grad_norm=float("inf"))
    return config.replace(**changes)


ALGORITHM = driver.Algorithm(make=make, init=init, train_step=train_step,
                             greedy_action=greedy_action)


def train(config: ReinforceConfig, key: jax.Array, env: Any = None, env_params: Any = None):
    """Train one seed: ``(ReinforceState, Curve)``; jitted, ``jax.vmap`` it over keys."""
    return driver.train(ALGORITHM, config, key, env, env_params)


def run(config: ReinforceConfig, keys: jax.Array, **kwargs) -> driver.RunResult:
    """Train many seeds in compiled chunks (:func:`jaxrl.driver.run`)."""
    return driver.run(ALGORITHM, config, keys, **kwargs)


__all__ = [
    "ALGORITHM", "ReinforceConfig", "ReinforceSetup", "ReinforceState", "check_values",
    "collect_rollout", "env_action", "greedy_action", "init", "loss_fn", "make",
    "monte_carlo_returns", "optimizer", "pendulum_config", "policy", "run", "train",
    "train_step", "update",
]
