"""Tabular model-based RL, the lecture's slide "Model-based reinforcement learning":
*sample the world, learn a model (system identification), then do optimal control*
[Schaal & Atkeson 1994], here with a table for the model and value iteration for the
control (certainty equivalence; R-max's optimism [Brafman & Tennenholtz 2002] by a
switch).

::

    Initialise the counts N(s, a, s') = 0, R(s, a) = 0                    init
    Loop:                                                                 train_step
        For plan_every steps, in each environment:                        collect
            Choose A_t from S_t with the plan (ε-greedy) or uniformly     select_action
            Take A_t, observe R_t and S_{t+1}                             (the environment)
            N(S_t, A_t, S_{t+1}) += 1;  R(S_t, A_t) += R_t                 count
        Learn the model:  P̂(s'|s, a) = N(s, a, s') / N(s, a),
                          r̂(s, a) = R(s, a) / N(s, a)                     estimate_model
        Optimal control on it: Q̂ = value_iteration(P̂, r̂, γ)              plan

A pair never tried (``N(s, a) = 0``) is modelled as staying put with reward 0: the
certainty-equivalent model. A state the environment ended an episode on arriving at
(``terminated``) is terminal: absorbing, reward 0, as :mod:`jaxrl.envs.tabular`'s exact
models encode it. The plan that acts while sampling may be optimistic about the pairs
tried fewer than ``known_after`` times (:mod:`jaxrl.tabular.exploration`: R-max's,
``rmax``; the novelty rule's, ``exploration="novelty"``); the greedy policy, and what the
evaluation scores, is always the certainty-equivalent plan.

The counts are sparse, as the model handed to planning (a :class:`~jaxrl.mdp.TabularMDP`
with ``K = successors``): each ``(s, a)`` keeps ``successors`` slots, filled with its
successors as first seen (memory and planning grow with ``S * A * K``, not ``S * A * S``);
exact for at most that many successors per pair; beyond, the tries that found no free
slot are left out of ``P̂`` and reported (``dropped``, their share). Planning is
:func:`jaxrl.tabular.planning.value_iteration`, warm-started from the last plan and
bounded by ``plan_sweeps`` sweeps per re-plan; the evaluation plans to convergence.

Where the environment has an exact model (``DiscretePendulum``, ``Maze``, FrozenLake),
the evaluation reports how far the learned model and its plan are from the truth:
``model_error`` (``max |P̂ - P|`` over the pairs tried), ``reward_error``, ``coverage``
(share of pairs tried), and the greedy plan's ``q_error``, ``value_gap`` and
``greedy_success`` (:func:`jaxrl.tabular.scoring.evaluate_q`), elsewhere greedy episodes.
On the shared driver (:mod:`jaxrl.driver`); vmaps over keys and stacked configs.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import spaces

from jaxrl import driver
from jaxrl.checks import (
    POSITIVE,
    UNIT_INTERVAL,
    check_counts,
    check_gamma,
    check_numbers,
    check_space,
)
from jaxrl.envs.tabular import ExactModel, exact_model
from jaxrl.envs.wrappers import AutoReset
from jaxrl.mdp import TabularMDP
from jaxrl.tabular.bellman import PlanningResult
from jaxrl.tabular.exploration import (
    check_exploration,
    note_arrival,
    novelty_bonus,
    optimistic,
    optimistic_plans,
    select_action,
)
from jaxrl.tabular.planning import value_iteration
from jaxrl.tabular.scoring import evaluate_q, model_errors, reference_optimum


class ModelBasedConfig(struct.PyTreeNode):
    """Hyper-parameters of tabular model-based RL.

    Static fields (sizes, counts, names) are fixed at compile time; the others are
    pytree leaves, so ``jax.vmap`` over a stacked config sweeps them.

    Attributes:
      env: environment name for :func:`jaxrl.make` (Discrete observations and actions).
      env_options: ``((field, value), ...)`` replacing fields of the environment's
        default params.
      total_steps: environment steps per seed (all environments together).
      num_envs: parallel environments feeding one model.
      plan_every: steps of each environment between two plans (one ``train_step``).
      eval_every: environment steps between two evaluations (0: at the end only).
      eval_episodes: greedy episodes per evaluation where there is no exact model.
      greedy_horizon: steps the greedy policy gets to reach the goal when scored.
      successors: successor slots per ``(s, a)`` of the planned model (its most
        frequent successors; the environment's branching or more keeps it exact).
      plan_sweeps: value-iteration sweeps per re-plan at most (warm-started).
      plan_tol: value iteration's sup-norm tolerance.
      exploration: ``"epsilon_greedy"`` (on the plan, R-max's with ``rmax``),
        ``"uniform"`` or ``"novelty"`` (ε-greedy on the novelty rule's plan).
      known_after: tries after which a pair counts as known (R-max's ``m``).
      gamma: discount γ in [0, 1].
      epsilon: ε of ε-greedy.
      rmax: if set, R-max: the pairs not yet known are worth ``rmax`` per step forever
        (at least the largest reward a step can pay: 1 on ``DiscretePendulum`` and in
        the maze).
      novelty_gamma: discount of the novelty rule's plan, in [0, 1].
    """

    env: str = struct.field(pytree_node=False, default="DiscretePendulum")
    env_options: tuple[tuple[str, Any], ...] = struct.field(pytree_node=False, default=())
    total_steps: int = struct.field(pytree_node=False, default=1_000)
    num_envs: int = struct.field(pytree_node=False, default=1)
    plan_every: int = struct.field(pytree_node=False, default=10)
    eval_every: int = struct.field(pytree_node=False, default=0)
    eval_episodes: int = struct.field(pytree_node=False, default=16)
    greedy_horizon: int = struct.field(pytree_node=False, default=100)
    successors: int = struct.field(pytree_node=False, default=8)
    plan_sweeps: int = struct.field(pytree_node=False, default=200)
    plan_tol: float = struct.field(pytree_node=False, default=1e-6)
    exploration: str = struct.field(pytree_node=False, default="epsilon_greedy")
    known_after: int = struct.field(pytree_node=False, default=1)
    gamma: float = 0.99
    epsilon: float = 0.1
    rmax: float | None = None
    novelty_gamma: float = 0.8

    def __post_init__(self) -> None:
        check_values(self)


def check_values(config: ModelBasedConfig) -> None:
    """Raise ``ValueError`` with one clear line for a bad value (every value of a swept
    field; traced ones are not checked)."""
    check_counts(config, ("total_steps", "num_envs", "plan_every", "eval_episodes",
                          "greedy_horizon", "successors", "plan_sweeps", "known_after"))
    check_counts(config, ("eval_every",), minimum=0)
    check_exploration(config.exploration, config.rmax)
    check_numbers(config, {"epsilon": UNIT_INTERVAL, "plan_tol": POSITIVE,
                           "rmax": (math.isfinite, "a finite number"),
                           "novelty_gamma": UNIT_INTERVAL})
    check_gamma(config.gamma)


class ModelBasedSetup(struct.PyTreeNode):
    """What is fixed for a run, bound once by :func:`make`: the environment behind the
    contract, the driver's schedule, the sizes, and the exact model where the
    environment has one (``score``: the evaluation measures against it)."""

    env: AutoReset = struct.field(pytree_node=False)
    schedule: driver.Schedule = struct.field(pytree_node=False)
    num_states: int = struct.field(pytree_node=False)
    num_actions: int = struct.field(pytree_node=False)
    score: bool = struct.field(pytree_node=False)
    env_params: Any = None
    model: ExactModel | None = None


class ModelBasedState(struct.PyTreeNode):
    """The agent: the counts ``N(s, a, s')`` as ``successors`` slots per pair (the
    successor ``next_states[s, a, k]`` seen ``counts[s, a, k]`` times, int32; ``spilled``:
    the tries that found no free slot), the summed rewards ``R(s, a)``, the states seen to
    end an episode, the novelty rule's counts (``novel[s] = (n_new, n)``, ``arrived``;
    zero under the other explorations), the plans (``plan``: certainty-equivalent;
    ``explore``: the optimistic one, else the same), the environments, the step counter
    (the same in every seed), its key and planning's optimum on the exact model."""

    next_states: jax.Array
    counts: jax.Array
    spilled: jax.Array
    reward_sum: jax.Array
    terminal: jax.Array
    novel: jax.Array
    arrived: jax.Array
    plan: PlanningResult
    explore: PlanningResult
    env_state: Any
    step: jax.Array
    key: jax.Array
    optimum: PlanningResult | None = None


def make(config: ModelBasedConfig, env: Any = None, env_params: Any = None) -> ModelBasedSetup:
    """Bind the run: ``env``/``env_params`` default to ``jaxrl.make(config.env,
    **config.env_options)``. ``ValueError`` (one line) for an environment it cannot run
    (continuous spaces)."""
    env, env_params = driver.environment(config.env, env, env_params,
                                         **dict(config.env_options))
    for which, hint in (("observation", "use DQN for continuous observations"),
                        ("action", "use DDPG or MPC for continuous actions")):
        check_space("tabular model-based RL", env, which,
                    getattr(env, f"{which}_space")(env_params), (spaces.Discrete,), hint)
    model = exact_model(env, env_params)
    return ModelBasedSetup(
        env=env, schedule=driver.Schedule.of(config.total_steps,
                                             config.eval_every or config.total_steps,
                                             config.plan_every * config.num_envs),
        num_states=int(env.observation_space(env_params).n),
        num_actions=int(env.action_space(env_params).n), score=model is not None,
        env_params=env_params, model=model)


def frequencies(counts: jax.Array) -> jax.Array:
    """``N(s, a, s') / N(s, a)`` over the last axis (0 for an untried pair). A slot
    holding every try is exactly 1: XLA:CPU's vectorised division can round ``n / n``
    to ``1 - 2**-24``, and a deterministic pair's model must be exact."""
    kept = counts.sum(-1, keepdims=True)
    return jnp.where(counts == kept, (counts > 0).astype(jnp.float32),
                     counts / jnp.maximum(kept, 1))


def tries(state: ModelBasedState) -> jax.Array:
    """``[S, A]``: each pair's tries, kept in its slots or spilled."""
    return state.counts.sum(-1) + state.spilled


def estimate_model(state: ModelBasedState) -> TabularMDP:
    """The count model ``P̂(s'|s, a) = N(s, a, s') / N(s, a)``, ``r̂ = R(s, a) / N(s, a)``.

    ``N(s, a)`` here counts the tries kept in the slots (the spilled ones are left out
    of ``P̂``, not of ``r̂``). Untried pairs stay put with reward 0; terminal states are
    absorbing with reward 0.
    """
    num_states, _, slots = state.next_states.shape
    kept = state.counts.sum(-1)
    here = jnp.broadcast_to(jnp.arange(num_states, dtype=jnp.int32)[:, None, None],
                            state.next_states.shape)
    stay = jnp.zeros(slots).at[0].set(1.0)
    tried = (kept > 0) & ~state.terminal[:, None]
    probs = jnp.where(tried[..., None], frequencies(state.counts), stay)
    next_states = jnp.where(tried[..., None], state.next_states, here)
    rewards = jnp.where(tried, state.reward_sum / jnp.maximum(tries(state), 1), 0.0)
    return TabularMDP(next_states=next_states, probs=probs.astype(jnp.float32),
                      rewards=rewards.astype(jnp.float32), terminal=state.terminal)


def solve(config: ModelBasedConfig, state: ModelBasedState, last: PlanningResult,
          explore: bool = False, sweeps: int | None = None) -> PlanningResult:
    """Value iteration on the learned model (the exploring plan's with ``explore``),
    warm-started from ``last``, to ``plan_tol`` or ``sweeps`` sweeps, whichever first."""
    mdp, gamma = estimate_model(state), config.gamma
    if explore:
        unknown = (tries(state) < config.known_after) & ~state.terminal[:, None]
        if config.rmax is not None:
            mdp = optimistic(mdp, unknown, jnp.float32(config.rmax), forever=True)
        else:
            bonus = novelty_bonus(state.novel)[:, None]
            mdp, gamma = optimistic(mdp, unknown, bonus, forever=False), config.novelty_gamma
    return value_iteration(mdp, gamma, v0=last.values, tol=config.plan_tol,
                           max_sweeps=sweeps)


def plan(config: ModelBasedConfig, state: ModelBasedState
         ) -> tuple[PlanningResult, PlanningResult]:
    """Optimal control on the learned model, at most ``plan_sweeps`` sweeps from the
    last plans: the certainty-equivalent plan and the exploring one (else the same)."""
    certain = solve(config, state, state.plan, sweeps=config.plan_sweeps)
    if not optimistic_plans(config.exploration, config.rmax):
        return certain, certain
    return certain, solve(config, state, state.explore, True, config.plan_sweeps)


def init(setup: ModelBasedSetup, config: ModelBasedConfig, key: jax.Array) -> ModelBasedState:
    """Zero counts, the environments reset, the (empty) model's plan; planning's optimum
    on the exact model where there is one (:func:`.scoring.reference_optimum`)."""
    key, key_env = jax.random.split(key)
    s, a = setup.num_states, setup.num_actions
    _, env_state = setup.env.batch_reset(key_env, setup.env_params, config.num_envs)

    def empty(n):
        zeros = jnp.zeros(n, jnp.float32)
        return PlanningResult(values=zeros, policy=jnp.zeros(n, jnp.int32),
                              q_values=jnp.zeros((n, a), jnp.float32),
                              iterations=jnp.zeros((), jnp.int32), delta=jnp.zeros(()),
                              converged=jnp.ones((), bool), at_floor=jnp.zeros((), bool))

    slots = (s, a, config.successors)
    state = ModelBasedState(
        next_states=jnp.zeros(slots, jnp.int32), counts=jnp.zeros(slots, jnp.int32),
        spilled=jnp.zeros((s, a), jnp.int32), reward_sum=jnp.zeros((s, a), jnp.float32),
        terminal=jnp.zeros(s, bool), novel=jnp.zeros((s, 2), jnp.int32),
        arrived=jnp.zeros(s, bool), plan=empty(s),
        explore=empty(s + 1 if optimistic_plans(config.exploration, config.rmax) else s),
        env_state=env_state,
        step=jnp.zeros((), jnp.int32), key=key,
        optimum=reference_optimum(setup.model.mdp, config.gamma) if setup.score else None)
    certain, explore = plan(config, state)
    return state.replace(plan=certain, explore=explore)


def count(state: ModelBasedState, s: jax.Array, a: jax.Array, s_next: jax.Array,
          reward: jax.Array, terminated: jax.Array, known_after: int | None = None
          ) -> ModelBasedState:
    """``N(s, a, s') += 1``, ``R(s, a) += r`` for a batch of transitions, in order (two
    environments may bring a pair new successors in the same step): ``s'`` goes to its
    slot, or to the pair's first free one, or is spilled when none is free; with
    ``known_after``, the novelty rule's counts too (:func:`.exploration.note_arrival`)."""
    def one(i, st):
        slots, counts = st.next_states[s[i], a[i]], st.counts[s[i], a[i]]
        novel, arrived = st.novel, st.arrived
        if known_after is not None:
            unknown = counts.sum() + st.spilled[s[i], a[i]] < known_after
            novel, arrived = note_arrival(novel, arrived, s[i], s_next[i], unknown)
        seen = (slots == s_next[i]) & (counts > 0)
        free = counts == 0
        k = jnp.where(jnp.any(seen), jnp.argmax(seen), jnp.argmax(free))
        fits = jnp.any(seen) | jnp.any(free)
        return st.replace(
            next_states=st.next_states.at[s[i], a[i], k].set(
                jnp.where(fits, s_next[i], slots[k])),
            counts=st.counts.at[s[i], a[i], k].add(fits.astype(jnp.int32)),
            spilled=st.spilled.at[s[i], a[i]].add((~fits).astype(jnp.int32)),
            reward_sum=st.reward_sum.at[s[i], a[i]].add(reward[i]),
            terminal=st.terminal.at[s_next[i]].max(terminated[i]),
            novel=novel, arrived=arrived)

    return jax.lax.fori_loop(0, s.shape[0], one, state)


def collect(setup: ModelBasedSetup, config: ModelBasedConfig, state: ModelBasedState,
            key: jax.Array) -> tuple[ModelBasedState, dict[str, jax.Array]]:
    """``plan_every`` steps of every environment, each transition counted: the
    training metrics are the episodes ended, their returns and the goal reached."""
    goal = None if setup.model is None else setup.model.goal

    def step(carry, key):
        state, totals = carry
        key_act, key_env = jax.random.split(key)
        obs = state.env_state.obs
        actions = jax.vmap(partial(select_action, config.exploration, config.epsilon))(
            state.explore.q_values[obs], jax.random.split(key_act, config.num_envs))
        env_state, tr = setup.env.batch_step(key_env, state.env_state, actions,
                                             setup.env_params)
        state = count(state, obs, actions, tr.next_obs, tr.reward, tr.terminated,
                      config.known_after if config.exploration == "novelty" else None)
        reached = tr.terminated & (tr.reward > 0 if goal is None else goal[tr.next_obs])
        totals = jax.tree.map(jnp.add, totals, {
            **env_state.stats.step_totals(), "goals": jnp.sum(reached.astype(jnp.int32))})
        return (state.replace(env_state=env_state), totals), None

    zero = jnp.zeros((), jnp.int32)
    totals = {"episodes": zero, "return_sum": jnp.zeros(()), "goals": zero}
    (state, totals), _ = jax.lax.scan(step, (state, totals),
                                      jax.random.split(key, config.plan_every))
    return state, totals


def train_step(setup: ModelBasedSetup, config: ModelBasedConfig, state: ModelBasedState
               ) -> tuple[ModelBasedState, dict[str, jax.Array]]:
    """One loop of the slide: sample the world (:func:`collect`), learn the model and
    plan on it (:func:`plan`)."""
    key, key_collect = jax.random.split(state.key)
    state, metrics = collect(setup, config, state, key_collect)
    certain, explore = plan(config, state)
    step = state.step + config.plan_every * config.num_envs
    return state.replace(plan=certain, explore=explore, step=step, key=key), metrics


def evaluate(setup: ModelBasedSetup, config: ModelBasedConfig, state: ModelBasedState,
             key: jax.Array) -> dict[str, jax.Array]:
    """The driver's evaluation: the steps done; against the exact model, where there is
    one, the learned model's errors (:func:`~jaxrl.tabular.scoring.model_errors`) and the
    converged plan's (:func:`~jaxrl.tabular.scoring.evaluate_q`); else greedy episodes of
    the plan (``return``, ``length``)."""
    if not setup.score:
        return {"eval_step": state.step, **driver.greedy_episodes(
            setup.env, setup.env_params, config.eval_episodes,
            lambda obs: greedy_action(setup, config, state, obs), key)}
    certain = solve(config, state, state.plan, sweeps=10_000)  # to plan_tol
    learned = estimate_model(state)  # on the pairs tried: the slots, P̂ and r̂
    return {"eval_step": state.step,
            **model_errors(learned.next_states, learned.probs, learned.rewards,
                           tries(state), state.spilled, setup.model),
            **evaluate_q(certain.q_values, setup.model, state.optimum, config.gamma,
                         config.greedy_horizon)}


def greedy_action(setup: ModelBasedSetup, config: ModelBasedConfig, state: ModelBasedState,
                  obs: jax.Array) -> jax.Array:
    """``argmax_a Q̂(s, a)`` of the certainty-equivalent plan, for a batch of states."""
    return jnp.argmax(state.plan.q_values[obs], axis=-1).astype(jnp.int32)


ALGORITHM = driver.Algorithm(make=make, init=init, train_step=train_step,
                             greedy_action=greedy_action, evaluate=evaluate)


def train(config: ModelBasedConfig, key: jax.Array, env: Any = None, env_params: Any = None
          ) -> tuple[ModelBasedState, driver.Curve]:
    """Train one seed, one compiled call (:func:`jaxrl.driver.train`; ``jax.vmap`` over
    keys and stacked configs trains many)."""
    return driver.train(ALGORITHM, config, key, env, env_params)


def run(config: ModelBasedConfig, keys: jax.Array, **kwargs) -> driver.RunResult:
    """Train many seeds in compiled chunks of ``eval_every`` steps (:func:`jaxrl.driver.run`:
    progress hook, devices, checkpoints)."""
    return driver.run(ALGORITHM, config, keys, **kwargs)
