"""Which function draws an environment's state, and frames into a GIF.

The course's environments have their own drawings (:mod:`jaxrl.envs.render_maze`,
:mod:`jaxrl.envs.render_pendulum`); gymnax's ``CartPole-v1`` and ``Pendulum-v1`` are
drawn here with the same primitives (gymnax draws with matplotlib animations only).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jaxrl.envs import rendering

Renderer = Callable[[Any, Any], np.ndarray]
#: The file formats :func:`save_gif` writes (``jaxrl render --out``).
FORMATS = (".gif",)


def cartpole(env_state: Any, env_params: Any = None, *, width: int = 300,
             height: int = 200) -> np.ndarray:
    """A CartPole state: the cart at ``x`` on a track of ±2.4, the pole at ``theta``."""
    x, theta = float(env_state.x), float(env_state.theta)
    img = rendering.blank(height, width, (250, 250, 250))
    scale = width / 6.0  # the track's ±2.4 m in the middle 80 %
    ground = 0.7 * height
    rendering.fill_rect(img, 0, ground, width, ground + 2, (120, 120, 120))
    cx = width / 2 + x * scale
    rendering.fill_rect(img, cx - 25, ground - 15, cx + 25, ground + 5, (60, 60, 60))
    length = 0.5 * 2 * scale  # gymnax's half-length 0.5, drawn whole
    tip = (cx + length * math.sin(theta), ground - 15 - length * math.cos(theta))
    rendering.draw_line(img, cx, ground - 15, *tip, 6.0, (200, 120, 60))
    rendering.draw_disc(img, cx, ground - 15, 4.0, (80, 80, 160))
    return img


def gymnax_pendulum(env_state: Any, env_params: Any = None) -> np.ndarray:
    """gymnax's Pendulum-v1 state (``theta`` 0 upright) drawn as the course's."""
    from jaxrl.envs.render_pendulum import draw_pendulum

    return draw_pendulum(float(env_state.theta))


def renderer(env: Any) -> Renderer | None:
    """``draw(env_state, env_params) -> uint8 [H, W, 3]`` for ``env`` (an
    :class:`~jaxrl.envs.wrappers.AutoReset` is unwrapped), or ``None``."""
    env = getattr(env, "env", env)
    name = getattr(env, "name", type(env).__name__)
    if hasattr(env, "render"):
        return env.render
    if name in ("Pendulum", "DiscretePendulum", "HybridPendulum"):
        from jaxrl.envs.render_pendulum import render

        return render
    return {"CartPole-v1": cartpole, "Pendulum-v1": gymnax_pendulum}.get(name)


def save_gif(path: Path, frames: Sequence[np.ndarray], fps: int = 20) -> None:
    """Write ``frames`` (uint8 RGB) as an animated GIF, in a folder that exists (a
    temporary file, then a rename: a failed write leaves no partial file)."""
    from PIL import Image

    path = Path(path)
    images = [Image.fromarray(np.asarray(f, np.uint8)) for f in frames]
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=1000 // fps, loop=0)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
