"""Probe environments: tiny problems whose Q-values are known exactly.

After Andy Jones' "debugging RL" probes (and rejax's tests), ported to gymnax 1.0: the
state has the ``time`` field that ``is_truncated`` reads, and ``step_env`` returns
``(obs, state, reward, terminated, info)``. Observations are ``Box`` arrays of shape
``(1,)``. With discount γ:

=====================  ==========================================  =====================
probe                  dynamics                                    exact Q
=====================  ==========================================  =====================
``ConstantReward``     one step, reward 1, terminates              ``Q(0, ·) = 1``
``TwoStep``            obs 0 then obs 1; reward 0 then 1           ``Q(0, ·) = γ``,
                                                                   ``Q(1, ·) = 1``
``ObservationReward``  one step from obs ±1, reward = obs          ``Q(±1, ·) = ±1``
``ActionReward``       one step, reward +1 for action 1, -1 for 0  ``Q(0, ·) = [-1, 1]``
``TimeLimit``          never terminates, reward 1, truncated       ``Q(0, ·) = 1/(1-γ)``
                       after ``max_steps_in_episode`` steps
=====================  ==========================================  =====================

``TimeLimit`` checks the terminated/truncated contract: a learner that does not
bootstrap on truncation learns a value below ``1/(1-γ)``.

For continuous actions, :class:`BoxActionReward`: one step with a ``Box(-1, 1, (1,))``
action, reward ``-(a - 0.5)²``, terminates: ``Q(0, a) = -(a - 0.5)²``, best action 0.5.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces


@struct.dataclass
class ProbeState(environment.EnvState):
    """The probe's observation value and the step counter ``time``."""

    value: jax.Array


@struct.dataclass
class ProbeParams(environment.EnvParams):
    """Time limit (only :class:`TimeLimit` reaches it)."""

    max_steps_in_episode: int = 10


class _Probe(environment.Environment[ProbeState, ProbeParams]):
    """Shared plumbing: ``(1,)`` observations, a number of actions, reward rule."""

    actions: int = 2

    @property
    def default_params(self) -> ProbeParams:
        return ProbeParams()

    @property
    def num_actions(self) -> int:
        return self.actions

    def action_space(self, params: Any = None) -> spaces.Discrete:
        return spaces.Discrete(self.actions)

    def observation_space(self, params: Any = None) -> spaces.Box:
        return spaces.Box(-1.0, 1.0, (1,), jnp.float32)

    def get_obs(self, state: ProbeState, params: Any = None, key: Any = None) -> jax.Array:
        return jnp.reshape(state.value, (1,)).astype(jnp.float32)

    def is_terminated(self, state: ProbeState, params: Any) -> jax.Array:
        return jnp.zeros((), bool)

    def reset_env(self, key: jax.Array, params: ProbeParams):
        state = ProbeState(time=jnp.zeros((), jnp.int32), value=self._start(key))
        return self.get_obs(state), state

    def _start(self, key: jax.Array) -> jax.Array:
        return jnp.zeros((), jnp.float32)

    def step_env(self, key, state: ProbeState, action, params: ProbeParams):
        reward, value, terminated = self._rule(state, jnp.asarray(action))
        state = ProbeState(time=state.time + 1, value=value)
        info = {"discount": 1.0 - terminated.astype(jnp.float32)}
        return self.get_obs(state), state, reward, terminated, info


class ConstantReward(_Probe):
    """One step, reward 1, then the episode terminates: ``Q = 1``."""

    actions = 1

    def _rule(self, state, action):
        return jnp.float32(1.0), state.value, jnp.ones((), bool)


class TwoStep(_Probe):
    """Observation 0 (reward 0), then observation 1 (reward 1, terminates)."""

    actions = 1

    def _rule(self, state, action):
        second = state.value > 0.5
        reward = jnp.where(second, 1.0, 0.0).astype(jnp.float32)
        return reward, jnp.float32(1.0), second


class ObservationReward(_Probe):
    """One step from a random observation ±1; the reward is the observation."""

    actions = 1

    def _start(self, key):
        return jnp.where(jax.random.bernoulli(key), 1.0, -1.0).astype(jnp.float32)

    def _rule(self, state, action):
        return state.value, state.value, jnp.ones((), bool)


class ActionReward(_Probe):
    """One step; reward +1 for action 1, -1 for action 0."""

    actions = 2

    def _rule(self, state, action):
        reward = jnp.where(action == 1, 1.0, -1.0).astype(jnp.float32)
        return reward, state.value, jnp.ones((), bool)


class TimeLimit(_Probe):
    """Reward 1 forever; only the time limit ends an episode: ``Q = 1 / (1 - γ)``."""

    actions = 1

    def _rule(self, state, action):
        return jnp.float32(1.0), state.value, jnp.zeros((), bool)


#: Every probe, with its exact Q-values as a function of γ: ``{obs: Q(obs, ·)}``.
PROBES = {
    "ConstantReward": (ConstantReward, lambda g: {0.0: [1.0]}),
    "TwoStep": (TwoStep, lambda g: {0.0: [g], 1.0: [1.0]}),
    "ObservationReward": (ObservationReward, lambda g: {-1.0: [-1.0], 1.0: [1.0]}),
    "ActionReward": (ActionReward, lambda g: {0.0: [-1.0, 1.0]}),
    "TimeLimit": (TimeLimit, lambda g: {0.0: [1.0 / (1.0 - g)]}),
}


class BoxActionReward(_Probe):
    """One step with a continuous action ``a`` in ``[-1, 1]``; reward ``-(a - 0.5)²``."""

    actions = 1

    def action_space(self, params: Any = None) -> spaces.Box:
        return spaces.Box(-1.0, 1.0, (1,), jnp.float32)

    def _rule(self, state, action):
        a = jnp.reshape(action, ()).astype(jnp.float32)
        return -jnp.square(a - 0.5), state.value, jnp.ones((), bool)
