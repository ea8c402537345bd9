"""The course's discrete pendulum (``pendulummodel.DiscretePendulum``), a gymnax environment.

20 angle bins x 19 velocity bins = 380 states, 9 torques, ``dt = 0.3``, ``ndt = 5``
(:mod:`jaxrl.envs.discretization`, :func:`jaxrl.envs.pendulum_model.discrete_dynamics`);
reward 1 on reaching the goal state 190 (upright, at rest). It is deterministic and
exports its exact :class:`~jaxrl.mdp.TabularMDP`.

The torques of the grid, ``d2cu(iu) = (iu - 4) * 10/9``, go through the pendulum's clip
to ``±umax = ±2``: of the 9 actions only 5 torques are distinct,
``{-2, -2, -2, -1.11, 0, 1.11, 2, 2, 2}``. That is the course's behaviour and kept.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces

from jaxrl.envs.base import CourseEnvironment, UniformDiscrete, uniform_index
from jaxrl.envs.discretization import GOAL, NU, NX
from jaxrl.envs.pendulum_model import PhysicsParams, discrete_dynamics
from jaxrl.envs.validation import check_discrete_action, check_params
from jaxrl.mdp import TabularMDP

__all__ = ["DiscretePendulum", "DiscretePendulumParams", "DiscretePendulumState"]


@struct.dataclass
class DiscretePendulumParams(PhysicsParams):
    """Params of :class:`DiscretePendulum`: the course's ``dt = 0.3``, ``ndt = 5``.

    ``terminate_on_goal`` ends the episode when the goal is reached (the practical's
    "break on success"); with ``False`` the goal keeps its true dynamics and keeps paying
    1 while the pendulum stays there. ``max_steps_in_episode`` defaults to the tabular
    practical's ``NSTEPS = 50``.
    """

    dt: float = 0.3
    ndt: int = struct.field(pytree_node=False, default=5)
    max_steps_in_episode: int = 50
    terminate_on_goal: bool = True


@struct.dataclass
class DiscretePendulumState(environment.EnvState):
    """State of :class:`DiscretePendulum`: the flat index ``x = iq + iv * NQ``, time."""

    x: jax.Array


class DiscretePendulum(CourseEnvironment):
    """The course's discrete pendulum (``pendulummodel.DiscretePendulum``).

    380 states (observation: the flat index ``x = iq + iv * 20``), 9 torques. A step
    takes the bin centre of ``x``, runs the pendulum for ``dt = 0.3`` (``ndt = 5``) under
    the torque ``d2cu(iu)`` clipped to ``±2``, and re-bins (:func:`discrete_dynamics`).
    Reward 1 when the *next* state is the goal 190, else 0; reset uniform over the 380
    states; terminates on reaching the goal if ``terminate_on_goal``; truncated after
    ``max_steps_in_episode = 50`` steps.
    """

    @property
    def default_params(self) -> DiscretePendulumParams:
        """The course's defaults."""
        return DiscretePendulumParams()

    @property
    def name(self) -> str:
        """Environment name."""
        return "DiscretePendulum"

    @property
    def num_actions(self) -> int:
        """Number of torque bins."""
        return NU

    def check_action(self, action: Any, params: DiscretePendulumParams | None = None) -> None:
        """Raise for an action that is not one integer in ``[0, 9)`` (host values only)."""
        check_discrete_action(action, self.name)

    def step_env(self, key: jax.Array, state: DiscretePendulumState, action: Any,
                 params: DiscretePendulumParams):
        """One :func:`discrete_dynamics` step; reward 1 on arriving at the goal."""
        del key
        iu = jnp.reshape(jnp.asarray(action), ())
        x = discrete_dynamics(state.x, iu, params)
        next_state = DiscretePendulumState(time=state.time + 1, x=x)
        at_goal = x == GOAL
        reward = at_goal.astype(jnp.result_type(float))
        terminated = jnp.logical_and(params.terminate_on_goal, at_goal)
        info = {"discount": 1.0 - terminated.astype(reward.dtype)}
        return x, next_state, reward, terminated, info

    def reset_env(self, key: jax.Array, params: DiscretePendulumParams):
        """Uniform over the 380 states (one word of random bits mod 380)."""
        x = uniform_index(key, NX)
        return x, DiscretePendulumState(time=jnp.zeros((), jnp.int32), x=x)

    def observe(self, key, state: DiscretePendulumState, action,
                params: DiscretePendulumParams) -> jax.Array:
        """The flat state index."""
        del key, action, params
        return state.x

    def get_obs(self, state: DiscretePendulumState, params=None, key=None) -> jax.Array:
        """Legacy gymnax hook: the flat state index."""
        return state.x

    def is_terminated(self, state: DiscretePendulumState,
                      params: DiscretePendulumParams) -> jax.Array:
        """At the goal, when ``params.terminate_on_goal``."""
        return jnp.logical_and(params.terminate_on_goal, state.x == GOAL)

    def action_space(self, params: DiscretePendulumParams | None = None) -> spaces.Discrete:
        """``Discrete(9)``."""
        return UniformDiscrete(NU)

    def observation_space(self, params: DiscretePendulumParams | None = None
                          ) -> spaces.Discrete:
        """``Discrete(380)``."""
        return UniformDiscrete(NX)

    def state_space(self, params: DiscretePendulumParams | None = None) -> spaces.Dict:
        """State index and time."""
        params = self.default_params if params is None else params
        return spaces.Dict({
            "x": spaces.Discrete(NX),
            "time": spaces.Discrete(params.max_steps_in_episode + 1),
        })

    def tabular_mdp(self, params: DiscretePendulumParams | None = None) -> TabularMDP:
        """The exact model (deterministic, ``K = 1``) of the environment under ``params``.

        ``rewards[s, a] = 1`` when ``a`` takes ``s`` to the goal. With
        ``terminate_on_goal`` the goal is terminal: ``terminal[190]`` is set and the goal
        is absorbing with reward 0, so planning on it solves the episodic problem.
        Otherwise the goal keeps its true dynamics (and pays 1 for staying).
        """
        params = self.default_params if params is None else params
        check_params(params)
        next_states = np.array(_transition_table(params))
        rewards = (next_states == GOAL).astype(np.float32)
        terminal = np.zeros(NX, dtype=bool)
        if bool(params.terminate_on_goal):
            next_states[GOAL] = GOAL
            rewards[GOAL] = 0.0
            terminal[GOAL] = True
        return TabularMDP.create(
            next_states[..., None],
            np.ones((NX, NU, 1), dtype=np.float32),
            rewards,
            terminal,
        )


@jax.jit
def _transition_table(params: DiscretePendulumParams) -> jax.Array:
    """``next_state[x, iu]`` for every state and action (the environment's own step)."""
    xs = jnp.arange(NX, dtype=jnp.int32)[:, None]
    us = jnp.arange(NU, dtype=jnp.int32)[None, :]
    return discrete_dynamics(xs, us, params)
