"""The base class of the course's pendulums, and a cheaper uniform discrete space.

:class:`CourseEnvironment` is a gymnax ``Environment`` whose ``step`` and ``reset``
check their params and action on the host first (:mod:`jaxrl.envs.validation`), and
whose auto-reset is :func:`jaxrl.envs.wrappers.auto_reset_step`, the one jaxrl
implementation, given the step's key whole (see :class:`CourseEnvironment`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from gymnax.environments import environment, spaces

from jaxrl.envs.validation import check_params
from jaxrl.envs.wrappers import auto_reset_step

__all__ = ["CourseEnvironment", "UniformDiscrete", "uniform_index"]


def uniform_index(key: jax.Array, n: int, shape: tuple[int, ...] = ()) -> jax.Array:
    """Uniform ``int32`` in ``[0, n)`` from one word of random bits each: ``bits mod n``.

    The relative bias is below ``n / 2**32`` (1e-7 for ``n = 380``).
    """
    return (jax.random.bits(key, shape, jnp.uint32) % jnp.uint32(n)).astype(jnp.int32)


class UniformDiscrete(spaces.Discrete):
    """gymnax's ``Discrete(n)`` with a 3x cheaper ``sample``: 32 random bits mod ``n``.

    ``jax.random.randint`` draws two words of random bits per value; one word mod ``n``
    is uniform up to a relative bias below ``n / 2**32`` (1e-7 for ``n = 380``).
    """

    def sample(self, key: jax.Array) -> jax.Array:
        """A uniform integer in ``[0, n)``."""
        return uniform_index(key, self.n, self.shape).astype(self.dtype)


class CourseEnvironment(environment.Environment):
    """Base of the course's pendulums: host-side checks, then an auto-resetting step.

    ``step(key, state, action, params)`` returns gymnax 1.0's
    ``(obs, state, reward, terminated, truncated, info)`` with ``info["terminated"]``,
    ``info["truncated"]`` and ``info["final_observation"]``, as gymnax's base ``step``
    does, with one difference: the pendulums' ``step_env`` is deterministic and never
    reads its key, so the key goes whole to ``reset_env`` instead of being split in two
    (``key_step, key_reset = split(key)``) as gymnax's ``step`` does. That is one
    threefry call per step instead of two (the reset's draw dominates a step's cost),
    and it fixes the start states drawn after every episode end: going through gymnax's
    ``step`` would change them. Subclasses define ``check_action(action, params)``.
    """

    def check_action(self, action: Any, params: Any = None) -> None:
        """Raise a clear error for an action outside the action space (host values only)."""
        raise NotImplementedError

    def step(self, key: jax.Array, state: Any, action: Any, params: Any = None):
        """Step with auto-reset (gymnax 1.0 API), after host-side checks of params/action."""
        params = self._checked(params)
        self.check_action(action, params)
        return self._step(key, state, action, params)

    def reset(self, key: jax.Array, params: Any = None):
        """gymnax's ``reset``, after a host-side check of params."""
        return self._reset(key, self._checked(params))

    def _checked(self, params: Any) -> Any:
        """``params`` (default: the default params), checked once per params object.

        The last concrete params object that passed is remembered (params are frozen),
        so an eager loop of ``step`` calls pays for the check once.
        """
        if params is None:
            params = self.__dict__.get("_default_params")
            if params is None:
                params = self._default_params = self.default_params
            return params
        if params is not self.__dict__.get("_checked_params"):
            check_params(params)
            if not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(params)):
                self._checked_params = params
        return params

    @partial(jax.jit, static_argnames=("self",))
    def _reset(self, key: jax.Array, params: Any):
        return self.reset_env(key, params)

    @partial(jax.jit, static_argnames=("self",))
    def _step(self, key: jax.Array, state: Any, action: Any, params: Any):
        # step_env ignores its key (deterministic dynamics): the reset gets it unsplit.
        return auto_reset_step(self, key, state, action, params,
                               lambda: self.reset_env(key, params))
