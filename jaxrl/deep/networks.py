"""Flax (linen) modules for the deep learners.

Linen rather than nnx: a linen module is a pure ``apply(params, x)``, so parameters are
a plain pytree that ``jax.vmap`` (over seeds, over a sweep) and ``lax.scan`` carry with
no graph/state splitting, and it is the simpler of the two to read here.

* :class:`QNetwork`: ``obs -> Q(obs, ·)``, an MLP with sizes from the config, and an
  optional dueling head ``V(s) + A(s, a) - mean_a A(s, a)``. With no hidden layer, no
  bias and a one-hot input it is the course's ``deeptable``: ``Q(x) = onehot(x) · W``.
* :func:`conv_torso`: convolutions before the MLP for an image observation (MinAtar's
  10 × 10 × C grids), the network of Young & Tian 2019.

DDPG's actor and critic go in this file too, and the two pieces every learner's optax
optimiser is built from (:func:`step_size`, :func:`clipped`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
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


KERNELS = ("lecun", "uniform001")


def kernel_init(name: str) -> Any:
    """A weight initialiser by name: ``"lecun"`` (flax's default, LeCun normal) or
    ``"uniform001"`` (U(0, 0.01), the course's ``deeptable``)."""
    if name == "lecun":
        return nn.initializers.lecun_normal()
    if name == "uniform001":
        return nn.initializers.uniform(scale=0.01)
    raise ValueError(f"kernel_init must be 'lecun' or 'uniform001', got {name!r}")


def image_shape(algo: str, space: Any, conv: Sequence[int]) -> tuple[int, ...]:
    """The ``(H, W, C)`` that :func:`conv_torso` reshapes a flat observation to: ``()``
    without convolutions; one clear ``ValueError`` line when there are some and the
    observation is not an image (a rank-3 ``Box``)."""
    if not conv:
        return ()
    shape = tuple(getattr(space, "shape", ()))
    if not isinstance(space, spaces.Box) or len(shape) != 3:
        raise ValueError(f"{algo}: conv_features {tuple(conv)} need an image observation "
                         f"(a Box of shape (H, W, C)), got {type(space).__name__} "
                         f"{shape}; use hidden_sizes alone")
    return shape


def conv_torso(x: jax.Array, shape: Sequence[int], features: Sequence[int],
               activation: str, layer_norm: bool = False, kernel: Any = None) -> jax.Array:
    """Convolutions on a flat image observation (call it inside a module's
    ``nn.compact`` method): ``x[..., H*W*C]`` back to ``[..., H, W, C]``, one 3 × 3,
    stride 1, unpadded ``nn.Conv`` per entry of ``features`` (its channels), each followed
    by ``LayerNorm`` if ``layer_norm`` and the activation, flattened again. ``x`` as it
    is without ``features``. Young & Tian 2019's MinAtar network is one layer of 16."""
    if not features:
        return x
    lead = x.shape[:-1]
    x = jnp.reshape(x, (-1, *shape))
    for size in features:
        x = nn.Conv(size, (3, 3), padding="VALID",
                    kernel_init=kernel or nn.initializers.lecun_normal())(x)
        if layer_norm:
            x = nn.LayerNorm()(x)
        x = ACTIVATIONS[activation](x)
    return jnp.reshape(x, (*lead, -1))


class QNetwork(nn.Module):
    """``Q(s, ·; θ)``: an MLP from a flat observation to one value per action.

    Attributes:
      num_actions: number of discrete actions (the output size).
      hidden_sizes: widths of the hidden layers (``()``: one linear layer).
      activation: name in :data:`ACTIVATIONS`.
      dueling: split the head into ``V(s)`` and ``A(s, a)`` (Wang et al. 2016).
      use_bias: biases in every layer.
      kernel: name of the weight initialiser (:func:`kernel_init`).
      layer_norm: ``LayerNorm`` after each hidden layer's affine map, before its
        activation (Ba et al. 2016; the normalisation PQN relies on, Gallici et al. 2025).
      conv: channels of :func:`conv_torso`'s layers before the MLP (``()``: none).
      image_shape: the ``(H, W, C)`` of the observation, with ``conv``.
    """

    num_actions: int
    hidden_sizes: Sequence[int] = (64, 64)
    activation: str = "relu"
    dueling: bool = False
    use_bias: bool = True
    kernel: str = "lecun"
    layer_norm: bool = False
    conv: Sequence[int] = ()
    image_shape: Sequence[int] = ()

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        dense = lambda size: nn.Dense(size, use_bias=self.use_bias,  # noqa: E731
                                      kernel_init=kernel_init(self.kernel))
        act = ACTIVATIONS[self.activation]
        x = conv_torso(x, self.image_shape, self.conv, self.activation, self.layer_norm)
        for size in self.hidden_sizes:
            x = dense(size)(x)
            if self.layer_norm:
                x = nn.LayerNorm()(x)
            x = act(x)
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


# ---------------------------------------------------------------------------------------
# DDPG's actor and critic (Lillicrap et al. 2016; the course's DDPG practical).
# ---------------------------------------------------------------------------------------


def symmetric_uniform(scale: float) -> Any:
    """U(-scale, scale) weights: the course's (and Lillicrap et al.'s) output layers,
    ``U(±3e-3)``, so that the untrained actor and critic start near zero."""

    def init(key: jax.Array, shape: Sequence[int], dtype: Any = jnp.float32) -> jax.Array:
        return jax.random.uniform(key, shape, dtype, minval=-scale, maxval=scale)

    return init


def _output_init(scale: float) -> Any:
    return symmetric_uniform(scale) if scale > 0 else nn.initializers.lecun_normal()


def scale_action(y: jax.Array, low: Any, high: Any) -> jax.Array:
    """Map ``y`` in ``[-1, 1]`` to ``[low, high]``: ``(high + low)/2 + y (high - low)/2``.

    Symmetric bounds (``low = -high``) give ``y * high``, so ``y = ±1`` hits the bounds
    exactly.
    """
    low, high = jnp.asarray(low, jnp.float32), jnp.asarray(high, jnp.float32)
    return (high + low) / 2 + y * (high - low) / 2


class Actor(nn.Module):
    """``π(s; θ^π)``: an MLP from a flat observation to an action in ``[low, high]``.

    The last layer goes through ``tanh`` and is scaled to the action bounds
    (:func:`scale_action`), so the deterministic policy never leaves the action space.
    The bounds are call arguments (they may come from traced environment params).

    Attributes:
      action_dim: size of the (flat) action.
      hidden_sizes: widths of the hidden layers.
      activation: name in :data:`ACTIVATIONS`.
      final_scale: output weights ``U(±final_scale)`` (course: 3e-3); 0: LeCun normal.
    """

    action_dim: int
    hidden_sizes: Sequence[int] = (64, 64)
    activation: str = "relu"
    final_scale: float = 3e-3

    @nn.compact
    def __call__(self, obs: jax.Array, low: Any = -1.0, high: Any = 1.0) -> jax.Array:
        act = ACTIVATIONS[self.activation]
        x = obs
        for size in self.hidden_sizes:
            x = act(nn.Dense(size)(x))
        x = nn.Dense(self.action_dim, kernel_init=_output_init(self.final_scale))(x)
        return scale_action(jnp.tanh(x), low, high)


class Critic(nn.Module):
    """``Q(s, a; θ^Q)``: an MLP on the concatenation ``[s, a]``, one value per row.

    Attributes:
      hidden_sizes: widths of the hidden layers.
      activation: name in :data:`ACTIVATIONS`.
      final_scale: output weights ``U(±final_scale)`` (course: 3e-3); 0: LeCun normal.
    """

    hidden_sizes: Sequence[int] = (64, 64)
    activation: str = "relu"
    final_scale: float = 3e-3

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
        act = ACTIVATIONS[self.activation]
        x = jnp.concatenate([obs, action.astype(obs.dtype)], axis=-1)
        for size in self.hidden_sizes:
            x = act(nn.Dense(size)(x))
        return nn.Dense(1, kernel_init=_output_init(self.final_scale))(x)[..., 0]


def step_size(learning_rate: Any, learning_rate_end: Any, steps: int,
              decay: str = "linear") -> Any:
    """An optimiser's step size: ``learning_rate``, or, with ``learning_rate_end`` set, a
    decay to it over ``steps`` gradient steps (``optax.linear_schedule``, or
    ``optax.cosine_decay_schedule`` for ``decay="cosine"``). The rates may be traced
    leaves of a swept config."""
    if learning_rate_end is None:
        return learning_rate
    if decay == "cosine":
        return optax.cosine_decay_schedule(learning_rate, steps,
                                           alpha=learning_rate_end / learning_rate)
    return optax.linear_schedule(learning_rate, learning_rate_end, steps)


def clipped(optimizer: optax.GradientTransformation,
            max_grad_norm: Any) -> optax.GradientTransformation:
    """``optax.clip_by_global_norm(max_grad_norm)`` then ``optimizer`` (``optimizer``
    alone when ``max_grad_norm`` is ``None``)."""
    if max_grad_norm is None:
        return optimizer
    return optax.chain(optax.clip_by_global_norm(max_grad_norm), optimizer)
