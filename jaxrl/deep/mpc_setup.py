"""Model-predictive control's hyper-parameters and what is fixed for a run: the config,
its checks and :func:`make` (:mod:`jaxrl.deep.mpc` is the algorithm itself, the slide's
lines; :mod:`jaxrl.deep.dynamics` the models)."""

from __future__ import annotations

from typing import Any

from flax import struct
from gymnax.environments import spaces

from jaxrl import driver
from jaxrl.checks import (
    NON_NEGATIVE,
    POSITIVE,
    check_choices,
    check_counts,
    check_numbers,
    check_space,
    check_widths,
)
from jaxrl.deep.dynamics import MODELS
from jaxrl.deep.networks import ACTIVATIONS, QNetwork, input_size
from jaxrl.envs.pendulum import Pendulum
from jaxrl.envs.wrappers import AutoReset

PLANNERS = ("cem", "mppi")


class MPCConfig(struct.PyTreeNode):
    """Hyper-parameters of model-predictive control on a learned model. Defaults: the
    course pendulum (``[cos q, sin q, v]``): 2 000 random steps, then 1 000 planned
    ones (3 000 steps of data in all), a (32, 32) MLP, CEM over 30 steps with 60
    samples, 6 elites and 5 iterations (the ``mpc`` preset; its swing-up figures are in
    the README and ``benchmarks/model_based.py``).

    Static fields (sizes, counts, names, switches) are fixed at compile time; the others
    are pytree leaves, so ``jax.vmap`` over a stacked config (:func:`jaxrl.sweep.sweep`)
    sweeps them.

    Attributes:
      env, env_options: the environment (:func:`jaxrl.make`) and its params' overrides.
      total_steps: environment steps per seed (over all ``num_envs``): the data.
      num_envs: parallel environments; one ``train_step`` steps them all once.
      buffer_size: capacity of the replay memory D.
      random_steps: steps with uniform random actions before the planner acts.
      refit_every: environment steps between fits of the model (and one at the end of
        the random phase).
      fit_steps: Adam steps per fit (MLP); the linear model is solved in closed form.
      batch_size: transitions per Adam step.
      model: ``"mlp"``, ``"linear"`` (ridge regression on degree-2 features) or
        ``"exact"`` (the environment's own step; the course pendulum only).
      hidden_sizes, activation: the MLP's hidden widths and activation.
      planner: ``"cem"`` (cross-entropy method) or ``"mppi"``.
      horizon: H, planned steps.
      samples: action sequences per planner iteration.
      elites: CEM's best sequences the sampling distribution is refitted to.
      iterations: planner iterations per environment step.
      eval_every: environment steps between evaluations.
      eval_episodes: evaluation episodes (the first from hanging at rest).
      probe_transitions: fresh transitions the model's one-step error is measured on.
      learning_rate: Adam's step size (MLP).
      reward_scale: c, the model learns ``symlog(r / c)`` (:func:`jaxrl.deep.dynamics.
        encode_reward`), resolving the small rewards near the goal; ``None``: ``r``.
      ridge: λ, the ridge penalty of the linear model (per transition).
      init_std: the planner's initial σ (fraction of the action half-range).
      momentum: CEM's smoothing m of ``(μ, σ)`` between iterations, in [0, 1).
      temperature: MPPI's temperature (reward units).
      exploration_noise: σ of the Gaussian noise on the planned action while training
        (fraction of the half-range).
    """

    env: str = struct.field(pytree_node=False, default="Pendulum")
    env_options: tuple[tuple[str, Any], ...] = struct.field(pytree_node=False,
                                                            default=(("sincos", True),))
    total_steps: int = struct.field(pytree_node=False, default=3_000)
    num_envs: int = struct.field(pytree_node=False, default=4)
    buffer_size: int = struct.field(pytree_node=False, default=10_000)
    random_steps: int = struct.field(pytree_node=False, default=2_000)
    refit_every: int = struct.field(pytree_node=False, default=250)
    fit_steps: int = struct.field(pytree_node=False, default=2_000)
    batch_size: int = struct.field(pytree_node=False, default=128)
    model: str = struct.field(pytree_node=False, default="mlp")
    hidden_sizes: tuple[int, ...] = struct.field(pytree_node=False, default=(32, 32))
    activation: str = struct.field(pytree_node=False, default="swish")
    planner: str = struct.field(pytree_node=False, default="cem")
    horizon: int = struct.field(pytree_node=False, default=30)
    samples: int = struct.field(pytree_node=False, default=60)
    elites: int = struct.field(pytree_node=False, default=6)
    iterations: int = struct.field(pytree_node=False, default=5)
    eval_every: int = struct.field(pytree_node=False, default=3_000)
    eval_episodes: int = struct.field(pytree_node=False, default=4)
    probe_transitions: int = struct.field(pytree_node=False, default=512)
    learning_rate: float = 1e-3
    reward_scale: float | None = 0.01
    ridge: float = 1e-6
    init_std: float = 0.5
    momentum: float = 0.0
    temperature: float = 1.0
    exploration_noise: float = 0.1

    def __post_init__(self) -> None:
        check_values(self)


class MPCSetup(struct.PyTreeNode):
    """What is fixed for a run, bound once by :func:`make`: the environment behind the
    contract, the MLP model (``None`` for the others), the driver's schedule, the
    length of an evaluation episode (the environment's time limit, static)."""

    env: AutoReset = struct.field(pytree_node=False)
    network: QNetwork | None = struct.field(pytree_node=False)
    schedule: driver.Schedule = struct.field(pytree_node=False)
    episode_steps: int = struct.field(pytree_node=False)
    env_params: Any = None


def is_pendulum(env: AutoReset) -> bool:
    """The course's continuous pendulum (the exact model and the hanging start)."""
    return isinstance(env.env, Pendulum)


def make(config: MPCConfig, env: Any = None, env_params: Any = None) -> MPCSetup:
    """Bind the run (the config checked its values when made): ``env``/``env_params``
    default to ``jaxrl.make(config.env, **config.env_options)``. ``ValueError`` (one
    line) for an environment MPC cannot run."""
    env, env_params = driver.environment(config.env, env, env_params,
                                         **dict(config.env_options))
    check_space("MPC", env, "action", env.action_space(env_params), (spaces.Box,),
                "plan over discrete actions with jaxrl.tabular.planning, or learn with DQN")
    check_space("MPC", env, "observation", env.observation_space(env_params), (spaces.Box,),
                "the model predicts a continuous observation's change")
    if config.model == "exact" and not is_pendulum(env):
        raise ValueError(f"model='exact' needs the course's Pendulum; {env.env.name} has "
                         "no exact model here: use model='mlp' or 'linear'")
    schedule = driver.Schedule.of(config.total_steps, config.eval_every, config.num_envs)
    network = None
    if config.model == "mlp":
        # the model's MLP: QNetwork's layers, one output per component of [Δs, r]
        network = QNetwork(num_actions=input_size(env.observation_space(env_params)) + 1,
                           hidden_sizes=tuple(config.hidden_sizes),
                           activation=config.activation)
    steps = int(getattr(env_params, "max_steps_in_episode", 200))
    return MPCSetup(env=env, network=network, schedule=schedule, episode_steps=steps,
                    env_params=env_params)


def check_values(config: MPCConfig) -> None:
    """Raise ``ValueError`` (one clear line) for a value MPC cannot run; every value of a
    stacked (swept) field is checked, traced ones are not."""
    check_counts(config, ("total_steps", "num_envs", "buffer_size", "refit_every",
                          "fit_steps", "batch_size", "horizon", "samples", "elites",
                          "iterations", "eval_every", "eval_episodes", "probe_transitions"))
    check_counts(config, ("random_steps",), minimum=0)
    if config.elites > config.samples:
        raise ValueError(f"elites ({config.elites}) must not exceed samples "
                         f"({config.samples})")
    if config.num_envs > config.buffer_size:
        raise ValueError(f"num_envs ({config.num_envs}) must not exceed buffer_size "
                         f"({config.buffer_size})")
    check_widths(config, ("hidden_sizes",))
    check_choices({"model": (config.model, MODELS), "planner": (config.planner, PLANNERS),
                   "activation": (config.activation, ACTIVATIONS)})
    check_numbers(config, {
        "learning_rate": POSITIVE,
        "ridge": NON_NEGATIVE,
        "reward_scale": POSITIVE,
        "init_std": POSITIVE,
        "momentum": (lambda v: 0.0 <= v < 1.0, "in [0, 1)"),
        "temperature": POSITIVE,
        "exploration_noise": (NON_NEGATIVE[0], ">= 0 (a noise σ)"),
    })
