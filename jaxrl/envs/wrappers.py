"""One environment contract for every learner: auto-reset steps that return a ``Transition``.

gymnax 1.0's ``step`` returns ``(obs, state, reward, terminated, truncated, info)``
and resets on its own when an episode ends: ``obs`` is then the *reset* observation,
and the last observation of the episode is in ``info["final_observation"]``. A learner
must bootstrap from that final observation, and only on truncation, never on
termination. :class:`AutoReset` does that bookkeeping once::

    env = AutoReset(Maze())
    obs, state = env.reset(key_reset, params)
    state, tr = env.step(key_step, state, action, params)
    # tr.obs: where the action was taken;  tr.next_obs: where it led (the true final
    # observation when the episode ended here); state.obs: where the next action is
    # taken (the reset observation after an episode end).
    target = tr.reward + gamma * (1 - tr.terminated) * v(tr.next_obs)

The auto-reset itself, ``step_env`` then a select of the restart where the episode
ended, is :func:`auto_reset_step`, the one copy in jaxrl: the cached mode below and the
course's pendulums (:class:`jaxrl.envs.base.CourseEnvironment`) both call it; other
gymnax environments reset in gymnax's own ``Environment.step``.

The wrapper state also keeps running episode statistics (:class:`EpisodeStats`) for
logging. ``AutoReset`` is a frozen ``flax.struct`` dataclass with no ``__getattr__``
proxy, so it survives ``copy.copy``, ``copy.deepcopy`` and ``pickle`` (gymnax's own
wrappers hit ``RecursionError``). Its methods are pure, jit and vmap;
:meth:`AutoReset.batch_reset` and :meth:`AutoReset.batch_step` vmap over many
environments.

**Cached reset** (``AutoReset(env, cached_reset=True)``): gymnax computes a fresh
``reset_env`` on every step and selects it when the episode ended; under ``vmap`` a
``lax.cond`` would become a select too, so the reset is paid on every step. In cached
mode the start state drawn by :meth:`AutoReset.reset` is kept in the wrapper state and
every later episode of that environment restarts from it (Brax's auto-reset). This
**changes the start-state distribution**: each environment replays one start state,
so the starts vary across parallel environments but not across episodes of one
environment. It pays where ``reset_env`` costs something next to ``step_env`` (the
pendulums, CartPole), and not for the maze, whose reset is a constant
(``benchmarks/envs.py`` measures it; the README quotes the figures).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces


class Transition(struct.PyTreeNode):
    """One step of experience.

    Attributes:
      obs: the observation the action was taken in.
      action: the action taken.
      reward: the reward of the step.
      next_obs: the observation the step led to; on the step that ends an episode this
        is the true final observation, not the reset one.
      terminated: the episode ended in a terminal state (do not bootstrap).
      truncated: the episode was cut by the time limit (bootstrap from ``next_obs``).
    """

    obs: Any
    action: jax.Array
    reward: jax.Array
    next_obs: Any
    terminated: jax.Array
    truncated: jax.Array

    @property
    def done(self) -> jax.Array:
        """The episode ended on this step (terminated or truncated): reset follows."""
        return jnp.logical_or(self.terminated, self.truncated)


class EpisodeStats(struct.PyTreeNode):
    """Running episode statistics, for logging (returns are undiscounted).

    Attributes:
      episode_return: return of the episode in progress so far.
      episode_length: steps of the episode in progress so far.
      last_return: return of the last finished episode (0 until one finishes).
      last_length: length of the last finished episode (0 until one finishes).
      finished: an episode finished on this step (``last_*`` were just updated).
      episodes: number of episodes finished since :meth:`AutoReset.reset`; ``last_*``
        are meaningful once it is positive.
    """

    episode_return: jax.Array
    episode_length: jax.Array
    last_return: jax.Array
    last_length: jax.Array
    finished: jax.Array
    episodes: jax.Array

    @classmethod
    def zeros(cls) -> EpisodeStats:
        """The statistics before the first step."""
        zero_f = jnp.zeros((), jnp.float32)
        zero_i = jnp.zeros((), jnp.int32)
        return cls(zero_f, zero_i, zero_f, zero_i, jnp.zeros((), bool), zero_i)

    def update(self, reward: jax.Array, done: jax.Array) -> EpisodeStats:
        """Add one step's reward; close the episode when ``done``."""
        ret = self.episode_return + jnp.asarray(reward, jnp.float32)
        length = self.episode_length + 1
        return EpisodeStats(
            episode_return=jnp.where(done, 0.0, ret),
            episode_length=jnp.where(done, 0, length),
            last_return=jnp.where(done, ret, self.last_return),
            last_length=jnp.where(done, length, self.last_length),
            finished=jnp.asarray(done, bool),
            episodes=self.episodes + jnp.asarray(done, jnp.int32),
        )

    def step_totals(self) -> dict[str, jax.Array]:
        """This step's finished episodes over all (batched) environments:
        ``{"episodes": how many, "return_sum": their returns added}``, the learners'
        training metrics that the driver sums over a chunk."""
        return {"episodes": jnp.sum(self.finished.astype(jnp.int32)),
                "return_sum": jnp.sum(jnp.where(self.finished, self.last_return, 0.0))}


class WrapperState(struct.PyTreeNode):
    """What :class:`AutoReset` carries between steps.

    Attributes:
      env_state: the wrapped environment's state.
      obs: the current observation (where the next action is taken).
      stats: running episode statistics.
      start_env_state: the cached start state (cached-reset mode only, else ``None``).
      start_obs: its observation (cached-reset mode only, else ``None``).
    """

    env_state: Any
    obs: Any
    stats: EpisodeStats
    start_env_state: Any = None
    start_obs: Any = None


def _select(done: jax.Array, on_true: Any, on_false: Any) -> Any:
    """Leafwise ``done ? on_true : on_false`` (dtypes of ``on_false`` kept)."""
    return jax.tree.map(
        lambda t, f: jnp.where(done, t, f).astype(jnp.result_type(f)), on_true, on_false
    )


def auto_reset_step(
    env: environment.Environment,
    key_step: jax.Array,
    env_state: Any,
    action: Any,
    params: Any,
    restart: Callable[[], tuple[Any, Any]],
) -> tuple[Any, Any, jax.Array, jax.Array, jax.Array, dict[str, Any]]:
    """``env.step_env`` with an auto-reset: jaxrl's one implementation of it.

    ``next = env.step_env(key_step, env_state, action, params)``; ``done = terminated or
    env.is_truncated(next)``; where ``done``, the observation and state returned are those
    of ``restart()`` (an ``(obs, env_state)`` pair, leafwise, in the stepped dtypes), else
    the stepped ones. The output is gymnax 1.0's ``step``:
    ``(obs, state, reward, terminated, truncated, info)`` with ``info["terminated"]``,
    ``info["truncated"]`` and ``info["final_observation"]`` (the stepped observation).

    It differs from gymnax's ``Environment.step`` only in leaving the keys and the
    restart to the caller: :class:`AutoReset`'s cached mode restarts from the cached
    start state, and the course's environments (:class:`jaxrl.envs.base.CourseEnvironment`)
    draw a fresh reset from the step's whole key.
    """
    obs_st, state_st, reward, terminated, info = env.step_env(
        key_step, env_state, action, params
    )
    truncated = env.is_truncated(state_st, params)
    done = jnp.logical_or(terminated, truncated)
    obs_re, state_re = restart()
    state = _select(done, state_re, state_st)
    obs = _select(done, obs_re, obs_st)
    info = {**info, "terminated": terminated, "truncated": truncated,
            "final_observation": obs_st}
    return obs, state, reward, terminated, truncated, info


def check_action(space: Any, action: Any) -> None:
    """Raise ``ValueError`` for a concrete discrete action outside its space.

    Traced actions (inside ``jit``/``vmap``) cannot be checked and pass; so do
    continuous actions, which the environments clip.
    """
    if not isinstance(space, spaces.Discrete) or isinstance(action, jax.core.Tracer):
        return
    values = np.asarray(action)
    if values.dtype.kind not in "biuf":
        raise ValueError(f"action must be an integer in [0, {space.n}), got {action!r}")
    bad = (values < 0) | (values >= space.n) | (values != np.round(values))
    if np.any(bad):
        first = values[bad].ravel()[0].item()
        raise ValueError(
            f"action {first!r} is outside the action space {space!r}: "
            f"expected an integer in [0, {space.n})"
        )


@struct.dataclass
class AutoReset:
    """The environment contract of every learner (see the module docstring).

    Attributes:
      env: a gymnax 1.0 ``Environment``.
      cached_reset: restart every episode from the start state drawn by :meth:`reset`
        instead of a fresh reset (changes the start-state distribution).
    """

    env: environment.Environment = struct.field(pytree_node=False)
    cached_reset: bool = struct.field(pytree_node=False, default=False)

    # -- the wrapped environment's description ------------------------------------------

    @property
    def default_params(self) -> Any:
        """The wrapped environment's default parameters."""
        return self.env.default_params

    @property
    def name(self) -> str:
        """The wrapped environment's name."""
        return self.env.name

    @property
    def num_actions(self) -> int:
        """The wrapped environment's number of actions."""
        return self.env.num_actions

    def action_space(self, params: Any = None) -> Any:
        """The wrapped environment's action space."""
        return self.env.action_space(self._params(params))

    def observation_space(self, params: Any = None) -> Any:
        """The wrapped environment's observation space."""
        return self.env.observation_space(self._params(params))

    def _params(self, params: Any) -> Any:
        return self.env.default_params if params is None else params

    # -- one environment ------------------------------------------------------------------

    def reset(self, key: jax.Array, params: Any = None) -> tuple[Any, WrapperState]:
        """Start an episode: ``(obs, state)``."""
        return self._reset(key, self._params(params))

    def step(
        self, key: jax.Array, state: WrapperState, action: Any, params: Any = None
    ) -> tuple[WrapperState, Transition]:
        """Take ``action``; reset when the episode ends. Returns ``(state, transition)``.

        Raises:
          ValueError: for a concrete discrete action outside the action space (or the
            environment's own ``check_action`` error, where it has one).
        """
        params = self._params(params)
        if hasattr(self.env, "check_action"):
            self.env.check_action(action, params)
        check_action(self.env.action_space(params), action)
        return self._step(key, state, action, params)

    @partial(jax.jit, static_argnames=("self",))
    def _reset(self, key: jax.Array, params: Any) -> tuple[Any, WrapperState]:
        obs, env_state = self.env.reset(key, params)
        cached = (env_state, obs) if self.cached_reset else (None, None)
        state = WrapperState(env_state, obs, EpisodeStats.zeros(), *cached)
        return obs, state

    @partial(jax.jit, static_argnames=("self",))
    def _step(
        self, key: jax.Array, state: WrapperState, action: Any, params: Any
    ) -> tuple[WrapperState, Transition]:
        action = jnp.asarray(action)
        if self.cached_reset:
            # Same key use as gymnax's step, so both modes agree until the first reset.
            key_step, _ = jax.random.split(key)
            obs, env_state, reward, terminated, truncated, info = auto_reset_step(
                self.env, key_step, state.env_state, action, params,
                lambda: (state.start_obs, state.start_env_state),
            )
        else:
            obs, env_state, reward, terminated, truncated, info = self.env.step(
                key, state.env_state, action, params
            )
        final_obs = info["final_observation"]
        done = jnp.logical_or(terminated, truncated)
        terminated = jnp.asarray(terminated, bool)
        truncated = jnp.asarray(truncated, bool)
        transition = Transition(
            obs=state.obs,
            action=action,
            reward=jnp.asarray(reward),
            next_obs=final_obs,
            terminated=terminated,
            truncated=truncated,
        )
        new_state = state.replace(
            env_state=env_state, obs=obs, stats=state.stats.update(reward, done)
        )
        return new_state, transition

    # -- many environments ----------------------------------------------------------------

    def batch_reset(
        self, key: jax.Array, params: Any = None, num_envs: int = 1
    ) -> tuple[Any, WrapperState]:
        """Reset ``num_envs`` environments (``vmap`` over split keys, shared params)."""
        keys = jax.random.split(key, num_envs)
        return jax.vmap(self._reset, in_axes=(0, None))(keys, self._params(params))

    def batch_step(
        self, key: jax.Array, state: WrapperState, actions: Any, params: Any = None
    ) -> tuple[WrapperState, Transition]:
        """Step a batch of environments (leading axis of ``actions``), shared params."""
        params = self._params(params)
        check_action(self.env.action_space(params), actions)
        num_envs = jax.tree.leaves(state.stats)[0].shape[0]
        keys = jax.random.split(key, num_envs)
        return jax.vmap(self._step, in_axes=(0, 0, 0, None))(keys, state, actions, params)
