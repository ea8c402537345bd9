"""Tiny numpy rasteriser: filled rectangles, discs, rings, thick lines and polygons.

Enough to draw the course's environments (a pendulum, a grid maze) into uint8 RGB
frames without a display or matplotlib. Every primitive paints in place into an
``H x W x 3`` uint8 image and returns it, so calls chain.

Coordinates are continuous pixel coordinates ``(x, y)``: ``x`` to the right, ``y``
downwards, pixel ``img[r, c]`` covering the square ``[c, c + 1) x [r, r + 1)`` with
its centre at ``(c + 0.5, r + 0.5)``. Round shapes are anti-aliased by their signed
distance (coverage ``clip(0.5 - d, 0, 1)``); rectangles and polygons have hard edges.
Only the shape's bounding box is touched, so a primitive costs O(its area).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Color = Sequence[int] | np.ndarray

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
