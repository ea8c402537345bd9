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
encoded) observations. Training runs through :mod:`jaxrl.train`::

    state, curve = dqn.train(DQNConfig(env="CartPole-v1"), jax.random.key(0))
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
    POSITIVE,
    RATE,
    UNIT_INTERVAL,
    check_choices,
    check_counts,
    check_numbers,
    check_space,
)
from jaxrl.deep import exploration, replay
from jaxrl.deep.networks import ACTIVATIONS, QNetwork, input_size, preprocess
from jaxrl.envs.registry import make
from jaxrl.envs.wrappers import AutoReset, Transition

LOSSES = ("l2", "huber")
DECAYS = ("linear", "cosine")


class DQNConfig(struct.PyTreeNode):
    """Hyper-parameters of DQN. Defaults: tuned for CartPole-v1 at 100k steps.

    The defaults are rejax's CartPole config (10 envs, buffer 50k, 5k steps before
    learning, batch 100, 5 updates per step, Polyak τ = 0.02 every step, dueling double
    DQN, swish, clip 10), with the changes below, found by searches on tuning seeds
    (``jax.random.key(1000/2000/3000)``, never the benchmark's key 0):

    * Adam's step size starts at 2e-3 (rejax: 1e-3) and decays linearly to 1e-5 over
      the learning steps. 1e-3 left 1 of 8 seeds (key 1000) at 177 and 3 of 16 (key
      3000) under 450 at 100k; 2e-3 put those 24 at 500; 3e-3 gave a mean of 436.
    * ε goes from 1 to 0.01 over 30k steps (rejax: to 0.05 over 50k).
    * Hidden layers (128, 128) (rejax: (64, 64)). With (64, 64) DQN's greedy policy
      still drops now and then late in training: 3 of 32 seeds (key 2000) under 450 at
      100k, and 11 of the 160 evaluations at 80k-100k. (128, 128): 2 of 64 seeds
      (keys 2000 and 3000) and 7 of 320 evaluations. Tried on key 2000 and no better:
      (256, 256) (10 of 80), LayerNorm (71 of 160; with (128, 128): 52), a cosine
      decay (9 of 160; with (128, 128): 8), ε ending at 0.05 (20), τ = 0.005 (97),
      batch 256 (27), huber loss (100), γ = 0.98 (26) or 0.95 (128), 10 updates per
      step (33). With (128, 128), also no better (seeds under 450 at 100k / late
      evaluations under 450, of 32 seeds / 160; the default: 2 / 6): a buffer of the
      whole run, 100k (0 / 6, but 3 / 13 on key 3000 where the default gives 0 / 1),
      Adam ε 1e-3 (5 / 25) or 3e-4 (3 / 12), a hard target copy every 1000 steps
      (11 / 75), 3 or 2 updates per step (2 / 10, 2 / 5), plain (not double) DQN
      (0 / 6; keys 3000 and 1000: 1 / 4, 2 / 6), ε decaying over 50k steps (1 / 10),
      a 20k buffer (2 / 11).
    * The greedy policy acts on θ̄, a running average of θ (``average_step`` 0.002:
      about the last 5k env steps; rejax and the slide: θ itself). 128 seeds on an
      NVIDIA H200 (key 2000) showed how often θ's greedy policy is down at 100k: 8 of
      128 seeds under 450, and no single change above did much better (4-13 of 128;
      ``benchmarks/results/dqn-cartpole-sweep-h200.json``). On the CPU, the same
      trained runs evaluated on 64 fresh episodes per seed, θ against θ̄ (keys 2000
      and 3000, 64 seeds each): seeds under 450 3 → 0 and 0 → 1, episodes under 450
      196 → 31 and 14 → 80 of 4096. Steps 0.004-0.005 gave 81 and 57, 0.001 86
      (key 3000), 0.0005 858 (key 2000: the average then lags behind learning).
      Advantage learning (Bellemare et al. 2016, α 0.5 / 0.9, to widen the action
      gap) was worse: 3 / 17 of 32 seeds under 450.

    Static fields (sizes, counts, names, switches) are fixed at compile time; the others
    are pytree leaves, so ``jax.vmap`` over a stacked config sweeps them.

    Attributes:
      env: environment name for :func:`jaxrl.make`.
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


def check_config(config: DQNConfig, env: Any, env_params: Any) -> None:
    """Raise ``ValueError`` (one clear line) for a config or environment DQN cannot run."""
    check_space("DQN", env, "action", env.action_space(env_params), (spaces.Discrete,),
                "use DDPG (jaxrl.deep.ddpg) for continuous actions")
    check_space("DQN", env, "observation", env.observation_space(env_params),
                (spaces.Box, spaces.Discrete))
    check_counts(config, ("total_steps", "num_envs", "buffer_size", "batch_size",
                          "updates_per_step", "target_update_every", "eval_every",
                          "eval_episodes"))
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
        "gamma": UNIT_INTERVAL,
        "epsilon_start": UNIT_INTERVAL,
        "epsilon_end": UNIT_INTERVAL,
        "tau": RATE,
        "average_step": RATE,
        "max_grad_norm": POSITIVE,
    }, labels={"gamma": "gamma (γ)"})


def network(config: Any, env: Any, env_params: Any) -> QNetwork:
    """The Q-network for the config and environment."""
    return QNetwork(
        num_actions=int(env.action_space(env_params).n),
        hidden_sizes=tuple(config.hidden_sizes),
        activation=config.activation,
        dueling=config.dueling,
        layer_norm=config.layer_norm,
    )


def optimizer(config: DQNConfig) -> optax.GradientTransformation:
    """``clip_by_global_norm`` then Adam, with an optional linear or cosine decay of the
    step size over the run's gradient steps (:func:`jaxrl.train.num_updates`)."""
    lr = config.learning_rate
    if config.learning_rate_end is not None:
        steps = driver.num_updates(config)
        if config.decay == "cosine":
            lr = optax.cosine_decay_schedule(lr, steps,
                                             alpha=config.learning_rate_end / lr)
        else:
            lr = optax.linear_schedule(lr, config.learning_rate_end, steps)
    return optax.chain(optax.clip_by_global_norm(config.max_grad_norm),
                       optax.adam(lr, eps=config.adam_eps))


def q_values(config: Any, params: Any, obs: Any, env: Any, env_params: Any) -> jax.Array:
    """``Q(obs, ·; params)`` for a batch of raw observations."""
    x = preprocess(obs, env.observation_space(env_params))
    return network(config, env, env_params).apply(params, x)


def init(config: DQNConfig, key: jax.Array, env: AutoReset, env_params: Any) -> DQNState:
    """θ at random, θ⁻ = θ̄ = θ, an empty D of size N, ``num_envs`` reset environments."""
    key_net, key_env, key = jax.random.split(key, 3)
    size = input_size(env.observation_space(env_params))
    params = network(config, env, env_params).init(key_net, jnp.zeros((1, size)))
    obs, env_state = env.batch_reset(key_env, env_params, config.num_envs)
    return DQNState(
        params=params,
        target_params=params,
        average_params=params,
        opt_state=optimizer(config).init(params),
        memory=replay.init_transitions(obs, jnp.zeros((), jnp.int32), config.buffer_size),
        env_state=env_state,
        step=jnp.zeros((), jnp.int32),
        key=key,
    )


def select_action(config, state: DQNState, key, env, env_params) -> jax.Array:
    """ε-greedy on ``Q(S_t, ·; θ)`` in each environment, ε on its linear schedule."""
    epsilon = exploration.epsilon_schedule(
        config.epsilon_start, config.epsilon_end, config.exploration_steps)(state.step)
    q = q_values(config, state.params, state.env_state.obs, env, env_params)
    return exploration.epsilon_greedy(key, q, epsilon)


def td_target(config, reward, terminated, q_next_target, q_next_online=None) -> jax.Array:
    """``r + γ (1 - terminated) max_a Q̂(S', a; θ⁻)`` (double DQN: ``Q̂(S', argmax_a Q(S', a; θ))``).

    ``S'`` is the true next observation, so a truncated step bootstraps from the state
    the time limit cut, and a terminated one does not bootstrap.
    """
    if config.double:
        best = jnp.argmax(q_next_online, axis=-1)
        bootstrap = jnp.take_along_axis(q_next_target, best[..., None], axis=-1)[..., 0]
    else:
        bootstrap = jnp.max(q_next_target, axis=-1)
    return reward + config.gamma * jnp.where(terminated, 0.0, bootstrap)


def loss_fn(config, params, target_params, batch: Transition, env, env_params) -> jax.Array:
    """The TD loss ``mean_j ℓ(Q(S_j, A_j; θ) - y_j)`` with optax's ``l2_loss``/``huber_loss``."""
    q = q_values(config, params, batch.obs, env, env_params)
    q_taken = jnp.take_along_axis(q, batch.action[:, None], axis=-1)[:, 0]
    q_next_target = q_values(config, target_params, batch.next_obs, env, env_params)
    q_next_online = (q_values(config, params, batch.next_obs, env, env_params)
                     if config.double else None)
    target = jax.lax.stop_gradient(
        td_target(config, batch.reward, batch.terminated, q_next_target, q_next_online))
    if config.loss == "huber":
        return jnp.mean(optax.huber_loss(q_taken, target, delta=1.0))
    return jnp.mean(optax.l2_loss(q_taken, target))


def update_q(config, params, opt_state, target_params, batch, env, env_params):
    """One gradient step on θ: ``(params, opt_state, loss)``."""
    loss, grads = jax.value_and_grad(loss_fn, argnums=1)(
        config, params, target_params, batch, env, env_params)
    updates, opt_state = optimizer(config).update(grads, opt_state, params)
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

    Why: late in a run, DQN's greedy policy on θ now and then drops for a while (on
    CartPole, 5-8 % of seeds are under 450 at any one evaluation after 80 k steps) while
    the ε-greedy episodes still balance; averaging θ over the last ~5 k steps smooths
    those swings out (``DQNConfig``'s docstring has the counts).
    """
    return optax.incremental_update(params, average_params, config.average_step)


def train_step(config: DQNConfig, state: DQNState, env: AutoReset, env_params: Any):
    """One step of the ``num_envs`` environments, then ``updates_per_step`` gradient steps
    (once ``learning_starts`` steps are stored), the target update and θ̄'s."""
    key, key_act, key_env, key_update = jax.random.split(state.key, 4)
    actions = select_action(config, state, key_act, env, env_params)
    env_state, transitions = env.batch_step(key_env, state.env_state, actions, env_params)
    memory = replay.store(state.memory, transitions)
    step = state.step + config.num_envs

    def learn(params, opt_state):
        def one(carry, key):
            params, opt_state, total = carry
            batch = replay.sample(memory, key, config.batch_size)
            params, opt_state, loss = update_q(config, params, opt_state,
                                               state.target_params, batch, env, env_params)
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
    stats = env_state.stats
    metrics = {
        "loss": loss,
        "updates": learning.astype(jnp.int32) * config.updates_per_step,
        "episodes": jnp.sum(stats.finished.astype(jnp.int32)),
        "return_sum": jnp.sum(jnp.where(stats.finished, stats.last_return, 0.0)),
    }
    new_state = DQNState(params=params, target_params=target_params,
                         average_params=average_params, opt_state=opt_state,
                         memory=memory, env_state=env_state, step=step, key=key)
    return new_state, metrics


def greedy_action(config, state: DQNState, obs, env, env_params) -> jax.Array:
    """``argmax_a Q(obs, a; θ̄)`` for a batch of observations (θ̄ = θ if ``average_step`` is 1)."""
    q = q_values(config, state.average_params, obs, env, env_params)
    return jnp.argmax(q, axis=-1).astype(jnp.int32)


def make_env(config: DQNConfig) -> tuple[AutoReset, Any]:
    """The configured environment behind the contract."""
    env, env_params = make(config.env)
    return AutoReset(env), env_params


def _algorithm() -> driver.Algorithm:
    return driver.Algorithm(
        name="dqn",
        make_env=make_env,
        check=check_config,
        init=init,
        train_step=train_step,
        greedy_action=greedy_action,
    )


ALGORITHM = _algorithm()


def train(config: DQNConfig, key: jax.Array, env: Any = None, env_params: Any = None):
    """Train one seed: ``(DQNState, Curve)``; jitted, ``jax.vmap`` it over keys/configs."""
    return driver.train(ALGORITHM, config, key, env, env_params)


def run(config: DQNConfig, keys: jax.Array, **kwargs) -> driver.RunResult:
    """Train many seeds in compiled chunks (:func:`jaxrl.train.run`)."""
    return driver.run(ALGORITHM, config, keys, **kwargs)


__all__ = [
    "ALGORITHM", "DQNConfig", "DQNState", "check_config", "greedy_action", "init",
    "loss_fn", "make_env", "q_values", "run", "select_action", "td_target",
    "train", "train_step", "update_average", "update_q", "update_target",
]
