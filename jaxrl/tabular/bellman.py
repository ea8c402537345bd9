"""The Bellman backup on a :class:`~jaxrl.mdp.TabularMDP`, shared by the planners.

``Q(s, a) = r(s, a) + γ Σ_{s'} P(s'|s, a) V(s')`` for every state and action, the
lecture's ``C_t(S_t, A_t) + γ V(S_{t+1})``, and its best action (``max`` of rewards, or
``min`` of costs with ``minimize``), with the planners' result type and checks.

The examples use two states, action 0 staying and action 1 moving to the other state,
staying in state 1 earning 1. With ``γ = 1/2``, ``V*(1) = 1 + γ V*(1) = 2``,
``V*(0) = γ V*(1) = 1``, ``Q* = [[0.5, 1], [2, 0.5]]`` and ``π* = [1, 0]``.

Examples:
  The planners of :mod:`jaxrl.tabular.planning` on it:

  >>> import jax.numpy as jnp
  >>> from jaxrl.mdp import TabularMDP
  >>> from jaxrl.tabular import planning
  >>> mdp = TabularMDP.create([[[0], [1]], [[1], [0]]], jnp.ones((2, 2, 1)),
  ...                         rewards=[[0, 0], [1, 0]])
  >>> result = planning.value_iteration(mdp, 0.5, tol=1e-5)
  >>> [round(v, 4) for v in result.values.tolist()], result.policy.tolist()
  ([1.0, 2.0], [1, 0])
  >>> result = planning.policy_iteration(mdp, 0.5)
  >>> [round(v, 4) for v in result.values.tolist()], result.policy.tolist()
  ([1.0, 2.0], [1, 0])
  >>> [round(v, 4) for v in planning.policy_evaluation(mdp, jnp.array([0, 0]), 0.5).tolist()]
  [0.0, 2.0]
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
    """The model as ``[A, K, S]`` successors and probabilities and ``[A, S]`` rewards.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxrl.mdp import TabularMDP
      >>> from jaxrl.tabular.bellman import successor_major
      >>> mdp = TabularMDP.create([[[0], [1]], [[1], [0]]], jnp.ones((2, 2, 1)),
      ...                         rewards=[[0, 0], [1, 0]])
      >>> next_states, probs, rewards = successor_major(mdp)
      >>> next_states.tolist(), rewards.tolist()  # [A, K, S], [A, S]
      ([[[0, 1]], [[1, 0]]], [[0.0, 1.0], [0.0, 0.0]])
    """
    return (
        jnp.moveaxis(mdp.next_states, 0, -1),
        jnp.moveaxis(mdp.probs, 0, -1),
        mdp.rewards.T,
    )


def backup_rows(model, values: jax.Array, gamma) -> list[jax.Array] | jax.Array:
    """``r(s, a) + γ Σ_k p_k V(s'_k)`` for every action: a list of ``[S]`` rows, or ``[A, S]``.

    Examples:
      The module's MDP, from ``V = [1, 2]``: staying, then moving, in each state:

      >>> import jax.numpy as jnp
      >>> from jaxrl.mdp import TabularMDP
      >>> from jaxrl.tabular.bellman import backup_rows, successor_major
      >>> mdp = TabularMDP.create([[[0], [1]], [[1], [0]]], jnp.ones((2, 2, 1)),
      ...                         rewards=[[0, 0], [1, 0]])
      >>> rows = backup_rows(successor_major(mdp), jnp.array([1.0, 2.0]), 0.5)
      >>> [row.tolist() for row in rows]
      [[0.5, 2.0], [1.0, 0.5]]
    """
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
    """``max_a`` (or ``min_a``) of the backed-up rows.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxrl.tabular.bellman import best
      >>> rows = [jnp.array([0.5, 2.0]), jnp.array([1.0, 0.5])]  # one per action
      >>> best(rows, minimize=False).tolist(), best(rows, minimize=True).tolist()
      ([1.0, 2.0], [0.5, 0.5])
    """
    if not isinstance(rows, list):
        return rows.min(0) if minimize else rows.max(0)
    pick = jnp.minimum if minimize else jnp.maximum
    best = rows[0]
    for row in rows[1:]:
        best = pick(best, row)
    return best


def stack(rows) -> jax.Array:
    """The backed-up rows as ``Q[S, A]``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxrl.tabular.bellman import stack
      >>> stack([jnp.array([0.5, 2.0]), jnp.array([1.0, 0.5])]).tolist()  # rows per action
      [[0.5, 1.0], [2.0, 0.5]]
    """
    return (jnp.stack(rows) if isinstance(rows, list) else rows).T


def greedy(q_values: jax.Array, minimize: bool) -> jax.Array:
    """The greedy policy ``argmax_a Q`` (``argmin`` for costs); ties go to the first action.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxrl.tabular.bellman import greedy
      >>> q = jnp.array([[0.5, 1.0], [2.0, 0.5], [1.0, 1.0]])
      >>> greedy(q, minimize=False).tolist(), greedy(q, minimize=True).tolist()
      ([1, 0, 0], [0, 1, 0])
    """
    best = jnp.argmin(q_values, -1) if minimize else jnp.argmax(q_values, -1)
    return best.astype(jnp.int32)


def floor(values: jax.Array) -> jax.Array:
    """The smallest sup-norm change the dtype can resolve around ``values``.

    Examples:
      ``8 eps max|V|``:

      >>> import jax.numpy as jnp
      >>> from jaxrl.tabular.bellman import floor
      >>> float(floor(jnp.array([1.0, -2.0], jnp.float32)) / jnp.finfo(jnp.float32).eps)
      16.0
    """
    return 8 * jnp.finfo(values.dtype).eps * jnp.max(jnp.abs(values))


def q_values(mdp: TabularMDP, values: jax.Array, gamma) -> jax.Array:
    """``Q(s, a) = r(s, a) + γ Σ_{s'} P(s'|s, a) V(s')``, the lecture's ``C_t + γ V(S_{t+1})``.

    Examples:
      The module's MDP, from ``V* = [1, 2]``: ``Q*``:

      >>> import jax.numpy as jnp
      >>> from jaxrl.mdp import TabularMDP
      >>> from jaxrl.tabular.bellman import q_values
      >>> mdp = TabularMDP.create([[[0], [1]], [[1], [0]]], jnp.ones((2, 2, 1)),
      ...                         rewards=[[0, 0], [1, 0]])
      >>> q_values(mdp, jnp.array([1.0, 2.0]), 0.5).tolist()
      [[0.5, 1.0], [2.0, 0.5]]
    """
    return stack(backup_rows(successor_major(mdp), values, gamma))


def bellman_backup(mdp: TabularMDP, values: jax.Array, gamma, *, minimize: bool = False):
    """One sweep of value iteration: ``V_{n+1}(s) = max_a [r(s, a) + γ E V_n(s')]``.

    With ``minimize=True``: ``V_{n+1}(S_t) = min_{A_t} (C_t(S_t, A_t) + γ V_n(S_{t+1}))``.

    Examples:
      The module's MDP: two sweeps from ``V_0 = 0``; ``V* = [1, 2]`` is a fixed point:

      >>> import jax.numpy as jnp
      >>> from jaxrl.mdp import TabularMDP
      >>> from jaxrl.tabular.bellman import bellman_backup
      >>> mdp = TabularMDP.create([[[0], [1]], [[1], [0]]], jnp.ones((2, 2, 1)),
      ...                         rewards=[[0, 0], [1, 0]])
      >>> bellman_backup(mdp, bellman_backup(mdp, jnp.zeros(2), 0.5), 0.5).tolist()
      [0.5, 1.5]
      >>> bellman_backup(mdp, jnp.array([1.0, 2.0]), 0.5).tolist()
      [1.0, 2.0]
    """
    return best(backup_rows(successor_major(mdp), values, gamma), minimize)


def check_stopping(gamma, tol, max_sweeps, what: str) -> None:
    """Raise ``ValueError``, naming the planner ``what``, for a bad stopping rule: none
    given, ``tol <= 0``, ``max_sweeps < 0``, or ``γ = 1`` with a tolerance alone.

    Examples:
      >>> from jaxrl.tabular.bellman import check_stopping
      >>> check_stopping(0.9, tol=1e-6, max_sweeps=None, what="value_iteration")  # fine
      >>> check_stopping(0.9, tol=None, max_sweeps=None, what="value_iteration")
      Traceback (most recent call last):
      ...
      ValueError: value_iteration: give a tolerance `tol`, a sweep limit `max_sweeps`, or both
    """
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
