"""DQN, the lecture's slide "Deep Q-network (DQN)" [Mnih et al., Nature, 2015].

::

    Initialize replay memory D of size N                                   replay.init
    Initialize Q-network with random weights θ                             init
    Initialize target Q̂ with weights θ⁻ = θ                                init
    For each episode / loop for each step t:                               train_step
        Choose A_t from S_t using a policy using Q (ε-greedy)              select_action
        Take A_t, observe cost C_t and next state S_{t+1}                  (the environment)
        Store (S_t, A_t, C_t, S_{t+1}) in D                                store
        Sample a minibatch (S_j, A_j, C_j, S_{j+1}) from D                 sample
        Gradient descent on θ for
            ‖Q(S_j, A_j; θ) - C_j - γ min_A Q̂(S_{j+1}, A; θ⁻)‖²           td_target, update_q
        Every C steps reset θ⁻ = θ                                         update_target
    The greedy policy: argmax_A Q(S, A; θ̄), θ̄ a running average of θ        greedy_action

In reward form (``reward = -cost``) the ``min`` is a ``max``. The environment contract
(:class:`jaxrl.envs.wrappers.AutoReset`) gives the true final observation: the target
bootstraps from it on truncation (a time limit), never past termination.

Switches and options (:class:`DQNConfig`): ``num_envs`` parallel environments per step,
``updates_per_step`` gradient steps per environment step, a soft target update
(``tau < 1``, Polyak averaging with ``optax.incremental_update``), double DQN
(``double``: the online network picks ``argmax``, the target network values it),
a dueling head, LayerNorm in the hidden layers, ``"l2"`` or ``"huber"`` loss (optax's),
``optax.clip_by_global_norm`` on the gradient (a true global-norm clip), a linear ε
schedule and a linear or cosine learning-rate decay.

The greedy policy (evaluation, the trained agent) acts on ``θ̄``, a Polyak average of θ
over the last few thousand steps (``average_step``; Polyak & Juditsky 1992, as in
Nikishin et al. 2018, "Improving stability in deep RL with weight averaging"), while
ε-greedy exploration and learning use θ itself. ``average_step = 1`` makes ``θ̄ = θ``,
the slide's DQN.

Environments: any with a ``Discrete`` action space and array (or ``Discrete``, one-hot
encoded) observations. Training runs through :mod:`jaxrl.driver`::

    state, curve = dqn.train(DQNConfig(env="CartPole-v1"), jax.random.key(0))
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
    RATE,
    UNIT_INTERVAL,
    check_choices,
    check_counts,
    check_gamma,
    check_numbers,
    check_space,
    check_widths,
)
from jaxrl.deep import exploration, replay
from jaxrl.deep.networks import ACTIVATIONS, QNetwork, clipped, input_size, preprocess, step_size
from jaxrl.envs.wrappers import AutoReset, Transition
from jaxrl.targets import double_q_target, q_learning_target, taken_action_value, td_loss

LOSSES = ("l2", "huber")  # of jaxrl.targets.TD_LOSSES
DECAYS = ("linear", "cosine")


class DQNConfig(struct.PyTreeNode):
    """Hyper-parameters of DQN. Defaults: tuned for CartPole-v1 at 100k steps.

    rejax's CartPole config (10 envs, buffer 50k, 5k steps before learning, batch 100, 5
    updates per step, Polyak τ = 0.02 every step, dueling double DQN, swish, clip 10)
    with four changes, each chosen on tuning seeds (the README's "DQN tuning notes"):
    Adam 2e-3 decaying linearly to 1e-5, ε to 0.01 over 30k steps, (128, 128) hidden
    layers, and a greedy policy on θ̄, a running average of θ (``average_step``).

    Static fields (sizes, counts, names, switches) are fixed at compile time; the others
    are pytree leaves, so ``jax.vmap`` over a stacked config sweeps them.

    Attributes:
      env: environment name for :func:`jaxrl.make`.
      env_options: ``((field, value), ...)`` replacing fields of the environment's
        default params.
      total_steps: environment steps per seed (over all ``num_envs``).
      num_envs: parallel environments; one ``train_step`` steps them all once.
      buffer_size: N, the replay memory's capacity (transitions).
      batch_size: transitions per gradient step.
      learning_starts: environment steps before the first gradient step.
      updates_per_step: gradient steps per ``train_step``.
      target_update_every: C, environment steps between target updates (tested by
        boundary crossing, ``t // C > t_prev // C``, since ``t`` moves by ``num_envs``).
      exploration_steps: environment steps over which ε goes from start to end.
      hidden_sizes: widths of the Q-network's hidden layers.
      activation: hidden activation (:data:`jaxrl.deep.networks.ACTIVATIONS`).
      dueling: dueling head.
      layer_norm: ``LayerNorm`` in each hidden layer of the Q-network.
      double: double DQN target.
      loss: ``"l2"`` or ``"huber"``.
      eval_every: environment steps between greedy evaluations.
      eval_episodes: greedy episodes per evaluation.
      learning_rate: Adam's step size (> 0).
      learning_rate_end: if set, the step size decays to it over the learning steps.
      decay: the decay's shape, ``"linear"`` or ``"cosine"`` (half a cosine period,
        Loshchilov & Hutter 2017: higher early, lower late than linear).
      gamma: discount γ in [0, 1].
      epsilon_start, epsilon_end: the ε-greedy schedule's endpoints.
      tau: target update step: 1 copies θ⁻ = θ, < 1 is Polyak averaging.
      max_grad_norm: global-norm gradient clip (``inf``: none).
      adam_eps: Adam's ε.
      average_step: step of the average θ̄ that the greedy policy uses,
        ``θ̄ <- θ̄ + average_step (θ - θ̄)`` after each ``train_step``'s learning (so it
        spans about ``num_envs / average_step`` env steps); 1: ``θ̄ = θ``.
    """

    env: str = struct.field(pytree_node=False, default="CartPole-v1")
    env_options: tuple[tuple[str, Any], ...] = struct.field(pytree_node=False, default=())
    total_steps: int = struct.field(pytree_node=False, default=100_000)
    num_envs: int = struct.field(pytree_node=False, default=10)
    buffer_size: int = struct.field(pytree_node=False, default=50_000)
    batch_size: int = struct.field(pytree_node=False, default=100)
    learning_starts: int = struct.field(pytree_node=False, default=5_000)
    updates_per_step: int = struct.field(pytree_node=False, default=5)
    target_update_every: int = struct.field(pytree_node=False, default=10)
    exploration_steps: int = struct.field(pytree_node=False, default=30_000)
    hidden_sizes: tuple[int, ...] = struct.field(pytree_node=False, default=(128, 128))
    activation: str = struct.field(pytree_node=False, default="swish")
    dueling: bool = struct.field(pytree_node=False, default=True)
    layer_norm: bool = struct.field(pytree_node=False, default=False)
    double: bool = struct.field(pytree_node=False, default=True)
    loss: str = struct.field(pytree_node=False, default="l2")
    decay: str = struct.field(pytree_node=False, default="linear")
    eval_every: int = struct.field(pytree_node=False, default=5_000)
    eval_episodes: int = struct.field(pytree_node=False, default=16)
    learning_rate: float = 2e-3
    learning_rate_end: float | None = 1e-5
    gamma: float = 0.99
    epsilon_start: float = 1.0
    epsilon_end: float = 0.01
    tau: float = 0.02
    max_grad_norm: float = 10.0
    adam_eps: float = 1e-8
    average_step: float = 0.002

    def __post_init__(self) -> None:
        check_values(self)


class DQNState(struct.PyTreeNode):
    """The agent: θ, θ⁻, θ̄ (the greedy policy's), the optimiser state, D, the
    environments, counters, key."""

    params: Any
    target_params: Any
    average_params: Any
    opt_state: Any
    memory: replay.ReplayMemory
    env_state: Any
    step: jax.Array
    key: jax.Array


class DQNSetup(struct.PyTreeNode):
    """What is fixed for a run, bound once by :func:`make`: the environment behind the
    contract, the Q-network, the driver's schedule and the step-size decay's length."""

    env: AutoReset = struct.field(pytree_node=False)
    network: QNetwork = struct.field(pytree_node=False)
    schedule: driver.Schedule = struct.field(pytree_node=False)
    num_updates: int = struct.field(pytree_node=False)
    env_params: Any = None


def make(config: DQNConfig, env: Any = None, env_params: Any = None) -> DQNSetup:
    """Bind the run (the config checked its values when made): ``env``/``env_params``
    default to ``jaxrl.make(config.env)``; the network and schedules are built here, once.
    ``ValueError`` (one line) for an environment DQN cannot run."""
    env, env_params = driver.environment(config.env, env, env_params,
                                         **dict(config.env_options))
    check_space("DQN", env, "action", env.action_space(env_params), (spaces.Discrete,),
                "use DDPG (jaxrl.deep.ddpg) for continuous actions")
    check_space("DQN", env, "observation", env.observation_space(env_params),
                (spaces.Box, spaces.Discrete))
    schedule = driver.Schedule.of(config.total_steps, config.eval_every, config.num_envs)
    return DQNSetup(
        env=env,
        network=QNetwork(num_actions=int(env.action_space(env_params).n),
                         hidden_sizes=tuple(config.hidden_sizes), activation=config.activation,
                         dueling=config.dueling, layer_norm=config.layer_norm),
        schedule=schedule,
        num_updates=schedule.learning_updates(config.learning_starts, config.updates_per_step),
        env_params=env_params,
    )


def check_values(config: DQNConfig) -> None:
    """Raise ``ValueError`` (one clear line) for a value DQN cannot run; every value of a
    stacked (swept) field is checked, traced ones are not."""
    check_counts(config, ("total_steps", "num_envs", "buffer_size", "batch_size",
                          "updates_per_step", "target_update_every", "eval_every",
                          "eval_episodes"))
    check_widths(config, ("hidden_sizes",))
    if config.batch_size > config.buffer_size:
        raise ValueError(f"batch_size ({config.batch_size}) is larger than the replay "
                         f"memory (buffer_size={config.buffer_size})")
    if config.num_envs > config.buffer_size:
        raise ValueError(f"num_envs ({config.num_envs}) is larger than buffer_size "
                         f"({config.buffer_size})")
    check_choices({"loss": (config.loss, LOSSES), "decay": (config.decay, DECAYS),
                   "activation": (config.activation, ACTIVATIONS)})
    check_numbers(config, {
        "learning_rate": POSITIVE,
        "learning_rate_end": POSITIVE,
        "epsilon_start": UNIT_INTERVAL,
        "epsilon_end": UNIT_INTERVAL,
        "tau": RATE,
        "average_step": RATE,
        "max_grad_norm": POSITIVE,
    })
    check_gamma(config.gamma)


def optimizer(setup: DQNSetup, config: DQNConfig) -> optax.GradientTransformation:
    """``clip_by_global_norm`` then Adam, with an optional linear or cosine decay of the
    step size over the run's gradient steps (``setup.num_updates``).

    Built from the config at each use, not bound in the setup: the step size is a
    pytree leaf that a sweep varies (a traced number under ``vmap``); the transformation
    holds no arrays, so building it costs nothing in the compiled program."""
    lr = step_size(config.learning_rate, config.learning_rate_end, setup.num_updates,
                   config.decay)
    return clipped(optax.adam(lr, eps=config.adam_eps), config.max_grad_norm)


def q_values(setup: DQNSetup, params: Any, obs: Any) -> jax.Array:
    """``Q(obs, ·; params)`` for a batch of raw observations."""
    x = preprocess(obs, setup.env.observation_space(setup.env_params))
    return setup.network.apply(params, x)


def init(setup: DQNSetup, config: DQNConfig, key: jax.Array) -> DQNState:
    """θ at random, θ⁻ = θ̄ = θ, an empty D of size N, ``num_envs`` reset environments."""
    key_net, key_env, key = jax.random.split(key, 3)
    size = input_size(setup.env.observation_space(setup.env_params))
    params = setup.network.init(key_net, jnp.zeros((1, size)))
    obs, env_state = setup.env.batch_reset(key_env, setup.env_params, config.num_envs)
    return DQNState(
        params=params,
        target_params=params,
        average_params=params,
        opt_state=optimizer(setup, config).init(params),
        memory=replay.init_transitions(obs, jnp.zeros((), jnp.int32), config.buffer_size),
        env_state=env_state,
        step=jnp.zeros((), jnp.int32),
        key=key,
    )


def select_action(setup: DQNSetup, config: DQNConfig, state: DQNState, key) -> jax.Array:
    """ε-greedy on ``Q(S_t, ·; θ)`` in each environment, ε on its linear schedule."""
    epsilon = exploration.epsilon_schedule(
        config.epsilon_start, config.epsilon_end, config.exploration_steps)(state.step)
    q = q_values(setup, state.params, state.env_state.obs)
    return exploration.epsilon_greedy(key, q, epsilon)


def td_target(config: DQNConfig, reward, terminated, q_next_target, q_next_online=None):
    """``y = r + γ (1 - terminated) max_a Q̂(S', a; θ⁻)``, or double DQN's
    ``r + γ Q̂(S', argmax_a Q(S', a; θ))`` (:mod:`jaxrl.targets`).

    ``S'`` is the true next observation, so a truncated step bootstraps from the state
    the time limit cut, and a terminated one does not bootstrap.
    """
    if config.double:
        return double_q_target(reward, terminated, q_next_target, q_next_online, config.gamma)
    return q_learning_target(reward, terminated, q_next_target, config.gamma)


def loss_fn(setup: DQNSetup, config: DQNConfig, params, target_params,
            batch: Transition) -> jax.Array:
    """The TD loss ``mean_j ℓ(Q(S_j, A_j; θ) - y_j)`` (:func:`jaxrl.targets.td_loss`)."""
    q_taken = taken_action_value(q_values(setup, params, batch.obs), batch.action)
    q_next_target = q_values(setup, target_params, batch.next_obs)
    q_next_online = q_values(setup, params, batch.next_obs) if config.double else None
    target = jax.lax.stop_gradient(
        td_target(config, batch.reward, batch.terminated, q_next_target, q_next_online))
    return td_loss(q_taken, target, config.loss)


def update_q(setup: DQNSetup, config: DQNConfig, params, opt_state, target_params, batch):
    """One gradient step on θ: ``(params, opt_state, loss)``."""
    loss, grads = jax.value_and_grad(loss_fn, argnums=2)(
        setup, config, params, target_params, batch)
    updates, opt_state = optimizer(setup, config).update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


def update_target(config, params, target_params, step, previous_step):
    """θ⁻ <- τ θ + (1 - τ) θ⁻ when ``step`` crosses a multiple of C (τ = 1: a copy).

    The crossing test ``step // C > previous_step // C`` fires once per C environment
    steps even though ``step`` advances by ``num_envs`` (``step % C == 0`` could miss).
    With ``τ = 1`` ``optax.incremental_update`` returns θ exactly; when the test does not
    fire its step size is 0 and θ⁻ is returned exactly.
    """
    crossed = (step // config.target_update_every) > (previous_step // config.target_update_every)
    step_size = jnp.where(crossed, config.tau, 0.0)
    return optax.incremental_update(params, target_params, step_size)


def update_average(config, params, average_params):
    """θ̄ <- θ̄ + average_step (θ - θ̄) (``optax.incremental_update``; step 1: θ̄ = θ exactly).

    Polyak & Juditsky's averaging (1992), as in Nikishin et al. (2018): the greedy policy
    on θ̄ does not share the drops that θ's greedy policy has now and then late in a run.
    """
    return optax.incremental_update(params, average_params, config.average_step)


def train_step(setup: DQNSetup, config: DQNConfig, state: DQNState):
    """One step of the ``num_envs`` environments, then ``updates_per_step`` gradient steps
    (once ``learning_starts`` steps are stored), the target update and θ̄'s."""
    key, key_act, key_env, key_update = jax.random.split(state.key, 4)
    actions = select_action(setup, config, state, key_act)
    env_state, transitions = setup.env.batch_step(key_env, state.env_state, actions,
                                                  setup.env_params)
    memory = replay.store(state.memory, transitions)
    step = state.step + config.num_envs

    def learn(params, opt_state):
        def one(carry, key):
            params, opt_state, total = carry
            batch = replay.sample(memory, key, config.batch_size)
            params, opt_state, loss = update_q(setup, config, params, opt_state,
                                               state.target_params, batch)
            return (params, opt_state, total + loss), None

        keys = jax.random.split(key_update, config.updates_per_step)
        zero = jnp.zeros((), jnp.float32)
        (params, opt_state, total), _ = jax.lax.scan(one, (params, opt_state, zero), keys)
        return params, opt_state, total / config.updates_per_step

    def wait(params, opt_state):
        return params, opt_state, jnp.zeros((), jnp.float32)

    learning = step >= config.learning_starts
    params, opt_state, loss = jax.lax.cond(learning, learn, wait, state.params,
                                           state.opt_state)
    target_params, average_params = jax.lax.cond(
        learning,
        lambda: (update_target(config, params, state.target_params, step, state.step),
                 update_average(config, params, state.average_params)),
        lambda: (state.target_params, state.average_params),
    )
    metrics = {
        "loss": loss,
        "updates": learning.astype(jnp.int32) * config.updates_per_step,
        **env_state.stats.step_totals(),
    }
    new_state = DQNState(params=params, target_params=target_params,
                         average_params=average_params, opt_state=opt_state,
                         memory=memory, env_state=env_state, step=step, key=key)
    return new_state, metrics


def greedy_action(setup: DQNSetup, config: DQNConfig, state: DQNState, obs) -> jax.Array:
    """``argmax_a Q(obs, a; θ̄)`` for a batch of observations (θ̄ = θ if ``average_step`` is 1)."""
    return jnp.argmax(q_values(setup, state.average_params, obs), axis=-1).astype(jnp.int32)


ALGORITHM = driver.Algorithm(make=make, init=init, train_step=train_step,
                             greedy_action=greedy_action)


def train(config: DQNConfig, key: jax.Array, env: Any = None, env_params: Any = None):
    """Train one seed: ``(DQNState, Curve)``; jitted, ``jax.vmap`` it over keys/configs."""
    return driver.train(ALGORITHM, config, key, env, env_params)


def run(config: DQNConfig, keys: jax.Array, **kwargs) -> driver.RunResult:
    """Train many seeds in compiled chunks (:func:`jaxrl.driver.run`)."""
    return driver.run(ALGORITHM, config, keys, **kwargs)


__all__ = [
    "ALGORITHM", "DQNConfig", "DQNSetup", "DQNState", "check_values", "greedy_action", "init",
    "loss_fn", "make", "optimizer", "q_values", "run", "select_action", "td_target",
    "train", "train_step", "update_average", "update_q", "update_target",
]
