"""The course's discretisation of the pendulum (``pendulummodel.py`` / ``discretization.py``).

20 angle bins (nearest grid, ``round``) x 19 velocity bins (``floor``) = 380 states, 9
torque bins (``floor``); ``x2i``/``i2x`` flatten a state ``[iq, iv]`` to ``iq + iv * NQ``.
The goal, upright at rest, is ``GOAL = x2i(c2d([0, 0])) = 190``. Used by
:class:`jaxrl.envs.discrete_pendulum.DiscretePendulum` and
:class:`jaxrl.envs.pendulum.HybridPendulum`.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

#: Angle bins.
NQ = 20
#: Velocity bins.
NV = 19
#: Velocities are binned on [-VMAX, VMAX]; faster ones saturate into the edge bins.
VMAX = 5.0
#: Torque bins.
NU = 9
#: Torques of the grid span [-UMAX, UMAX] (then the pendulum clips them to ±umax = ±2).
UMAX = 5.0
#: Number of discrete states.
NX = NQ * NV
#: Bin widths.
DQ = 2 * math.pi / NQ
DV = 2 * VMAX / NV
DU = 2 * UMAX / NU
#: ``x2i(c2d([0, 0])) = 10 + 9 * 20``: upright (iq = 10) and at rest (iv = 9).
GOAL = NQ // 2 + (NV // 2) * NQ


def wrap(q: jax.Array) -> jax.Array:
    """Wrap an angle into ``[-π, π)``: ``(q + π) mod 2π - π``."""
    return _mod_2pi(q + jnp.pi) - jnp.pi


def _mod_2pi(y: jax.Array) -> jax.Array:
    """``y mod 2π`` in ``[0, 2π)``, as numpy's ``%`` (the sign of the divisor).

    Computed as ``y - 2π floor(y / 2π)`` and corrected by one period where the division
    rounded across an integer: XLA:CPU lowers ``jnp.remainder`` to a scalar ``fmod`` call
    that costs as much as a sine, this is ~15x cheaper. For the angles of one step
    (``|y| < 4π``) the result is within one float ulp of ``fmod``'s.
    """
    two_pi = 2 * jnp.pi
    r = y - two_pi * jnp.floor(y / two_pi)
    r = jnp.where(r >= two_pi, r - two_pi, r)
    return jnp.where(r < 0, r + two_pi, r)


def c2dq(q: jax.Array) -> jax.Array:
    """Angle bin: ``round(((q + π) mod 2π) / DQ) mod NQ`` (nearest bin centre).

    ``round`` is numpy's (``np.round``, halves to even), which is what the course's
    Python 3 ``round`` of a numpy float does. Ties need an angle exactly half-way between
    two centres and do not occur in practice.
    """
    return (jnp.round(_mod_2pi(q + jnp.pi) / DQ) % NQ).astype(jnp.int32)


def c2dv(v: jax.Array) -> jax.Array:
    """Velocity bin: ``floor((clip(v, ±(VMAX - 1e-3)) + VMAX) / DV)``, in ``[0, NV)``."""
    v = jnp.clip(v, -(VMAX - 1e-3), VMAX - 1e-3)
    return jnp.floor((v + VMAX) / DV).astype(jnp.int32)


def c2du(u: jax.Array) -> jax.Array:
    """Torque bin: ``floor((clip(u, ±(UMAX - 1e-3)) + UMAX) / DU)``, in ``[0, NU)``."""
    u = jnp.clip(u, -(UMAX - 1e-3), UMAX - 1e-3)
    return jnp.floor((u + UMAX) / DU).astype(jnp.int32)


def d2cq(iq: jax.Array) -> jax.Array:
    """Angle of a bin's centre: ``iq * DQ - π`` (``iq = 0`` hangs down, ``iq = 10`` is up)."""
    return jnp.asarray(iq) * DQ - jnp.pi


def d2cv(iv: jax.Array) -> jax.Array:
    """Velocity of a bin's centre: ``(iv - (NV - 1) / 2) * DV`` (``iv = 9`` is at rest)."""
    return (jnp.asarray(iv) - (NV - 1) / 2) * DV


def d2cu(iu: jax.Array) -> jax.Array:
    """Torque of an action: ``(iu - (NU - 1) / 2) * DU``, before the pendulum's clip."""
    return (jnp.asarray(iu) - (NU - 1) / 2) * DU


def c2d(x: jax.Array) -> jax.Array:
    """Continuous ``[..., (q, v)]`` to bins ``[..., (iq, iv)]`` (int32)."""
    x = jnp.asarray(x)
    return jnp.stack([c2dq(x[..., 0]), c2dv(x[..., 1])], axis=-1)


def d2c(ix: jax.Array) -> jax.Array:
    """Bins ``[..., (iq, iv)]`` to the continuous bin centre ``[..., (q, v)]``."""
    ix = jnp.asarray(ix)
    return jnp.stack([d2cq(ix[..., 0]), d2cv(ix[..., 1])], axis=-1)


def x2i(ix: jax.Array) -> jax.Array:
    """Flat index of bins ``[..., (iq, iv)]``: ``iq + iv * NQ``."""
    ix = jnp.asarray(ix)
    return (ix[..., 0] + ix[..., 1] * NQ).astype(jnp.int32)


def i2x(i: jax.Array) -> jax.Array:
    """Bins ``[..., (iq, iv)]`` of a flat index: ``(i % NQ, i // NQ)``.

    The course's Python 2 ``i / NQ`` is integer division, hence ``//``.
    """
    i = jnp.asarray(i)
    return jnp.stack([i % NQ, i // NQ], axis=-1).astype(jnp.int32)
