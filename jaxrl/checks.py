"""Config checks shared by the learners: each bad value is one clear ``ValueError`` line.

Each learner's config checks its values when it is made (``__post_init__``, so also on
``replace`` and on every stacked config of a sweep). Numeric fields may be traced
(inside ``jit``/``vmap``: not checked) or stacked arrays (a sweep from
:func:`jaxrl.sweep.sweep`: every value is checked).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jax
import numpy as np

#: Common conditions on a number: ``(predicate, what the message says it must be)``.
POSITIVE = (lambda v: v > 0, "> 0")
NON_NEGATIVE = (lambda v: v >= 0, ">= 0")
UNIT_INTERVAL = (lambda v: 0.0 <= v <= 1.0, "in [0, 1]")
RATE = (lambda v: 0.0 < v <= 1.0, "in (0, 1]")

Condition = tuple[Callable[[float], bool], str]


def is_concrete(value: Any) -> bool:
    """A number or an array on the host or on addressable devices, not traced.

    A whitelist: whatever else JAX puts in a config's leaves while it transforms one
    (tracers, its sentinels, ``ShapeDtypeStruct``, shardings, ``None``) is not checked.
    """
    if isinstance(value, jax.core.Tracer):
        return False
    if isinstance(value, jax.Array):
        return value.is_fully_addressable
    return isinstance(value, bool | int | float | np.ndarray | np.generic)


def _numbers(value: Any, label: str, expected: str = "a number") -> np.ndarray | None:
    """Every number of ``value`` (a number, or a sweep's stacked array), flat; ``None``
    when it cannot be checked (traced, a placeholder); one line when it is no number."""
    if not is_concrete(value) and not isinstance(value, str | list | tuple):
        return None
    try:
        return np.ravel(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"{label} must be {expected}, got {value!r}") from None


def check_gamma(gamma: Any) -> None:
    """The one discount check: every value of ``gamma`` (a number, or a sweep's stacked
    array) is in [0, 1]; skipped when traced."""
    values = _numbers(gamma, "gamma (γ)", "a number in [0, 1]")
    for v in () if values is None else values:
        if not UNIT_INTERVAL[0](float(v)):
            raise ValueError(f"gamma (γ) must be {UNIT_INTERVAL[1]}, got {float(v)}")


def check_space(algo: str, env: Any, which: str, space: Any, allowed: tuple[type, ...],
                hint: str = "") -> None:
    """The environment's ``which`` (``"action"``/``"observation"``) space is one of the
    ``allowed`` gymnax space types; else one line naming what ``algo`` needs, what the
    environment has and, with ``hint``, what to use instead."""
    if isinstance(space, allowed):
        return
    needs = " or ".join(kind.__name__ for kind in allowed)
    name = getattr(env, "name", type(env).__name__)
    raise ValueError(f"{algo} needs a {needs} {which} space; {name} has "
                     f"{type(space).__name__}" + (f": {hint}" if hint else ""))


def check_counts(config: Any, names: Iterable[str], minimum: int = 1) -> None:
    """Static sizes and counts (``num_envs``, ``batch_size``…) are at least ``minimum``."""
    for name in names:
        value = getattr(config, name)
        if int(value) < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")


def check_widths(config: Any, names: Iterable[str]) -> None:
    """Layer widths and channel counts (``hidden_sizes``, ``conv_features``) are
    positive integers (an empty tuple is no layer)."""
    for name in names:
        value = tuple(getattr(config, name))
        if not all(isinstance(w, int | np.integer) and w >= 1 for w in value):
            raise ValueError(f"{name} must be positive integers, got {value}")


def check_minibatches(config: Any) -> None:
    """An on-policy rollout of ``num_envs × num_steps`` samples cuts into
    ``num_minibatches`` equal minibatches (PQN, PPO)."""
    batch = config.num_envs * config.num_steps
    if batch % config.num_minibatches:
        raise ValueError(f"num_minibatches ({config.num_minibatches}) must divide "
                         f"num_envs * num_steps ({config.num_envs} * {config.num_steps} "
                         f"= {batch})")


def check_choices(choices: Mapping[str, tuple[Any, Iterable[Any]]]) -> None:
    """``{name: (value, allowed)}``: each value is one of its allowed ones."""
    for name, (value, allowed) in choices.items():
        allowed = tuple(allowed)
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def check_numbers(
    config: Any, conditions: Mapping[str, Condition], labels: Mapping[str, str] | None = None
) -> None:
    """``{name: (predicate, text)}``: every value of each (possibly stacked) field passes.

    ``labels`` names a field in the message (``{"gamma": "gamma (γ)"}``).
    """
    labels = labels or {}
    for name, (ok, text) in conditions.items():
        values = _numbers(getattr(config, name), labels.get(name, name))
        for v in () if values is None else values:
            if not ok(float(v)):
                raise ValueError(f"{labels.get(name, name)} must be {text}, got {float(v)}")
