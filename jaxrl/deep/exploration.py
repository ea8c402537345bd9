"""Exploration: how a learner chooses ``A_t`` from ``S_t`` "using a policy using Q".

* :func:`epsilon_greedy`: a uniform action with probability ε, else ``argmax_a Q``;
  :func:`epsilon_schedule` moves ε linearly (``optax.linear_schedule``).
* :func:`disturb`: the course's ``deeptable`` practical,
  ``u += int(randn * 10 / (episode / 50 + 10))`` clipped to the action range.

Gaussian and Ornstein-Uhlenbeck noise for DDPG's continuous actions go here too.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


def epsilon_schedule(start, end, steps: int) -> optax.Schedule:
    """ε from ``start`` to ``end`` linearly over ``steps`` environment steps, then ``end``."""
    return optax.linear_schedule(init_value=start, end_value=end,
                                 transition_steps=max(int(steps), 1))


def epsilon_greedy(key: jax.Array, q_values: jax.Array, epsilon) -> jax.Array:
    """One action per row of ``q_values`` (``[..., num_actions]``): ε-greedy."""
    num_actions = q_values.shape[-1]
    key_coin, key_action = jax.random.split(key)
    lead = q_values.shape[:-1]
    explore = jax.random.uniform(key_coin, lead) < epsilon
    random_action = jax.random.randint(key_action, lead, 0, num_actions)
    return jnp.where(explore, random_action, jnp.argmax(q_values, axis=-1)).astype(jnp.int32)


def disturb(key: jax.Array, action: jax.Array, episode: jax.Array, num_actions: int):
    """The course's exploration: ``clip(u + int(randn * 10 / (episode / 50 + 10)))``.

    ``int`` truncates toward zero, as Python's does; ``episode`` counts from 0.
    """
    noise = jax.random.normal(key, jnp.shape(action)) * 10.0 / (episode / 50.0 + 10.0)
    action = action + jnp.trunc(noise).astype(jnp.int32)
    return jnp.clip(action, 0, num_actions - 1).astype(jnp.int32)


# ---------------------------------------------------------------------------------------
# Continuous actions (DDPG): Gaussian and Ornstein-Uhlenbeck noise, clipped to the bounds.
# ---------------------------------------------------------------------------------------


def gaussian_noise(key: jax.Array, shape, sigma) -> jax.Array:
    """``σ ε`` with ``ε ~ N(0, I)``: independent noise at every step (wsmemmo, TD3)."""
    return sigma * jax.random.normal(key, shape)


def ornstein_uhlenbeck(key: jax.Array, noise: jax.Array, sigma, theta, dt) -> jax.Array:
    """One Euler step of the OU process ``dx = -θ x dt + σ dW`` (mean 0):
    ``x' = x - θ x dt + σ √dt ε``. Temporally correlated noise (Lillicrap et al.;
    the course's supaero2022 practical uses θ = 0.15, σ = 0.2, dt = 1e-2)."""
    eps = jax.random.normal(key, jnp.shape(noise))
    return noise - theta * noise * dt + sigma * jnp.sqrt(dt) * eps


def clip_action(action: jax.Array, low, high) -> jax.Array:
    """The noisy action clipped back into the action space ``[low, high]``."""
    return jnp.clip(action, low, high)
