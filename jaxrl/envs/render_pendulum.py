"""Drawing the course's pendulums (numpy only, :mod:`jaxrl.envs.rendering`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from jaxrl.envs import rendering
from jaxrl.envs.discrete_pendulum import DiscretePendulumState
from jaxrl.envs.discretization import DQ, NQ
from jaxrl.envs.pendulum import PendulumState

__all__ = ["render"]

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
