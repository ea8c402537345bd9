"""A finite Markov decision process with a known model, as a pytree.

The lecture's planning slides assume the model is known: for every state ``s`` and
action ``a`` we know where we may land (``s'``), with which probability, and what the
step is worth. ``TabularMDP`` stores exactly that, sparsely: each ``(s, a)`` lists
``K`` successors, so a 1,000,000-state model with four successors per action takes
``S * A * K * 8`` bytes instead of a dense ``S * A * S`` array.

Sign convention: ``rewards`` are maximised. The lecture minimises costs; its cost
formulation is the same arrays read with ``minimize=True`` in
:mod:`jaxrl.tabular.planning` (then ``rewards`` holds the costs ``c(s, a)``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

#: Probabilities of one (s, a) must sum to 1 within this tolerance (float32 rounding).
PROB_ATOL = 1e-5


class TabularMDP(struct.PyTreeNode):
    """Successor indices ``[S, A, K]``, their probabilities ``[S, A, K]``, rewards ``[S, A]``.

    ``P(next_states[s, a, k] | s, a) = probs[s, a, k]``; a successor may be listed more
    than once (its probabilities add up) and unused slots carry probability 0.
    ``terminal[s]`` marks states where an episode ends; planning treats them as they
    are modelled (an absorbing state with reward 0 is the usual encoding) and learners
    use the mask to stop bootstrapping.

    Build one with :meth:`create` or :meth:`from_dense`, which validate the model;
    the bare constructor is the pytree path used by ``jax.tree`` and ``vmap`` and
    checks nothing.

    Examples:
      Two states, two actions (0 stays, 1 moves to the other state), one successor each;
      staying in state 1 earns 1:

      >>> import numpy as np
      >>> from jaxrl.mdp import TabularMDP
      >>> mdp = TabularMDP.create(next_states=[[[0], [1]], [[1], [0]]],
      ...                         probs=np.ones((2, 2, 1)), rewards=[[0, 0], [1, 0]])
      >>> mdp.num_states, mdp.num_actions, mdp.num_successors
      (2, 2, 1)
    """

    next_states: jax.Array
    probs: jax.Array
    rewards: jax.Array
    terminal: jax.Array

    @property
    def num_states(self) -> int:
        """Number of states ``S``."""
        return self.next_states.shape[-3]

    @property
    def num_actions(self) -> int:
        """Number of actions ``A``."""
        return self.next_states.shape[-2]

    @property
    def num_successors(self) -> int:
        """Number of successor slots ``K`` per (state, action)."""
        return self.next_states.shape[-1]

    @classmethod
    def create(
        cls,
        next_states,
        probs,
        rewards,
        terminal=None,
        *,
        dtype=None,
    ) -> TabularMDP:
        """Validate and build a model from sparse successor lists.

        Args:
          next_states: integer array ``[S, A, K]`` of successor indices in ``[0, S)``.
          probs: array ``[S, A, K]``, non-negative, summing to 1 over ``K``.
          rewards: array ``[S, A]``, the expected reward of taking ``a`` in ``s``.
          terminal: optional boolean array ``[S]`` (default: no terminal state).
          dtype: float dtype of ``probs`` and ``rewards`` (default float32, or the
            inputs' float64 when ``jax_enable_x64`` is on).

        Raises:
          ValueError: naming the first bad ``(s, a)`` when shapes disagree, an index is
            out of range, a probability is negative or a row does not sum to 1.

        Examples:
          One state, one action, two successor slots listing state 0 twice:

          >>> from jaxrl.mdp import TabularMDP
          >>> mdp = TabularMDP.create([[[0, 0]]], [[[0.75, 0.25]]], [[1.0]])
          >>> mdp.to_dense().tolist(), mdp.terminal.tolist()
          ([[[1.0]]], [False])
          >>> TabularMDP.create([[[0, 0]]], [[[0.75, 0.5]]], [[1.0]])
          Traceback (most recent call last):
          ...
          ValueError: probabilities of (s=0, a=0) sum to 1.25, not 1
        """
        next_states = np.asarray(next_states)
        probs = np.asarray(probs)
        rewards = np.asarray(rewards)
        validate(next_states, probs, rewards)
        num_states = next_states.shape[0]
        if terminal is None:
            terminal = np.zeros(num_states, dtype=bool)
        terminal = np.asarray(terminal)
        if terminal.shape != (num_states,):
            raise ValueError(f"terminal must have shape ({num_states},), got {terminal.shape}")
        if dtype is None:
            wide = probs.dtype == np.float64 or rewards.dtype == np.float64
            dtype = jnp.float64 if wide and jax.config.jax_enable_x64 else jnp.float32
        return cls(
            next_states=jnp.asarray(next_states, dtype=jnp.int32),
            probs=jnp.asarray(probs, dtype=dtype),
            rewards=jnp.asarray(rewards, dtype=dtype),
            terminal=jnp.asarray(terminal, dtype=bool),
        )

    @classmethod
    def from_dense(cls, transitions, rewards, terminal=None, *, dtype=None) -> TabularMDP:
        """Build a model from a dense ``P[S, A, S']`` (for small models).

        ``K`` becomes the largest number of non-zero successors of any (s, a); the
        dense array is validated like :meth:`create` (rows of ``P`` sum to 1).

        Examples:
          >>> import numpy as np
          >>> from jaxrl.mdp import TabularMDP
          >>> dense = [[[0.75, 0.25], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]]  # [S, A, S']
          >>> mdp = TabularMDP.from_dense(dense, rewards=np.zeros((2, 2)))
          >>> mdp.num_successors, mdp.next_states[0].tolist(), mdp.probs[0].tolist()
          (2, [[0, 1], [1, 0]], [[0.75, 0.25], [1.0, 0.0]])
        """
        dense = np.asarray(transitions)
        if dense.ndim != 3 or dense.shape[0] != dense.shape[2]:
            raise ValueError(f"transitions must have shape [S, A, S], got {dense.shape}")
        _check_probabilities(dense)
        nonzero = dense != 0
        k = max(int(nonzero.sum(-1).max()), 1)
        # Stable sort puts the non-zero successors first, in index order.
        order = np.argsort(~nonzero, axis=-1, kind="stable")[..., :k]
        probs = np.take_along_axis(dense, order, axis=-1)
        next_states = np.where(probs > 0, order, 0)
        return cls.create(next_states, probs, rewards, terminal, dtype=dtype)

    def to_dense(self) -> jax.Array:
        """The dense transition array ``P[S, A, S']`` (for small models and tests).

        Examples:
          >>> from jaxrl.mdp import TabularMDP
          >>> mdp = TabularMDP.create([[[0, 1]], [[1, 1]]], [[[0.5, 0.5]], [[1.0, 0.0]]],
          ...                         rewards=[[0.0], [1.0]])
          >>> mdp.to_dense().tolist()  # [S, A, S']
          [[[0.5, 0.5]], [[0.0, 1.0]]]
        """
        dense = jnp.zeros((self.num_states, self.num_actions, self.num_states), self.probs.dtype)
        s, a, _ = jnp.indices(self.next_states.shape)
        return dense.at[s, a, self.next_states].add(self.probs)


def validate(next_states: np.ndarray, probs: np.ndarray, rewards: np.ndarray) -> None:
    """Raise ``ValueError`` naming the first bad (s, a) of a sparse model.

    Examples:
      >>> import numpy as np
      >>> from jaxrl.mdp import validate
      >>> validate(np.array([[[0], [1]]]), np.ones((1, 2, 1)), np.zeros((1, 2)))
      Traceback (most recent call last):
      ...
      ValueError: successor index out of range [0, 1) at (s=0, a=1): [1]
    """
    if next_states.ndim != 3:
        raise ValueError(f"next_states must have shape [S, A, K], got {next_states.shape}")
    if probs.shape != next_states.shape:
        raise ValueError(
            f"probs has shape {probs.shape} but next_states has {next_states.shape}"
        )
    num_states, num_actions, _ = next_states.shape
    if rewards.shape != (num_states, num_actions):
        raise ValueError(
            f"rewards must have shape ({num_states}, {num_actions}), got {rewards.shape}"
        )
    if not np.issubdtype(next_states.dtype, np.integer):
        raise ValueError(f"next_states must be integers, got dtype {next_states.dtype}")
    if num_states >= 2**31:
        raise ValueError("at most 2**31 - 1 states are supported (int32 indices)")
    out_of_range = ((next_states < 0) | (next_states >= num_states)).any(-1)
    if out_of_range.any():
        s, a = np.argwhere(out_of_range)[0]
        raise ValueError(
            f"successor index out of range [0, {num_states}) at (s={s}, a={a}): "
            f"{next_states[s, a].tolist()}"
        )
    _check_probabilities(probs)
    if not np.isfinite(rewards).all():
        s, a = np.argwhere(~np.isfinite(rewards))[0]
        raise ValueError(f"reward is not finite at (s={s}, a={a}): {rewards[s, a]}")


def _check_probabilities(probs: np.ndarray) -> None:
    """Probabilities over the last axis are finite, non-negative and sum to 1."""
    if not np.issubdtype(probs.dtype, np.floating):
        probs = probs.astype(np.float64)
    negative = (probs < 0).any(-1) | ~np.isfinite(probs).all(-1)
    if negative.any():
        s, a = np.argwhere(negative)[0]
        raise ValueError(
            f"probabilities must be finite and non-negative at (s={s}, a={a}): "
            f"{probs[s, a].tolist()}"
        )
    totals = probs.sum(-1, dtype=np.float64)
    not_stochastic = np.abs(totals - 1.0) > PROB_ATOL
    if not_stochastic.any():
        s, a = np.argwhere(not_stochastic)[0]
        raise ValueError(
            f"probabilities of (s={s}, a={a}) sum to {totals[s, a]:.6g}, not 1"
        )

