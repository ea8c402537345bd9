"""Flax (linen) modules for the deep learners.

Linen rather than nnx: a linen module is a pure ``apply(params, x)``, so parameters are
a plain pytree that ``jax.vmap`` (over seeds, over a sweep) and ``lax.scan`` carry with
no graph/state splitting, and it is the simpler of the two to read here.

* :class:`QNetwork`: ``obs -> Q(obs, ·)``, an MLP with sizes from the config, and an
  optional dueling head ``V(s) + A(s, a) - mean_a A(s, a)``. With no hidden layer, no
  bias and a one-hot input it is the course's ``deeptable``: ``Q(x) = onehot(x) · W``.

DDPG's actor and critic go in this file too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from gymnax.environments import spaces

#: Activations by name (config fields hold names, so configs stay hashable).
ACTIVATIONS = {
    "relu": nn.relu,
    "tanh": nn.tanh,
    "swish": nn.swish,
    "elu": nn.elu,
    "gelu": nn.gelu,
    "linear": lambda x: x,
}


def kernel_init(name: str) -> Any:
    """A weight initialiser by name: ``"lecun"`` (flax's default, LeCun normal) or
    ``"uniform001"`` (U(0, 0.01), the course's ``deeptable``)."""
    if name == "lecun":
        return nn.initializers.lecun_normal()
    if name == "uniform001":
        return nn.initializers.uniform(scale=0.01)
    raise ValueError(f"kernel_init must be 'lecun' or 'uniform001', got {name!r}")


class QNetwork(nn.Module):
    """``Q(s, ·; θ)``: an MLP from a flat observation to one value per action.

    Attributes:
      num_actions: number of discrete actions (the output size).
      hidden_sizes: widths of the hidden layers (``()``: one linear layer).
      activation: name in :data:`ACTIVATIONS`.
      dueling: split the head into ``V(s)`` and ``A(s, a)`` (Wang et al. 2016).
      use_bias: biases in every layer.
      kernel: name of the weight initialiser (:func:`kernel_init`).
    """

    num_actions: int
    hidden_sizes: Sequence[int] = (64, 64)
    activation: str = "relu"
    dueling: bool = False
    use_bias: bool = True
    kernel: str = "lecun"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        dense = lambda size: nn.Dense(size, use_bias=self.use_bias,  # noqa: E731
                                      kernel_init=kernel_init(self.kernel))
        act = ACTIVATIONS[self.activation]
        for size in self.hidden_sizes:
            x = act(dense(size)(x))
        if not self.dueling:
            return dense(self.num_actions)(x)
        value = dense(1)(x)
        advantage = dense(self.num_actions)(x)
        return value + advantage - jnp.mean(advantage, axis=-1, keepdims=True)


def preprocess(obs: jax.Array, space: Any) -> jax.Array:
    """The network's input: one-hot for a ``Discrete`` observation, else flat float32.

    Works on one observation or a batch (leading axes are kept; a ``Box`` observation's
    own shape is flattened).
    """
    if isinstance(space, spaces.Discrete):
        return jax.nn.one_hot(obs, space.n, dtype=jnp.float32)
    shape = tuple(space.shape)
    lead = obs.shape[: obs.ndim - len(shape)]
    return jnp.reshape(obs, (*lead, -1)).astype(jnp.float32)


def input_size(space: Any) -> int:
    """The size of :func:`preprocess`'s output for one observation."""
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    size = 1
    for dim in space.shape:
        size *= int(dim)
    return size
