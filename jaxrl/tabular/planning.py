"""Planning with a known model: value iteration, policy evaluation, policy iteration.

The lecture's slides, in its own words (costs ``C``, minimised; ``minimize=True``):

* Bellman's equation:  ``V(S_t) = min_{A_t} ( C_t(S_t, A_t) + γ V(S_{t+1}) )``
* Value iteration:     ``V_{n+1}(S_t) = min_{A_t} ( C_t(S_t, A_t) + γ V_n(S_{t+1}) )``
* Policy evaluation:   ``V_{n+1}(S_t) = C_t(S_t, π_k(S_t)) + γ V_n(S_{t+1})``
* Policy update:       ``π_{k+1}(S_t) = argmin_{A_t} C_t(S_t, A_t) + γ V(S_{t+1})``

With stochastic successors ``V(S_{t+1})`` is the expectation ``Σ_{s'} P(s'|s, a) V(s')``.
By default (``minimize=False``) the same arrays are read as rewards and every ``min``
becomes a ``max``: ``reward = -cost`` is the only bridge between the two.

Every function here is jitted, and vmaps over ``gamma`` and over a batch of MDPs of the
same shape (``jax.vmap(value_iteration, in_axes=(None, 0))(mdp, gammas)``).
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Literal

import jax
import jax.numpy as jnp

from jaxrl.checks import check_gamma
from jaxrl.mdp import TabularMDP
from jaxrl.tabular.bellman import (
    PlanningResult,
    backup_rows,
    bellman_backup,
    best,
    check_stopping,
    floor,
    greedy,
    q_values,
    stack,
    successor_major,
)

__all__ = [
    "DEFAULT_MAX_IMPROVEMENTS", "EXACT_SOLVE_MAX_STATES", "PlanningResult", "bellman_backup",
    "check_gamma", "policy_evaluation", "policy_iteration", "q_values", "value_iteration",
]

#: Largest S for which ``policy_evaluation(method="auto")`` solves the linear system.
EXACT_SOLVE_MAX_STATES = 2048

#: ``policy_iteration``'s default limit on improvements (it ends long before for γ < 1).
DEFAULT_MAX_IMPROVEMENTS = 1000


def value_iteration(
    mdp: TabularMDP,
    gamma,
    *,
    v0: jax.Array | None = None,
    tol: float | None = 1e-6,
    max_sweeps: int | None = None,
    minimize: bool = False,
    history: bool = False,
) -> PlanningResult:
    """Value iteration, the lecture's slide.

    ``V_{n+1}(S_t) = min_{A_t} ( C_t(S_t, A_t) + γ V_n(S_{t+1}) )`` (``minimize=True``),
    or its reward form with ``max``, for every state at once, from ``V_0 = v0``.

    Stops after ``max_sweeps`` sweeps, or when the sup-norm change
    ``max_s |V_{n+1}(s) - V_n(s)|`` falls under ``tol`` (a ``lax.while_loop``), whichever
    comes first; also when the change reaches what the dtype can resolve around ``V``
    (so float32 never loops forever): the result's ``at_floor`` says so, and a warning
    names the tolerance reached when ``tol`` was below it (outside ``jit``/``vmap``).
    ``tol=None`` runs exactly ``max_sweeps`` sweeps.

    Args:
      mdp: the model.
      gamma: discount in [0, 1] (a scalar; vmap over it for a batch).
      v0: initial ``V_0`` (default zeros).
      tol: sup-norm tolerance, or ``None`` for a fixed number of sweeps.
      max_sweeps: sweep limit (required when ``gamma = 1`` or ``tol=None``).
      minimize: read ``mdp.rewards`` as costs and minimise (the lecture's form).
      history: also return ``V_0 … V_n`` (needs ``tol=None`` and ``max_sweeps``).

    Returns:
      A :class:`PlanningResult`: ``V``, the greedy policy, ``Q``, sweeps done, last change.

    Examples:
      Two states; action 0 stays, 1 moves; staying in 1 earns 1: ``V_n`` rises to ``V* = [1, 2]``:

      >>> import jax.numpy as jnp
      >>> from jaxrl.mdp import TabularMDP
      >>> from jaxrl.tabular.planning import value_iteration
      >>> mdp = TabularMDP.create([[[0], [1]], [[1], [0]]], jnp.ones((2, 2, 1)), [[0, 0], [1, 0]])
      >>> value_iteration(mdp, 0.5, tol=None, max_sweeps=3, history=True).history.tolist()
      [[0.0, 0.0], [0.0, 1.0], [0.5, 1.5], [0.75, 1.75]]
    """
    check_gamma(gamma)
    check_stopping(gamma, tol, max_sweeps, "value_iteration")
    if history and (tol is not None or max_sweeps is None):
        raise ValueError("value_iteration(history=True) needs tol=None and max_sweeps")
    if v0 is None:
        v0 = jnp.zeros(mdp.num_states, mdp.rewards.dtype)
    result = _value_iteration(mdp, gamma, v0, tol, max_sweeps, minimize, history)
    if not isinstance(result.at_floor, jax.core.Tracer) and bool(jnp.any(result.at_floor)):
        warnings.warn(
            f"value_iteration: tol={tol} is below what {result.values.dtype} resolves "
            f"around V; stopped at a change of {float(jnp.max(result.delta)):.3g} "
            "(enable jax_enable_x64 for a finer tolerance)", stacklevel=2)
    return result


@partial(jax.jit, static_argnames=("tol", "max_sweeps", "minimize", "history"))
def _value_iteration(mdp, gamma, v0, tol, max_sweeps, minimize, history) -> PlanningResult:
    model = successor_major(mdp)
    gamma = jnp.asarray(gamma, mdp.rewards.dtype)
    values = jnp.asarray(v0, mdp.rewards.dtype)

    def sweep(values):
        new = best(backup_rows(model, values, gamma), minimize)
        return new, jnp.max(jnp.abs(new - values))

    trace = None
    if tol is None:
        if history:

            def scan_body(values, _):
                new, delta = sweep(values)
                return new, (new, delta)

            values, (trace, deltas) = jax.lax.scan(scan_body, values, length=max_sweeps)
            trace = jnp.concatenate([jnp.asarray(v0, values.dtype)[None], trace])
            delta = deltas[-1] if max_sweeps else jnp.zeros((), values.dtype)
        else:

            def loop_body(_, carry):
                return sweep(carry[0])

            values, delta = jax.lax.fori_loop(
                0, max_sweeps, loop_body, (values, jnp.zeros((), values.dtype))
            )
        sweeps = jnp.asarray(max_sweeps, jnp.int32)
        converged = jnp.asarray(True)
        at_floor = jnp.asarray(False)
    else:
        limit = jnp.iinfo(jnp.int32).max if max_sweeps is None else max_sweeps

        def cond(carry):
            values, delta, n = carry
            return (delta >= tol) & (delta > floor(values)) & (n < limit)

        def body(carry):
            values, _, n = carry
            new, delta = sweep(values)
            return new, delta, n + 1

        inf = jnp.asarray(jnp.inf, values.dtype)
        values, delta, sweeps = jax.lax.while_loop(
            cond, body, (values, inf, jnp.zeros((), jnp.int32))
        )
        at_floor = (delta >= tol) & (delta <= floor(values))
        converged = (delta < tol) | at_floor
    q = stack(backup_rows(model, values, gamma))
    return PlanningResult(
        values=values,
        policy=greedy(q, minimize),
        q_values=q,
        iterations=sweeps,
        delta=delta,
        converged=converged,
        at_floor=at_floor,
        history=trace,
    )


def policy_evaluation(
    mdp: TabularMDP,
    policy: jax.Array,
    gamma,
    *,
    method: Literal["auto", "exact", "iterative"] = "auto",
    v0: jax.Array | None = None,
    tol: float | None = 1e-8,
    max_sweeps: int | None = None,
) -> jax.Array:
    """The value of a fixed policy, ``V^π``.

    ``exact`` solves the linear system ``(I - γ P_π) V = r_π`` (dense, small ``S``);
    ``iterative`` runs the lecture's slide,
    ``V_{n+1}(S_t) = C_t(S_t, π(S_t)) + γ V_n(S_{t+1})``, from ``v0`` until the
    sup-norm change is under ``tol`` (or ``max_sweeps``), which leaves it up to
    ``γ tol / (1 - γ)`` from ``V^π``. ``auto`` picks ``exact`` up to
    :data:`EXACT_SOLVE_MAX_STATES` states.
    """
    check_gamma(gamma)
    method = _pick_method(method, mdp.num_states)
    if method == "iterative":
        check_stopping(gamma, tol, max_sweeps, "policy_evaluation")
    if v0 is None:
        v0 = jnp.zeros(mdp.num_states, mdp.rewards.dtype)
    return _policy_evaluation(mdp, policy, gamma, v0, method, tol, max_sweeps)


def _pick_method(method: str, num_states: int) -> str:
    if method not in ("auto", "exact", "iterative"):
        raise ValueError(f"method must be 'auto', 'exact' or 'iterative', got {method!r}")
    if method == "auto":
        return "exact" if num_states <= EXACT_SOLVE_MAX_STATES else "iterative"
    return method


def _policy_model(mdp: TabularMDP, policy: jax.Array):
    """The Markov chain of a policy: successors ``[K, S]``, probabilities ``[K, S]``, ``r_π[S]``."""
    states = jnp.arange(mdp.num_states)
    return (
        mdp.next_states[states, policy].T,
        mdp.probs[states, policy].T,
        mdp.rewards[states, policy],
    )


@jax.custom_batching.sequential_vmap
def _solve(matrix: jax.Array, vector: jax.Array) -> jax.Array:
    # One LAPACK solve per call, also under vmap (a loop over the batch): XLA's CPU
    # runs a batched solve's LAPACK calls in parallel on its thread pool, which
    # deadlocks when every thread of the pool runs a device's computation (seeds split
    # over one CPU device per core, jaxrl.devices).
    return jnp.linalg.solve(matrix, vector)


@partial(jax.jit, static_argnames=("method", "tol", "max_sweeps"))
def _policy_evaluation(mdp, policy, gamma, v0, method, tol, max_sweeps) -> jax.Array:
    next_states, probs, rewards = _policy_model(mdp, policy)
    gamma = jnp.asarray(gamma, rewards.dtype)
    num_states = mdp.num_states
    if method == "exact":
        rows = jnp.broadcast_to(jnp.arange(num_states), next_states.shape)
        chain = jnp.zeros((num_states, num_states), rewards.dtype)
        chain = chain.at[rows, next_states].add(probs)
        return _solve(jnp.eye(num_states, dtype=rewards.dtype) - gamma * chain, rewards)

    def sweep(values):
        expected = sum(probs[k] * values[next_states[k]] for k in range(next_states.shape[0]))
        return rewards + gamma * expected

    values = jnp.asarray(v0, rewards.dtype)
    if tol is None:
        return jax.lax.fori_loop(0, max_sweeps, lambda _, v: sweep(v), values)
    limit = jnp.iinfo(jnp.int32).max if max_sweeps is None else max_sweeps

    def cond(carry):
        values, delta, n = carry
        return (delta >= tol) & (delta > floor(values)) & (n < limit)

    def body(carry):
        values, _, n = carry
        new = sweep(values)
        return new, jnp.max(jnp.abs(new - values)), n + 1

    inf = jnp.asarray(jnp.inf, values.dtype)
    return jax.lax.while_loop(cond, body, (values, inf, jnp.zeros((), jnp.int32)))[0]


def policy_iteration(
    mdp: TabularMDP,
    gamma,
    *,
    policy0: jax.Array | None = None,
    method: Literal["auto", "exact", "iterative"] = "auto",
    tol: float | None = 1e-8,
    max_sweeps: int | None = None,
    max_improvements: int | None = DEFAULT_MAX_IMPROVEMENTS,
    minimize: bool = False,
) -> PlanningResult:
    """Policy iteration, the lecture's slide: evaluate, then improve, until stable.

    1. Policy evaluation: ``V_{n+1}(S_t) = C_t(S_t, π_k(S_t)) + γ V_n(S_{t+1})``
       (:func:`policy_evaluation`, exact or iterative; iterative warm-starts from the
       previous ``V``).
    2. Policy update: ``π_{k+1}(S_t) = argmin_{A_t} C_t(S_t, A_t) + γ V(S_{t+1})``
       (``argmax`` of rewards unless ``minimize``). A state keeps its action unless
       another one is better by more than the rounding of a backup (plus ``tol`` for
       the iterative evaluation).

    Exact ties (a symmetric map) can still look better by a rounding error in
    alternate rounds. So an improved policy is kept only if its evaluation raises
    ``Σ_s V(s)``, the potential that every true improvement raises: strictly for the
    exact solve, which gives one policy the same V every time, so no policy is ever
    visited twice and the loop ends; by ``S δ`` for the iterative evaluation (δ its
    tolerance or the dtype's floor), which lets a policy come back at most
    ``2 γ / (1 - γ)`` times. A candidate that does not raise it ends the loop with the
    current policy.

    Stops when no state changes its action, or after ``max_improvements`` (then
    ``converged`` is ``False``; ``None``: no limit). Returns a :class:`PlanningResult`
    whose ``iterations`` counts the improvements kept.

    Its ``V`` is its policy's evaluation: exact to the solve's rounding, or, iterative,
    up to ``γ tol / (1 - γ)`` off. So in float64 it equals value iteration's to
    ``1e-9 max|V|`` with the exact evaluation or ``tol=1e-12``, not with the default
    ``tol=1e-8`` (FrozenLake 8x8 at γ = 0.999: 4.8e-7 off, iterative).
    """
    check_gamma(gamma)
    method = _pick_method(method, mdp.num_states)
    if method == "iterative":
        check_stopping(gamma, tol, max_sweeps, "policy_iteration")
    if max_improvements is not None and max_improvements < 0:
        raise ValueError(f"max_improvements must be >= 0, got {max_improvements}")
    if policy0 is None:
        policy0 = jnp.zeros(mdp.num_states, jnp.int32)
    return _policy_iteration(
        mdp, gamma, jnp.asarray(policy0, jnp.int32), method, tol, max_sweeps,
        max_improvements, minimize,
    )


@partial(
    jax.jit,
    static_argnames=("method", "tol", "max_sweeps", "max_improvements", "minimize"),
)
def _policy_iteration(
    mdp, gamma, policy0, method, tol, max_sweeps, max_improvements, minimize
) -> PlanningResult:
    model = successor_major(mdp)
    gamma = jnp.asarray(gamma, mdp.rewards.dtype)
    states = jnp.arange(mdp.num_states)
    limit = jnp.iinfo(jnp.int32).max if max_improvements is None else max_improvements

    def evaluate(policy, values):
        return _policy_evaluation(mdp, policy, gamma, values, method, tol, max_sweeps)

    def improve(policy, values):
        q = stack(backup_rows(model, values, gamma))
        candidate = greedy(q, minimize)
        gain = q[states, candidate] - q[states, policy]
        if minimize:
            gain = -gain
        margin = floor(q) + (0.0 if tol is None or method == "exact" else tol)
        return jnp.where(gain > margin, candidate, policy)

    def total(values):
        # the potential that every accepted improvement raises: Σ_s V(s) (-Σ for costs)
        return -jnp.sum(values) if minimize else jnp.sum(values)

    # How much the potential must rise: 0 for the exact solve (the same policy always
    # gets the same V, so a strict rise rules out revisiting one); for the iterative
    # evaluation, two evaluations of one policy differ by up to 2 γ δ / (1 - γ) per
    # state (δ: the tolerance or the dtype's floor), and a rise of S δ per accepted
    # step lets a policy recur at most 2 γ / (1 - γ) times.
    def slack(values):
        if tol is None or method == "exact":
            return jnp.zeros((), values.dtype)
        return mdp.num_states * (tol + floor(values))

    def cond(carry):
        _, _, stable, n = carry
        return ~stable & (n < limit)

    def body(carry):
        policy, values, _, n = carry
        candidate = improve(policy, values)
        changed = jnp.any(candidate != policy)
        new_values = jax.lax.cond(changed, evaluate, lambda _, v: v, candidate, values)
        accepted = changed & (total(new_values) > total(values) + slack(values))
        policy = jnp.where(accepted, candidate, policy)
        values = jnp.where(accepted, new_values, values)
        return policy, values, ~accepted, n + accepted.astype(jnp.int32)

    values0 = evaluate(policy0, jnp.zeros(mdp.num_states, mdp.rewards.dtype))
    policy, values, stable, improvements = jax.lax.while_loop(
        cond, body, (policy0, values0, jnp.asarray(False), jnp.zeros((), jnp.int32))
    )
    q = stack(backup_rows(model, values, gamma))
    return PlanningResult(
        values=values,
        policy=policy,
        q_values=q,
        iterations=improvements,
        delta=jnp.zeros((), values.dtype),
        converged=stable,
        at_floor=jnp.asarray(False),
    )
