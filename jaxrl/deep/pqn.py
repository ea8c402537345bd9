"""PQN: the same online Q-learning as :mod:`jaxrl.deep.nnq`, made stable.

Gallici et al., "Simplifying Deep Temporal Difference Learning" (ICLR 2025); the
reference implementation is purejaxql's ``pqn_gymnax.py``. Naive NN-Q learns from the
transitions it has just made, with the target from the same θ, and tends to diverge.
PQN keeps exactly that (no replay memory, no target network) and adds three things:
many environments in parallel (the batch decorrelates), Q(λ) returns over a short
rollout (the target looks further than one step), and LayerNorm in the hidden layers
(the network that keeps a moving target stable, the paper's analysis).

::

    Initialize Q-network with random weights θ (LayerNorm in each layer)   init
    Loop for each iteration:                                               train_step
        For t = 1..T, in each of N environments:                           collect
            Choose A_t from S_t ε-greedy on Q(S_t, ·; θ)                   select_action
            Take A_t, observe R_t and S_{t+1}                              (the environment)
        G^λ_t = R_t + γ [(1 - λ) max_a Q(S_{t+1}, a; θ) + λ G^λ_{t+1}]     q_lambda_targets
        For each of E epochs, for each of M minibatches of the T·N steps:  learn
            gradient step on θ for ‖Q(S_t, A_t; θ) - G^λ_t‖²               update_q, loss_fn
    The greedy policy: argmax_a Q(S, a; θ)                                 greedy_action

The λ-return (:func:`jaxrl.targets.lambda_returns`) is cut at each episode's end: no
bootstrap past termination, a bootstrap from the true final observation on truncation
(a time limit) and at the rollout's last step. The values ``max_a Q(S_{t+1}, a; θ)``
come from θ as it is after the rollout (the same θ that acted: no update happens
during a rollout), with no gradient: by default one more pass of the network over the
rollout's true next observations; with ``bootstrap_truncation=False`` (purejaxql's and
rejax's convention) a truncation ends the return like a termination and the values are
the acting pass's ``max_a Q(S_{t+1}, a)``, so the network runs only on the observations
after the rollout. λ = 0 is the one-step Q-learning target of NN-Q;
λ = 1 the Monte-Carlo return up to the episode's (or rollout's) end.

Options (:class:`PQNConfig`): ``layer_norm`` (``False`` is the paper's ablation), the
loss (``"l2"``, ``"squared"`` or ``"huber"``), ``reward_scale`` (the rewards times a
constant in the targets, purejaxql's ``REW_SCALE``), ε linear over ``exploration_steps``,
RAdam (Liu et al. 2020, purejaxql's; ``optimizer="adam"``: Adam, rejax's) after a
global-norm clip, with an optional linear decay of the step size to ``learning_rate_end``
over the run's gradient steps.

Environments: any with a ``Discrete`` action space and array (or ``Discrete``, one-hot
encoded) observations::

    state, curve = pqn.train(PQNConfig(env="CartPole-v1"), jax.random.key(0))
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct
from gymnax.environments import spaces

from jaxrl import driver
from jaxrl.checks import (
    POSITIVE,
    UNIT_INTERVAL,
    check_choices,
    check_counts,
    check_gamma,
    check_minibatches,
    check_numbers,
    check_space,
    check_widths,
)
from jaxrl.deep import exploration, rollout
from jaxrl.deep.networks import (
    ACTIVATIONS,
    QNetwork,
    clipped,
    image_shape,
    input_size,
    preprocess,
    step_size,
)
from jaxrl.envs.wrappers import AutoReset, Transition
from jaxrl.targets import TD_LOSSES, lambda_returns, taken_action_value, td_loss

LOSSES = TD_LOSSES
#: The optimisers ``PQNConfig.optimizer`` names.
OPTIMIZERS = {"radam": optax.radam, "adam": optax.adam}


class PQNConfig(struct.PyTreeNode):
    """Hyper-parameters of PQN (defaults: tuned on CartPole-v1).

    Attributes:
      env: environment name for :func:`jaxrl.make`.
      env_options: ``((field, value), ...)`` replacing fields of the environment's
        default params.
      total_steps: environment steps per seed.
      num_envs: parallel environments N.
      num_steps: rollout length T: each ``train_step`` makes ``N · T`` environment steps.
      num_minibatches: minibatches M the ``N · T`` steps are cut into (must divide it).
      update_epochs: passes E over the rollout.
      hidden_sizes, activation: the Q-network (:class:`jaxrl.deep.networks.QNetwork`).
      conv_features: channels of 3 × 3 convolutions before its MLP, for an image
        observation such as MinAtar's (``()``: none).
      layer_norm: ``LayerNorm`` in each hidden layer (``False``: the ablation).
      loss: ``"l2"`` (``(y - q)² / 2``), ``"squared"`` or ``"huber"``.
      exploration_steps: environment steps over which ε goes from start to end.
      eval_every, eval_episodes: greedy evaluations (:mod:`jaxrl.driver`).
      optimizer: ``"radam"`` (purejaxql's) or ``"adam"`` (rejax's).
      learning_rate: the optimiser's step size (> 0).
      learning_rate_end: if set, the step size decays linearly to it over the run's
        gradient steps.
      gamma: discount γ in [0, 1].
      q_lambda: λ of the Q(λ) returns, in [0, 1].
      reward_scale: the rewards are multiplied by it in the targets (> 0; purejaxql's
        ``REW_SCALE``): Q learns ``reward_scale`` times the values, in a range an output
        layer after LayerNorm reaches in few steps; the greedy policy is the same.
      epsilon_start, epsilon_end: the ε-greedy schedule's endpoints.
      max_grad_norm: global-norm gradient clip (``inf``: none).
      bootstrap_truncation: bootstrap a truncated episode's return from
        ``max_a Q`` of its true final observation (``False``: end it like a termination
        and take ``max_a Q(S_{t+1}, a)`` from the acting pass, as purejaxql and rejax
        do).
    """

    env: str = struct.field(pytree_node=False, default="CartPole-v1")
    env_options: tuple[tuple[str, Any], ...] = struct.field(pytree_node=False, default=())
    total_steps: int = struct.field(pytree_node=False, default=300_000)
    num_envs: int = struct.field(pytree_node=False, default=32)
    num_steps: int = struct.field(pytree_node=False, default=64)
    num_minibatches: int = struct.field(pytree_node=False, default=16)
    update_epochs: int = struct.field(pytree_node=False, default=2)
    hidden_sizes: tuple[int, ...] = struct.field(pytree_node=False, default=(128, 128))
    conv_features: tuple[int, ...] = struct.field(pytree_node=False, default=())
    activation: str = struct.field(pytree_node=False, default="relu")
    layer_norm: bool = struct.field(pytree_node=False, default=True)
    loss: str = struct.field(pytree_node=False, default="l2")
    exploration_steps: int = struct.field(pytree_node=False, default=60_000)
    optimizer: str = struct.field(pytree_node=False, default="radam")
    bootstrap_truncation: bool = struct.field(pytree_node=False, default=True)
    eval_every: int = struct.field(pytree_node=False, default=30_000)
    eval_episodes: int = struct.field(pytree_node=False, default=16)
    learning_rate: float = 3e-4
    learning_rate_end: float | None = 1e-6
    gamma: float = 0.99
    q_lambda: float = 0.95
    reward_scale: float = 0.1
    epsilon_start: float = 1.0
    epsilon_end: float = 0.2
    max_grad_norm: float = 10.0

    def __post_init__(self) -> None:
        check_values(self)


class PQNState(struct.PyTreeNode):
    """The agent: θ, the optimiser state, the environments, the step counter, key."""

    params: Any
    opt_state: Any
    env_state: Any
    step: jax.Array
    key: jax.Array


class PQNSetup(struct.PyTreeNode):
    """What is fixed for a run, bound once by :func:`make`: the environment behind the
    contract, the Q-network, the driver's schedule and the step-size decay's length."""

    env: AutoReset = struct.field(pytree_node=False)
    network: QNetwork = struct.field(pytree_node=False)
    schedule: driver.Schedule = struct.field(pytree_node=False)
    num_updates: int = struct.field(pytree_node=False)
    env_params: Any = None


def make(config: PQNConfig, env: Any = None, env_params: Any = None) -> PQNSetup:
    """Bind the run (the config checked its values when made): ``env``/``env_params``
    default to ``jaxrl.make(config.env, **config.env_options)``. ``ValueError`` (one
    line) for an environment PQN cannot run."""
    env, env_params = driver.environment(config.env, env, env_params,
                                         **dict(config.env_options))
    check_space("PQN", env, "action", env.action_space(env_params), (spaces.Discrete,),
                "use DDPG (jaxrl.deep.ddpg) or PPO (jaxrl.deep.ppo) for continuous actions")
    check_space("PQN", env, "observation", env.observation_space(env_params),
                (spaces.Box, spaces.Discrete))
    schedule = driver.Schedule.of(config.total_steps, config.eval_every,
                                  config.num_envs * config.num_steps)
    return PQNSetup(
        env=env,
        network=QNetwork(num_actions=int(env.action_space(env_params).n),
                         hidden_sizes=tuple(config.hidden_sizes), activation=config.activation,
                         layer_norm=config.layer_norm, conv=tuple(config.conv_features),
                         image_shape=image_shape("PQN", env.observation_space(env_params),
                                                 config.conv_features)),
        schedule=schedule,
        num_updates=schedule.learning_updates(0, config.update_epochs * config.num_minibatches),
        env_params=env_params,
    )


def check_values(config: PQNConfig) -> None:
    """Raise ``ValueError`` (one clear line) for a value PQN cannot run; every value of a
    stacked (swept) field is checked, traced ones are not."""
    check_counts(config, ("total_steps", "num_envs", "num_steps", "num_minibatches",
                          "update_epochs", "eval_every", "eval_episodes"))
    check_widths(config, ("hidden_sizes", "conv_features"))
    check_minibatches(config)
    check_choices({"loss": (config.loss, LOSSES),
                   "activation": (config.activation, ACTIVATIONS),
                   "optimizer": (config.optimizer, tuple(OPTIMIZERS))})
    check_numbers(config, {
        "learning_rate": POSITIVE,
        "learning_rate_end": POSITIVE,
        "q_lambda": UNIT_INTERVAL,
        "reward_scale": POSITIVE,
        "epsilon_start": UNIT_INTERVAL,
        "epsilon_end": UNIT_INTERVAL,
        "max_grad_norm": POSITIVE,
    })
    check_gamma(config.gamma)


def optimizer(setup: PQNSetup, config: PQNConfig) -> optax.GradientTransformation:
    """``clip_by_global_norm`` then RAdam (or Adam), the step size optionally decaying
    linearly to ``learning_rate_end`` over the run's ``setup.num_updates`` gradient steps.
    Built from the config at each use: the step size is a leaf a sweep varies."""
    lr = step_size(config.learning_rate, config.learning_rate_end, setup.num_updates)
    return clipped(OPTIMIZERS[config.optimizer](lr), config.max_grad_norm)


def q_values(setup: PQNSetup, params: Any, obs: Any) -> jax.Array:
    """``Q(obs, ·; θ)`` for a batch (any leading axes) of raw observations."""
    return setup.network.apply(params, preprocess(obs, setup.env.observation_space(
        setup.env_params)))


def init(setup: PQNSetup, config: PQNConfig, key: jax.Array) -> PQNState:
    """θ at random and ``num_envs`` reset environments."""
    key_net, key_env, key = jax.random.split(key, 3)
    size = input_size(setup.env.observation_space(setup.env_params))
    params = setup.network.init(key_net, jnp.zeros((1, size)))
    _, env_state = setup.env.batch_reset(key_env, setup.env_params, config.num_envs)
    return PQNState(params=params, opt_state=optimizer(setup, config).init(params),
                    env_state=env_state, step=jnp.zeros((), jnp.int32), key=key)


def select_action(setup: PQNSetup, config: PQNConfig, params, step, obs, key):
    """ε-greedy on ``Q(S_t, ·; θ)``, ε on its linear schedule at the rollout's start:
    ``(actions, max_a Q(S_t, a; θ))``, the ``act`` of :func:`jaxrl.deep.rollout.collect`
    (the values, for :func:`q_lambda_targets` with ``bootstrap_truncation=False``)."""
    epsilon = exploration.epsilon_schedule(
        config.epsilon_start, config.epsilon_end, config.exploration_steps)(step)
    q = q_values(setup, params, obs)
    return exploration.epsilon_greedy(key, q, epsilon), jnp.max(q, axis=-1)


def q_lambda_targets(setup: PQNSetup, config: PQNConfig, params, transitions: Transition,
                     q_max: jax.Array, obs_after: Any) -> jax.Array:
    """``G^λ_t`` over the ``[T, N]`` rollout of the rewards times ``reward_scale``,
    bootstrapping on ``max_a Q(S'_t, a; θ)`` (:func:`jaxrl.targets.lambda_returns`), no
    gradient. By default ``S'_t`` are the true next observations (the final one where
    an episode ended); with ``bootstrap_truncation=False`` a truncation counts as a
    termination, and the values are the acting pass's ``q_max`` (``max_a Q(S_t, a)``,
    ``[T, N]``) one step on, then ``max_a Q`` of ``obs_after`` (the observations after
    the rollout) at its end."""
    if config.bootstrap_truncation:
        value_next = jnp.max(q_values(setup, params, transitions.next_obs), axis=-1)
    else:
        transitions = transitions.replace(
            terminated=transitions.terminated | transitions.truncated,
            truncated=jnp.zeros_like(transitions.truncated))
        last = jnp.max(q_values(setup, params, obs_after), axis=-1)
        value_next = jnp.concatenate([q_max[1:], last[None]])
    reward = config.reward_scale * transitions.reward
    returns = lambda_returns(reward, transitions.terminated,
                             transitions.truncated, value_next, config.gamma,
                             config.q_lambda)
    return jax.lax.stop_gradient(returns)


def loss_fn(setup: PQNSetup, config: PQNConfig, params, batch: Transition,
            targets: jax.Array) -> jax.Array:
    """The regression ``mean_j ℓ(Q(S_j, A_j; θ) - G^λ_j)`` (:func:`jaxrl.targets.td_loss`)."""
    q_taken = taken_action_value(q_values(setup, params, batch.obs), batch.action)
    return td_loss(q_taken, targets, config.loss)


def update_q(setup: PQNSetup, config: PQNConfig, params, opt_state, batch, targets):
    """One gradient step on θ: ``(params, opt_state, loss)``."""
    loss, grads = jax.value_and_grad(loss_fn, argnums=2)(setup, config, params, batch,
                                                         targets)
    updates, opt_state = optimizer(setup, config).update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


def learn(setup: PQNSetup, config: PQNConfig, params, opt_state, transitions, targets,
          key):
    """``update_epochs`` passes over the rollout, each in ``num_minibatches`` shuffled
    minibatches (:func:`jaxrl.deep.rollout.epochs`): ``(params, opt_state, mean loss)``."""

    def step(carry, batch):
        (obs, action), targets = batch
        minibatch = Transition(obs=obs, action=action, reward=None, next_obs=None,
                               terminated=None, truncated=None)  # what loss_fn reads
        params, opt_state, loss = update_q(setup, config, *carry, minibatch, targets)
        return (params, opt_state), {"loss": loss}

    # Only (S_t, A_t) and the targets are shuffled: the rest of each transition is spent.
    data = rollout.flatten_time(((transitions.obs, transitions.action), targets))
    (params, opt_state), metrics = rollout.epochs(
        step, (params, opt_state), data, key, config.update_epochs, config.num_minibatches)
    return params, opt_state, metrics["loss"]


def train_step(setup: PQNSetup, config: PQNConfig, state: PQNState):
    """One rollout of ``num_steps`` steps in the ``num_envs`` environments, its Q(λ)
    targets, then ``update_epochs × num_minibatches`` gradient steps."""
    key, key_rollout, key_learn = jax.random.split(state.key, 3)
    act = lambda obs, k: select_action(setup, config, state.params, state.step, obs, k)  # noqa: E731
    env_state, batch = rollout.collect(setup.env, setup.env_params, state.env_state, act,
                                       key_rollout, config.num_steps)
    targets = q_lambda_targets(setup, config, state.params, batch.transitions, batch.extras,
                               env_state.obs)
    params, opt_state, loss = learn(setup, config, state.params, state.opt_state,
                                    batch.transitions, targets, key_learn)
    metrics = {"loss": loss, **batch.totals}
    new_state = PQNState(params=params, opt_state=opt_state, env_state=env_state,
                         step=state.step + config.num_envs * config.num_steps, key=key)
    return new_state, metrics


def greedy_action(setup: PQNSetup, config: PQNConfig, state: PQNState, obs) -> jax.Array:
    """``argmax_a Q(obs, a; θ)`` for a batch of observations."""
    return jnp.argmax(q_values(setup, state.params, obs), axis=-1).astype(jnp.int32)


ALGORITHM = driver.Algorithm(make=make, init=init, train_step=train_step,
                             greedy_action=greedy_action)


def train(config: PQNConfig, key: jax.Array, env: Any = None, env_params: Any = None):
    """Train one seed: ``(PQNState, Curve)``; jitted, ``jax.vmap`` it over keys/configs."""
    return driver.train(ALGORITHM, config, key, env, env_params)


def run(config: PQNConfig, keys: jax.Array, **kwargs) -> driver.RunResult:
    """Train many seeds in compiled chunks (:func:`jaxrl.driver.run`)."""
    return driver.run(ALGORITHM, config, keys, **kwargs)


__all__ = [
    "ALGORITHM", "PQNConfig", "PQNSetup", "PQNState", "check_values", "greedy_action",
    "init", "learn", "loss_fn", "make", "optimizer", "q_lambda_targets", "q_values", "run",
    "select_action", "train", "train_step", "update_q",
]
