"""How far a Q-table is from the optimum of an exact model: the scoring of tabular
Q-learning (and of the naive network's one-hot table, ``deeptable``).

Against planning's ``Q*``/``V*`` (:func:`jaxrl.tabular.planning.value_iteration`):
``max |Q - Q*|``, the value the greedy policy loses, ``V* - V^π`` (its exact
:func:`~jaxrl.tabular.planning.policy_evaluation`), and the share of states from which
it reaches a goal.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxrl.envs.tabular import ExactModel
from jaxrl.tabular.bellman import PlanningResult
from jaxrl.tabular.planning import policy_evaluation


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
