"""Comparing RL runs: the statistics of Agarwal et al., "Deep Reinforcement Learning at the
Edge of the Statistical Precipice" (NeurIPS 2021), in plain numpy.

The functions follow the definitions of the authors' ``rliable`` package (interquartile mean,
stratified bootstrap with percentile intervals, probability of improvement). We wrote our
own because rliable does not import beside this project's pins: rliable 1.2.0 pulls in
arch 7.2.0, which fails at import with the pandas that pip resolves beside them (3.1.1:
``TypeError: deprecate_kwarg() missing 1 required positional argument``; a fresh venv,
2026-12-06).

Scores are arrays ``[runs, tasks]`` (one score per run per task); a 1-D array is the runs of
one task.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import ArrayLike

#: Most array elements one vectorised chunk of bootstrap replicates may hold.
_CHUNK_ELEMENTS = 1 << 22


def _scores(scores: ArrayLike, name: str = "scores") -> np.ndarray:
    """``scores`` as a float array ``[runs, tasks]``, checked."""
    a = np.asarray(scores, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name} must be [runs] or [runs, tasks], got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty (shape {a.shape})")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} holds non-finite values (nan or inf)")
    return a


def _check_interval(reps: int, confidence: float) -> None:
    if int(reps) != reps or reps < 1:
        raise ValueError(f"reps must be a whole number >= 1, got {reps!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")


def _iqm_last(a: np.ndarray) -> np.ndarray:
    """The 25 % trimmed mean along the last axis, unchecked."""
    n = a.shape[-1]
    cut = int(0.25 * n)
    return np.sort(a, axis=-1)[..., cut:n - cut].mean(axis=-1)


def iqm(scores: ArrayLike, axis: int | tuple[int, ...] | None = -1) -> np.ndarray:
    """Interquartile mean: sort the values, drop ``int(0.25 * n)`` of them at each end and
    average the rest (``scipy.stats.trim_mean(x, 0.25)``).

    ``axis`` may be one axis, several (their values pooled) or None (all values pooled).
    ``iqm(scores, axis=None)`` on ``[runs, tasks]`` is rliable's ``aggregate_iqm``, and
    ``iqm(batch, axis=(-2, -1))`` computes it for every ``[runs, tasks]`` slice of a batch.
    """
    a = np.asarray(scores, dtype=float)
    if a.size == 0:
        raise ValueError(f"scores is empty (shape {a.shape})")
    if not np.isfinite(a).all():
        raise ValueError("scores holds non-finite values (nan or inf)")
    if axis is None:
        a = a.reshape(-1)
    elif isinstance(axis, tuple):
        a = np.moveaxis(a, axis, tuple(range(-len(axis), 0)))
        a = a.reshape(*a.shape[:a.ndim - len(axis)], -1)
    else:
        a = np.moveaxis(a, axis, -1)
    return _iqm_last(a)


def _resample(rng: np.random.Generator, a: np.ndarray, count: int) -> np.ndarray:
    """``count`` replicates ``[count, runs, tasks]``: each task's runs drawn with replacement
    from that task's runs only (stratified by task)."""
    runs, tasks = a.shape
    return a[rng.integers(0, runs, size=(count, runs, tasks)), np.arange(tasks)]


def _chunks(reps: int, per_rep: int) -> list[int]:
    size = max(1, _CHUNK_ELEMENTS // max(1, per_rep))
    return [min(size, reps - start) for start in range(0, reps, size)]


def _interval(point: float, replicates: np.ndarray, confidence: float) -> tuple[float, ...]:
    low, high = np.quantile(replicates, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
    return point, low, high


def stratified_bootstrap(
    scores: ArrayLike, statistic: Callable[[np.ndarray], float], reps: int = 2000,
    confidence: float = 0.95, seed: int = 0, vectorized: bool = False,
) -> tuple[float, float, float]:
    """``(point, low, high)``: ``statistic`` of ``scores`` ``[runs, tasks]`` and its
    percentile interval over ``reps`` stratified bootstrap replicates.

    Each replicate draws, for every task independently, as many runs as there are, with
    replacement, from that task's runs; ``low`` and ``high`` are the ``(1 - confidence) / 2``
    and ``(1 + confidence) / 2`` quantiles of the statistic over the replicates.
    ``statistic`` maps ``[runs, tasks]`` to a scalar; with ``vectorized=True`` it maps
    ``[k, runs, tasks]`` to ``[k]`` instead (a chunk of replicates at once, much faster),
    e.g. ``functools.partial(iqm, axis=(-2, -1))``. The same seed gives the same result.
    """
    a = _scores(scores)
    _check_interval(reps, confidence)
    rng = np.random.default_rng(seed)
    values = []
    for count in _chunks(int(reps), a.size):
        batch = _resample(rng, a, count)
        if vectorized:
            values.append(np.asarray(statistic(batch), dtype=float).reshape(count))
        else:
            values.append(np.array([statistic(r) for r in batch], dtype=float))
    point = float(statistic(a[None])[0] if vectorized else statistic(a))
    return tuple(float(v) for v in _interval(point, np.concatenate(values), confidence))


def _improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y) for ``x`` ``[..., runs_x, tasks]`` and ``y`` ``[..., runs_y, tasks]``."""
    xs, ys = x[..., :, None, :], y[..., None, :, :]
    wins = (xs > ys) + 0.5 * (xs == ys)  # [..., runs_x, runs_y, tasks]
    return wins.mean(axis=(-3, -2)).mean(axis=-1)


def _pair(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a, b = _scores(x, "x"), _scores(y, "y")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x and y need the same tasks, got {a.shape[1]} and {b.shape[1]}")
    return a, b


def probability_of_improvement(x: ArrayLike, y: ArrayLike) -> float:
    """P(X > Y): for each task, the Mann-Whitney statistic over all pairs of runs,
    ``P(x_i > y_j) + 0.5 P(x_i = y_j)``, averaged over the tasks.

    ``x`` is ``[runs_x, tasks]`` and ``y`` ``[runs_y, tasks]`` (1-D: one task).
    """
    a, b = _pair(x, y)
    return float(_improvement(a, b))


def probability_of_improvement_interval(
    x: ArrayLike, y: ArrayLike, reps: int = 2000,
    confidence: float = 0.95, seed: int = 0,
) -> tuple[float, float, float]:
    """``(point, low, high)``: P(X > Y) and its percentile interval, ``x`` and ``y`` each
    resampled independently by a stratified bootstrap (see :func:`stratified_bootstrap`)."""
    a, b = _pair(x, y)
    _check_interval(reps, confidence)
    rng = np.random.default_rng(seed)
    values = [_improvement(_resample(rng, a, count), _resample(rng, b, count))
              for count in _chunks(int(reps), a.shape[0] * b.shape[0] * a.shape[1])]
    point = float(_improvement(a, b))
    return tuple(float(v) for v in _interval(point, np.concatenate(values), confidence))


def score_table(
    scores_by_name: Mapping[str, ArrayLike], reps: int = 2000,
    confidence: float = 0.95, seed: int = 0,
) -> list[dict]:
    """One row per name, in the mapping's order: ``name``, ``runs``, the IQM over all
    runs and tasks with its stratified-bootstrap interval (``iqm``, ``iqm_low``,
    ``iqm_high``), and the ``mean``, ``min`` and ``max`` of the scores.

    Every row uses the same ``seed``, so a row does not depend on the others.
    """
    rows = []
    for name, scores in scores_by_name.items():
        a = _scores(scores, f"scores of {name!r}")
        point, low, high = stratified_bootstrap(
            a, lambda s: iqm(s, axis=(-2, -1)), reps, confidence, seed, vectorized=True)
        rows.append({"name": name, "runs": a.shape[0], "iqm": point, "iqm_low": low,
                     "iqm_high": high, "mean": float(a.mean()), "min": float(a.min()),
                     "max": float(a.max())})
    return rows


def curve_bands(
    curves: ArrayLike, reps: int = 2000, confidence: float = 0.95, seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(iqm, low, high)``, each ``[E]``: for ``curves`` ``[runs, E]`` (one value per run
    per evaluation point), the IQM across runs at every evaluation point and its
    bootstrap percentile interval.

    A replicate resamples whole runs (a run's curve stays together), as rliable does for
    sample-efficiency curves.
    """
    if np.ndim(curves) != 2:
        raise ValueError(f"curves must be [runs, evaluations], got shape {np.shape(curves)}")
    a = _scores(curves, "curves")
    _check_interval(reps, confidence)
    rng, runs = np.random.default_rng(seed), a.shape[0]
    values = [_iqm_last(a[rng.integers(0, runs, size=(count, runs))].swapaxes(1, 2))
              for count in _chunks(int(reps), a.size)]  # [count, E] per chunk
    return _interval(_iqm_last(a.T), np.concatenate(values), confidence)
