"""The course's continuous-state pendulums, as gymnax environments.

Both run the course's pendulum model (:mod:`jaxrl.envs.pendulum_model`: ``M = 0.45``,
``a = (u - Kf v + 4.905 sin q) / M``, ``ndt`` semi-implicit Euler sub-steps of
``h = dt / ndt``, cost ``(q² + 0.1 v² + 0.001 u²) h``), ``q = 0`` upright:

* :class:`Pendulum`: continuous state ``[q, v]`` (or ``[cos q, sin q, v]``), continuous
  torque, reward ``-cost``; the DDPG practical's settings ``dt = 0.05``, ``ndt = 2``.
* :class:`HybridPendulum`: continuous state, the 9 discrete torques
  ``d2cu(iu) = (iu - 4) * 10/9`` clipped to ``±2``, ``dt = 0.3``, ``ndt = 5``, reward
  ``-cost``.

The third of the course's pendulums, :class:`~jaxrl.envs.discrete_pendulum.DiscretePendulum`
(380 states, 9 torques), has its own module. This module re-exports it, the model
(:func:`dynamics`, :func:`discrete_dynamics`), :func:`check_params` and the course's
discretisation names (``NQ``, ``NV``, ``NU``, ``GOAL``, ``c2d``, ``d2c``, ``x2i``, ...),
so that ``from jaxrl.envs.pendulum import ...`` finds the course's names in one place.

The pendulums are drawn here, all three of them (:func:`render`) and gymnax's
``Pendulum-v1`` as the course's (:func:`render_gymnax`), with the primitives of
:mod:`jaxrl.envs.rendering`.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces

from jaxrl.envs import rendering
from jaxrl.envs.base import CourseEnvironment, UniformDiscrete
from jaxrl.envs.discrete_pendulum import (
    DiscretePendulum,
    DiscretePendulumParams,
    DiscretePendulumState,
)
from jaxrl.envs.discretization import (
    DQ,
    DU,
    DV,
    GOAL,
    NQ,
    NU,
    NV,
    NX,
    UMAX,
    VMAX,
    c2d,
    c2dq,
    c2du,
    c2dv,
    d2c,
    d2cq,
    d2cu,
    d2cv,
    i2x,
    wrap,
    x2i,
)
from jaxrl.envs.pendulum_model import PhysicsParams, discrete_dynamics, dynamics
from jaxrl.envs.validation import check_discrete_action, check_params, check_torque

__all__ = [
    # this module's environments
    "HybridPendulum",
    "Pendulum",
    "PendulumParams",
    "PendulumState",
    # drawing the pendulums
    "draw_pendulum",
    "render",
    "render_gymnax",
    # re-exported: the discrete pendulum, the model, the checks, the discretisation
    "DiscretePendulum",
    "DiscretePendulumParams",
    "DiscretePendulumState",
    "PhysicsParams",
    "UniformDiscrete",
    "check_params",
    "discrete_dynamics",
    "dynamics",
    "DQ",
    "DU",
    "DV",
    "GOAL",
    "NQ",
    "NU",
    "NV",
    "NX",
    "UMAX",
    "VMAX",
    "c2d",
    "c2dq",
    "c2du",
    "c2dv",
    "d2c",
    "d2cq",
    "d2cu",
    "d2cv",
    "i2x",
    "wrap",
    "x2i",
]


@struct.dataclass
class PendulumParams(PhysicsParams):
    """Params of :class:`Pendulum` and :class:`HybridPendulum`.

    Defaults are the course's ``Pendulum`` (DDPG practical: ``dt = 0.05``, ``ndt = 2``);
    :class:`HybridPendulum`'s default params use ``dt = 0.3``, ``ndt = 5``.
    ``sincos`` (static: it changes the observation's shape) selects the observation
    ``[cos q, sin q, v]`` instead of ``[q, v]``; the DDPG practical uses it.
    ``max_steps_in_episode`` is the time limit (the pendulum itself never terminates):
    100, the DDPG practical's episode length.
    """

    max_steps_in_episode: int = 100
    sincos: bool = struct.field(pytree_node=False, default=False)


@struct.dataclass
class PendulumState(environment.EnvState):
    """State of :class:`Pendulum` and :class:`HybridPendulum`: angle, velocity, time."""

    q: jax.Array
    v: jax.Array


class _ContinuousStatePendulum(CourseEnvironment):
    """Shared reset, observation and spaces of :class:`Pendulum` and :class:`HybridPendulum`."""

    _supports_transition_gradients = True

    def _torque(self, action: jax.Array, params: PendulumParams) -> jax.Array:
        raise NotImplementedError

    def step_env(self, key: jax.Array, state: PendulumState, action: Any,
                 params: PendulumParams):
        """One step of :func:`dynamics`; reward ``-cost``; never terminates."""
        del key
        u = self._torque(action, params).astype(state.q.dtype)
        q, v, cost = dynamics(state.q, state.v, u, params)
        next_state = PendulumState(time=state.time + 1, q=q, v=v)
        obs = self.observe(None, next_state, action, params)
        obs, next_state = self._apply_transition_gradient_policy(obs, next_state)
        terminated = jnp.zeros((), dtype=bool)
        return obs, next_state, -cost, terminated, {"discount": jnp.ones_like(cost)}

    def reset_env(self, key: jax.Array, params: PendulumParams):
        """``q ~ U(-π, π)``, ``v ~ U(-1, 1)``, as the course's ``reset``."""
        high = jnp.array([jnp.pi, 1.0])
        qv = jax.random.uniform(key, (2,), minval=-high, maxval=high)
        state = PendulumState(time=jnp.zeros((), jnp.int32), q=qv[0], v=qv[1])
        return self.observe(None, state, None, params), state

    def observe(self, key, state: PendulumState, action, params: PendulumParams) -> jax.Array:
        """``[q, v]``, or ``[cos q, sin q, v]`` when ``params.sincos``."""
        del key, action
        if params.sincos:
            return jnp.stack([jnp.cos(state.q), jnp.sin(state.q), state.v])
        return jnp.stack([state.q, state.v])

    def get_obs(self, state: PendulumState, params=None, key=None) -> jax.Array:
        """Legacy gymnax hook: :meth:`observe`."""
        return self.observe(key, state, None, self.default_params if params is None else params)

    def is_terminated(self, state: PendulumState, params: PendulumParams) -> jax.Array:
        """The pendulum never terminates (episodes end by the time limit only)."""
        del state, params
        return jnp.zeros((), dtype=bool)

    def observation_space(self, params: PendulumParams | None = None) -> spaces.Box:
        """``[q, v]`` in ``[-π, π] x [-vmax, vmax]``, or ``[cos, sin, v]``."""
        params = self.default_params if params is None else params
        if params.sincos:
            high = jnp.array([1.0, 1.0, params.vmax], dtype=jnp.float32)
        else:
            high = jnp.array([jnp.pi, params.vmax], dtype=jnp.float32)
        return spaces.Box(-high, high, shape=high.shape, dtype=jnp.float32)

    #: The swing-up task's length in steps (the practicals' episode of 100 steps).
    swing_up_steps: int = 100

    def swing_up_start(self, params: PendulumParams | None = None) -> PendulumState:
        """The swing-up task's start: hanging at rest, ``q = π``, ``v = 0`` (the course's
        practicals; :func:`jaxrl.driver.swing_up` scores a policy from it)."""
        del params
        return PendulumState(time=jnp.zeros((), jnp.int32), q=jnp.asarray(jnp.pi, jnp.float32),
                             v=jnp.zeros((), jnp.float32))

    def upright(self, state: PendulumState) -> jax.Array:
        """Within 0.1 rad of upright, ``|q| < 0.1`` (``q`` wrapped to ``[-π, π)``)."""
        return jnp.abs(state.q) < 0.1

    def state_space(self, params: PendulumParams | None = None) -> spaces.Dict:
        """Angle, velocity and time."""
        params = self.default_params if params is None else params
        return spaces.Dict({
            "q": spaces.Box(-jnp.pi, jnp.pi, (), jnp.float32),
            "v": spaces.Box(-params.vmax, params.vmax, (), jnp.float32),
            "time": spaces.Discrete(params.max_steps_in_episode + 1),
        })


class Pendulum(_ContinuousStatePendulum):
    """The course's continuous pendulum (``pendulummodel.Pendulum``), continuous torque.

    State ``[q, v]``; action a torque, ``Box(-umax, umax, (1,))`` (or a scalar); one step
    is :func:`dynamics` with ``dt = 0.05``, ``ndt = 2``; reward ``-cost``; reset
    ``q ~ U(-π, π)``, ``v ~ U(-1, 1)``; it never terminates, and episodes are truncated
    after ``max_steps_in_episode = 100`` steps. Torques beyond ``±umax`` are clipped by
    the dynamics, not refused: the DDPG practical feeds unclipped noisy actions.
    """

    @property
    def default_params(self) -> PendulumParams:
        """The course's defaults (``dt = 0.05``, ``ndt = 2``, ``[q, v]`` observation)."""
        return PendulumParams()

    @property
    def name(self) -> str:
        """Environment name."""
        return "Pendulum"

    @property
    def num_actions(self) -> int:
        """Dimension of the torque."""
        return 1

    def check_action(self, action: Any, params: PendulumParams | None = None, *,
                     clip_ok: bool = True) -> None:
        """Raise for a torque that is not one finite real number (host values only).

        With ``clip_ok=False`` a torque beyond ``±umax`` is refused too; by default it is
        accepted and clipped, as in the course.
        """
        params = self.default_params if params is None else params
        check_torque(action, params, clip_ok)

    def _torque(self, action: jax.Array, params: PendulumParams) -> jax.Array:
        return jnp.reshape(jnp.asarray(action), ())

    def action_space(self, params: PendulumParams | None = None) -> spaces.Box:
        """``Box(-umax, umax, (1,))``."""
        params = self.default_params if params is None else params
        return spaces.Box(-params.umax, params.umax, shape=(1,), dtype=jnp.float32)


class HybridPendulum(_ContinuousStatePendulum):
    """The course's hybrid pendulum: continuous state, the 9 discrete torques.

    Action ``iu`` in ``[0, 9)`` is the torque ``d2cu(iu)``, clipped to ``±umax = ±2``;
    ``dt = 0.3``, ``ndt = 5``; reward ``-cost``; never terminates; episodes are
    truncated after ``max_steps_in_episode = 100`` steps.
    """

    @property
    def default_params(self) -> PendulumParams:
        """``dt = 0.3``, ``ndt = 5``, ``[q, v]`` observation, 100-step episodes."""
        return PendulumParams(dt=0.3, ndt=5)

    @property
    def name(self) -> str:
        """Environment name."""
        return "HybridPendulum"

    @property
    def num_actions(self) -> int:
        """Number of torque bins."""
        return NU

    def check_action(self, action: Any, params: PendulumParams | None = None) -> None:
        """Raise for an action that is not one integer in ``[0, 9)`` (host values only)."""
        check_discrete_action(action, self.name)

    def _torque(self, action: jax.Array, params: PendulumParams) -> jax.Array:
        return d2cu(jnp.reshape(jnp.asarray(action), ()))

    def action_space(self, params: PendulumParams | None = None) -> spaces.Discrete:
        """``Discrete(9)``."""
        return UniformDiscrete(NU)


# -- drawing the pendulums (numpy only; colours in RGB) ------------------------------------

_BACKGROUND = (250, 250, 247)
_TRACK = (215, 215, 210)
_GOAL = (90, 170, 90)
_ROD = (40, 70, 140)
_BOB = (200, 60, 50)
_PIVOT = (30, 30, 30)


def render(env_state: PendulumState | DiscretePendulumState, env_params: Any = None, *,
           size: int = 200) -> np.ndarray:
    """Draw a pendulum state as a ``size x size x 3`` uint8 RGB image (numpy only).

    Works for the states of all three environments; a :class:`DiscretePendulumState` is
    drawn at its bin centre ``q = (x mod 20) * 2π/20 - π``. ``q = 0`` is drawn upright
    (the course's goal, marked by a green tick) and positive angles turn clockwise on
    screen: the bob is at ``(cx + L sin q, cy - L cos q)`` with ``L = 0.38 size``.
    ``env_params`` is accepted for the common ``render(state, params)`` signature and not
    needed.

    Raises:
      ValueError: for a batched state (render one environment at a time).
      TypeError: for a state that is not a pendulum state.
    """
    del env_params
    if isinstance(env_state, DiscretePendulumState):
        x = np.asarray(env_state.x)
        if x.ndim:
            raise ValueError(f"render draws one state, got a batch of shape {x.shape}")
        q = float(x % NQ) * DQ - math.pi
    elif isinstance(env_state, PendulumState):
        q_arr = np.asarray(env_state.q)
        if q_arr.ndim:
            raise ValueError(f"render draws one state, got a batch of shape {q_arr.shape}")
        q = float(q_arr)
    else:
        raise TypeError(f"render expects a pendulum state, got {type(env_state).__name__}")
    return draw_pendulum(q, size)


def draw_pendulum(q: float, size: int = 200) -> np.ndarray:
    """A pendulum at angle ``q`` (0 upright, clockwise on screen) as an RGB image."""
    img = rendering.blank(size, size, _BACKGROUND)
    cx = cy = size / 2
    length = 0.38 * size
    rendering.draw_ring(img, cx, cy, length, max(1.0, size / 200), _TRACK)
    rendering.draw_line(img, cx, cy - length - 0.06 * size, cx, cy - length + 0.06 * size,
                        max(2.0, size / 70), _GOAL)
    tip_x, tip_y = cx + length * math.sin(q), cy - length * math.cos(q)
    rendering.draw_line(img, cx, cy, tip_x, tip_y, max(2.0, size / 28), _ROD)
    rendering.draw_disc(img, tip_x, tip_y, max(3.0, size / 16), _BOB)
    rendering.draw_disc(img, cx, cy, max(2.0, size / 40), _PIVOT)
    return img


def render_gymnax(env_state: Any, env_params: Any = None) -> np.ndarray:
    """gymnax's Pendulum-v1 state (``theta`` 0 upright) drawn as the course's."""
    return draw_pendulum(float(env_state.theta))
