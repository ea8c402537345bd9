"""Drawing environments without a display: a tiny numpy rasteriser, and frames to a GIF.

The primitives (filled rectangles, discs, rings, thick lines and polygons) are enough to
draw the course's environments into uint8 RGB frames without matplotlib. Each family
draws itself in its own module with them: the maze in :mod:`jaxrl.envs.maze`, the
pendulums (the course's three and gymnax's ``Pendulum-v1``) in :mod:`jaxrl.envs.pendulum`;
gymnax's ``CartPole-v1``, which has no module here, is drawn by :func:`cartpole` (gymnax
draws with matplotlib animations only). :func:`jaxrl.envs.registry.renderer` finds an
environment's drawing; :func:`save_gif` writes the frames (``jaxrl render``).

Every primitive paints in place into an ``H x W x 3`` uint8 image and returns it, so
calls chain. Coordinates are continuous pixel coordinates ``(x, y)``: ``x`` to the
right, ``y`` downwards, pixel ``img[r, c]`` covering the square ``[c, c + 1) x [r, r + 1)``
with its centre at ``(c + 0.5, r + 0.5)``. Round shapes are anti-aliased by their signed
distance (coverage ``clip(0.5 - d, 0, 1)``); rectangles and polygons have hard edges.
Only the shape's bounding box is touched, so a primitive costs O(its area).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

Color = Sequence[int] | np.ndarray
#: ``draw(env_state, env_params) -> uint8 [H, W, 3]``, an environment's drawing.
Renderer = Callable[[Any, Any], np.ndarray]
#: The file formats :func:`save_gif` writes (``jaxrl render --out``).
FORMATS = (".gif",)

WHITE = (255, 255, 255)


def blank(height: int, width: int, color: Color = WHITE) -> np.ndarray:
    """A new ``height x width x 3`` uint8 image filled with ``color``."""
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {height} x {width}")
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[...] = _rgb(color)
    return img


def fill_rect(img: np.ndarray, x0: float, y0: float, x1: float, y1: float,
              color: Color) -> np.ndarray:
    """Fill the pixels whose centres lie in the rectangle ``[x0, x1) x [y0, y1)``."""
    _check_image(img)
    height, width = img.shape[:2]
    c0, c1 = _span(x0, x1, width)
    r0, r1 = _span(y0, y1, height)
    if c0 < c1 and r0 < r1:
        img[r0:r1, c0:c1] = _rgb(color)
    return img


def draw_disc(img: np.ndarray, cx: float, cy: float, radius: float,
              color: Color) -> np.ndarray:
    """A filled, anti-aliased disc of centre ``(cx, cy)``."""
    box = _box(img, cx - radius, cy - radius, cx + radius, cy + radius)
    if box is None:
        return img
    xs, ys, rows, cols = box
    dist = np.hypot(xs - cx, ys - cy) - radius
    _blend(img, rows, cols, _coverage(dist), color)
    return img


def draw_ring(img: np.ndarray, cx: float, cy: float, radius: float, thickness: float,
              color: Color) -> np.ndarray:
    """An anti-aliased circle of centre ``(cx, cy)``, ``thickness`` pixels wide."""
    half = thickness / 2
    box = _box(img, cx - radius - half, cy - radius - half, cx + radius + half,
               cy + radius + half)
    if box is None:
        return img
    xs, ys, rows, cols = box
    dist = np.abs(np.hypot(xs - cx, ys - cy) - radius) - half
    _blend(img, rows, cols, _coverage(dist), color)
    return img


def draw_line(img: np.ndarray, x0: float, y0: float, x1: float, y1: float,
              thickness: float, color: Color) -> np.ndarray:
    """A thick anti-aliased segment with round caps (a capsule) from (x0, y0) to (x1, y1)."""
    half = thickness / 2
    box = _box(img, min(x0, x1) - half, min(y0, y1) - half, max(x0, x1) + half,
               max(y0, y1) + half)
    if box is None:
        return img
    xs, ys, rows, cols = box
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        t = np.zeros_like(xs)
    else:
        t = np.clip(((xs - x0) * dx + (ys - y0) * dy) / length2, 0.0, 1.0)
    dist = np.hypot(xs - (x0 + t * dx), ys - (y0 + t * dy)) - half
    _blend(img, rows, cols, _coverage(dist), color)
    return img


def fill_polygon(img: np.ndarray, points: Sequence[tuple[float, float]],
                 color: Color) -> np.ndarray:
    """Fill a polygon (even-odd rule) given by its vertices ``[(x, y), ...]``."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
        raise ValueError(f"a polygon needs at least 3 (x, y) vertices, got shape {pts.shape}")
    box = _box(img, pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
    if box is None:
        return img
    xs, ys, rows, cols = box
    inside = np.zeros(xs.shape, dtype=bool)
    for (xa, ya), (xb, yb) in zip(pts, np.roll(pts, -1, axis=0), strict=True):
        crosses = (ya > ys) != (yb > ys)
        if not crosses.any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = xa + (ys - ya) * (xb - xa) / (yb - ya)
        inside ^= crosses & (xs < x_cross)
    _blend(img, rows, cols, inside.astype(np.float64), color)
    return img


def cartpole(env_state: Any, env_params: Any = None, *, width: int = 300,
             height: int = 200) -> np.ndarray:
    """A CartPole state: the cart at ``x`` on a track of ±2.4, the pole at ``theta``."""
    x, theta = float(env_state.x), float(env_state.theta)
    img = blank(height, width, (250, 250, 250))
    scale = width / 6.0  # the track's ±2.4 m in the middle 80 %
    ground = 0.7 * height
    fill_rect(img, 0, ground, width, ground + 2, (120, 120, 120))
    cx = width / 2 + x * scale
    fill_rect(img, cx - 25, ground - 15, cx + 25, ground + 5, (60, 60, 60))
    length = 0.5 * 2 * scale  # gymnax's half-length 0.5, drawn whole
    tip = (cx + length * math.sin(theta), ground - 15 - length * math.cos(theta))
    draw_line(img, cx, ground - 15, *tip, 6.0, (200, 120, 60))
    draw_disc(img, cx, ground - 15, 4.0, (80, 80, 160))
    return img


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


def _rgb(color: Color) -> np.ndarray:
    rgb = np.asarray(color)
    if rgb.shape != (3,):
        raise ValueError(f"color must be an (r, g, b) triple, got {color!r}")
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _check_image(img: np.ndarray) -> None:
    if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError("expected an H x W x 3 numpy image")
    if img.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {img.dtype}")


def _span(lo: float, hi: float, size: int) -> tuple[int, int]:
    """Pixel indices whose centres lie in ``[lo, hi)``, clipped to ``[0, size)``."""
    start = int(np.clip(np.ceil(lo - 0.5), 0, size))
    stop = int(np.clip(np.ceil(hi - 0.5), 0, size))
    return start, stop


def _box(img: np.ndarray, x0: float, y0: float, x1: float, y1: float):
    """Pixel-centre grids of the bounding box (one pixel of margin), or None if empty."""
    _check_image(img)
    height, width = img.shape[:2]
    c0, c1 = int(max(np.floor(x0) - 1, 0)), int(min(np.ceil(x1) + 1, width))
    r0, r1 = int(max(np.floor(y0) - 1, 0)), int(min(np.ceil(y1) + 1, height))
    if c0 >= c1 or r0 >= r1:
        return None
    ys, xs = np.mgrid[r0:r1, c0:c1].astype(np.float64) + 0.5
    return xs, ys, slice(r0, r1), slice(c0, c1)


def _coverage(signed_distance: np.ndarray) -> np.ndarray:
    return np.clip(0.5 - signed_distance, 0.0, 1.0)


def _blend(img: np.ndarray, rows: slice, cols: slice, alpha: np.ndarray,
           color: Color) -> None:
    patch = img[rows, cols].astype(np.float64)
    alpha = alpha[..., None]
    patch = patch * (1.0 - alpha) + _rgb(color).astype(np.float64) * alpha
    img[rows, cols] = np.rint(patch).astype(np.uint8)
