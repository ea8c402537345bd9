"""Naive Q-learning with a network: the lecture's first step from the table to DQN.

The slide "Q-learning with function approximation": the table ``Q(S, A)`` becomes a
network ``Q(S, A; θ)``, and each step of experience gives one gradient step on

::

    ‖Q(S_t, A_t; θ) - C_t - γ min_A Q(S_{t+1}, A; θ)‖²          (the target uses the same θ)

on the **current transition(s) only**: no replay memory, no target network. The lecture
then notes that this tends to be unstable (correlated samples, a moving target), which
DQN (:mod:`jaxrl.deep.dqn`) fixes. In reward form the ``min`` is a ``max``; no bootstrap
past termination, bootstrap from the true final observation on truncation.

With a one-hot input, one bias-free linear layer initialised U(0, 0.01), plain SGD with
``lr = 0.1`` on the summed squared error (``loss="squared"``) and the course's
``disturb`` exploration, it is the course's ``deeptable`` practical on
``DiscretePendulum``: :func:`deeptable_config` and :func:`deeptable` measure it
(``reference/course.md`` §3.1). One difference: the course bootstraps even on the step
that reaches the goal; here the target stops at termination, as everywhere in jaxrl.
Over 100 seeds it matches a plain numpy port of the source (``benchmarks/dqn.py``:
training success 0.28 both, greedy success from 54 % / 53 % of states); neither reaches
course.md's re-simulated 0.84 / 99.5 % (the README says what was tried).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct
from gymnax.environments import spaces

from jaxrl import train as driver
from jaxrl.checks import (
    POSITIVE,
    UNIT_INTERVAL,
    check_choices,
    check_counts,
    check_numbers,
    check_space,
)
from jaxrl.deep import exploration
from jaxrl.deep.dqn import td_target
from jaxrl.deep.networks import ACTIVATIONS, QNetwork, input_size, preprocess
from jaxrl.envs.registry import make
from jaxrl.envs.tabular import exact_model
from jaxrl.envs.wrappers import AutoReset, Transition
from jaxrl.tabular.planning import value_iteration
from jaxrl.tabular.qlearning import QLearningConfig, evaluate_q

EXPLORATIONS = ("epsilon_greedy", "disturb")
LOSSES = ("squared", "l2", "huber")
OPTIMIZERS = ("sgd", "adam")


class NNQConfig(struct.PyTreeNode):
    """Hyper-parameters of naive NN Q-learning (defaults: an MLP on CartPole-v1).

    Attributes:
      env: environment name for :func:`jaxrl.make`.
      total_steps: environment steps per seed.
      num_envs: parallel environments; each step updates on their current transitions.
      max_steps: episode time limit override (``None``: the environment's own).
      hidden_sizes, activation, use_bias, kernel: the Q-network
        (:class:`jaxrl.deep.networks.QNetwork`).
      exploration: ``"epsilon_greedy"`` or the course's ``"disturb"``.
      exploration_steps: environment steps over which ε goes from start to end.
      loss: ``"squared"`` ((y - q)², the course's), ``"l2"`` (half of it), ``"huber"``.
      optimizer: ``"sgd"`` (plain) or ``"adam"``.
      eval_every, eval_episodes: greedy evaluations (:mod:`jaxrl.train`).
      learning_rate: step size (> 0).
      gamma: discount γ in [0, 1].
      epsilon_start, epsilon_end: the ε-greedy schedule's endpoints.
      max_grad_norm: global-norm gradient clip.
    """

    env: str = struct.field(pytree_node=False, default="CartPole-v1")
    total_steps: int = struct.field(pytree_node=False, default=100_000)
    num_envs: int = struct.field(pytree_node=False, default=1)
    max_steps: int | None = struct.field(pytree_node=False, default=None)
    hidden_sizes: tuple[int, ...] = struct.field(pytree_node=False, default=(64, 64))
    activation: str = struct.field(pytree_node=False, default="relu")
    use_bias: bool = struct.field(pytree_node=False, default=True)
    kernel: str = struct.field(pytree_node=False, default="lecun")
    exploration: str = struct.field(pytree_node=False, default="epsilon_greedy")
    exploration_steps: int = struct.field(pytree_node=False, default=20_000)
    loss: str = struct.field(pytree_node=False, default="huber")
    optimizer: str = struct.field(pytree_node=False, default="adam")
    eval_every: int = struct.field(pytree_node=False, default=5_000)
    eval_episodes: int = struct.field(pytree_node=False, default=16)
    learning_rate: float = 1e-3
    gamma: float = 0.99
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    max_grad_norm: float = 10.0


def deeptable_config(**changes: Any) -> NNQConfig:
    """The course's ``deeptable`` practical on ``DiscretePendulum`` (course.md §3.1)."""
    base = NNQConfig(
        env="DiscretePendulum", total_steps=500 * 49, num_envs=1, max_steps=49,
        hidden_sizes=(), use_bias=False, kernel="uniform001", exploration="disturb",
        loss="squared", optimizer="sgd", eval_every=49 * 50, eval_episodes=64,
        learning_rate=0.1, gamma=0.99, max_grad_norm=float("inf"),
    )
    return base.replace(**changes)


class NNQState(struct.PyTreeNode):
    """The agent: θ, the optimiser state, the environments, the step counter, key."""

    params: Any
    opt_state: Any
    env_state: Any
    step: jax.Array
    key: jax.Array


def check_config(config: NNQConfig, env: Any, env_params: Any) -> None:
    """Raise ``ValueError`` (one clear line) for a config or environment NN-Q cannot run."""
    check_space("NN Q-learning", env, "action", env.action_space(env_params),
                (spaces.Discrete,), "use DDPG (jaxrl.deep.ddpg) for continuous actions")
    check_counts(config, ("total_steps", "num_envs", "eval_every", "eval_episodes"))
    check_choices({"exploration": (config.exploration, EXPLORATIONS),
                   "loss": (config.loss, LOSSES),
                   "optimizer": (config.optimizer, OPTIMIZERS),
                   "activation": (config.activation, ACTIVATIONS)})
    check_numbers(config, {
        "learning_rate": POSITIVE,
        "gamma": UNIT_INTERVAL,
        "epsilon_start": UNIT_INTERVAL,
        "epsilon_end": UNIT_INTERVAL,
    }, labels={"gamma": "gamma (γ)"})


def network(config: NNQConfig, env: Any, env_params: Any) -> QNetwork:
    """The Q-network for the config and environment."""
    return QNetwork(num_actions=int(env.action_space(env_params).n),
                    hidden_sizes=tuple(config.hidden_sizes), activation=config.activation,
                    use_bias=config.use_bias, kernel=config.kernel)


def optimizer(config: NNQConfig) -> optax.GradientTransformation:
    """Plain SGD or Adam, after a global-norm clip."""
    base = (optax.sgd(config.learning_rate) if config.optimizer == "sgd"
            else optax.adam(config.learning_rate))
    return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), base)


def q_values(config, params, obs, env, env_params) -> jax.Array:
    """``Q(obs, ·; θ)`` for a batch of raw observations."""
    x = preprocess(obs, env.observation_space(env_params))
    return network(config, env, env_params).apply(params, x)


def init(config: NNQConfig, key: jax.Array, env: AutoReset, env_params: Any) -> NNQState:
    """θ at random and ``num_envs`` reset environments."""
    key_net, key_env, key = jax.random.split(key, 3)
    size = input_size(env.observation_space(env_params))
    params = network(config, env, env_params).init(key_net, jnp.zeros((1, size)))
    _, env_state = env.batch_reset(key_env, env_params, config.num_envs)
    return NNQState(params=params, opt_state=optimizer(config).init(params),
                    env_state=env_state, step=jnp.zeros((), jnp.int32), key=key)


def select_action(config, state: NNQState, key, env, env_params) -> jax.Array:
    """ε-greedy on ``Q(S_t, ·; θ)``, or the course's ``disturb`` of ``argmax``."""
    q = q_values(config, state.params, state.env_state.obs, env, env_params)
    if config.exploration == "disturb":
        episode = state.env_state.stats.episodes
        return exploration.disturb(key, jnp.argmax(q, axis=-1), episode, q.shape[-1])
    epsilon = exploration.epsilon_schedule(
        config.epsilon_start, config.epsilon_end, config.exploration_steps)(state.step)
    return exploration.epsilon_greedy(key, q, epsilon)


def loss_fn(config, params, batch: Transition, env, env_params) -> jax.Array:
    """The TD loss on the current transitions, the target from the same θ (no gradient)."""
    q = q_values(config, params, batch.obs, env, env_params)
    q_taken = jnp.take_along_axis(q, batch.action[:, None], axis=-1)[:, 0]
    q_next = q_values(config, params, batch.next_obs, env, env_params)
    target = jax.lax.stop_gradient(
        td_target(_NoDouble(config.gamma), batch.reward, batch.terminated, q_next))
    if config.loss == "huber":
        return jnp.mean(optax.huber_loss(q_taken, target, delta=1.0))
    half = jnp.mean(optax.l2_loss(q_taken, target))
    return 2.0 * half if config.loss == "squared" else half


class _NoDouble(struct.PyTreeNode):
    """The fields :func:`jaxrl.deep.dqn.td_target` reads: plain max, this γ."""

    gamma: Any
    double: bool = struct.field(pytree_node=False, default=False)


def update_q(config, state: NNQState, batch: Transition, env, env_params):
    """One gradient step on the current transitions: ``(params, opt_state, loss)``."""
    loss, grads = jax.value_and_grad(loss_fn, argnums=1)(config, state.params, batch, env,
                                                         env_params)
    updates, opt_state = optimizer(config).update(grads, state.opt_state, state.params)
    return optax.apply_updates(state.params, updates), opt_state, loss


def train_step(config: NNQConfig, state: NNQState, env: AutoReset, env_params: Any):
    """Act in the ``num_envs`` environments, then one gradient step on those transitions."""
    key, key_act, key_env = jax.random.split(state.key, 3)
    actions = select_action(config, state, key_act, env, env_params)
    env_state, transitions = env.batch_step(key_env, state.env_state, actions, env_params)
    params, opt_state, loss = update_q(config, state, transitions, env, env_params)
    stats = env_state.stats
    metrics = {
        "loss": loss,
        "episodes": jnp.sum(stats.finished.astype(jnp.int32)),
        "return_sum": jnp.sum(jnp.where(stats.finished, stats.last_return, 0.0)),
        "terminated": jnp.sum(transitions.terminated.astype(jnp.int32)),
    }
    return NNQState(params=params, opt_state=opt_state, env_state=env_state,
                    step=state.step + config.num_envs, key=key), metrics


def greedy_action(config, state: NNQState, obs, env, env_params) -> jax.Array:
    """``argmax_a Q(obs, a; θ)`` for a batch of observations."""
    return jnp.argmax(q_values(config, state.params, obs, env, env_params), axis=-1).astype(
        jnp.int32)


def make_env(config: NNQConfig) -> tuple[AutoReset, Any]:
    """The configured environment behind the contract (time limit ``max_steps`` if set)."""
    env, env_params = make(config.env)
    if config.max_steps is not None:
        env_params = env_params.replace(max_steps_in_episode=config.max_steps)
    return AutoReset(env), env_params


ALGORITHM = driver.Algorithm(name="nnq", make_env=make_env, check=check_config, init=init,
                             train_step=train_step, greedy_action=greedy_action)


def train(config: NNQConfig, key: jax.Array, env: Any = None, env_params: Any = None):
    """Train one seed: ``(NNQState, Curve)``; jitted, ``jax.vmap`` it over keys/configs."""
    return driver.train(ALGORITHM, config, key, env, env_params)


def run(config: NNQConfig, keys: jax.Array, **kwargs) -> driver.RunResult:
    """Train many seeds in compiled chunks (:func:`jaxrl.train.run`)."""
    return driver.run(ALGORITHM, config, keys, **kwargs)


def deeptable(key: jax.Array, episodes: int = 500, config: NNQConfig | None = None,
              greedy_horizon: int = 100):
    """The course's ``deeptable`` measured: ``(training success rate, greedy success)``.

    Trains one environment for exactly ``episodes`` episodes (the course's loop, with
    ``break`` on reaching the goal), then scores the greedy policy on the exact model of
    ``DiscretePendulum``: the share of states from which it reaches the goal within
    ``greedy_horizon`` steps. ``jax.vmap`` over keys for several seeds.
    """
    config = deeptable_config() if config is None else config
    env, env_params = make_env(config)
    check_config(config, env, env_params)
    model = exact_model(env, env_params)
    if model is None:
        raise ValueError(f"deeptable needs an environment with an exact model, not {env.name}")
    return _deeptable(config, key, env_params, model, env, episodes, greedy_horizon)


@partial(jax.jit, static_argnames=("env", "episodes", "greedy_horizon"))
def _deeptable(config, key, env_params, model, env, episodes, greedy_horizon):
    state = init(config, key, env, env_params)

    def cond(carry):
        state, _ = carry
        return state.env_state.stats.episodes[0] < episodes

    def body(carry):
        state, successes = carry
        state, metrics = train_step(config, state, env, env_params)
        return state, successes + metrics["terminated"]

    state, successes = jax.lax.while_loop(cond, body, (state, jnp.zeros((), jnp.int32)))
    states = jnp.arange(model.mdp.num_states)
    q = q_values(config, state.params, states, env, env_params)
    optimum = value_iteration(model.mdp, config.gamma, tol=1e-6, max_sweeps=10_000)
    scoring = QLearningConfig(gamma=config.gamma, greedy_horizon=greedy_horizon)
    _, _, greedy_success = evaluate_q(scoring, q, model, optimum)
    return successes / episodes, greedy_success
