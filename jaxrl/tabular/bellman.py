"""The Bellman backup on a :class:`~jaxrl.mdp.TabularMDP`, shared by the planners.

``Q(s, a) = r(s, a) + γ Σ_{s'} P(s'|s, a) V(s')`` for every state and action, the
lecture's ``C_t(S_t, A_t) + γ V(S_{t+1})``, and its best action (``max`` of rewards, or
``min`` of costs with ``minimize``), with the planners' result type and checks.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from jaxrl.mdp import TabularMDP

# Successor-major layout: the sweep reads the model as S-long rows, one per (a, k), and
# unrolls the small A x K loop, so that XLA emits one vectorised pass over the states.
# Reducing over a short trailing axis of [S, A, K] instead is 2-5x slower on CPU.
_UNROLL_LIMIT = 64



class PlanningResult(struct.PyTreeNode):
    """What a planner returns.

    Attributes:
      values: ``V[S]``, the last value function.
      policy: ``π[S]`` (int32), greedy with respect to ``values``.
      q_values: ``Q[S, A] = r(s, a) + γ Σ P(s'|s, a) V(s')`` from ``values``.
      iterations: sweeps done (value iteration) or policy improvements made (policy
        iteration).
      delta: the last sweep's sup-norm change ``max_s |V_{n+1}(s) - V_n(s)|``.
      converged: whether ``delta`` fell under the tolerance, or reached the dtype's
        floor (``at_floor``), or the policy is stable.
      at_floor: value iteration stopped because ``delta`` reached what the dtype can
        resolve around ``V`` (``8 eps max|V|``) while still at or above ``tol``: the
        tolerance actually reached is then ``delta``, not ``tol`` (float32 with
        ``tol=1e-10`` stops where ``tol=1e-7`` does). Always ``False`` for policy
        iteration.
      history: ``[n + 1, S]``, ``V_0 … V_n``, when asked for, else ``None``.
    """

    values: jax.Array
    policy: jax.Array
    q_values: jax.Array
    iterations: jax.Array
    delta: jax.Array
    converged: jax.Array
    at_floor: jax.Array
    history: jax.Array | None = None


def successor_major(mdp: TabularMDP) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The model as ``[A, K, S]`` successors and probabilities and ``[A, S]`` rewards."""
    return (
        jnp.moveaxis(mdp.next_states, 0, -1),
        jnp.moveaxis(mdp.probs, 0, -1),
        mdp.rewards.T,
    )


def backup_rows(model, values: jax.Array, gamma) -> list[jax.Array] | jax.Array:
    """``r(s, a) + γ Σ_k p_k V(s'_k)`` for every action: a list of ``[S]`` rows, or ``[A, S]``."""
    next_states, probs, rewards = model
    num_actions, num_successors, _ = next_states.shape
    if num_actions * num_successors > _UNROLL_LIMIT:
        return rewards + gamma * jnp.sum(probs * values[next_states], axis=1)
    rows = []
    for a in range(num_actions):
        expected = probs[a, 0] * values[next_states[a, 0]]
        for k in range(1, num_successors):
            expected = expected + probs[a, k] * values[next_states[a, k]]
        rows.append(rewards[a] + gamma * expected)
    return rows


def best(rows, minimize: bool) -> jax.Array:
    """``max_a`` (or ``min_a``) of the backed-up rows."""
    if not isinstance(rows, list):
        return rows.min(0) if minimize else rows.max(0)
    pick = jnp.minimum if minimize else jnp.maximum
    best = rows[0]
    for row in rows[1:]:
        best = pick(best, row)
    return best


def stack(rows) -> jax.Array:
    """The backed-up rows as ``Q[S, A]``."""
    return (jnp.stack(rows) if isinstance(rows, list) else rows).T


def greedy(q_values: jax.Array, minimize: bool) -> jax.Array:
    """The greedy policy ``argmax_a Q`` (``argmin`` for costs); ties go to the first action."""
    best = jnp.argmin(q_values, -1) if minimize else jnp.argmax(q_values, -1)
    return best.astype(jnp.int32)


def floor(values: jax.Array) -> jax.Array:
    """The smallest sup-norm change the dtype can resolve around ``values``."""
    return 8 * jnp.finfo(values.dtype).eps * jnp.max(jnp.abs(values))


def q_values(mdp: TabularMDP, values: jax.Array, gamma) -> jax.Array:
    """``Q(s, a) = r(s, a) + γ Σ_{s'} P(s'|s, a) V(s')``, the lecture's ``C_t + γ V(S_{t+1})``."""
    return stack(backup_rows(successor_major(mdp), values, gamma))


def bellman_backup(mdp: TabularMDP, values: jax.Array, gamma, *, minimize: bool = False):
    """One sweep of value iteration: ``V_{n+1}(s) = max_a [r(s, a) + γ E V_n(s')]``.

    With ``minimize=True``: ``V_{n+1}(S_t) = min_{A_t} (C_t(S_t, A_t) + γ V_n(S_{t+1}))``.
    """
    return best(backup_rows(successor_major(mdp), values, gamma), minimize)


def check_stopping(gamma, tol, max_sweeps, what: str) -> None:
    if tol is None and max_sweeps is None:
        raise ValueError(f"{what}: give a tolerance `tol`, a sweep limit `max_sweeps`, or both")
    if tol is not None and tol <= 0:
        raise ValueError(f"{what}: tol must be positive, got {tol}")
    if max_sweeps is not None and max_sweeps < 0:
        raise ValueError(f"{what}: max_sweeps must be >= 0, got {max_sweeps}")
    if (
        tol is not None
        and max_sweeps is None
        and not isinstance(gamma, jax.core.Tracer)
        and float(gamma) == 1.0
    ):
        raise ValueError(
            f"{what}: with gamma = 1 value iteration need not converge; "
            "give max_sweeps as well as tol"
        )
