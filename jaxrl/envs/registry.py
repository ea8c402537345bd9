"""``make(name, **params)``: our environments by name, and every gymnax id after them.

::

    env, params = make("Maze", max_steps_in_episode=50)
    env, params = make("CartPole-v1")                      # falls through to gymnax
    env, params = make("FrozenLake-misc", env_kwargs={"is_slippery": False})

``**params`` replace fields of the environment's ``default_params``; ``env_kwargs`` go
to the environment's constructor (gymnax's ``make`` keywords). Mistakes raise at once:
an unknown name (with the valid names and the closest one), an unknown parameter (with
the valid fields), a parameter of the wrong type.

``renderer(env)``: the function that draws an environment's states, found by the
environment's name as ``make`` finds the environment; each family's drawing is in its
own module (:mod:`jaxrl.envs.rendering` says which).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from typing import Any

import jax
import numpy as np

from jaxrl.envs import rendering

#: Our environments: name -> (module, class). Imported on first use, so this module
#: loads even while one of them is missing.
OUR_ENVS: dict[str, tuple[str, str]] = {
    "Maze": ("jaxrl.envs.maze", "Maze"),
    "Pendulum": ("jaxrl.envs.pendulum", "Pendulum"),
    "DiscretePendulum": ("jaxrl.envs.discrete_pendulum", "DiscretePendulum"),
    "HybridPendulum": ("jaxrl.envs.pendulum", "HybridPendulum"),
}


def registered_envs() -> list[str]:
    """Every name :func:`make` accepts: ours first, then gymnax's ids."""
    import gymnax  # here, not at the top: importing gymnax takes about a second

    return list(OUR_ENVS) + [name for name in gymnax.registered_envs if name not in OUR_ENVS]


def make(name: str, *, env_kwargs: dict[str, Any] | None = None, **params: Any):
    """Build an environment and its parameters: ``(env, env_params)``.

    Args:
      name: one of :func:`registered_envs` (``"Maze"``, ``"Pendulum"``,
        ``"DiscretePendulum"``, ``"HybridPendulum"``, or any gymnax id).
      env_kwargs: keyword arguments of the environment's constructor.
      **params: replacements for fields of ``env.default_params``.

    Raises:
      ValueError: unknown environment name (listing the valid ones and suggesting the
        closest), or unknown parameter name (listing the valid fields).
      TypeError: a parameter of the wrong type (a string for a number, a float for an
        integer count, a number for a flag...).
    """
    if not isinstance(name, str):
        raise TypeError(f"environment name must be a string, got {name!r}")
    import gymnax

    kwargs = dict(env_kwargs or {})
    if name not in OUR_ENVS and name not in gymnax.registered_envs:
        raise ValueError(_unknown_name_message(name))
    # Environments hold constant tables (maps, dynamics); build them eagerly even when
    # make() is called inside a jit trace, so that they never hold tracers.
    with jax.ensure_compile_time_eval():
        if name in OUR_ENVS:
            module, attribute = OUR_ENVS[name]
            env = getattr(importlib.import_module(module), attribute)(**kwargs)
            env_params = env.default_params
        else:
            env, env_params = gymnax.make(name, **kwargs)
    return env, _override(name, env_params, params)


def renderer(env: Any) -> rendering.Renderer | None:
    """``draw(env_state, env_params) -> uint8 [H, W, 3]`` for ``env`` (an
    :class:`~jaxrl.envs.wrappers.AutoReset` is unwrapped), or ``None``: the
    environment's own ``render`` (the maze's), the course's pendulums' and gymnax's
    ``Pendulum-v1`` (:mod:`jaxrl.envs.pendulum`), gymnax's ``CartPole-v1``."""
    env = getattr(env, "env", env)
    name = getattr(env, "name", type(env).__name__)
    if hasattr(env, "render"):
        return env.render
    if name in ("Pendulum", "DiscretePendulum", "HybridPendulum", "Pendulum-v1"):
        from jaxrl.envs import pendulum  # here, not at the top: see OUR_ENVS

        return pendulum.render_gymnax if name == "Pendulum-v1" else pendulum.render
    return {"CartPole-v1": rendering.cartpole}.get(name)


def _unknown_name_message(name: str) -> str:
    names = registered_envs()
    by_lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.5)
    hint = f" Did you mean {by_lower[close[0]]!r}?" if close else ""
    return f"unknown environment {name!r}.{hint} Valid names: {', '.join(names)}"


def _override(name: str, env_params: Any, params: dict[str, Any]) -> Any:
    """``env_params.replace(**params)`` after checking names and types."""
    if not params:
        return env_params
    fields = {f.name: f for f in dataclasses.fields(env_params)}
    unknown = [key for key in params if key not in fields]
    if unknown:
        close = [f for f in fields if unknown[0] in f] or difflib.get_close_matches(
            unknown[0], list(fields), n=1
        )
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"{name} has no parameter {unknown[0]!r}.{hint} "
            f"Valid parameters: {', '.join(fields)}"
        )
    for key, value in params.items():
        _check_type(name, key, getattr(env_params, key), value)
    return env_params.replace(**params)


def _check_type(name: str, key: str, default: Any, value: Any) -> None:
    """Raise ``TypeError`` unless ``value`` can stand where ``default`` stands.

    Arrays are accepted with any shape (a stacked sweep over a parameter is valid) but
    their kind must match: a flag takes booleans, an integer count takes integers, a
    real number takes any number but not a boolean.
    """
    if isinstance(value, jax.core.Tracer):
        return

    def wrong(expected: str) -> TypeError:
        return TypeError(
            f"{name} parameter {key!r} expects {expected} (default {default!r}), "
            f"got {value!r} of type {type(value).__name__}"
        )

    if isinstance(default, str):
        if not isinstance(value, str):
            raise wrong("a string")
        return
    try:
        default_kind = np.asarray(default).dtype.kind
    except (TypeError, ValueError):
        default_kind = "O"
    if default_kind not in "biuf":
        if default is not None and not isinstance(value, type(default)):
            raise wrong(f"a {type(default).__name__}")
        return
    if isinstance(value, str | bytes) or value is None:
        raise wrong(_KIND_NAMES[default_kind])
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise wrong(_KIND_NAMES[default_kind]) from error
    kind = array.dtype.kind
    if kind not in "biuf":
        raise wrong(_KIND_NAMES[default_kind])
    if default_kind == "b" and kind != "b":
        raise wrong("a boolean")
    if default_kind in "iuf" and kind == "b":
        raise wrong(_KIND_NAMES[default_kind])
    if default_kind in "iu" and kind == "f":
        raise wrong("an integer")


_KIND_NAMES = {"b": "a boolean", "i": "an integer", "u": "an integer", "f": "a number"}
