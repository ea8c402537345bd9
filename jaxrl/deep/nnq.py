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
``DiscretePendulum`` (500 episodes of at most 49 steps, γ 0.99): :func:`deeptable_config`
and :func:`deeptable` run it. One difference: the course bootstraps even on the step
that reaches the goal; here the target stops at termination, as everywhere in jaxrl.
``benchmarks/dqn.py`` measures it against a numpy port of the course's script.
"""

from __future__ import annotations

from functools import partial
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
    check_numbers,
    check_space,
    check_widths,
)
from jaxrl.deep import exploration
from jaxrl.deep.networks import ACTIVATIONS, KERNELS, QNetwork, clipped, input_size, preprocess
from jaxrl.envs.tabular import exact_model
from jaxrl.envs.wrappers import AutoReset, Transition
from jaxrl.tabular.planning import value_iteration
from jaxrl.tabular.scoring import evaluate_q
from jaxrl.targets import TD_LOSSES, q_learning_target, taken_action_value, td_loss

EXPLORATIONS = ("epsilon_greedy", "disturb")
LOSSES = TD_LOSSES
OPTIMIZERS = ("sgd", "adam")


class NNQConfig(struct.PyTreeNode):
    """Hyper-parameters of naive NN Q-learning (defaults: an MLP on CartPole-v1).

    Attributes:
      env: environment name for :func:`jaxrl.make`.
      total_steps: environment steps per seed.
      num_envs: parallel environments; each step updates on their current transitions.
      env_options: ``((field, value), ...)`` replacing fields of the environment's
        default params (``(("max_steps_in_episode", 49),)`` for a time limit).
      hidden_sizes, activation, use_bias, kernel: the Q-network
        (:class:`jaxrl.deep.networks.QNetwork`).
      exploration: ``"epsilon_greedy"`` or the course's ``"disturb"``.
      exploration_steps: environment steps over which ε goes from start to end.
      loss: ``"squared"`` ((y - q)², the course's), ``"l2"`` (half of it), ``"huber"``.
      optimizer: ``"sgd"`` (plain) or ``"adam"``.
      eval_every, eval_episodes: greedy evaluations (:mod:`jaxrl.driver`).
      learning_rate: step size (> 0).
      gamma: discount γ in [0, 1].
      epsilon_start, epsilon_end: the ε-greedy schedule's endpoints.
      max_grad_norm: global-norm gradient clip.
    """

    env: str = struct.field(pytree_node=False, default="CartPole-v1")
    total_steps: int = struct.field(pytree_node=False, default=100_000)
    num_envs: int = struct.field(pytree_node=False, default=1)
    env_options: tuple[tuple[str, Any], ...] = struct.field(pytree_node=False, default=())
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

    def __post_init__(self) -> None:
        check_values(self)


def deeptable_config(**changes: Any) -> NNQConfig:
    """The course's ``deeptable`` practical on ``DiscretePendulum``: one-hot input, a
    bias-free linear layer ``U(0, 0.01)``, SGD 0.1 on ``(y - q)²``, ``disturb``."""
    base = NNQConfig(
        env="DiscretePendulum", total_steps=500 * 49, num_envs=1,
        env_options=(("max_steps_in_episode", 49),),
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


class NNQSetup(struct.PyTreeNode):
    """What is fixed for a run, bound once by :func:`make`: the environment behind the
    contract, the Q-network and the driver's schedule."""

    env: AutoReset = struct.field(pytree_node=False)
    network: QNetwork = struct.field(pytree_node=False)
    schedule: driver.Schedule = struct.field(pytree_node=False)
    env_params: Any = None


def make(config: NNQConfig, env: Any = None, env_params: Any = None) -> NNQSetup:
    """Bind the run (the config checked its values when made): ``env``/``env_params``
    default to ``jaxrl.make(config.env, **config.env_options)``. ``ValueError`` (one
    line) for an environment NN-Q cannot run."""
    env, env_params = driver.environment(config.env, env, env_params,
                                         **dict(config.env_options))
    check_space("NN Q-learning", env, "action", env.action_space(env_params),
                (spaces.Discrete,), "use DDPG (jaxrl.deep.ddpg) for continuous actions")
    return NNQSetup(
        env=env,
        network=QNetwork(num_actions=int(env.action_space(env_params).n),
                         hidden_sizes=tuple(config.hidden_sizes), activation=config.activation,
                         use_bias=config.use_bias, kernel=config.kernel),
        schedule=driver.Schedule.of(config.total_steps, config.eval_every, config.num_envs),
        env_params=env_params,
    )


def check_values(config: NNQConfig) -> None:
    """Raise ``ValueError`` (one clear line) for a value NN-Q cannot run; every value of a
    stacked (swept) field is checked, traced ones are not."""
    check_counts(config, ("total_steps", "num_envs", "eval_every", "eval_episodes"))
    check_widths(config, ("hidden_sizes",))
    check_choices({"exploration": (config.exploration, EXPLORATIONS),
                   "loss": (config.loss, LOSSES),
                   "optimizer": (config.optimizer, OPTIMIZERS),
                   "activation": (config.activation, ACTIVATIONS),
                   "kernel": (config.kernel, KERNELS)})
    check_numbers(config, {
        "learning_rate": POSITIVE,
        "epsilon_start": UNIT_INTERVAL,
        "epsilon_end": UNIT_INTERVAL,
        "max_grad_norm": POSITIVE,
    })
    check_gamma(config.gamma)


def optimizer(config: NNQConfig) -> optax.GradientTransformation:
    """Plain SGD or Adam, after a global-norm clip."""
    base = (optax.sgd(config.learning_rate) if config.optimizer == "sgd"
            else optax.adam(config.learning_rate))
    return clipped(base, config.max_grad_norm)


def q_values(setup: NNQSetup, params, obs) -> jax.Array:
    """``Q(obs, ·; θ)`` for a batch of raw observations."""
    return setup.network.apply(params, preprocess(obs, setup.env.observation_space(
        setup.env_params)))


def init(setup: NNQSetup, config: NNQConfig, key: jax.Array) -> NNQState:
    """θ at random and ``num_envs`` reset environments."""
    key_net, key_env, key = jax.random.split(key, 3)
    size = input_size(setup.env.observation_space(setup.env_params))
    params = setup.network.init(key_net, jnp.zeros((1, size)))
    _, env_state = setup.env.batch_reset(key_env, setup.env_params, config.num_envs)
    return NNQState(params=params, opt_state=optimizer(config).init(params),
                    env_state=env_state, step=jnp.zeros((), jnp.int32), key=key)


def select_action(setup: NNQSetup, config: NNQConfig, state: NNQState, key) -> jax.Array:
    """ε-greedy on ``Q(S_t, ·; θ)``, or the course's ``disturb`` of ``argmax``."""
    q = q_values(setup, state.params, state.env_state.obs)
    if config.exploration == "disturb":
        episode = state.env_state.stats.episodes
        return exploration.disturb(key, jnp.argmax(q, axis=-1), episode, q.shape[-1])
    epsilon = exploration.epsilon_schedule(
        config.epsilon_start, config.epsilon_end, config.exploration_steps)(state.step)
    return exploration.epsilon_greedy(key, q, epsilon)


def loss_fn(setup: NNQSetup, config: NNQConfig, params, batch: Transition) -> jax.Array:
    """The TD loss on the current transitions, the target from the same θ (no gradient):
    ``ℓ(Q(S_t, A_t; θ) - r - γ max_a Q(S_{t+1}, a; θ))`` (:mod:`jaxrl.targets`)."""
    q_taken = taken_action_value(q_values(setup, params, batch.obs), batch.action)
    q_next = q_values(setup, params, batch.next_obs)
    target = jax.lax.stop_gradient(
        q_learning_target(batch.reward, batch.terminated, q_next, config.gamma))
    return td_loss(q_taken, target, config.loss)


def update_q(setup: NNQSetup, config: NNQConfig, state: NNQState, batch: Transition):
    """One gradient step on the current transitions: ``(params, opt_state, loss)``."""
    loss, grads = jax.value_and_grad(loss_fn, argnums=2)(setup, config, state.params, batch)
    updates, opt_state = optimizer(config).update(grads, state.opt_state, state.params)
    return optax.apply_updates(state.params, updates), opt_state, loss


def train_step(setup: NNQSetup, config: NNQConfig, state: NNQState):
    """Act in the ``num_envs`` environments, then one gradient step on those transitions."""
    key, key_act, key_env = jax.random.split(state.key, 3)
    actions = select_action(setup, config, state, key_act)
    env_state, transitions = setup.env.batch_step(key_env, state.env_state, actions,
                                                  setup.env_params)
    params, opt_state, loss = update_q(setup, config, state, transitions)
    metrics = {
        "loss": loss,
        **env_state.stats.step_totals(),
        "terminated": jnp.sum(transitions.terminated.astype(jnp.int32)),
    }
    return NNQState(params=params, opt_state=opt_state, env_state=env_state,
                    step=state.step + config.num_envs, key=key), metrics


def greedy_action(setup: NNQSetup, config: NNQConfig, state: NNQState, obs) -> jax.Array:
    """``argmax_a Q(obs, a; θ)`` for a batch of observations."""
    return jnp.argmax(q_values(setup, state.params, obs), axis=-1).astype(jnp.int32)


ALGORITHM = driver.Algorithm(make=make, init=init, train_step=train_step,
                             greedy_action=greedy_action)


def train(config: NNQConfig, key: jax.Array, env: Any = None, env_params: Any = None):
    """Train one seed: ``(NNQState, Curve)``; jitted, ``jax.vmap`` it over keys/configs."""
    return driver.train(ALGORITHM, config, key, env, env_params)


def run(config: NNQConfig, keys: jax.Array, **kwargs) -> driver.RunResult:
    """Train many seeds in compiled chunks (:func:`jaxrl.driver.run`)."""
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
    setup = make(config)
    model = exact_model(setup.env, setup.env_params)
    if model is None:
        raise ValueError(f"deeptable needs an environment with an exact model, not "
                         f"{setup.env.name}")
    return _deeptable(setup, config, key, model, episodes, greedy_horizon)


@partial(jax.jit, static_argnames=("episodes", "greedy_horizon"))
def _deeptable(setup, config, key, model, episodes, greedy_horizon):
    state = init(setup, config, key)

    def cond(carry):
        state, _ = carry
        return state.env_state.stats.episodes[0] < episodes

    def body(carry):
        state, successes = carry
        state, metrics = train_step(setup, config, state)
        return state, successes + metrics["terminated"]

    state, successes = jax.lax.while_loop(cond, body, (state, jnp.zeros((), jnp.int32)))
    states = jnp.arange(model.mdp.num_states)
    q = q_values(setup, state.params, states)
    optimum = value_iteration(model.mdp, config.gamma, tol=1e-6, max_sweeps=10_000)
    greedy_success = evaluate_q(q, model, optimum, config.gamma, greedy_horizon)["greedy_success"]
    return successes / episodes, greedy_success
