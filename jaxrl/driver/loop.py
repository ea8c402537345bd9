"""The driver: any learner's ``train_step``, in compiled chunks, with its evaluation.

A learner is a bundle of pure functions (:class:`Algorithm`). ``make`` binds what is
fixed for a run once (the environment behind the contract, the networks, the
:class:`Schedule` and the lengths of step-size schedules) into a *setup*, a pytree whose
static fields are those objects and whose data is the environment's params; every other
function takes ``(setup, config, ...)``, the config's numbers being the leaves a sweep
varies. The driver runs it as the lecture's loop, cut into chunks:

::

    setup = make(config, env, env_params)           checks the config, binds the run
    state = init(setup, config, key)                 evaluate: the curve's first point
    repeat num_chunks times:
        lax.scan of train_step over calls_per_chunk calls      (one compiled chunk)
        evaluate(setup, config, state, key)                     (the learning curve)
        hook(progress) on the Python side                       (never inside the scan)

The evaluation is the learner's own (tabular Q-learning scores its table against the
exact model's optimum) or, by default, ``eval_episodes`` greedy episodes of
``greedy_action`` (:func:`greedy_episodes`).

Two ways to run it, with the same numbers:

* :func:`train` ``(algo, config, key)``: one seed, a pure jitted function; ``jax.vmap``
  over keys trains many seeds, over a stacked config (:func:`jaxrl.sweep.sweep`) sweeps.
* :func:`run` ``(algo, config, keys, hook=...)``: many seeds (or a sweep) in one
  ``jit(vmap(chunk))`` per chunk with the state donated, a Python ``hook`` between
  chunks (progress bars, logging), compile time measured apart. The seeds are split over
  the devices (``shard_map``; on a CPU, one device per core with
  :func:`jaxrl.devices.use_cpu_cores`), and the step counter, the same in every seed,
  is kept unbatched, so that "learn once ``learning_starts`` steps are stored" stays a
  branch (under ``vmap`` a ``lax.cond`` on a per-seed value computes both sides).

A seed gives bit-identical results, parameters and curve, in any batch of the same size
run by :func:`run`, whatever the other seeds and its place in the batch. Between batch
sizes of two or more the tests find DQN, DDPG, PPO, PQN and REINFORCE bit-identical,
but that is not promised: XLA's CPU compiler may emit an elementwise ``exp`` or ``log``
differently for another array length (``jax.jit(jnp.exp)`` over 3 float32 values differs
in the last bit from over 2 or 4 for some inputs), and SAC, whose actor calls both at
every step, differs by float32 rounding between batches of 3 and 2 (6e-8 after 240
steps of its test config). Trained alone (a :func:`run` of one seed, which runs the
unbatched program, no ``vmap``: on a CPU a ``vmap`` over one seed ran twice as long; or
:func:`train` with no batch axis), and between ``jax.jit(jax.vmap(train))`` and
:func:`run`, its parameters differ by float32 rounding that grows with training: XLA's
algebraic simplifier rewrites Adam's scalar arithmetic differently without a batch axis
(``--xla_disable_hlo_passes=algsimp`` removes it). Measured on DQN's test config: up to
6e-7 after 1.2k steps and 1.5e-6 after 3k on one CPU, up to 5e-5 after 3k steps with
``jit(vmap(train))`` (5e-7 with ``run``) on another. The greedy episodes were identical
in those runs, but once rounding flips an action a seed's course can part. The same
holds for seeds split over several devices against one device.

The driver reads no config field: the setup's :class:`Schedule` says how many
``train_step`` calls a chunk has, how many chunks, and how many environment steps (per
seed) a call makes; the default evaluation reads ``config.eval_episodes``. Greedy
episodes run at most the environment's ``max_steps_in_episode`` steps and stop early
once all of them have ended.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import struct

from jaxrl.envs.registry import make
from jaxrl.envs.wrappers import AutoReset


class Schedule(NamedTuple):
    """How a run is cut: ``num_chunks`` chunks of ``calls_per_chunk`` ``train_step``
    calls, each call ``steps_per_call`` environment steps per seed (episodes, for
    tabular Q-learning, whose ``train_step`` is an episode)."""

    calls_per_chunk: int
    num_chunks: int
    steps_per_call: int

    @classmethod
    def of(cls, total_steps: int, eval_every: int, steps_per_call: int) -> Schedule:
        """``total_steps`` in calls of ``steps_per_call``, an evaluation every
        ``eval_every`` steps, both rounded up to whole calls (an interval longer than the
        run is the run: no steps past the budget)."""
        total = max(1, math.ceil(total_steps / steps_per_call))
        per_chunk = min(total, max(1, math.ceil(eval_every / steps_per_call)))
        return cls(per_chunk, max(1, math.ceil(total / per_chunk)), steps_per_call)

    @property
    def calls(self) -> int:
        """``train_step`` calls in the whole run."""
        return self.calls_per_chunk * self.num_chunks

    def learning_updates(self, learning_starts: int, updates_per_step: int) -> int:
        """Gradient steps of a learner that waits ``learning_starts`` environment steps,
        then makes ``updates_per_step`` per call: the length of a step-size schedule that
        ends with the run."""
        waiting = math.ceil(learning_starts / self.steps_per_call)
        return max(1, self.calls - waiting) * updates_per_step


class Algorithm(NamedTuple):
    """What the driver needs from a learner: pure functions of ``(setup, config, ...)``.

    Attributes:
      make: ``(config, env=None, env_params=None) -> setup``: checks that the
        environment suits the config (one clear ``ValueError`` line; the config checked
        its own values when it was made) and binds the run's fixed parts;
        ``setup.schedule`` is a :class:`Schedule`, ``setup.env``/``setup.env_params``
        the environment.
      init: ``(setup, config, key) -> state``.
      train_step: ``(setup, config, state) -> (state, metrics)``; ``metrics`` a dict of
        arrays, summed over a chunk (or stacked, with ``stack_metrics``).
      greedy_action: ``(setup, config, state, obs) -> actions`` for a batch of
        observations (used by the default evaluation).
      evaluate: ``(setup, config, state, key) -> dict of arrays``, or ``None`` for
        :func:`greedy_episodes` (``{"return", "length"}``).
      shared: fields of the agent state that hold the same value in every seed (the
        step counter): :func:`run` keeps them unbatched, so that a ``lax.cond`` on them
        (DQN's "learn once ``learning_starts`` steps are stored") stays a branch under
        ``vmap``, instead of a ``select`` that computes both sides for every seed.
      stack_metrics: keep every call's metrics (``[calls_per_chunk, ...]`` per chunk)
        instead of their sums.
      random_evaluation: the evaluation draws random numbers: the driver splits an
        evaluation key off the seed's key; when ``False`` ``init`` gets the key whole.
    """

    make: Callable[..., Any]
    init: Callable[..., Any]
    train_step: Callable[..., tuple[Any, dict[str, jax.Array]]]
    greedy_action: Callable[..., jax.Array] | None = None
    evaluate: Callable[..., dict[str, jax.Array]] | None = None
    shared: tuple[str, ...] = ("step",)
    stack_metrics: bool = False
    random_evaluation: bool = True


class Curve(struct.PyTreeNode):
    """The learning curve, as arrays (a leading seed axis under vmap / :func:`run`).

    Attributes:
      env_steps: ``[E]`` environment steps (per seed) done at each evaluation; the first
        is 0 (before training). Tabular Q-learning: episodes per environment.
      evaluation: ``{name: [E, ...]}``, the evaluation's outputs; greedy episodes give
        ``"return"`` and ``"length"``, ``[E, eval_episodes]`` each.
      train: ``{name: [E - 1, ...]}``: ``train_step``'s metrics summed over each chunk
        (stacked, ``[E - 1, calls_per_chunk, ...]``, with ``stack_metrics``).
    """

    env_steps: jax.Array
    evaluation: dict[str, jax.Array]
    train: dict[str, jax.Array]

    @property
    def eval_return(self) -> jax.Array:
        """``[E, eval_episodes]`` undiscounted return of each greedy episode."""
        return self.evaluation["return"]

    @property
    def eval_length(self) -> jax.Array:
        """``[E, eval_episodes]`` length of each greedy episode."""
        return self.evaluation["length"]

    @property
    def final_return(self) -> jax.Array:
        """Mean greedy return of the last evaluation (per seed)."""
        return jnp.mean(self.eval_return[..., -1, :], axis=-1)


class Carry(struct.PyTreeNode):
    """The driver's state: the agent's state, the evaluation key, the chunk counter."""

    agent: Any
    eval_key: jax.Array
    chunk: jax.Array


def environment(name: str, env: Any = None, env_params: Any = None, *,
                cached_reset: bool = False, **params: Any) -> tuple[AutoReset, Any]:
    """A learner's environment behind the contract: ``env`` (wrapped in
    :class:`AutoReset` unless it is one) with ``env_params`` (default: its own), or
    ``jaxrl.make(name, **params)`` when no ``env`` is given."""
    if env is None:
        env, env_params = make(name, **params)
    if not isinstance(env, AutoReset):
        env = AutoReset(env, cached_reset=cached_reset)
    return env, env.default_params if env_params is None else env_params


def greedy_episodes(
    env: AutoReset, env_params: Any, episodes: int, policy: Callable[[Any], jax.Array],
    key: jax.Array,
) -> dict[str, jax.Array]:
    """``episodes`` episodes of ``policy(obs) -> actions`` in parallel:
    ``{"return": [episodes], "length": [episodes]}``.

    Uses the environment's cached reset (resets cost nothing; an ended episode is frozen
    anyway) and a ``while_loop`` that stops when every episode has ended.
    """
    env = AutoReset(env.env, cached_reset=True)
    max_steps = getattr(env_params, "max_steps_in_episode", 1000)
    key_reset, key_steps = jax.random.split(key)
    _, env_state = env.batch_reset(key_reset, env_params, episodes)

    def cond(carry):
        t, _, _, _, active, _ = carry
        return (t < max_steps) & jnp.any(active)

    def body(carry):
        t, env_state, returns, lengths, active, key = carry
        key, key_step = jax.random.split(key)
        env_state, tr = env.batch_step(key_step, env_state, policy(env_state.obs), env_params)
        returns = returns + jnp.where(active, tr.reward, 0.0)
        lengths = lengths + active.astype(jnp.int32)
        return t + 1, env_state, returns, lengths, active & ~tr.done, key

    init = (
        jnp.zeros((), jnp.int32), env_state, jnp.zeros(episodes, jnp.float32),
        jnp.zeros(episodes, jnp.int32), jnp.ones(episodes, bool), key_steps,
    )
    _, _, returns, lengths, _, _ = jax.lax.while_loop(cond, body, init)
    return {"return": returns, "length": lengths}


#: The swing-up is held when the pendulum is upright over the episode's last 20 steps.
HOLD_STEPS = 20


def swing_up(env: AutoReset, env_params: Any, policy: Callable[[Any], jax.Array]) -> jax.Array:
    """The course's swing-up task, for an environment that defines it (``swing_up_start``,
    ``swing_up_steps`` and ``upright``, the course's pendulums): one episode of ``policy``
    from hanging at rest, ``swing_up_steps`` steps (100); ``True`` when the pendulum is
    upright (``|q| < 0.1``) after each of the last :data:`HOLD_STEPS` steps, the measure of
    :func:`jaxrl.deep.mpc.evaluate`. The pendulum is deterministic: no key."""
    raw = env.env
    steps = raw.swing_up_steps

    def step(state, _):
        action = policy(raw.get_obs(state, env_params)[None])[0]
        _, state, _, _, _ = raw.step_env(jax.random.key(0), state, action, env_params)
        return state, raw.upright(state)

    _, up = jax.lax.scan(step, raw.swing_up_start(env_params), length=steps)
    return jnp.all(up[-min(HOLD_STEPS, steps):])


def evaluate(algo: Algorithm, setup: Any, config: Any, state: Any, key: jax.Array):
    """The learner's evaluation of ``state``: its own, or greedy episodes, and on an
    environment with the course's swing-up task (:func:`swing_up`) ``"swing_up"``: held
    by the greedy policy from hanging at rest."""
    if algo.evaluate is not None:
        return algo.evaluate(setup, config, state, key)
    policy = lambda obs: algo.greedy_action(setup, config, state, obs)  # noqa: E731
    out = greedy_episodes(setup.env, setup.env_params, config.eval_episodes, policy, key)
    if hasattr(setup.env.env, "swing_up_start"):
        out["swing_up"] = swing_up(setup.env, setup.env_params, policy)
    return out


def _start(algo, setup, config, key):
    """Initialise, and evaluate the untrained agent (the curve's first point)."""
    if algo.random_evaluation:
        key, key_eval = jax.random.split(key)
    else:
        key_eval = key  # never drawn from
    agent = algo.init(setup, config, key)
    carry = Carry(agent=agent, eval_key=key_eval, chunk=jnp.zeros((), jnp.int32))
    return carry, evaluate(algo, setup, config, agent, jax.random.fold_in(key_eval, 0))


def _chunk(algo, setup, config, carry: Carry):
    """``calls_per_chunk`` calls of ``train_step`` (one ``lax.scan``), then an evaluation."""

    def step(state, _):
        agent, sums = state
        agent, metrics = algo.train_step(setup, config, agent)
        if algo.stack_metrics:
            return (agent, sums), metrics
        # Summed in the carry, one add per step: a reduction over the stacked metrics
        # could round differently under vmap, and a seed in a batch must equal it alone.
        return (agent, jax.tree.map(jnp.add, sums, metrics)), None

    zeros = {}
    if not algo.stack_metrics:
        shapes = jax.eval_shape(lambda a: algo.train_step(setup, config, a)[1], carry.agent)
        zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
    (agent, metrics), stacked = jax.lax.scan(
        step, (carry.agent, zeros), length=setup.schedule.calls_per_chunk)
    chunk = carry.chunk + 1
    evaluation = evaluate(algo, setup, config, agent, jax.random.fold_in(carry.eval_key, chunk))
    metrics = stacked if algo.stack_metrics else metrics
    return carry.replace(agent=agent, chunk=chunk), (evaluation, metrics)


def _curve(schedule: Schedule, first, chunks, done: int | None = None) -> Curve:
    """Stack the first evaluation and the outputs of the ``done`` chunks (default: all)
    into a :class:`Curve`."""
    evaluations, metrics = chunks
    done = schedule.num_chunks if done is None else done
    steps = (jnp.arange(done + 1, dtype=jnp.int32)
             * schedule.calls_per_chunk * schedule.steps_per_call)
    return Curve(
        env_steps=steps,
        evaluation=jax.tree.map(lambda f, e: jnp.concatenate([f[None], e]), first, evaluations),
        train=metrics,
    )


def train(
    algo: Algorithm, config: Any, key: jax.Array, env: Any = None, env_params: Any = None
) -> tuple[Any, Curve]:
    """Train one seed: ``(final agent state, learning curve)``. Pure and jitted.

    ``jax.vmap(lambda k: train(algo, config, k))(keys)`` trains many seeds;
    ``jax.vmap(lambda c, k: train(algo, c, k))(sweep(config, ...), keys)`` sweeps.
    ``env``/``env_params`` default to the config's environment.
    """
    return _train(algo, algo.make(config, env, env_params), config, key)


@partial(jax.jit, static_argnames=("algo",))
def _train(algo, setup, config, key):
    carry, first = _start(algo, setup, config, key)
    carry, chunks = jax.lax.scan(lambda c, _: _chunk(algo, setup, config, c), carry,
                                 length=setup.schedule.num_chunks)
    return carry.agent, _curve(setup.schedule, first, chunks)
