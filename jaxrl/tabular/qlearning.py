"""Tabular Q-learning, the lecture's slide "Q-learning with a table" [Watkins 1989].

::

    Choose α ∈ (0, 1] and small ε > 0; initialise Q(S, A)
    For each episode:
        Start from an initial state S_0
        Loop for each step t of the episode:
            Choose A_t from S_t using a policy using Q (e.g. ε-greedy)      select_action
            Take A_t, observe cost C_t(S_t, A_t) and next state S_{t+1}    (the environment)
            Q(S_t, A_t) <- (1 - α) Q(S_t, A_t) + α (C_t + γ min_A Q(S_{t+1}, A))
                                                                 td_target, update_q

Environments return rewards, so the ``min`` of costs is a ``max`` of rewards
(``reward = -cost``). No bootstrap past a terminal state (``terminated``); a time
limit (``truncated``) still bootstraps from the true final observation. Both come
from :class:`jaxrl.envs.wrappers.AutoReset`, the environment contract.

Exploration: ``"epsilon_greedy"`` (ε constant, or linear from ``epsilon`` to
``epsilon_end`` over training) or the course practical's ``"noisy_argmax"``,
``argmax_a (Q(s, a) + randn / episode)``.

It runs on the shared driver (:mod:`jaxrl.driver`), an episode per ``train_step``, and
vmaps over keys (seeds) and stacked configs (sweeps of α, γ, ε…). Where the environment
has an exact model, the driver's evaluation scores the table against planning's optimum
(:mod:`jaxrl.tabular.scoring`).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import spaces

from jaxrl import driver
from jaxrl.checks import (
    NON_NEGATIVE,
    RATE,
    UNIT_INTERVAL,
    check_choices,
    check_counts,
    check_gamma,
    check_numbers,
    check_space,
)
from jaxrl.envs.tabular import ExactModel, exact_model
from jaxrl.envs.wrappers import AutoReset, Transition
from jaxrl.tabular.bellman import PlanningResult
from jaxrl.tabular.scoring import evaluate_q, reference_optimum
from jaxrl.targets import q_learning_target, q_learning_update

EXPLORATIONS = ("noisy_argmax", "epsilon_greedy")


class QLearningConfig(struct.PyTreeNode):
    """Hyper-parameters of tabular Q-learning (defaults: the course's practical).

    Static fields (sizes, counts, names) are fixed at compile time; the others are
    pytree leaves, so ``jax.vmap`` over a stacked config sweeps them.

    Attributes:
      env: environment name for :func:`jaxrl.make` (needs Discrete observations and
        actions).
      env_options: ``((field, value), ...)`` replacing fields of the environment's
        default params (the time limit is ``max_steps``).
      episodes: episodes per environment.
      max_steps: steps per episode at most (the environment's time limit is set to it).
      num_envs: parallel environments sharing one Q-table.
      eval_every_episodes: episodes (the deep learners' ``eval_every`` counts steps)
        between two optimality measurements (0: at the end only).
      greedy_horizon: steps the greedy policy gets to reach the goal when scored.
      track_optimum: score Q against planning's optimum where the model is known (set
        False for pure throughput: the scoring solves a linear system per evaluation).
      exploration: ``"noisy_argmax"`` or ``"epsilon_greedy"``.
      learning_rate: α in (0, 1].
      learning_rate_end: if set, α decays linearly to it over training.
      gamma: discount γ in [0, 1].
      epsilon: ε of ε-greedy.
      epsilon_end: if set, ε decays linearly to it over training.
      noise_scale: scale of the noisy argmax's noise, ``noise_scale * randn / episode``.
    """

    env: str = struct.field(pytree_node=False, default="DiscretePendulum")
    env_options: tuple[tuple[str, Any], ...] = struct.field(pytree_node=False, default=())
    episodes: int = struct.field(pytree_node=False, default=500)
    max_steps: int = struct.field(pytree_node=False, default=50)
    num_envs: int = struct.field(pytree_node=False, default=1)
    eval_every_episodes: int = struct.field(pytree_node=False, default=0)
    greedy_horizon: int = struct.field(pytree_node=False, default=100)
    track_optimum: bool = struct.field(pytree_node=False, default=True)
    exploration: str = struct.field(pytree_node=False, default="noisy_argmax")
    learning_rate: float = 0.85
    learning_rate_end: float | None = None
    gamma: float = 0.99
    epsilon: float = 0.1
    epsilon_end: float | None = None
    noise_scale: float = 1.0

    def __post_init__(self) -> None:
        check_values(self)


class QLearningState(struct.PyTreeNode):
    """The agent: its Q-table, the episodes done, the environment steps they took (all
    environments), its key and, where the environment's exact model is scored against,
    planning's optimum (``Q*``, ``V*`` for the config's γ; else ``None``)."""

    q: jax.Array
    episode: jax.Array
    env_steps: jax.Array
    key: jax.Array
    optimum: PlanningResult | None = None


class QLearningSetup(struct.PyTreeNode):
    """What is fixed for a run, bound once by :func:`make`: the environment behind the
    contract (cached reset: every episode starts from a fresh ``reset``), the driver's
    schedule (one ``train_step`` is an episode) and the exact model, where the
    environment has one, to score against (``score``)."""

    env: AutoReset = struct.field(pytree_node=False)
    schedule: driver.Schedule = struct.field(pytree_node=False)
    score: bool = struct.field(pytree_node=False)
    env_params: Any = None
    model: ExactModel | None = None


class QLearningMetrics(struct.PyTreeNode):
    """What training returns, as arrays.

    Per episode (``[episodes, num_envs]``): ``episode_return``, ``episode_length``,
    ``success`` (the episode reached the goal). Per evaluation (``[evaluations]``, the
    first before training, then one every ``eval_every_episodes`` episodes):
    ``env_steps`` (environment steps done, all environments); where the environment has
    an exact model (else ``None``) ``eval_episode`` (episodes done per environment),
    ``q_error`` (``max |Q - Q*|`` over non-terminal states), ``value_gap`` (mean of
    ``V* - V^π`` of the greedy policy π over non-terminal states), ``greedy_success``
    (share of states from which π reaches the goal within ``greedy_horizon`` steps; a
    probability for stochastic models).
    """

    episode_return: jax.Array
    episode_length: jax.Array
    success: jax.Array
    env_steps: jax.Array | None = None
    eval_episode: jax.Array | None = None
    q_error: jax.Array | None = None
    value_gap: jax.Array | None = None
    greedy_success: jax.Array | None = None


def make(config: QLearningConfig, env: Any = None, env_params: Any = None) -> QLearningSetup:
    """Bind the run (the config checked its values when made): ``env``/``env_params``
    default to ``jaxrl.make(config.env, **config.env_options)``, its time limit
    ``max_steps``. ``ValueError`` (one line) for an environment it cannot run."""
    given = env is not None
    env, env_params = driver.environment(config.env, env, env_params, cached_reset=True,
                                         **dict(config.env_options))
    if not given and hasattr(env_params, "max_steps_in_episode"):
        env_params = env_params.replace(max_steps_in_episode=config.max_steps)
    for which, hint in (("observation", "DQN for continuous observations"),
                        ("action", "DDPG for continuous actions")):
        space = getattr(env, f"{which}_space")(env_params)
        check_space("tabular Q-learning", env, which, space, (spaces.Discrete,), f"use {hint}")
    every = config.eval_every_episodes
    if config.episodes % (every or config.episodes):
        raise ValueError(f"eval_every_episodes must divide episodes ({config.episodes}), "
                         f"got {every}")
    if config.episodes * config.max_steps * config.num_envs >= 2**31:
        raise ValueError("episodes x max_steps x num_envs (environment steps) must fit int32")
    model = exact_model(env, env_params)
    return QLearningSetup(env=env, schedule=driver.Schedule.of(config.episodes,
                                                               every or config.episodes, 1),
                          score=model is not None and config.track_optimum,
                          env_params=env_params, model=model)


def check_values(config: QLearningConfig) -> None:
    """Raise ``ValueError`` with one clear line for a bad value (every value of a swept
    field; traced ones are not checked)."""
    check_counts(config, ("episodes", "max_steps", "num_envs"))
    check_counts(config, ("eval_every_episodes",), minimum=0)
    check_choices({"exploration": (config.exploration, EXPLORATIONS)})
    check_numbers(config, {"learning_rate": RATE, "learning_rate_end": RATE},
                  labels={"learning_rate": "learning_rate (α)",
                          "learning_rate_end": "learning_rate_end (α)"})
    check_numbers(config, {"epsilon": UNIT_INTERVAL, "epsilon_end": UNIT_INTERVAL,
                           "noise_scale": NON_NEGATIVE})
    check_gamma(config.gamma)


def _linear(start, end, progress):
    """``start`` moved linearly to ``end`` (if set) as ``progress`` goes 0 -> 1."""
    if end is None:
        return jnp.asarray(start, jnp.float32)
    return start + (end - start) * progress


class Exploration(struct.PyTreeNode):
    """The randomness of exploration, drawn in bulk for a whole episode (which keeps the
    random-number generator off the compiled loop's critical path): ``normal``, the noisy
    argmax's ``randn_a`` (``[..., A]``); ``coin``/``action``, ε-greedy's (else ``None``)."""

    normal: jax.Array | None = None
    coin: jax.Array | None = None
    action: jax.Array | None = None


def draw_exploration(config: QLearningConfig, key: jax.Array, shape: tuple[int, ...],
                     num_actions: int) -> Exploration:
    """The exploration randomness of ``shape`` decisions (steps x environments)."""
    if config.exploration == "noisy_argmax":
        return Exploration(normal=jax.random.normal(key, (*shape, num_actions)))
    key_coin, key_action = jax.random.split(key)
    return Exploration(
        coin=jax.random.uniform(key_coin, shape),
        action=jax.random.randint(key_action, shape, 0, num_actions, dtype=jnp.int32),
    )


def select_action(
    config: QLearningConfig, q_row: jax.Array, noise: Exploration, episode: jax.Array,
    progress: jax.Array,
) -> jax.Array:
    """Choose ``A_t`` from ``S_t`` with a policy using Q: ε-greedy or noisy argmax.

    ``noisy_argmax``: ``argmax_a Q(s, a) + noise_scale * randn_a / episode`` (the
    practical; ``episode`` counts from 1). ``epsilon_greedy``: a uniform action with
    probability ε, else ``argmax_a Q(s, a)``. ``noise`` is one decision's
    :class:`Exploration`.
    """
    if config.exploration == "noisy_argmax":
        return jnp.argmax(q_row + noise.normal * config.noise_scale / episode).astype(jnp.int32)
    epsilon = _linear(config.epsilon, config.epsilon_end, progress)
    greedy = jnp.argmax(q_row).astype(jnp.int32)
    return jnp.where(noise.coin < epsilon, noise.action, greedy)


def td_target(q: jax.Array, transition: Transition, gamma) -> jax.Array:
    """``r + γ max_a Q(S_{t+1}, a)``, with no bootstrap past a terminal state
    (:func:`jaxrl.targets.q_learning_target` on the table's rows).

    The lecture's ``C_t + γ min_A Q(S_{t+1}, A)`` in reward form. On truncation the
    bootstrap uses the true final observation (``transition.next_obs``).
    """
    return q_learning_target(transition.reward, transition.terminated,
                             q[transition.next_obs], gamma)


def update_q(q: jax.Array, transition: Transition, target: jax.Array, learning_rate,
             active: jax.Array) -> jax.Array:
    """``Q(S_t, A_t) <- (1 - α) Q(S_t, A_t) + α target`` for a batch of transitions.

    With one environment this is the slide's update. With several, the updates of the
    environments that visited the same ``(s, a)`` in this step are averaged (all are
    computed from the same Q), so that α keeps its meaning. ``active`` masks out
    environments whose episode is already over.
    """
    s, a = transition.obs, transition.action
    weight = active.astype(q.dtype)
    num_envs = weight.shape[0]
    if num_envs == 1:
        visits = weight
    elif num_envs * num_envs <= q.size:
        # Count, for each environment, the active ones that visited the same (s, a):
        # O(num_envs^2), cheaper than a scatter into a table-sized array.
        same = (s[:, None] == s[None, :]) & (a[:, None] == a[None, :])
        visits = same.astype(q.dtype) @ weight
    else:
        visits = jnp.zeros_like(q).at[s, a].add(weight)[s, a]
    step = q_learning_update(q[s, a], target, learning_rate * weight)
    return q.at[s, a].add(step / jnp.maximum(visits, 1.0))


def init(setup: QLearningSetup, config: QLearningConfig, key: jax.Array) -> QLearningState:
    """Initialise Q(S, A) to zeros (the practical's choice); plan the optimum to score
    against where the exact model is known."""
    optimum = None
    if setup.score:
        optimum = reference_optimum(setup.model.mdp, config.gamma)
    return QLearningState(
        q=jnp.zeros((setup.env.observation_space(setup.env_params).n,
                     setup.env.action_space(setup.env_params).n), jnp.float32),
        episode=jnp.zeros((), jnp.int32),
        env_steps=jnp.zeros((), jnp.int32),
        key=key,
        optimum=optimum,
    )


def run_episode(setup: QLearningSetup, config: QLearningConfig, state: QLearningState
                ) -> tuple[QLearningState, dict[str, jax.Array]]:
    """One episode in each environment: reset, then up to ``max_steps`` steps.

    Once an environment's episode ends (the goal, or the time limit) its remaining steps
    are masked out: no update, no reward (the practical's ``break``). Every episode
    starts from a fresh ``reset``, so the contract's automatic reset is never needed
    inside an episode (the setup's environment uses the cached reset, which saves
    drawing a reset on every step). Returns the episode's ``episode_return``,
    ``episode_length`` and ``success`` per environment.
    """
    env, env_params = setup.env, setup.env_params
    goal = None if setup.model is None else setup.model.goal
    key, key_reset, key_noise, key_steps = jax.random.split(state.key, 4)
    episode = state.episode + 1
    progress = state.episode / max(config.episodes - 1, 1)
    learning_rate = _linear(config.learning_rate, config.learning_rate_end, progress)
    _, env_state = env.batch_reset(key_reset, env_params, config.num_envs)
    active = jnp.ones(config.num_envs, bool)
    noise = draw_exploration(
        config, key_noise, (config.max_steps, config.num_envs), state.q.shape[-1]
    )

    def step(carry, inputs):
        q, env_state, active, totals = carry
        key, noise = inputs
        actions = jax.vmap(
            lambda row, n: select_action(config, row, n, episode, progress)
        )(q[env_state.obs], noise)
        env_state, transition = env.batch_step(key, env_state, actions, env_params)
        target = td_target(q, transition, config.gamma)
        q = update_q(q, transition, target, learning_rate, active)
        reached = transition.terminated
        if goal is not None:
            reached = reached & goal[transition.next_obs]
        else:
            reached = reached & (transition.reward > 0)
        ret, length, success = totals
        totals = (
            ret + jnp.where(active, transition.reward, 0.0),
            length + active.astype(jnp.int32),
            success | (active & reached),
        )
        return (q, env_state, active & ~transition.done, totals), None

    n = config.num_envs
    totals = (jnp.zeros(n, jnp.float32), jnp.zeros(n, jnp.int32), jnp.zeros(n, bool))
    (q, _, _, totals), _ = jax.lax.scan(
        step, (state.q, env_state, active, totals),
        (jax.random.split(key_steps, config.max_steps), noise),
    )
    returns, lengths, success = totals
    return (state.replace(q=q, episode=episode, key=key,
                          env_steps=state.env_steps + lengths.sum()),
            {"episode_return": returns, "episode_length": lengths, "success": success})


def evaluate(setup: QLearningSetup, config: QLearningConfig, state: QLearningState,
             key: jax.Array) -> dict[str, jax.Array]:
    """The driver's evaluation: the environment steps done; the Q-table scored against
    the optimum (:func:`evaluate_q`) with the episodes done, where the model is."""
    del key  # the scoring is exact: it draws nothing
    if not setup.score:
        return {"env_steps": state.env_steps}
    return {"env_steps": state.env_steps, "eval_episode": state.episode,
            **evaluate_q(state.q, setup.model, state.optimum, config.gamma,
                         config.greedy_horizon)}


def greedy_action(setup: QLearningSetup, config: QLearningConfig, state: QLearningState,
                  obs: jax.Array) -> jax.Array:
    """``argmax_a Q(s, a)`` for a batch of states: the trained agent's policy."""
    return jnp.argmax(state.q[obs], axis=-1).astype(jnp.int32)


ALGORITHM = driver.Algorithm(
    make=make, init=init, train_step=run_episode,
    greedy_action=greedy_action, evaluate=evaluate, shared=(),
    stack_metrics=True, random_evaluation=False,
)


def metrics(config: QLearningConfig, curve: driver.Curve) -> QLearningMetrics:
    """The driver's curve as :class:`QLearningMetrics` (any leading seed axes)."""
    def per_episode(x):  # [..., chunks, episodes per chunk, num_envs]
        return x.reshape(*x.shape[:-3], config.episodes, config.num_envs)

    out = QLearningMetrics(**{k: per_episode(v) for k, v in curve.train.items()})
    return out.replace(**curve.evaluation) if curve.evaluation else out


def train(
    config: QLearningConfig, key: jax.Array, env: Any = None, env_params: Any = None
) -> tuple[QLearningState, QLearningMetrics]:
    """Train one seed: ``episodes`` episodes in each of ``num_envs`` environments, one
    compiled call (:func:`jaxrl.driver.train`; ``jax.vmap`` over keys and stacked configs
    trains many). ``env``/``env_params`` default to :func:`make`'s."""
    state, curve = driver.train(ALGORITHM, config, key, env, env_params)
    return state, metrics(config, curve)


def run(config: QLearningConfig, keys: jax.Array, **kwargs) -> driver.RunResult:
    """Train many seeds in compiled chunks of ``eval_every_episodes`` episodes
    (:func:`jaxrl.driver.run`: progress hook, devices); :func:`metrics` reads its curve."""
    return driver.run(ALGORITHM, config, keys, **kwargs)
