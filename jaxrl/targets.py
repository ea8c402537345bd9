"""The lecture's equations as array-level functions, below every learner (rlax's style).

Each takes arrays (and a discount), never a config or a network, so tabular Q-learning,
naive NN-Q, DQN and DDPG compute their targets with the same few lines. Rewards, not
costs: the lecture's ``C_t + γ min_A Q`` is ``r_t + γ max_A Q`` with ``r = -C``.
``terminated`` stops the bootstrap (an episode that ended has no future); a time limit
(``truncated``) still bootstraps, from the true final observation that the environment
contract (:class:`jaxrl.envs.wrappers.AutoReset`) gives as ``next_obs``.

=============================  ==============================================================
function                       equation (slide)
=============================  ==============================================================
:func:`q_learning_target`      ``r + γ max_a Q(S', a)``  ("Q-learning with a table")
:func:`double_q_target`        ``r + γ Q̂(S', argmax_a Q(S', a))``  (van Hasselt et al. 2016)
:func:`taken_action_value`     ``Q(S, A)`` of the action taken
:func:`td_loss`                ``mean_j ℓ(Q(S_j, A_j; θ) - y_j)``  ("Deep Q-network (DQN)")
:func:`ddpg_critic_target`     ``r + γ min_k Q′_k(S', π′(S'))``  ("DDPG"; TD3 for ``k = 2``)
:func:`q_learning_update`      ``Q(S, A) <- (1 - α) Q(S, A) + α y``  ("Q-learning with a table")
=============================  ==============================================================
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

#: ``td_loss`` kinds: ``(y - q)²`` (the course's), half of it (optax's ``l2_loss``), Huber.
TD_LOSSES = ("squared", "l2", "huber")


def _bootstrap(reward: jax.Array, terminated: jax.Array, value_next: jax.Array, gamma):
    """``r + γ (1 - terminated) V(S')``: no bootstrap past termination."""
    return reward + gamma * jnp.where(terminated, 0.0, value_next)


def q_learning_target(reward: jax.Array, terminated: jax.Array, q_next: jax.Array,
                      gamma) -> jax.Array:
    """The Q-learning target ``r + γ max_a Q(S', a)``, ``0`` bootstrap past termination.

    The lecture's ``C_t(S_t, A_t) + γ min_A Q(S_{t+1}, A)`` in reward form. ``q_next``:
    ``[..., A]``, the values at the next observation (the table's row, or a network's
    output, from the same or a target network).
    """
    return _bootstrap(reward, terminated, jnp.max(q_next, axis=-1), gamma)


def double_q_target(reward: jax.Array, terminated: jax.Array, q_next_target: jax.Array,
                    q_next_online: jax.Array, gamma) -> jax.Array:
    """Double Q-learning's target ``r + γ Q̂(S', argmax_a Q(S', a))``.

    The online values pick the action, the target network's values it (van Hasselt,
    Guez & Silver 2016), which removes the max's upward bias.
    """
    best = jnp.argmax(q_next_online, axis=-1)
    return _bootstrap(reward, terminated, taken_action_value(q_next_target, best), gamma)


def taken_action_value(q: jax.Array, action: jax.Array) -> jax.Array:
    """``Q(S, A)``: the value of the action taken, ``q[..., action]`` per row."""
    return jnp.take_along_axis(q, action[..., None], axis=-1)[..., 0]


def td_loss(q_taken: jax.Array, target: jax.Array, kind: str = "l2") -> jax.Array:
    """The TD loss ``mean_j ℓ(Q(S_j, A_j; θ) - y_j)`` of the DQN slide.

    ``kind``: ``"squared"`` (``(y - q)²``, the slide's and the course's), ``"l2"`` (half
    of it, ``optax.l2_loss``) or ``"huber"`` (``optax.huber_loss``, δ = 1). The target
    should carry no gradient (``jax.lax.stop_gradient``).
    """
    if kind == "huber":
        return jnp.mean(optax.huber_loss(q_taken, target, delta=1.0))
    half = jnp.mean(optax.l2_loss(q_taken, target))
    return 2.0 * half if kind == "squared" else half


def ddpg_critic_target(reward: jax.Array, terminated: jax.Array, q_next: jax.Array,
                       gamma) -> jax.Array:
    """DDPG's critic target ``y_i = r_i + γ min_k Q′_k(s_{i+1}, ã_{i+1})``.

    ``q_next``: ``[num_critics, batch]``, the target critics at the next observation and
    the target action. One critic is the slide's ``r + γ Q′(s′, π′(s′))``; two are TD3's
    clipped double-Q (Fujimoto et al. 2018).
    """
    return _bootstrap(reward, terminated, jnp.min(q_next, axis=0), gamma)


def q_learning_update(q_taken: jax.Array, target: jax.Array, learning_rate) -> jax.Array:
    """The table's step ``α (y - Q(S, A))``: ``Q(S, A) + step`` is
    ``(1 - α) Q(S, A) + α y``, the slide's update."""
    return learning_rate * (target - q_taken)
