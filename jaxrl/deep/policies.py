"""Stochastic policies for the policy-gradient learners (REINFORCE, PPO): the networks,
the two distributions, and a running observation normaliser.

* :class:`ActorCritic`: two MLPs from a flat observation, the policy head (logits of a
  softmax policy for ``Discrete`` actions, the mean of a Gaussian for ``Box`` actions,
  with a state-independent log standard deviation) and the value ``V(s)`` (the
  baseline of REINFORCE, the critic of PPO). Orthogonal weights, ``√2`` in the hidden
  layers, 0.01 on the policy head and 1 on the value head (Andrychowicz et al. 2021,
  "What matters in on-policy RL"), zero biases.
* :func:`log_prob`, :func:`entropy`, :func:`sample`, :func:`mode`: the softmax
  ``π(a|s) = exp(l_a) / Σ_b exp(l_b)`` or the Gaussian ``N(μ(s), σ²)``, per row, written
  out here (a few lines each) rather than taken from distrax, whose
  TensorFlow-Probability dependency jaxrl does not carry. A Gaussian action is clipped
  to the bounds by the environment step, not by the distribution (as PPO's
  implementations do): ``log π`` is that of the unclipped sample.
* :func:`squashed_sample`, :func:`squashed_log_prob`: the squashed Gaussian
  ``a = tanh(u)``, ``u ~ N(μ, σ²)``, of SAC's actor, its log-density by the change of
  variables (written out for the same reason; ``tests/test_sac.py`` checks them against
  distrax's ``Transformed(MultivariateNormalDiag, Tanh)``, a dev dependency), and
  :func:`open_uniform`, the uniform draws SAC makes its normal and Gumbel draws from.
* :class:`RunningStats`: the observations' running mean and variance (Chan et al.'s
  parallel update), to feed the networks ``(s - μ) / σ``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import spaces

from jaxrl.checks import check_space
from jaxrl.deep.networks import ACTIVATIONS, conv_torso, image_shape

_LOG_2PI = jnp.log(2.0 * jnp.pi)


def orthogonal(scale: float = 1.0):
    """flax's ``nn.initializers.orthogonal(scale)`` (Saxe et al. 2014), drawing one matrix
    per call also under ``vmap``.

    The initialiser takes the QR factorisation of a Gaussian matrix. Batched over seeds,
    XLA's CPU runs the LAPACK QRs of the batch in parallel on its thread pool and
    deadlocks when the pool's threads are all busy with other work (two cores, or seeds
    split over one CPU device per core: ``jax.vmap(ppo.train)`` hung every time);
    ``sequential_vmap`` draws them one after another, the same numbers (as
    :func:`jaxrl.tabular.planning` does for its solve)."""
    base = nn.initializers.orthogonal(scale)

    def init(key: jax.Array, shape: Sequence[int], dtype=jnp.float32) -> jax.Array:
        # sequential_vmap takes plain arrays: a typed key travels as its data
        typed = jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
        impl = jax.random.key_impl(key) if typed else None

        def draw(data: jax.Array) -> jax.Array:
            k = jax.random.wrap_key_data(data, impl=impl) if typed else data
            return base(k, shape, dtype)

        return jax.custom_batching.sequential_vmap(draw)(
            jax.random.key_data(key) if typed else key)

    return init


def _mlp(x: jax.Array, hidden_sizes: Sequence[int], activation: str, out: int,
         out_scale: float) -> jax.Array:
    act = ACTIVATIONS[activation]
    for size in hidden_sizes:
        x = act(nn.Dense(size, kernel_init=orthogonal(math.sqrt(2.0)))(x))
    return nn.Dense(out, kernel_init=orthogonal(out_scale))(x)


class ActorCritic(nn.Module):
    """``s -> (policy head, log σ, V(s))`` with separate actor and critic MLPs.

    Attributes:
      action_dim: number of discrete actions, or the size of a continuous action.
      discrete: softmax policy (the head is its logits) or Gaussian (the head is μ).
      hidden_sizes: widths of both MLPs' hidden layers.
      activation: name in :data:`jaxrl.deep.networks.ACTIVATIONS`.
      log_std_init: the Gaussian's initial log σ (ignored for a softmax policy).
      conv: channels of the convolutions (:func:`jaxrl.deep.networks.conv_torso`) before
        each MLP, for an image observation of shape ``image_shape``.
    """

    action_dim: int
    discrete: bool
    hidden_sizes: Sequence[int] = (64, 64)
    activation: str = "tanh"
    log_std_init: float = 0.0
    conv: Sequence[int] = ()
    image_shape: Sequence[int] = ()

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        def torso(x):
            return conv_torso(x, self.image_shape, self.conv, self.activation,
                              kernel=orthogonal(math.sqrt(2.0)))

        head = _mlp(torso(x), self.hidden_sizes, self.activation, self.action_dim, 0.01)
        value = _mlp(torso(x), self.hidden_sizes, self.activation, 1, 1.0)[..., 0]
        if self.discrete:
            log_std = jnp.zeros((self.action_dim,), jnp.float32)  # unused
        else:
            log_std = self.param("log_std", nn.initializers.constant(self.log_std_init),
                                 (self.action_dim,))
        return head, log_std, value


def actor_critic(algo: str, env, env_params, hidden_sizes: Sequence[int], activation: str,
                 log_std_init: float = 0.0, conv: Sequence[int] = ()) -> ActorCritic:
    """The :class:`ActorCritic` for ``env``'s spaces: a softmax policy over ``Discrete``
    actions, a Gaussian over a ``Box``, convolutions first with ``conv``; one clear
    ``ValueError`` line naming ``algo`` for any other action or observation space (or
    ``conv`` on an observation that is not an image)."""
    action_space = env.action_space(env_params)
    check_space(algo, env, "action", action_space, (spaces.Discrete, spaces.Box))
    check_space(algo, env, "observation", env.observation_space(env_params),
                (spaces.Box, spaces.Discrete))
    discrete = isinstance(action_space, spaces.Discrete)
    size = int(action_space.n) if discrete else math.prod(action_space.shape)
    shape = image_shape(algo, env.observation_space(env_params), conv)
    return ActorCritic(action_dim=size, discrete=discrete, hidden_sizes=tuple(hidden_sizes),
                       activation=activation, log_std_init=log_std_init, conv=tuple(conv),
                       image_shape=shape)


def env_action(discrete: bool, space, action: jax.Array) -> jax.Array:
    """The action the environment gets: a discrete one as it is, a Gaussian sample
    shaped like the ``Box`` and clipped to its bounds (``log π`` stays the unclipped
    sample's)."""
    if discrete:
        return action
    action = jnp.reshape(action, (*action.shape[:-1], *space.shape))
    return jnp.clip(action, space.low, space.high)


def log_prob(discrete: bool, head: jax.Array, log_std: jax.Array,
             action: jax.Array) -> jax.Array:
    """``log π(a | s)`` per row: ``l_a - logsumexp(l)``, or the Gaussian's
    ``-Σ_i [(a_i - μ_i)² / 2σ_i² + log σ_i + log(2π) / 2]``."""
    if discrete:
        logits = jax.nn.log_softmax(head)
        return jnp.take_along_axis(logits, action[..., None].astype(jnp.int32), -1)[..., 0]
    z = (action - head) * jnp.exp(-log_std)
    return -jnp.sum(0.5 * jnp.square(z) + log_std + 0.5 * _LOG_2PI, axis=-1)


def entropy(discrete: bool, head: jax.Array, log_std: jax.Array) -> jax.Array:
    """``H(π(· | s))`` per row: ``-Σ_a π_a log π_a``, or ``Σ_i [log σ_i + (1 + log 2π) / 2]``."""
    if discrete:
        logits = jax.nn.log_softmax(head)
        return -jnp.sum(jnp.exp(logits) * logits, axis=-1)
    total = jnp.sum(log_std + 0.5 * (1.0 + _LOG_2PI))
    return jnp.broadcast_to(total, head.shape[:-1])


def sample(discrete: bool, key: jax.Array, head: jax.Array, log_std: jax.Array) -> jax.Array:
    """An action per row drawn from ``π(· | s)``."""
    if discrete:
        return jax.random.categorical(key, head).astype(jnp.int32)
    return head + jnp.exp(log_std) * jax.random.normal(key, head.shape)


def mode(discrete: bool, head: jax.Array) -> jax.Array:
    """The most likely action per row: ``argmax_a l_a``, or ``μ(s)`` (the greedy policy)."""
    return jnp.argmax(head, axis=-1).astype(jnp.int32) if discrete else head


def _log_1m_tanh2(u: jax.Array) -> jax.Array:
    """``log(1 - tanh²(u)) = 2 (log 2 - u - softplus(-2u))``, exact where ``tanh u``
    rounds to ±1 in float32 (|u| > 9), where the plain formula gives ``log 0``."""
    return 2.0 * (jnp.log(2.0) - u - jax.nn.softplus(-2.0 * u))


def squashed_sample(noise: jax.Array, mean: jax.Array,
                    log_std: jax.Array) -> tuple[jax.Array, jax.Array]:
    """An action of the squashed Gaussian per row and its log-density:
    ``(a, log π(a | s))``, ``a = tanh(u)`` in ``(-1, 1)^d``, ``u = μ + σ ε`` with the
    given ``ε ~ N(0, I)`` (``noise``, shaped like ``mean``), and (change of variables,
    Haarnoja et al. 2018, appendix C)

    ::

        log π(a | s) = log N(u; μ, σ²) - Σ_i log(1 - tanh²(u_i))

    computed from ``u``, so that a sample that rounds to ±1 keeps a finite density.
    Reparameterised: the gradient flows through ``μ`` and ``log σ``."""
    u = mean + jnp.exp(log_std) * noise
    return jnp.tanh(u), log_prob(False, mean, log_std, u) - jnp.sum(_log_1m_tanh2(u), -1)


def open_uniform(bits: jax.Array) -> jax.Array:
    """Uniform draws in the open interval ``(0, 1)``, one per 32-bit random word
    (``jax.random.bits``): the midpoints ``(k + 1/2) / 2^23`` of ``2^23`` equal bins,
    ``k`` the word's top 23 bits (as ``jax.random.uniform``'s 23; midpoints of 2^24 bins
    would round the last to 1 in float32). Never 0 or 1, where the inverse normal CDF
    (``jax.scipy.special.ndtri``, normal draws) and ``log`` (Gumbel draws) are infinite;
    ``ndtri`` of them reaches ±5.3.

    Written here rather than calling ``jax.random.uniform`` and ``jax.random.normal`` per
    use: one ``jax.random.bits`` call can serve every draw of a step, integers
    (:func:`jaxrl.deep.replay.sample_from_bits`) and floats alike, and on the CPU each
    call is a threefry hash that XLA runs as a while loop of five rounds inside the
    step's own loop (see :func:`jaxrl.deep.sac.draw_words`: SAC's step draws once where it
    drew ten times)."""
    return ((bits >> 9).astype(jnp.float32) + 0.5) * (2.0 ** -23)


def squashed_log_prob(mean: jax.Array, log_std: jax.Array, action: jax.Array) -> jax.Array:
    """``log π(a | s)`` of a given action ``a`` in ``(-1, 1)^d`` under the squashed
    Gaussian (``u = atanh(a)``; inaccurate where ``|a|`` rounds to 1, where
    :func:`squashed_sample`'s own log-density is exact)."""
    u = jnp.arctanh(action)
    return log_prob(False, mean, log_std, u) - jnp.sum(_log_1m_tanh2(u), -1)


class RunningStats(struct.PyTreeNode):
    """Running mean and variance of the (flat) observations seen so far.

    Attributes:
      mean, var: ``[obs_size]``; count: the observations counted (float, starts at a
        tiny ε so that the first update is a plain average).
    """

    mean: jax.Array
    var: jax.Array
    count: jax.Array

    @classmethod
    def zeros(cls, size: int) -> RunningStats:
        """No observation seen yet: mean 0, variance 1."""
        return cls(jnp.zeros(size), jnp.ones(size), jnp.asarray(1e-4, jnp.float32))

    def update(self, batch: jax.Array) -> RunningStats:
        """Merge a batch ``[B, obs_size]`` (Chan, Golub & LeVeque's parallel formula)."""
        batch_mean, batch_var = jnp.mean(batch, axis=0), jnp.var(batch, axis=0)
        n = batch.shape[0]
        total = self.count + n
        delta = batch_mean - self.mean
        mean = self.mean + delta * n / total
        m2 = self.var * self.count + batch_var * n + jnp.square(delta) * self.count * n / total
        return RunningStats(mean=mean, var=m2 / total, count=total)

    def normalize(self, x: jax.Array, clip: float = 10.0) -> jax.Array:
        """``clip((x - mean) / sqrt(var + 1e-8), ±clip)``."""
        return jnp.clip((x - self.mean) / jnp.sqrt(self.var + 1e-8), -clip, clip)
