"""Host-side checks of the pendulums' params and actions (they never trace).

:func:`check_params` checks every field of a :class:`~jaxrl.envs.pendulum_model.PhysicsParams`
(its type, and its domain where the value is on the host); :func:`check_discrete_action`
and :func:`check_torque` check one action of the discrete-torque and the continuous-torque
pendulums. Values that are tracers (under ``jit``/``vmap``) pass unchecked, and concrete
jax arrays are checked by dtype and shape only, so no check reads a value back from the
device.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import jax
import numpy as np

from jaxrl.envs.discretization import NU
from jaxrl.envs.pendulum_model import PhysicsParams

__all__ = ["check_discrete_action", "check_params", "check_torque"]

# Which fields must be positive, which non-negative; what each field kind accepts.
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


def check_params(params: PhysicsParams) -> None:
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
    if not isinstance(params, PhysicsParams):
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


def check_discrete_action(action: Any, name: str) -> None:
    """Raise unless ``action`` is one integer torque bin in ``[0, NU)`` = ``[0, 9)``.

    ``name`` (the environment's) starts the message. Shapes ``()`` and ``(1,)`` pass.

    Raises:
      TypeError: not one integer (a string, a float, a batch...).
      ValueError: a host integer outside ``[0, 9)``.
    """
    if isinstance(action, jax.core.Tracer):
        return
    dtype, shape, value = _action_meta(action, name)
    if dtype.kind not in "iu" or shape not in ((), (1,)):
        raise TypeError(f"{name} action must be one integer in [0, {NU}), got "
                        f"{action!r} (dtype {dtype}, shape {shape})")
    if value is not None and not (0 <= value.item() < NU):
        raise ValueError(f"{name} action must be in [0, {NU}) (the torque bins), got "
                         f"{value.item()}")


def check_torque(action: Any, params: PhysicsParams, clip_ok: bool) -> None:
    """Raise unless ``action`` is one finite real torque, shape ``()`` or ``(1,)``.

    With ``clip_ok=False`` a host torque beyond ``±params.umax`` is refused too (when
    ``umax`` is on the host).

    Raises:
      TypeError: not one real number.
      ValueError: not finite, or beyond ``±umax`` when ``clip_ok`` is false.
    """
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
