"""How far a Q-table is from the optimum of an exact model: the scoring of tabular
Q-learning (and of the naive network's one-hot table, ``deeptable``).

Against planning's ``Q*``/``V*`` (:func:`reference_optimum`: policy iteration with
exact evaluation, ``Q*`` to float32's rounding, so that the distance measured is the
table's, not the reference's own):
``max |Q - Q*|``, the value the greedy policy loses, ``V* - V^π`` (its exact
:func:`~jaxrl.tabular.planning.policy_evaluation`), and the share of states from which
it reaches a goal; and how far a learned model is from the exact one
(:func:`model_errors`, tabular model-based RL's).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxrl.envs.tabular import ExactModel
from jaxrl.mdp import TabularMDP
from jaxrl.tabular.bellman import PlanningResult, q_values
from jaxrl.tabular.planning import (
    EXACT_SOLVE_MAX_STATES,
    policy_evaluation,
    policy_iteration,
    value_iteration,
)

#: :func:`reference_optimum`'s policy iteration: at most this many improvements (it
#: starts from value iteration's greedy policy and usually makes none).
REFERENCE_IMPROVEMENTS = 100


def reference_optimum(mdp: TabularMDP, gamma) -> PlanningResult:
    """Planning's optimum ``Q*``/``V*`` of an exact model, to score a table against, in
    the model's dtype (float32) on any backend, ``jit`` and ``vmap`` (γ traced or not).

    Value iteration to ``tol=1e-6`` gives a policy; policy iteration with the exact
    evaluation (a linear solve of ``(I - γ P_π) V = r_π``) improves it until it is
    stable, which it usually already is; one step of iterative refinement solves again
    for the residual ``r_π + γ P_π V - V``; then ``Q = r + γ P V``. That is ``Q*`` to
    a few float32 roundings: within 4e-7 max|Q*| of float64's on the maze (γ = 0.9,
    0.99, 0.999), FrozenLake and DiscretePendulum (γ = 0.99). Value iteration alone is
    not: stopped at a change of ``tol`` it is up to ``γ tol / (1 - γ)`` off (9e-5
    max|Q| on the maze at γ = 0.99, more than the tables it scores), and even at
    float32's floor about ``eps max|Q| / (1 - γ)``; float64 would be, but TPUs have none.
    Actions within float32's rounding of each other count as ties.

    Value iteration's result stands where the solve cannot be used: at γ = 1, where
    ``I - P_π`` is singular (an absorbing terminal state), and above
    :data:`~jaxrl.tabular.planning.EXACT_SOLVE_MAX_STATES` states.
    """
    start = value_iteration(mdp, gamma, tol=1e-6, max_sweeps=10_000)
    if mdp.num_states > EXACT_SOLVE_MAX_STATES:
        return start
    result = policy_iteration(mdp, gamma, policy0=start.policy, method="exact",
                              max_improvements=REFERENCE_IMPROVEMENTS)
    residual = q_values(mdp, result.values, gamma) - result.values[:, None]
    values = result.values + policy_evaluation(mdp.replace(rewards=residual), result.policy,
                                               gamma, method="exact")
    q = q_values(mdp, values, gamma)
    solved = PlanningResult(values=values, policy=result.policy, q_values=q,
                            iterations=result.iterations,
                            delta=jnp.max(jnp.abs(jnp.max(q, -1) - values)),
                            converged=result.converged, at_floor=result.at_floor)
    exact = jnp.asarray(gamma, mdp.rewards.dtype) < 1
    return jax.tree.map(lambda x, y: jnp.where(exact, x, y), solved, start)


def _greedy_success(model: ExactModel, policy: jax.Array, horizon: int) -> jax.Array:
    """Probability of reaching a goal within ``horizon`` steps from each state, under π."""
    mdp = model.mdp
    states = jnp.arange(mdp.num_states)
    next_states = mdp.next_states[states, policy]
    probs = mdp.probs[states, policy]
    goal = model.goal.astype(probs.dtype)
    live = (~mdp.terminal).astype(probs.dtype)

    def sweep(reach, _):
        return goal + live * jnp.sum(probs * reach[next_states], -1), None

    reach, _ = jax.lax.scan(sweep, goal, length=horizon)
    return reach


def evaluate_q(q: jax.Array, model: ExactModel, optimum: PlanningResult, gamma,
               horizon: int) -> dict[str, jax.Array]:
    """Distance of a Q-table to the optimum of the exact model.

    Returns ``{"q_error": max |Q - Q*|, "value_gap": mean (V* - V^π), "greedy_success":
    share of states from which π reaches a goal within ``horizon`` steps}``, the first
    two over non-terminal states (success: over all states, terminal goals counting as
    reached).
    """
    live = ~model.mdp.terminal
    q_error = jnp.max(jnp.where(live[:, None], jnp.abs(q - optimum.q_values), 0.0))
    policy = jnp.argmax(q, axis=-1).astype(jnp.int32)
    v_policy = policy_evaluation(model.mdp, policy, gamma)
    gap = jnp.sum(jnp.where(live, optimum.values - v_policy, 0.0)) / jnp.maximum(live.sum(), 1)
    success = jnp.mean(_greedy_success(model, policy, horizon))
    return {"q_error": q_error, "value_gap": gap, "greedy_success": success}


def _largest_difference(learned_next, learned_probs, next_states, probs):
    """``max_s' |P̂(s') - P(s')|`` for one pair, from its two successor lists (a
    successor may be listed more than once; empty learned slots have probability 0):
    O(K²), no row over all S states."""
    def mass(at, where, p):  # the probability each list gives the states ``at``
        return jnp.sum(jnp.where(at[:, None] == where[None, :], p[None, :], 0.0), -1)

    on_learned = jnp.abs(mass(learned_next, learned_next, learned_probs)
                         - mass(learned_next, next_states, probs))
    on_exact = jnp.abs(mass(next_states, learned_next, learned_probs)
                       - mass(next_states, next_states, probs))
    return jnp.maximum(jnp.max(jnp.where(learned_probs > 0, on_learned, 0.0)),
                       jnp.max(on_exact))


def model_errors(next_states: jax.Array, probs: jax.Array, rewards: jax.Array,
                 tries: jax.Array, spilled: jax.Array, model: ExactModel
                 ) -> dict[str, jax.Array]:
    """A learned model against the exact one, over the non-terminal pairs tried.

    The learned model: ``[S, A, K]`` successors and their probabilities ``P̂`` (0 in an
    empty slot), ``[S, A]`` mean rewards ``r̂``, tries ``N(s, a)`` and ``spilled``, the
    tries whose successor found no slot. Returns ``model_error``
    ``max |P̂(s'|s, a) - P(s'|s, a)|``, ``reward_error`` ``max |r̂ - r|``, ``coverage``
    (the share of non-terminal pairs tried) and ``dropped`` (the largest share of a
    pair's tries spilled).
    """
    mdp = model.mdp
    tried = ~mdp.terminal[:, None] & (tries > 0)
    p_error = jax.vmap(jax.vmap(_largest_difference))(next_states, probs, mdp.next_states,
                                                      mdp.probs)
    live_pairs = jnp.sum(~mdp.terminal) * mdp.num_actions
    return {"model_error": jnp.max(jnp.where(tried, p_error, 0.0)),
            "reward_error": jnp.max(jnp.where(tried, jnp.abs(rewards - mdp.rewards), 0.0)),
            "coverage": jnp.sum(tried) / jnp.maximum(live_pairs, 1),
            "dropped": jnp.max(spilled / jnp.maximum(tries, 1))}
