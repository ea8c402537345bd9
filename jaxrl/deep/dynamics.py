"""The learned model of model-based RL: system identification from the replay memory.

The lecture's slide "sample the world, learn a model, then do optimal control" fits a
model of the step ``(s, a) -> (s', r)`` to the transitions collected so far [Schaal &
Atkeson, 1994], then plans on it (:mod:`jaxrl.deep.mpc`). The model predicts the
*change* of the observation and the reward,

::

    (Δs, r) = f(s, a),        ŝ' = s + Δs                          [Nagabandi et al., 2018]

with inputs and targets normalised by the statistics of the data in memory
(:func:`statistics`: their mean and standard deviation, recomputed at every fit), so
that ``cos q`` (in ±1), ``v`` (in ±8 rad/s) and the torque (±2) weigh alike and ``Δs``
(a few hundredths per step) is learned at unit scale. The reward is learned as
``symlog(r / c)`` (:func:`encode_reward`, DreamerV3's transform [Hafner et al., 2023];
``c = reward_scale``): near the goal the course pendulum's rewards are a few 1e-4
(``-q² h`` at ``q = 0.1``: -5e-4) beside -0.5 hanging, and learned as ``r`` itself
their error (measured 0.003 RMSE within 0.3 rad of upright, against 0.0007 with
``c = 0.01``) shifts where the planner holds the pendulum by about 0.1 rad. Three
models, one switch (``MODELS``):

* ``"mlp"``: an MLP (:class:`jaxrl.deep.networks.QNetwork`'s Dense layers and plain
  linear head, its ``num_actions`` outputs read as ``[Δs, r]``) fitted by Adam on the
  mean squared error of the normalised targets over minibatches of the memory
  (:func:`fit_mlp`);
* ``"linear"``: linear in fixed features, ``(Δs, r) = W^T φ(x)``, ``φ`` the monomials of
  degree <= 2 of the normalised ``x = [s, a]`` (:func:`features`), ``W`` the ridge
  regression over the whole memory in closed form (:func:`fit_linear`):
  ``(Φ^T Φ + λ n I) W = Φ^T Y``, by ``jnp.linalg.solve``. The course pendulum with
  ``[cos q, sin q, v]`` observations is nearly linear in them: ``Δv ∝ u - Kf v +
  4.905 sin q``, ``Δcos q ≈ -sin q v dt``;
* ``"exact"``: no learning, the environment's own step (:func:`exact_step`, the course
  pendulum's :func:`jaxrl.envs.pendulum_model.dynamics`): the optimal-control baseline.

A model is a pytree ``{"norm": Normalizer, "net" | "weights": ...}`` (empty for
``"exact"``), so that it lives in the agent state, under ``vmap`` over seeds.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from jaxrl.deep import replay
from jaxrl.deep.networks import QNetwork
from jaxrl.envs.pendulum_model import dynamics

MODELS = ("mlp", "linear", "exact")


class Normalizer(struct.PyTreeNode):
    """Per-component mean and standard deviation of the model's inputs ``x = [s, a]``
    and targets ``y = [Δs, r]`` (the memory's, at the last fit)."""

    x_mean: jax.Array
    x_std: jax.Array
    y_mean: jax.Array
    y_std: jax.Array

    @classmethod
    def identity(cls, x_dim: int, y_dim: int) -> Normalizer:
        """Mean 0, standard deviation 1: the untrained model's."""
        return cls(jnp.zeros(x_dim), jnp.ones(x_dim), jnp.zeros(y_dim), jnp.ones(y_dim))


def inputs(obs: jax.Array, action: jax.Array) -> jax.Array:
    """``x = [s, a]``: flat observation and action, float32, one row per transition."""
    lead = obs.shape[:-1]
    return jnp.concatenate([obs.astype(jnp.float32),
                            jnp.reshape(action, (*lead, -1)).astype(jnp.float32)], -1)


def symlog(x: jax.Array) -> jax.Array:
    """``sign(x) log(1 + |x|)`` [Hafner et al., 2023]: linear near 0, logarithmic far."""
    return jnp.sign(x) * jnp.log1p(jnp.abs(x))


def symexp(x: jax.Array) -> jax.Array:
    """The inverse of :func:`symlog`: ``sign(x) (exp|x| - 1)``."""
    return jnp.sign(x) * jnp.expm1(jnp.abs(x))


def encode_reward(reward: jax.Array, reward_scale: Any) -> jax.Array:
    """The reward as the model learns it: ``symlog(r / reward_scale)``, or ``r`` itself
    when ``reward_scale`` is ``None``."""
    reward = jnp.asarray(reward, jnp.float32)
    return reward if reward_scale is None else symlog(reward / reward_scale)


def decode_reward(code: jax.Array, reward_scale: Any) -> jax.Array:
    """The inverse of :func:`encode_reward`."""
    return code if reward_scale is None else reward_scale * symexp(code)


def targets(obs: jax.Array, reward: jax.Array, next_obs: jax.Array,
            reward_scale: Any = None) -> jax.Array:
    """``y = [s' - s, encode_reward(r)]``, float32."""
    delta = (next_obs - obs).astype(jnp.float32)
    return jnp.concatenate([delta, encode_reward(reward, reward_scale)[..., None]], -1)


def memory_data(memory: replay.ReplayMemory,
                reward_scale: Any = None) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(x, y, mask)`` of every slot of the memory; ``mask`` marks the written ones."""
    data = memory.data
    x = inputs(data.obs, data.action)
    y = targets(data.obs, data.reward, data.next_obs, reward_scale)
    return x, y, jnp.arange(x.shape[0]) < memory.size


def statistics(x: jax.Array, y: jax.Array, mask: jax.Array) -> Normalizer:
    """Mean and standard deviation (floored at 1e-6) of the rows of ``x``, ``y`` where
    ``mask``."""
    w = mask.astype(jnp.float32)[:, None]
    n = jnp.maximum(jnp.sum(w), 1.0)

    def moments(z):
        mean = jnp.sum(w * z, 0) / n
        std = jnp.sqrt(jnp.sum(w * jnp.square(z - mean), 0) / n)
        return mean, jnp.maximum(std, 1e-6)

    return Normalizer(*moments(x), *moments(y))


def features(x_normalised: jax.Array) -> jax.Array:
    """``φ(x) = [1, x_i, x_i x_j (i <= j)]``: the monomials of degree <= 2 (1 + d +
    d(d+1)/2 of them for ``d`` inputs)."""
    d = x_normalised.shape[-1]
    i, j = jnp.triu_indices(d)
    ones = jnp.ones((*x_normalised.shape[:-1], 1), x_normalised.dtype)
    return jnp.concatenate([ones, x_normalised, x_normalised[..., i] * x_normalised[..., j]],
                           -1)


def num_features(x_dim: int) -> int:
    """How many :func:`features` ``x_dim`` inputs have."""
    return 1 + x_dim + x_dim * (x_dim + 1) // 2


def init_model(kind: str, network: QNetwork | None, x_dim: int, y_dim: int,
               key: jax.Array) -> dict:
    """The untrained model: a random MLP, zero weights, or nothing (``"exact"``)."""
    if kind == "exact":
        return {}
    norm = Normalizer.identity(x_dim, y_dim)
    if kind == "linear":
        return {"norm": norm, "weights": jnp.zeros((num_features(x_dim), y_dim))}
    return {"norm": norm, "net": network.init(key, jnp.zeros((1, x_dim)))}


def predict_normalised(kind: str, network: QNetwork | None, model: dict,
                       x: jax.Array) -> jax.Array:
    """``f`` in normalised units: ``(y - y_mean) / y_std`` predicted from ``x``."""
    norm = model["norm"]
    z = (x - norm.x_mean) / norm.x_std
    if kind == "linear":
        return features(z) @ model["weights"]
    return network.apply(model["net"], z)


def learned_step(kind: str, network: QNetwork | None, model: dict, obs: jax.Array,
                 action: jax.Array, reward_scale: Any = None) -> tuple[jax.Array, jax.Array]:
    """``(ŝ', r̂)`` of the learned model: ``ŝ' = s + Δs``, from ``y = [Δs, r]``."""
    norm = model["norm"]
    y = predict_normalised(kind, network, model, inputs(obs, action))
    y = y * norm.y_std + norm.y_mean
    return obs + y[..., :-1].astype(obs.dtype), decode_reward(y[..., -1], reward_scale)


def exact_step(env_params: Any, obs: jax.Array,
               action: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(s', r)`` of the course pendulum, from its observation ``[q, v]`` or ``[cos q,
    sin q, v]`` (``env_params.sincos``): :func:`jaxrl.envs.pendulum_model.dynamics`."""
    if env_params.sincos:
        q, v = jnp.arctan2(obs[..., 1], obs[..., 0]), obs[..., 2]
    else:
        q, v = obs[..., 0], obs[..., 1]
    u = jnp.reshape(action, q.shape)
    q, v, cost = dynamics(q, v, u, env_params)
    if env_params.sincos:
        return jnp.stack([jnp.cos(q), jnp.sin(q), v], -1).astype(obs.dtype), -cost
    return jnp.stack([q, v], -1).astype(obs.dtype), -cost


def loss(network: QNetwork, net_params: Any, norm: Normalizer, x: jax.Array,
         y: jax.Array) -> jax.Array:
    """Mean squared error of the normalised targets,
    ``(1/N) Σ_i |f(x_i) - (y_i - y_mean) / y_std|²`` (summed over components)."""
    z = (x - norm.x_mean) / norm.x_std
    target = (y - norm.y_mean) / norm.y_std
    return jnp.mean(jnp.sum(jnp.square(network.apply(net_params, z) - target), -1))


def fit_mlp(network: QNetwork, optimizer: optax.GradientTransformation, model: dict,
            opt_state: Any, memory: replay.ReplayMemory, key: jax.Array, fit_steps: int,
            batch_size: int, reward_scale: Any = None) -> tuple[dict, Any, jax.Array]:
    """``fit_steps`` Adam steps on :func:`loss` over minibatches drawn uniformly from the
    memory, from the current weights, after the normaliser is recomputed from it:
    ``(model, opt_state, mean loss)``."""
    x_all, y_all, mask = memory_data(memory, reward_scale)
    norm = statistics(x_all, y_all, mask)

    def step(carry, key):
        net, opt_state = carry
        slots = jax.random.randint(key, (batch_size,), 0, jnp.maximum(memory.size, 1))
        value, grads = jax.value_and_grad(loss, argnums=1)(network, net, norm,
                                                           x_all[slots], y_all[slots])
        updates, opt_state = optimizer.update(grads, opt_state, net)
        return (optax.apply_updates(net, updates), opt_state), value

    (net, opt_state), losses = jax.lax.scan(step, (model["net"], opt_state),
                                            jax.random.split(key, fit_steps))
    return {"norm": norm, "net": net}, opt_state, jnp.mean(losses)


def fit_linear(memory: replay.ReplayMemory, ridge: Any,
               reward_scale: Any = None) -> tuple[dict, jax.Array]:
    """Ridge regression of the normalised targets on :func:`features` over the whole
    memory, in closed form: ``W = (Φ^T Φ + λ n I)^{-1} Φ^T Y``; ``(model, mean squared
    error of the fit)``."""
    x_all, y_all, mask = memory_data(memory, reward_scale)
    norm = statistics(x_all, y_all, mask)
    w = mask.astype(jnp.float32)[:, None]
    phi = features((x_all - norm.x_mean) / norm.x_std) * w
    target = (y_all - norm.y_mean) / norm.y_std * w
    n = jnp.maximum(jnp.sum(w), 1.0)
    gram = phi.T @ phi + ridge * n * jnp.eye(phi.shape[-1])
    weights = jnp.linalg.solve(gram, phi.T @ target)
    error = jnp.sum(jnp.square(phi @ weights - target)) / n
    return {"norm": norm, "weights": weights}, error
