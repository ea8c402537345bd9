"""SAC's hyper-parameters and what is fixed for a run: the config, its checks, the actor
and the critics, the target entropy and the optimisers, bound once by :func:`make`, and
the numerical helpers of the warm-up, the critics' input and ``exp(log α)``
(:mod:`jaxrl.deep.sac` is the algorithm itself, the lines of its algorithm box)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct
from gymnax.environments import spaces

from jaxrl import driver
from jaxrl.checks import (
    POSITIVE,
    RATE,
    check_choices,
    check_counts,
    check_gamma,
    check_numbers,
    check_space,
    check_widths,
    is_concrete,
)
from jaxrl.deep.ddpg_setup import action_bounds, action_dim
from jaxrl.deep.networks import ACTIVATIONS, Critic, QNetwork, clipped, step_size
from jaxrl.envs.wrappers import AutoReset

#: Discrete SAC's default target entropy, a fraction of the largest, ``log |A|``
#: (Christodoulou 2019: ``0.98 · (-log(1/|A|))``).
DISCRETE_ENTROPY_RATIO = 0.98


class SACConfig(struct.PyTreeNode):
    """Hyper-parameters of SAC. Defaults: tuned on Pendulum-v1, 20k steps.

    Static fields (sizes, counts, names, switches) are fixed at compile time; the others
    are pytree leaves, so ``jax.vmap`` over a stacked config (:func:`jaxrl.sweep.sweep`)
    sweeps them.

    Attributes:
      env: environment name for :func:`jaxrl.make` (a ``Box`` action space: the squashed
        Gaussian actor; a ``Discrete`` one: discrete SAC's softmax actor).
      env_options: ``((field, value), ...)`` replacing fields of the environment's
        default params.
      total_steps: environment steps per seed (over all ``num_envs``).
      num_envs: parallel environments; one ``train_step`` steps them all once.
      buffer_size: capacity of the replay memory D (transitions).
      batch_size: transitions per gradient step.
      learning_starts: environment steps before the first gradient step.
      random_warmup: before ``learning_starts``, act uniformly at random (else from π).
      updates_per_step: gradient steps per ``train_step``.
      hidden_sizes, activation: the actor's and the critics' MLPs.
      num_critics: critics ``Q_k``; the targets and the actor take their minimum
        (clipped double-Q: 2).
      learn_alpha: learn the temperature towards ``target_entropy`` (else α is fixed).
      eval_every, eval_episodes: greedy evaluations (:mod:`jaxrl.driver`).
      learning_rate: Adam's step size for the actor, the critics and α.
      learning_rate_end: if set, the step sizes decay linearly to it over the run's
        gradient steps.
      gamma: discount γ in [0, 1].
      tau: the target critics' Polyak step, ``θ̄ <- τ θ + (1 - τ) θ̄``, in (0, 1].
      alpha: the temperature α > 0: its start when learned, its value when fixed.
      target_entropy: the entropy ``H̄`` α aims at; ``None``: ``-dim(A)`` for a ``Box``
        (the paper's), ``0.98 log |A|`` for ``Discrete`` (Christodoulou's). Must be below
        the largest entropy, ``dim(A) log 2`` (uniform on the squashed cube ``(-1, 1)^d``)
        or ``log |A|``, and for ``Discrete`` at least 0.
      log_std_min, log_std_max: the range the squashed Gaussian's ``log σ(s)`` is clipped
        to (the softlearning reference implementation's -20 and 2); ``Box`` actions only.
      noise_correlation: ρ in [0, 1) of the acting noise ``ε_t = ρ ε_{t-1} + √(1-ρ²) w_t``
        (0: white, the paper's; near 1: slowly varying, colored noise, Eberhard et al.
        2023); the learning is unchanged. ``Box`` actions only.
      max_grad_norm: global-norm gradient clip of the three losses (``None``: none).
    """

    env: str = struct.field(pytree_node=False, default="Pendulum-v1")
    env_options: tuple[tuple[str, Any], ...] = struct.field(pytree_node=False, default=())
    total_steps: int = struct.field(pytree_node=False, default=20_000)
    num_envs: int = struct.field(pytree_node=False, default=1)
    buffer_size: int = struct.field(pytree_node=False, default=20_000)
    batch_size: int = struct.field(pytree_node=False, default=128)
    learning_starts: int = struct.field(pytree_node=False, default=1_000)
    random_warmup: bool = struct.field(pytree_node=False, default=True)
    updates_per_step: int = struct.field(pytree_node=False, default=1)
    hidden_sizes: tuple[int, ...] = struct.field(pytree_node=False, default=(64, 64))
    activation: str = struct.field(pytree_node=False, default="relu")
    num_critics: int = struct.field(pytree_node=False, default=2)
    learn_alpha: bool = struct.field(pytree_node=False, default=True)
    eval_every: int = struct.field(pytree_node=False, default=1_000)
    eval_episodes: int = struct.field(pytree_node=False, default=16)
    learning_rate: float = 1e-3
    learning_rate_end: float | None = None
    gamma: float = 0.99
    tau: float = 0.005
    alpha: float = 1.0
    target_entropy: float | None = None
    log_std_min: float = -20.0
    log_std_max: float = 2.0
    noise_correlation: float = 0.0
    max_grad_norm: float | None = None

    def __post_init__(self) -> None:
        check_values(self)


class SoftActor(nn.Module):
    """SAC's actor: an MLP from a flat observation to ``(head, log σ)``: the logits of a
    softmax policy (``discrete``; ``log σ`` unused, zeros), or the mean ``μ(s)`` and
    ``log σ(s)`` (unclipped: the config's range clips it) of the Gaussian that ``tanh``
    squashes (:func:`jaxrl.deep.policies.squashed_sample`)."""

    action_dim: int
    discrete: bool
    hidden_sizes: Sequence[int] = (64, 64)
    activation: str = "relu"

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        act = ACTIVATIONS[self.activation]
        for size in self.hidden_sizes:
            x = act(nn.Dense(size)(x))
        head = nn.Dense(self.action_dim)(x)
        if self.discrete:
            return head, jnp.zeros_like(head)
        return head, nn.Dense(self.action_dim)(x)


class SACSetup(struct.PyTreeNode):
    """What is fixed for a run, bound once by :func:`make`: the environment behind the
    contract, whether its actions are discrete, the actor and critic networks (a critic
    ``Q(s, a)`` for a ``Box``, ``Q(s, ·)`` over the actions for ``Discrete``), the target
    entropy, the driver's schedule and the step-size decay's length."""

    env: AutoReset = struct.field(pytree_node=False)
    discrete: bool = struct.field(pytree_node=False)
    actor: SoftActor = struct.field(pytree_node=False)
    critic: nn.Module = struct.field(pytree_node=False)
    schedule: driver.Schedule = struct.field(pytree_node=False)
    updates: int = struct.field(pytree_node=False)
    env_params: Any = None


def make(config: SACConfig, env: Any = None, env_params: Any = None) -> SACSetup:
    """Bind the run (the config checked its values when made): ``env``/``env_params``
    default to ``jaxrl.make(config.env, **config.env_options)``. ``ValueError`` (one
    line) for an environment SAC cannot run or a target entropy it cannot reach."""
    env, env_params = driver.environment(config.env, env, env_params,
                                         **dict(config.env_options))
    space = env.action_space(env_params)
    check_space("SAC", env, "action", space, (spaces.Box, spaces.Discrete))
    check_space("SAC", env, "observation", env.observation_space(env_params),
                (spaces.Box, spaces.Discrete))
    discrete = isinstance(space, spaces.Discrete)
    size = int(space.n) if discrete else action_dim(env, env_params)
    defaults = SACConfig.__dataclass_fields__
    changed = [name for name in ("log_std_min", "log_std_max", "noise_correlation")
               if is_concrete(getattr(config, name))
               and np.any(np.asarray(getattr(config, name)) != defaults[name].default)]
    if discrete and changed:
        raise ValueError(f"{', '.join(changed)}: the squashed Gaussian's, for a Box action "
                         f"space; {getattr(env, 'name', config.env)} has Discrete actions "
                         "(discrete SAC's policy is a softmax)")
    target_entropy(config, discrete, size)  # its range, before anything is compiled
    schedule = driver.Schedule.of(config.total_steps, config.eval_every, config.num_envs)
    hidden = dict(hidden_sizes=tuple(config.hidden_sizes), activation=config.activation)
    critic = QNetwork(num_actions=size, **hidden) if discrete else Critic(final_scale=0.0,
                                                                         **hidden)
    return SACSetup(
        env=env, discrete=discrete,
        actor=SoftActor(action_dim=size, discrete=discrete, **hidden),
        critic=critic,
        schedule=schedule,
        updates=schedule.learning_updates(config.learning_starts, config.updates_per_step),
        env_params=env_params)


def max_entropy(discrete: bool, size: int) -> float:
    """The largest entropy of SAC's policy: ``log |A|`` (uniform over the actions), or
    ``d log 2`` (uniform on the squashed cube ``(-1, 1)^d``)."""
    return math.log(size) if discrete else size * math.log(2.0)


def target_entropy(config: SACConfig, discrete: bool, size: int) -> Any:
    """``H̄``: the config's, or ``-d`` (a ``Box`` of ``d`` components) or ``0.98 log |A|``;
    one ``ValueError`` line where it is not below :func:`max_entropy`, which the policy
    cannot exceed (α would grow without end), or is negative for ``Discrete`` actions,
    whose entropy never is."""
    top = max_entropy(discrete, size)
    if config.target_entropy is None:
        return DISCRETE_ENTROPY_RATIO * top if discrete else -float(size)
    value = config.target_entropy
    if is_concrete(value):
        low = 0.0 if discrete else -math.inf
        for v in np.ravel(np.asarray(value, np.float64)).tolist():
            if not low <= v < top:
                space = f"|A| = {size} actions" if discrete else f"a {size}-component Box"
                kind = "[0, log |A|)" if discrete else "below dim(A) log 2"
                raise ValueError(f"target_entropy must be {kind}: {top:.4g} is the largest "
                                 f"entropy of a policy over {space}, got {v}")
    return value


def check_values(config: SACConfig) -> None:
    """Raise ``ValueError`` (one clear line) for a value SAC cannot run; every value of a
    stacked (swept) field is checked, traced ones are not."""
    check_counts(config, ("total_steps", "num_envs", "buffer_size", "batch_size",
                          "updates_per_step", "num_critics", "eval_every", "eval_episodes"))
    check_counts(config, ("learning_starts",), minimum=0)
    check_widths(config, ("hidden_sizes",))
    if config.batch_size > config.buffer_size or config.num_envs > config.buffer_size:
        raise ValueError(f"batch_size ({config.batch_size}) and num_envs ({config.num_envs})"
                         f" must not exceed buffer_size ({config.buffer_size})")
    check_choices({"activation": (config.activation, ACTIVATIONS)})
    if is_concrete(config.log_std_min) and is_concrete(config.log_std_max) and np.any(
            np.asarray(config.log_std_min) >= np.asarray(config.log_std_max)):
        raise ValueError(f"log_std_min ({config.log_std_min}) must be below log_std_max "
                         f"({config.log_std_max})")
    check_numbers(config, {
        "tau": (RATE[0], "in (0, 1] (1 copies the online weights)"),
        "learning_rate": POSITIVE,
        "learning_rate_end": POSITIVE,
        "alpha": (POSITIVE[0], "> 0 (the temperature)"),
        "noise_correlation": (lambda v: 0.0 <= v < 1.0, "in [0, 1)"),
        "max_grad_norm": POSITIVE,
    })
    check_gamma(config.gamma)


def optimizer(setup: SACSetup, config: SACConfig) -> optax.GradientTransformation:
    """Adam at ``learning_rate`` (linearly to ``learning_rate_end`` over the run's
    gradient steps if set) after the optional clip: one for each of the actor, the
    critics and α (the paper's one step size)."""
    lr = step_size(config.learning_rate, config.learning_rate_end, setup.updates)
    return clipped(optax.adam(lr), config.max_grad_norm)


def uniform_action(setup: SACSetup, uniform: jax.Array) -> jax.Array:
    """A uniformly random action per environment (the warm-up's) from uniform draws in
    ``(0, 1)``, ``[num_envs, actor.action_dim]``: ``low + (high - low) u`` per dimension,
    or ``⌊|A| u⌋`` from the first column (discrete)."""
    if setup.discrete:
        return jnp.floor(uniform[:, 0] * setup.actor.action_dim).astype(jnp.int32)
    low, high = action_bounds(setup.env, setup.env_params)
    span = (high - low).reshape(-1)
    return (low.reshape(-1) + span * uniform).reshape(-1, *low.shape)


def per_critic(critic_params, x: jax.Array) -> jax.Array:
    """``x`` repeated along the critics' axis, ``[num_critics, *x.shape]``. The critics
    are mapped over it rather than over one shared ``x`` (``in_axes=None``): with a
    shared input XLA lays the batched matmuls' results out critic-minor and transposes
    them back, 15 transposes of ``[2, 256, 64]`` per gradient step; with the broadcast
    input, none (one seed on rejax's Pendulum config, interleaved rounds in one process:
    3-7 % faster on a 2-core CPU)."""
    critics = jax.tree.leaves(critic_params)[0].shape[0]
    return jnp.broadcast_to(x, (critics, *x.shape))


#: ``exp(log α)`` is taken on a row of this many values, ``log α`` first (:func:`exp_alpha`).
_ROW = np.array([0.0] + [-1.0] * 15, np.float32)  # numpy: no JAX backend at import


def exp_alpha(log_alpha: jax.Array) -> jax.Array:
    """``exp(log α)``, taken as the first of ``exp`` of a row of 16 values. A seed's
    scalar is a ``[seeds]`` array under ``vmap``, and XLA's CPU ``exp`` of it gave a
    seed's α one bit apart in batches of 2 and 3 seeds (vectorised code handles an
    array's tail apart). A row of 16 per seed gives α the same bits whatever the batch;
    its values differ so that XLA does not fold it back to one ``exp`` (a row of copies,
    it did). The actor's own ``exp`` and ``log`` still round apart between batch sizes,
    so a seed's run is bit-identical only in batches of the same size
    (:mod:`jaxrl.driver.loop`, ``tests/test_sac.py``)."""
    return jnp.exp(log_alpha[..., None] + _ROW)[..., 0]
