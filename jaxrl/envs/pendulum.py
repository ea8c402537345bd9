"""The course's pendulum, as three gymnax environments.

The practicals of the lecture (``reference/course.md`` §1a-§1c, ``pendulummodel.py`` of
``nmansard/wsmemmo_rl``) share one physical model, a single rod of mass 1 and length 1
hinged at one end:

* ``M = 0.2 + 1 * 0.5**2 = 0.45`` (the 1x1 mass matrix) and
  ``nle(q, v) = -m g l/2 sin q = -4.905 sin q``, so ``q = 0`` is **upright** (the
  unstable equilibrium and the goal) and ``q = ±π`` hangs down;
* ``a = (u - Kf v - nle) / M = (u - Kf v + 4.905 sin q) / M``;
* one step of ``dt`` is ``ndt`` semi-implicit Euler sub-steps of ``h = dt / ndt``, with
  the cost ``(q² + 0.1 v² + 0.001 u²) h`` summed over the sub-steps (see :func:`dynamics`).

From it the course builds:

* :class:`Pendulum`: continuous state ``[q, v]`` (or ``[cos q, sin q, v]``), continuous
  torque, reward ``-cost``; the DDPG practical's settings ``dt = 0.05``, ``ndt = 2``.
* :class:`DiscretePendulum`: 20 angle bins x 19 velocity bins = 380 states, 9 torques,
  ``dt = 0.3``, ``ndt = 5``; reward 1 on reaching the goal state 190 (upright, at rest).
  It is deterministic and exports its exact :class:`~jaxrl.mdp.TabularMDP`.
* :class:`HybridPendulum`: continuous state, the 9 discrete torques, ``dt = 0.3``,
  ``ndt = 5``, reward ``-cost``.

Every physical constant is a field of the environment's params, so a user can change
mass, friction or time step without subclassing, and ``jax.vmap`` over a params field
(``in_axes`` on one leaf) sweeps it. The discretisation grid (``NQ``, ``NV``, ``NU``,
``VMAX``, ``UMAX``) is the course's module-level constants, as in the course; they and
the ``c2d``/``d2c``/``x2i``/``i2x`` helpers live in :mod:`jaxrl.envs.discretization`
and are re-exported here.

The torques of the discrete grid, ``d2cu(iu) = (iu - 4) * 10/9``, go through the
pendulum's clip to ``±umax = ±2``: of the 9 actions only 5 torques are distinct,
``{-2, -2, -2, -1.11, 0, 1.11, 2, 2, 2}``. That is the course's behaviour and kept.

Rendering: :func:`render` draws any of the three environments' states into a uint8
RGB array with plain numpy (:mod:`jaxrl.envs.rendering`).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces

from jaxrl.envs import rendering
from jaxrl.envs.discretization import (  # noqa: F401  (re-exported: the course's names)
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
from jaxrl.mdp import TabularMDP

__all__ = [
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
    "DiscretePendulum",
    "DiscretePendulumParams",
    "DiscretePendulumState",
    "HybridPendulum",
    "Pendulum",
    "PendulumParams",
    "PendulumState",
    "UniformDiscrete",
    "c2d",
    "c2dq",
    "c2du",
    "c2dv",
    "check_params",
    "d2c",
    "d2cq",
    "d2cu",
    "d2cv",
    "discrete_dynamics",
    "dynamics",
    "i2x",
    "render",
    "wrap",
    "x2i",
]

# ---------------------------------------------------------------------------------------
# Params and states.
# ---------------------------------------------------------------------------------------


@struct.dataclass
class _PhysicsParams(environment.EnvParams):
    """The physical constants shared by the three pendulums (course defaults)."""

    #: ``M``, the 1x1 mass matrix (kg m²): 0.2 (rod inertia at the COM) + 1 * 0.5².
    inertia: float = 0.45
    #: ``m g l/2``: ``nle(q) = -gravity_torque * sin q``.
    gravity_torque: float = 4.905
    #: ``Kf``, viscous friction: the joint torque is ``u - Kf v``.
    kf: float = 0.1
    #: Torque clip ``±umax``.
    umax: float = 2.0
    #: Velocity clip ``±vmax``, applied at the end of each step.
    vmax: float = 8.0
    #: Step length (s).
    dt: float = 0.05
    #: Cost weights: ``cost = Σ (q_weight q² + v_weight v² + u_weight u²) h``.
    q_weight: float = 1.0
    v_weight: float = 0.1
    u_weight: float = 0.001
    #: Euler sub-steps per step. A static (python int) field: it is a loop count that XLA
    #: unrolls, so it cannot be vmapped over; changing it recompiles.
    ndt: int = struct.field(pytree_node=False, default=2)


@struct.dataclass
class PendulumParams(_PhysicsParams):
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
class DiscretePendulumParams(_PhysicsParams):
    """Params of :class:`DiscretePendulum`: the course's ``dt = 0.3``, ``ndt = 5``.

    ``terminate_on_goal`` ends the episode when the goal is reached (the practical's
    "break on success"); with ``False`` the goal keeps its true dynamics and keeps paying
    1 while the pendulum stays there. ``max_steps_in_episode`` defaults to the tabular
    practical's ``NSTEPS = 50``.
    """

    dt: float = 0.3
    ndt: int = struct.field(pytree_node=False, default=5)
    max_steps_in_episode: int = 50
    terminate_on_goal: bool = True


@struct.dataclass
class PendulumState(environment.EnvState):
    """State of :class:`Pendulum` and :class:`HybridPendulum`: angle, velocity, time."""

    q: jax.Array
    v: jax.Array


@struct.dataclass
class DiscretePendulumState(environment.EnvState):
    """State of :class:`DiscretePendulum`: the flat index ``x = iq + iv * NQ``, time."""

    x: jax.Array


# Host-side checks of params: which kind each field holds, and which must be positive.
_POSITIVE = frozenset({"inertia", "dt", "vmax", "max_steps_in_episode", "ndt"})
_NON_NEGATIVE = frozenset({"umax"})
_KIND_TEXT = {"float": "a real number", "int": "an integer", "bool": "a bool"}
_ALLOWED_DTYPE_KINDS = {"float": "iuf", "int": "iu", "bool": "b"}
_PYTHON_TYPES = {"float": (int, float), "int": (int,), "bool": (bool,)}


@functools.cache
def _field_specs(cls: type) -> tuple[tuple[str, str, bool], ...]:
    """``(name, kind, static)`` of every field of a params class."""
    specs = []
    for field in dataclasses.fields(cls):
        kind = field.type if isinstance(field.type, str) else field.type.__name__
        specs.append((field.name, kind, not field.metadata.get("pytree_node", True)))
    return tuple(specs)


def check_params(params: _PhysicsParams) -> None:
    """Raise a clear error for a params field of the wrong type or out of its domain.

    Fields are checked where that is possible on the host: python scalars and numpy
    values fully, concrete jax arrays by dtype only (their values stay on the device),
    tracers (under ``jit``/``vmap``) not at all. The environments' ``step``, ``reset``
    and ``tabular_mdp`` call it on the params they are given.

    Raises:
      TypeError: a field holds a string, a bool where a number is expected, a float
        where an integer is expected, ...
      ValueError: a positive constant (``inertia``, ``dt``, ``vmax``, ``ndt``,
        ``max_steps_in_episode``) is not positive, ``umax`` is negative, or a float
        constant is not finite.
    """
    if not isinstance(params, _PhysicsParams):
        raise TypeError(f"expected pendulum params, got {type(params).__name__}")
    for name, kind, static in _field_specs(type(params)):
        value = getattr(params, name)
        if isinstance(value, jax.core.Tracer):
            continue
        where = f"{type(params).__name__}.{name}"
        if type(value) in _PYTHON_TYPES[kind]:  # the common case: a python scalar
            pass
        elif static:
            if kind == "bool" or isinstance(value, bool) or not isinstance(value, np.integer):
                raise TypeError(f"{where} must be a python {kind} (a static field), "
                                f"got {type(value).__name__} {value!r}")
        else:
            _check_leaf(value, kind, where)
            if isinstance(value, jax.Array):
                continue  # values on the device are not read back (no host sync)
        if kind != "bool":
            _check_domain(name, kind, value, where)


def _check_domain(name: str, kind: str, value: Any, where: str) -> None:
    """Positivity and finiteness of a host value (python scalars take the fast path)."""
    if isinstance(value, int | float):
        positive, non_negative, finite = value > 0, value >= 0, math.isfinite(value)
    else:
        array = np.asarray(value)
        positive, non_negative = bool((array > 0).all()), bool((array >= 0).all())
        finite = bool(np.isfinite(array).all())
    if name in _POSITIVE and not positive:
        raise ValueError(f"{where} must be positive, got {value!r}")
    if name in _NON_NEGATIVE and not non_negative:
        raise ValueError(f"{where} must be non-negative, got {value!r}")
    if kind == "float" and not finite:
        raise ValueError(f"{where} must be finite, got {value!r}")


def _check_leaf(value: Any, kind: str, where: str) -> None:
    """A params leaf has the dtype its field announces (``float``, ``int`` or ``bool``)."""
    expected = _KIND_TEXT[kind]
    if isinstance(value, str | bytes) or value is None:
        raise TypeError(f"{where} must be {expected}, got {type(value).__name__} {value!r}")
    try:
        dtype = value.dtype if isinstance(value, jax.Array) else np.asarray(value).dtype
    except (TypeError, ValueError) as err:
        raise TypeError(f"{where} must be {expected}, got {type(value).__name__}") from err
    if dtype.kind not in _ALLOWED_DTYPE_KINDS[kind]:
        raise TypeError(f"{where} must be {expected}, got {type(value).__name__} {value!r} "
                        f"(dtype {dtype})")


# ---------------------------------------------------------------------------------------
# Dynamics.
# ---------------------------------------------------------------------------------------


def dynamics(q: jax.Array, v: jax.Array, u: jax.Array,
             params: _PhysicsParams) -> tuple[jax.Array, jax.Array, jax.Array]:
    """One step of the course's ``Pendulum.dynamics``: returns ``(q', v', cost)``.

    ``q = wrap(q)``; ``u = clip(u, ±umax)``; then ``ndt`` times with ``h = dt / ndt``:
    ``a = (u - Kf v + 4.905 sin q) / M``; ``v += a h``; ``q += v h``;
    ``cost += (q² + 0.1 v² + 0.001 u²) h`` (semi-implicit Euler; the cost uses the
    updated q and v, and q is not re-wrapped between sub-steps). At the end
    ``q = wrap(q)`` and ``v = clip(v, ±vmax)``. The reward is ``-cost``.

    The sub-steps are a ``lax.fori_loop`` over the static ``params.ndt``. Measured
    against a python unroll (CPU, random policy, full auto-resetting step): as fast at 1
    environment and 1.3-2x faster at 64 and 4096, because the loop's result is computed
    once, where XLA:CPU copies an unrolled chain of sines into each of its consumers
    (next state, observation, reward, auto-reset selects).
    """
    dtype = jnp.result_type(q, v, u, float)
    q, v, u = (x.astype(dtype) for x in jnp.broadcast_arrays(q, v, u))
    q = wrap(q)
    u = jnp.clip(u, -params.umax, params.umax)
    h = params.dt / params.ndt
    cost_u = params.u_weight * u * u

    def substep(_, carry):
        q, v, cost = carry
        a = (u - params.kf * v + params.gravity_torque * jnp.sin(q)) / params.inertia
        v = v + a * h
        q = q + v * h
        cost = cost + (params.q_weight * q * q + params.v_weight * v * v + cost_u) * h
        return q.astype(dtype), v.astype(dtype), cost.astype(dtype)

    q, v, cost = jax.lax.fori_loop(0, params.ndt, substep, (q, v, jnp.zeros_like(q)))
    return wrap(q), jnp.clip(v, -params.vmax, params.vmax), cost


def discrete_dynamics(x: jax.Array, iu: jax.Array, params: _PhysicsParams) -> jax.Array:
    """``DiscretePendulum.dynamics``: bin centre of ``x``, one pendulum step, re-binned."""
    iq, iv = x % NQ, x // NQ
    q, v, _ = dynamics(d2cq(iq), d2cv(iv), d2cu(iu), params)
    return c2dq(q) + c2dv(v) * NQ


# ---------------------------------------------------------------------------------------
# Action checks (host side only: they never trace).
# ---------------------------------------------------------------------------------------


def _action_meta(action: Any, what: str) -> tuple[np.dtype, tuple[int, ...], np.ndarray | None]:
    """dtype, shape and (for host values only) the value of an action."""
    if isinstance(action, str | bytes) or action is None:
        raise TypeError(f"{what} action must be a number, got {type(action).__name__} "
                        f"{action!r}")
    if isinstance(action, jax.Array):
        return action.dtype, action.shape, None
    try:
        array = np.asarray(action)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{what} action must be a number, got {type(action).__name__}") from err
    return array.dtype, array.shape, array


def _check_discrete_action(action: Any, name: str) -> None:
    if isinstance(action, jax.core.Tracer):
        return
    dtype, shape, value = _action_meta(action, name)
    if dtype.kind not in "iu" or shape not in ((), (1,)):
        raise TypeError(f"{name} action must be one integer in [0, {NU}), got "
                        f"{action!r} (dtype {dtype}, shape {shape})")
    if value is not None and not (0 <= value.item() < NU):
        raise ValueError(f"{name} action must be in [0, {NU}) (the torque bins), got "
                         f"{value.item()}")


def _check_torque(action: Any, params: PendulumParams, clip_ok: bool) -> None:
    if isinstance(action, jax.core.Tracer):
        return
    dtype, shape, value = _action_meta(action, "Pendulum")
    if dtype.kind not in "iuf" or shape not in ((), (1,)):
        raise TypeError(f"Pendulum action must be one real torque, shape (1,) or (), got "
                        f"{action!r} (dtype {dtype}, shape {shape})")
    if value is None:
        return
    if not np.isfinite(value).all():
        raise ValueError(f"Pendulum action must be finite, got {value.item()}")
    umax = params.umax
    if not clip_ok and not isinstance(umax, jax.Array) and abs(value.item()) > umax:
        raise ValueError(f"Pendulum action must be in [-{umax}, {umax}], got {value.item()}")


# ---------------------------------------------------------------------------------------
# Environments.
# ---------------------------------------------------------------------------------------


class UniformDiscrete(spaces.Discrete):
    """gymnax's ``Discrete(n)`` with a 3x cheaper ``sample``: 32 random bits mod ``n``.

    ``jax.random.randint`` draws two words of random bits per value; one word mod ``n``
    is uniform up to a relative bias below ``n / 2**32`` (1e-7 for ``n = 380``).
    """

    def sample(self, key: jax.Array) -> jax.Array:
        """A uniform integer in ``[0, n)``."""
        return _uniform_index(key, self.n, self.shape).astype(self.dtype)


def _uniform_index(key: jax.Array, n: int, shape: tuple[int, ...] = ()) -> jax.Array:
    """Uniform ints in ``[0, n)`` from one word of random bits each (see UniformDiscrete)."""
    return (jax.random.bits(key, shape, jnp.uint32) % jnp.uint32(n)).astype(jnp.int32)


class _CourseEnvironment(environment.Environment):
    """Base of the course's environments: gymnax's auto-resetting ``step``, minus one key
    split, plus host-side checks.

    The pendulums' ``step_env`` is deterministic and never reads its key, so the key goes
    whole to ``reset_env`` instead of being split in two as gymnax's base ``step`` does:
    one threefry call per step instead of two (the reset's draw dominates a step's cost).
    The outputs are gymnax 1.0's: ``(obs, state, reward, terminated, truncated, info)``
    with ``info["terminated"]``, ``info["truncated"]`` and ``info["final_observation"]``.
    """

    def step(self, key: jax.Array, state: Any, action: Any, params: Any = None):
        """Step with auto-reset (gymnax 1.0 API), after host-side checks of params/action."""
        params = self._checked(params)
        self.check_action(action, params)
        return self._step(key, state, action, params)

    def reset(self, key: jax.Array, params: Any = None):
        """gymnax's ``reset``, after a host-side check of params."""
        return self._reset(key, self._checked(params))

    def _checked(self, params: Any) -> Any:
        """``params`` (default: the default params), checked once per params object.

        The last concrete params object that passed is remembered (params are frozen),
        so an eager loop of ``step`` calls pays for the check once.
        """
        if params is None:
            params = self.__dict__.get("_default_params")
            if params is None:
                params = self._default_params = self.default_params
            return params
        if params is not self.__dict__.get("_checked_params"):
            check_params(params)
            if not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(params)):
                self._checked_params = params
        return params

    @partial(jax.jit, static_argnames=("self",))
    def _reset(self, key: jax.Array, params: Any):
        return self.reset_env(key, params)

    @partial(jax.jit, static_argnames=("self",))
    def _step(self, key: jax.Array, state: Any, action: Any, params: Any):
        # step_env ignores its key (deterministic dynamics): the reset gets it unsplit.
        obs_st, state_st, reward, terminated, info = self.step_env(key, state, action, params)
        truncated = self.is_truncated(state_st, params)
        done = jnp.logical_or(terminated, truncated)
        obs_re, state_re = self.reset_env(key, params)

        def pick(re, st):  # the reset's leaf where done, in the stepped leaf's dtype
            return jax.lax.select(done, jnp.asarray(re, st.dtype), st)

        state = jax.tree.map(pick, state_re, state_st)
        obs = jax.tree.map(pick, obs_re, obs_st)
        info = {**info, "terminated": terminated, "truncated": truncated,
                "final_observation": obs_st}
        return obs, state, reward, terminated, truncated, info


class _ContinuousStatePendulum(_CourseEnvironment):
    """Shared reset, observation and spaces of :class:`Pendulum` and :class:`HybridPendulum`."""

    _supports_transition_gradients = True

    def check_action(self, action: Any, params: PendulumParams | None = None) -> None:
        """Raise a clear error for an action outside the action space (host values only)."""
        raise NotImplementedError

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
        _check_torque(action, params, clip_ok)

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
        _check_discrete_action(action, self.name)

    def _torque(self, action: jax.Array, params: PendulumParams) -> jax.Array:
        return d2cu(jnp.reshape(jnp.asarray(action), ()))

    def action_space(self, params: PendulumParams | None = None) -> spaces.Discrete:
        """``Discrete(9)``."""
        return UniformDiscrete(NU)


class DiscretePendulum(_CourseEnvironment):
    """The course's discrete pendulum (``pendulummodel.DiscretePendulum``).

    380 states (observation: the flat index ``x = iq + iv * 20``), 9 torques. A step
    takes the bin centre of ``x``, runs the pendulum for ``dt = 0.3`` (``ndt = 5``) under
    the torque ``d2cu(iu)`` clipped to ``±2``, and re-bins (:func:`discrete_dynamics`).
    Reward 1 when the *next* state is the goal 190, else 0; reset uniform over the 380
    states; terminates on reaching the goal if ``terminate_on_goal``; truncated after
    ``max_steps_in_episode = 50`` steps.
    """

    @property
    def default_params(self) -> DiscretePendulumParams:
        """The course's defaults."""
        return DiscretePendulumParams()

    @property
    def name(self) -> str:
        """Environment name."""
        return "DiscretePendulum"

    @property
    def num_actions(self) -> int:
        """Number of torque bins."""
        return NU

    def check_action(self, action: Any, params: DiscretePendulumParams | None = None) -> None:
        """Raise for an action that is not one integer in ``[0, 9)`` (host values only)."""
        _check_discrete_action(action, self.name)

    def step_env(self, key: jax.Array, state: DiscretePendulumState, action: Any,
                 params: DiscretePendulumParams):
        """One :func:`discrete_dynamics` step; reward 1 on arriving at the goal."""
        del key
        iu = jnp.reshape(jnp.asarray(action), ())
        x = discrete_dynamics(state.x, iu, params)
        next_state = DiscretePendulumState(time=state.time + 1, x=x)
        at_goal = x == GOAL
        reward = at_goal.astype(jnp.result_type(float))
        terminated = jnp.logical_and(params.terminate_on_goal, at_goal)
        info = {"discount": 1.0 - terminated.astype(reward.dtype)}
        return x, next_state, reward, terminated, info

    def reset_env(self, key: jax.Array, params: DiscretePendulumParams):
        """Uniform over the 380 states (one word of random bits mod 380)."""
        x = _uniform_index(key, NX)
        return x, DiscretePendulumState(time=jnp.zeros((), jnp.int32), x=x)

    def observe(self, key, state: DiscretePendulumState, action,
                params: DiscretePendulumParams) -> jax.Array:
        """The flat state index."""
        del key, action, params
        return state.x

    def get_obs(self, state: DiscretePendulumState, params=None, key=None) -> jax.Array:
        """Legacy gymnax hook: the flat state index."""
        return state.x

    def is_terminated(self, state: DiscretePendulumState,
                      params: DiscretePendulumParams) -> jax.Array:
        """At the goal, when ``params.terminate_on_goal``."""
        return jnp.logical_and(params.terminate_on_goal, state.x == GOAL)

    def action_space(self, params: DiscretePendulumParams | None = None) -> spaces.Discrete:
        """``Discrete(9)``."""
        return UniformDiscrete(NU)

    def observation_space(self, params: DiscretePendulumParams | None = None
                          ) -> spaces.Discrete:
        """``Discrete(380)``."""
        return UniformDiscrete(NX)

    def state_space(self, params: DiscretePendulumParams | None = None) -> spaces.Dict:
        """State index and time."""
        params = self.default_params if params is None else params
        return spaces.Dict({
            "x": spaces.Discrete(NX),
            "time": spaces.Discrete(params.max_steps_in_episode + 1),
        })

    def tabular_mdp(self, params: DiscretePendulumParams | None = None) -> TabularMDP:
        """The exact model (deterministic, ``K = 1``) of the environment under ``params``.

        ``rewards[s, a] = 1`` when ``a`` takes ``s`` to the goal. With
        ``terminate_on_goal`` the goal is terminal: ``terminal[190]`` is set and the goal
        is absorbing with reward 0, so planning on it solves the episodic problem.
        Otherwise the goal keeps its true dynamics (and pays 1 for staying).
        """
        params = self.default_params if params is None else params
        check_params(params)
        next_states = np.array(_transition_table(params))
        rewards = (next_states == GOAL).astype(np.float32)
        terminal = np.zeros(NX, dtype=bool)
        if bool(params.terminate_on_goal):
            next_states[GOAL] = GOAL
            rewards[GOAL] = 0.0
            terminal[GOAL] = True
        return TabularMDP.create(
            next_states[..., None],
            np.ones((NX, NU, 1), dtype=np.float32),
            rewards,
            terminal,
        )


@jax.jit
def _transition_table(params: DiscretePendulumParams) -> jax.Array:
    """``next_state[x, iu]`` for every state and action (the environment's own step)."""
    xs = jnp.arange(NX, dtype=jnp.int32)[:, None]
    us = jnp.arange(NU, dtype=jnp.int32)[None, :]
    return discrete_dynamics(xs, us, params)


# ---------------------------------------------------------------------------------------
# Rendering.
# ---------------------------------------------------------------------------------------

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
    drawn at its bin centre. ``q = 0`` is drawn upright (the course's goal, marked by a
    green tick) and positive angles turn clockwise on screen. ``env_params`` is accepted
    for the common ``render(state, params)`` signature and not needed.

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
