"""Drawing the lecture's maze (numpy only, :mod:`jaxrl.envs.rendering`)."""

from __future__ import annotations

import numpy as np

from jaxrl.envs import rendering
from jaxrl.envs.maze import CELLS, COLS, GREEN, NUM_STATES, RED, ROWS, WALL, EnvParams, EnvState

__all__ = ["render", "render_maze"]

# Colours (RGB).
_WHITE = (255, 255, 255)
_GRID = (170, 170, 170)
_WALL = (60, 60, 60)
_RED = (220, 60, 60)
_GREEN = (60, 170, 80)
_AGENT = (40, 90, 220)


def render_maze(position: int | None = None, *, cell: int = 48) -> np.ndarray:
    """Draw the maze: the wall, the red trap, the green exit, grid lines, the agent.

    Args:
      position: the agent's state index (0..10), or ``None`` to draw no agent.
      cell: the side of a cell in pixels.

    Returns:
      A ``uint8`` array ``[3 * cell + 1, 4 * cell + 1, 3]``.
    """
    if position is not None and not 0 <= position < NUM_STATES:
        raise ValueError(f"position must be a state index in [0, {NUM_STATES}), got {position}")
    image = rendering.blank(ROWS * cell + 1, COLS * cell + 1, _WHITE)
    for (r, c), colour in ((WALL, _WALL), (RED, _RED), (GREEN, _GREEN)):
        rendering.fill_rect(image, c * cell, r * cell, (c + 1) * cell, (r + 1) * cell, colour)
    image[::cell, :] = _GRID
    image[:, ::cell] = _GRID
    if position is not None:
        r, c = CELLS[position]
        rendering.draw_disc(image, (c + 0.5) * cell, (r + 0.5) * cell, 0.3 * cell, _AGENT)
    return image


def render(env_state: EnvState, env_params: EnvParams | None = None, *,
           cell: int = 48) -> np.ndarray:
    """Draw a :class:`~jaxrl.envs.maze.Maze` state as a ``uint8`` RGB image.

    See :func:`render_maze`; ``env_params`` is accepted for the common
    ``render(state, params)`` signature and not needed.

    Raises:
      ValueError: for a batched state (render one environment at a time).
    """
    del env_params
    position = np.asarray(env_state.position)
    if position.ndim:
        raise ValueError(f"render draws one state, got a batch of shape {position.shape}")
    return render_maze(int(position), cell=cell)
