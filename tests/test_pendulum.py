"""The course's pendulums against a plain-numpy transcription of the course's equations.

``RefPendulum`` and the ``ref_*`` discretisation below transcribe
the course's ``pendulummodel.py`` (``nmansard/wsmemmo_rl``) in float64 numpy, the way the
course writes them; every environment is checked against them step by step.
"""

from __future__ import annotations

import math
import pickle
from collections import deque

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrl.envs import pendulum as P
from jaxrl.envs import rendering
from jaxrl.envs.discrete_pendulum import _transition_table
from jaxrl.envs.pendulum import _BOB, render
from jaxrl.tabular.planning import value_iteration

# ---------------------------------------------------------------------------------------
# The course, in numpy.
# ---------------------------------------------------------------------------------------


def ref_module_pi(th):
    """``modulePi``: wrap into [-π, π)."""
    return (th + np.pi) % (2 * np.pi) - np.pi


class RefPendulum:
    """``pendulummodel.Pendulum`` with its closed-form 1-joint model (M = 0.45)."""

    def __init__(self, DT=0.05, NDT=2, Kf=0.1, vmax=8.0, umax=2.0, M=0.45, mgl2=4.905):  # noqa: N803
        self.DT, self.NDT, self.Kf, self.vmax, self.umax = DT, NDT, Kf, vmax, umax
        self.M, self.mgl2 = M, mgl2

    def dynamics(self, q, v, u):
        """One step; elementwise on arrays. Returns ``(q, v, reward = -cost)``."""
        q = ref_module_pi(np.asarray(q, np.float64))
        v = np.asarray(v, np.float64)
        u = np.clip(np.asarray(u, np.float64), -self.umax, self.umax)
        dt = self.DT / self.NDT
        cost = 0.0
        for _ in range(self.NDT):
            nle = -self.mgl2 * np.sin(q)
            a = (u - self.Kf * v - nle) / self.M
            v = v + a * dt
            q = q + v * dt
            cost = cost + (q**2 + 1e-1 * v**2 + 1e-3 * u**2) * dt
        q = ref_module_pi(q)
        v = np.clip(v, -self.vmax, self.vmax)
        return q, v, -cost


REF_NQ, REF_NV, REF_VMAX, REF_NU, REF_UMAX = 20, 19, 5, 9, 5
REF_DQ, REF_DV, REF_DU = 2 * np.pi / REF_NQ, 2.0 * REF_VMAX / REF_NV, 2.0 * REF_UMAX / REF_NU


def ref_c2dq(q):
    # Python 3's round of a numpy float is numpy's round (half to even).
    return int(round(((q + np.pi) % (2 * np.pi)) / REF_DQ)) % REF_NQ


def ref_c2dv(v):
    return int(np.floor((np.clip(v, -REF_VMAX + 1e-3, REF_VMAX - 1e-3) + REF_VMAX) / REF_DV))


def ref_d2cq(iq):
    return iq * REF_DQ - np.pi


def ref_d2cv(iv):
    return (iv - (REF_NV - 1) / 2) * REF_DV


def ref_d2cu(iu):
    return (iu - (REF_NU - 1) / 2) * REF_DU


def ref_x2i(x):
    return x[0] + x[1] * REF_NQ


def ref_i2x(i):
    return [i % REF_NQ, i // REF_NQ]


REF_GOAL = ref_x2i([ref_c2dq(0.0), ref_c2dv(0.0)])


def ref_discrete_dynamics(ix, iu, pendulum):
    iq, iv = ref_i2x(ix)
    q, v, _ = pendulum.dynamics(ref_d2cq(iq), ref_d2cv(iv), ref_d2cu(iu))
    return ref_x2i([ref_c2dq(float(q)), ref_c2dv(float(v))])


@pytest.fixture(scope="module")
def ref_table():
    """``next[x, iu]`` of the course's DiscretePendulum (DT = 0.3, NDT = 5)."""
    pendulum = RefPendulum(DT=0.3, NDT=5)
    return np.array([[ref_discrete_dynamics(x, u, pendulum) for u in range(REF_NU)]
                     for x in range(REF_NQ * REF_NV)])


def angle_close(a, b, atol):
    """Angles equal up to ``atol``, modulo 2π (a state at the wrap may land on either side)."""
    return np.abs(ref_module_pi(np.asarray(a, np.float64) - np.asarray(b, np.float64))) <= atol


# One instance of each environment for the whole module (jit caches on the instance).
PENDULUM = P.Pendulum()
DISCRETE = P.DiscretePendulum()
HYBRID = P.HybridPendulum()

_batched_step = jax.jit(jax.vmap(lambda env, k, s, a, p: env.step(k, s, a, p),
                                 in_axes=(None, 0, 0, 0, None)), static_argnums=0)


def batched_step(env, state, action, params, seed=0):
    keys = jax.random.split(jax.random.key(seed), np.shape(action)[0])
    return _batched_step(env, keys, state, action, params)


# ---------------------------------------------------------------------------------------
# Constants and helpers.
# ---------------------------------------------------------------------------------------


def test_constants_match_the_course():
    assert (P.NQ, P.NV, P.NU, P.NX) == (20, 19, 9, 380)
    assert P.GOAL == REF_GOAL == 190
    assert math.isclose(P.DQ, REF_DQ) and math.isclose(P.DV, 10 / 19)
    assert math.isclose(P.DU, 10 / 9)
    np.testing.assert_allclose(np.asarray(P.d2cu(jnp.arange(9))),
                               [ref_d2cu(i) for i in range(9)], rtol=1e-6)


def test_discretisation_helpers_match_the_course():
    rng = np.random.default_rng(0)
    qs = rng.uniform(-3 * np.pi, 3 * np.pi, 4000).astype(np.float32)
    vs = rng.uniform(-9, 9, 4000).astype(np.float32)
    iq, iv = np.asarray(P.c2dq(qs)), np.asarray(P.c2dv(vs))
    # Skip inputs within float32 noise of a bin boundary.
    fq = ((qs.astype(np.float64) + np.pi) % (2 * np.pi)) / REF_DQ
    fv = (np.clip(vs, -REF_VMAX + 1e-3, REF_VMAX - 1e-3) + REF_VMAX) / REF_DV
    clear_q = np.abs(fq - np.floor(fq) - 0.5) > 1e-4
    clear_v = np.abs(fv - np.round(fv)) > 1e-4
    assert clear_q.mean() > 0.99 and clear_v.mean() > 0.99
    ref_iq = np.array([ref_c2dq(float(q)) for q in qs])
    ref_iv = np.array([ref_c2dv(float(v)) for v in vs])
    np.testing.assert_array_equal(iq[clear_q], ref_iq[clear_q])
    np.testing.assert_array_equal(iv[clear_v], ref_iv[clear_v])
    assert iq.min() >= 0 and iq.max() < 20 and iv.min() >= 0 and iv.max() < 19
    # Vector forms, round trips and the centres.
    ix = np.stack([np.arange(380) % 20, np.arange(380) // 20], -1)
    np.testing.assert_array_equal(np.asarray(P.x2i(ix)), [ref_x2i(x) for x in ix])
    np.testing.assert_array_equal(np.asarray(P.i2x(jnp.arange(380))), ix)
    centres = np.asarray(P.d2c(ix))
    np.testing.assert_allclose(centres[:, 0], [ref_d2cq(i) for i in ix[:, 0]], atol=1e-6)
    np.testing.assert_allclose(centres[:, 1], [ref_d2cv(i) for i in ix[:, 1]], atol=1e-6)
    np.testing.assert_array_equal(np.asarray(P.c2d(centres)), ix)
    # Angle wrapping: just below +π rounds up to bin 20 = bin 0 (hanging down).
    assert int(P.c2dq(np.float32(np.pi - 1e-3))) == 0 == ref_c2dq(np.pi - 1e-3)
    assert int(P.c2dq(np.float32(-np.pi))) == 0
    assert int(P.c2dq(np.float32(3 * np.pi))) == 0
    assert int(P.c2dq(0.0)) == 10 and int(P.c2dv(0.0)) == 9
    # Torque bins (floor) invert the centres.
    np.testing.assert_array_equal(np.asarray(P.c2du(P.d2cu(jnp.arange(9)))), np.arange(9))


def test_wrap_matches_numpy_remainder():
    qs = np.linspace(-4 * np.pi, 4 * np.pi, 20001).astype(np.float32)
    wrapped = np.asarray(P.wrap(qs))
    assert wrapped.min() >= -np.float32(np.pi) and wrapped.max() < np.float32(np.pi)
    assert angle_close(wrapped, ref_module_pi(qs.astype(np.float64)), 1e-5).all()
    # Away from the ±π seam the two agree to float32 precision.
    inner = np.abs(ref_module_pi(qs.astype(np.float64))) < 3.1
    np.testing.assert_allclose(wrapped[inner], ref_module_pi(qs.astype(np.float64))[inner],
                               atol=2e-6)


# ---------------------------------------------------------------------------------------
# Step by step against the numpy model.
# ---------------------------------------------------------------------------------------


def test_dynamics_function_matches_course_including_unwrapped_angles():
    rng = np.random.default_rng(1)
    n = 2000
    q = rng.uniform(-3 * np.pi, 3 * np.pi, n)
    v = rng.uniform(-9, 9, n)
    u = rng.uniform(-4, 4, n)
    for params, ref in [(P.PendulumParams(), RefPendulum()),
                        (P.PendulumParams(dt=0.3, ndt=5), RefPendulum(DT=0.3, NDT=5))]:
        q2, v2, cost = jax.jit(P.dynamics)(q.astype(np.float32), v.astype(np.float32),
                                           u.astype(np.float32), params)
        rq, rv, rr = ref.dynamics(q.astype(np.float32), v.astype(np.float32),
                                  u.astype(np.float32))
        assert angle_close(q2, rq, 1e-4).all()
        np.testing.assert_allclose(v2, rv, atol=1e-4)
        np.testing.assert_allclose(-np.asarray(cost), rr, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("sincos", [False, True])
def test_pendulum_steps_match_course(sincos):
    env, params = PENDULUM, P.PendulumParams(sincos=sincos)
    ref = RefPendulum()
    rng = np.random.default_rng(2)
    n = 1000
    q = rng.uniform(-np.pi, np.pi, n).astype(np.float32)
    v = rng.uniform(-8, 8, n).astype(np.float32)
    u = rng.uniform(-3, 3, (n, 1)).astype(np.float32)  # beyond ±2: clipped
    state = P.PendulumState(time=jnp.zeros(n, jnp.int32), q=jnp.asarray(q), v=jnp.asarray(v))
    obs, new, reward, terminated, truncated, info = batched_step(env, state, u, params)
    rq, rv, rr = ref.dynamics(q, v, u[:, 0])
    assert angle_close(new.q, rq, 1e-4).all()
    np.testing.assert_allclose(new.v, rv, atol=1e-4)
    np.testing.assert_allclose(reward, rr, rtol=1e-5, atol=1e-6)
    expected_obs = np.stack([np.cos(rq), np.sin(rq), rv], -1) if sincos else np.stack([rq, rv], -1)
    if sincos:
        np.testing.assert_allclose(obs, expected_obs, atol=1e-4)
    else:
        assert angle_close(obs[:, 0], rq, 1e-4).all()
        np.testing.assert_allclose(obs[:, 1], rv, atol=1e-4)
    assert not np.asarray(terminated).any() and not np.asarray(truncated).any()
    np.testing.assert_array_equal(new.time, 1)
    chex.assert_shape(obs, (n, 3 if sincos else 2))
    chex.assert_type([obs, reward], jnp.float32)
    chex.assert_type([terminated, truncated], bool)
    chex.assert_shape([reward, terminated, truncated, new.q, new.v, new.time], (n,))
    np.testing.assert_array_equal(info["final_observation"], obs)


def test_pendulum_trajectory_step_by_step():
    """100 steps from a reset, each step checked against the numpy model from the env's state."""
    env, params = PENDULUM, PENDULUM.default_params
    ref = RefPendulum()
    key = jax.random.key(3)
    key_reset, key_steps = jax.random.split(key)
    obs, state = env.reset(key_reset, params)
    actions = jax.random.uniform(jax.random.key(4), (100, 1), minval=-2.5, maxval=2.5)

    def body(state, inputs):
        key, action = inputs
        obs, next_state, reward, terminated, truncated, _ = env.step(key, state, action, params)
        return next_state, (state.q, state.v, next_state.q, next_state.v, reward, truncated)

    keys = jax.random.split(key_steps, 100)
    _, (q0, v0, q1, v1, rewards, truncated) = jax.jit(
        lambda s: jax.lax.scan(body, s, (keys, actions)))(state)
    assert -np.pi <= float(state.q) < np.pi and -1 <= float(state.v) < 1
    rq, rv, rr = ref.dynamics(np.asarray(q0), np.asarray(v0), np.asarray(actions[:, 0]))
    live = ~np.asarray(truncated)  # the last step truncates and auto-resets
    assert live[:-1].all() and not live[-1]
    assert angle_close(np.asarray(q1)[live], rq[live], 1e-4).all()
    np.testing.assert_allclose(np.asarray(v1)[live], rv[live], atol=1e-4)
    np.testing.assert_allclose(rewards, rr, rtol=1e-5, atol=1e-6)


def test_hanging_at_rest_reward_scale():
    """The course's scale: -0.493 per step hanging at rest, -49.4 for 100 steps of u = 0."""
    params = PENDULUM.default_params

    def body(qv, _):
        q, v, cost = P.dynamics(*qv, jnp.float32(0.0), params)
        return (q, v), -cost

    _, rewards = jax.jit(lambda: jax.lax.scan(body, (jnp.float32(-np.pi), jnp.float32(0.0)),
                                              length=100))()
    assert float(rewards[0]) == pytest.approx(-0.4935, abs=1e-3)
    assert float(rewards.sum()) == pytest.approx(-49.4, abs=0.1)
    ref = RefPendulum()
    q, v, total = -np.pi, 0.0, 0.0
    for _ in range(100):
        q, v, r = ref.dynamics(q, v, 0.0)
        total += r
    assert float(rewards.sum()) == pytest.approx(total, rel=1e-4)


def test_hybrid_steps_match_course_with_clipped_discrete_torques():
    env, params = HYBRID, HYBRID.default_params
    ref = RefPendulum(DT=0.3, NDT=5)
    rng = np.random.default_rng(5)
    n = 9 * 100
    q = np.repeat(rng.uniform(-np.pi, np.pi, 100), 9).astype(np.float32)  # 9 torques per state
    v = np.repeat(rng.uniform(-8, 8, 100), 9).astype(np.float32)
    iu = np.tile(np.arange(9, dtype=np.int32), 100)
    state = P.PendulumState(time=jnp.zeros(n, jnp.int32), q=jnp.asarray(q), v=jnp.asarray(v))
    obs, new, reward, terminated, truncated, _ = batched_step(env, state, iu, params)
    u = np.array([ref_d2cu(i) for i in iu])  # the clip to ±2 happens in the dynamics
    rq, rv, rr = ref.dynamics(q, v, u)
    assert angle_close(new.q, rq, 1e-4).all()
    np.testing.assert_allclose(new.v, rv, atol=1e-4)
    np.testing.assert_allclose(reward, rr, rtol=1e-5, atol=1e-6)
    # Only 5 distinct torques: actions 0-2 and 6-8 act alike.
    r = np.asarray(reward).reshape(100, 9)
    np.testing.assert_array_equal(r[:, 0], r[:, 1])
    np.testing.assert_array_equal(r[:, 0], r[:, 2])
    np.testing.assert_array_equal(r[:, 6], r[:, 8])
    assert not np.allclose(r[:, 2], r[:, 3]) and not np.allclose(r[:, 5], r[:, 6])
    chex.assert_shape(obs, (n, 2))
    assert not np.asarray(terminated).any()


def test_discrete_steps_match_course_exhaustively(ref_table):
    """All 380 x 9 transitions, reward on arriving at 190, termination at the goal."""
    env, params = DISCRETE, DISCRETE.default_params
    x = np.repeat(np.arange(380, dtype=np.int32), 9)
    iu = np.tile(np.arange(9, dtype=np.int32), 380)
    state = P.DiscretePendulumState(time=jnp.zeros(x.size, jnp.int32), x=jnp.asarray(x))
    _, new, reward, terminated, truncated, info = batched_step(env, state, iu, params)
    final = np.asarray(info["final_observation"]).reshape(380, 9)
    np.testing.assert_array_equal(final, ref_table)
    np.testing.assert_array_equal(np.asarray(reward).reshape(380, 9), ref_table == 190)
    np.testing.assert_array_equal(np.asarray(terminated).reshape(380, 9), ref_table == 190)
    assert not np.asarray(truncated).any()
    chex.assert_type([final, new.x, new.time], jnp.int32)
    chex.assert_type(reward, jnp.float32)
    # Without termination the goal is an ordinary state.
    params = params.replace(terminate_on_goal=False)
    obs, new, reward, terminated, _, _ = batched_step(env, state, iu, params)
    np.testing.assert_array_equal(np.asarray(obs).reshape(380, 9), ref_table)
    assert not np.asarray(terminated).any()
    # The torque clip: actions 0-2 and 6-8 are the same torques, 2..6 all differ.
    np.testing.assert_array_equal(ref_table[:, 0], ref_table[:, 2])
    np.testing.assert_array_equal(ref_table[:, 6], ref_table[:, 8])
    for a in range(2, 6):
        assert (ref_table[:, a] != ref_table[:, a + 1]).any()


def test_discrete_trajectory_step_by_step(ref_table):
    env, params = DISCRETE, DISCRETE.default_params.replace(terminate_on_goal=False)
    _, state = env.reset(jax.random.key(6), params)
    actions = np.asarray(jax.random.randint(jax.random.key(7), (49,), 0, 9))
    keys = jax.random.split(jax.random.key(8), 49)

    def body(state, inputs):
        key, action = inputs
        obs, state2, reward, *_ = env.step(key, state, action, params)
        return state2, (state.x, obs, reward)

    _, (xs, obs, rewards) = jax.jit(lambda s: jax.lax.scan(body, s, (keys, actions)))(state)
    np.testing.assert_array_equal(obs, ref_table[np.asarray(xs), actions])
    np.testing.assert_array_equal(rewards, np.asarray(obs) == 190)


# ---------------------------------------------------------------------------------------
# Facts of the course, by planning on the exported model.
# ---------------------------------------------------------------------------------------


def shortest_paths(next_states: np.ndarray, goal: int) -> np.ndarray:
    """Breadth-first search backwards from the goal: steps to reach it (-1: never)."""
    predecessors = [[] for _ in range(len(next_states))]
    for s, row in enumerate(next_states):
        for s2 in set(row.tolist()):
            predecessors[s2].append(s)
    dist = np.full(len(next_states), -1)
    dist[goal] = 0
    queue = deque([goal])
    while queue:
        s2 = queue.popleft()
        for s in predecessors[s2]:
            if dist[s] < 0:
                dist[s] = dist[s2] + 1
                queue.append(s)
    return dist


def test_tabular_mdp_is_the_environment(ref_table):
    mdp = DISCRETE.tabular_mdp(DISCRETE.default_params.replace(terminate_on_goal=False))
    assert (mdp.num_states, mdp.num_actions, mdp.num_successors) == (380, 9, 1)
    nxt = np.asarray(mdp.next_states[..., 0])
    np.testing.assert_array_equal(nxt, ref_table)
    np.testing.assert_array_equal(np.asarray(mdp.probs), 1.0)
    np.testing.assert_array_equal(np.asarray(mdp.rewards), ref_table == 190)
    assert not np.asarray(mdp.terminal).any()
    # The goal is a fixed point only under the zero torque.
    assert [u for u in range(9) if nxt[190, u] == 190] == [4]
    # Episodic form: the goal is absorbing, terminal and pays nothing.
    episodic = DISCRETE.tabular_mdp()
    terminal = np.asarray(episodic.terminal)
    assert terminal[190] and terminal.sum() == 1
    np.testing.assert_array_equal(np.asarray(episodic.next_states[190, :, 0]), 190)
    np.testing.assert_array_equal(np.asarray(episodic.rewards[190]), 0.0)
    np.testing.assert_array_equal(np.asarray(episodic.next_states)[:190], ref_table[:190, :, None])


def test_every_state_reaches_the_goal_and_swing_up_takes_11_steps():
    mdp = DISCRETE.tabular_mdp()  # reward 1 on arrival, goal absorbing with reward 0
    gamma = 0.5
    result = value_iteration(mdp, gamma, tol=1e-7)
    values = np.asarray(result.values, np.float64)
    assert bool(result.converged)
    assert values[190] == 0.0
    others = np.arange(380) != 190
    assert (values[others] > 0).all(), "every state can reach the goal"
    # V(s) = γ^(d(s) - 1) for a shortest path of d(s) steps.
    steps = np.zeros(380, int)
    steps[others] = np.rint(1 + np.log(values[others]) / np.log(gamma)).astype(int)
    np.testing.assert_allclose(values[others], gamma ** (steps[others] - 1.0), rtol=1e-4)
    np.testing.assert_array_equal(steps, shortest_paths(np.asarray(mdp.next_states[..., 0]), 190))
    hanging = int(P.x2i(jnp.array([0, 9])))  # q = -π, v = 0
    assert hanging == 180
    assert steps[hanging] == 11
    assert steps.max() == 11
    assert steps.mean() == pytest.approx(5.97, abs=0.01)
    # The greedy policy swings up from hanging at rest in those 11 steps.
    policy = np.asarray(result.policy)
    nxt = np.asarray(mdp.next_states[..., 0])
    x, path = hanging, 0
    while x != 190:
        x, path = nxt[x, policy[x]], path + 1
    assert path == 11


# ---------------------------------------------------------------------------------------
# jit, vmap, spaces, time limits.
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", [PENDULUM, DISCRETE, HYBRID], ids=lambda e: e.name)
def test_rollout_jits_vmaps_and_stays_in_spaces(env):
    params = env.default_params
    n, steps = 16, 120
    keys = jax.random.split(jax.random.key(9), n)

    @jax.jit
    def rollout(keys):
        obs, state = jax.vmap(env.reset, (0, None))(keys, params)

        def body(carry, key):
            obs, state = carry
            key_act, key_step = jax.random.split(key)
            action = env.action_space(params).sample(key_act)
            obs2, state2, reward, terminated, truncated, info = env.step(
                key_step, state, action, params)
            inside = env.observation_space(params).contains(obs2) & env.observation_space(
                params).contains(info["final_observation"])
            return (obs2, state2), (obs2, reward, terminated, truncated, inside, action)

        def episode(obs, state, key):
            return jax.lax.scan(body, (obs, state), jax.random.split(key, steps))[1]

        return obs, jax.vmap(episode)(obs, state, keys)

    obs0, (obs, reward, terminated, truncated, inside, action) = rollout(keys)
    assert np.asarray(jax.vmap(env.observation_space(params).contains)(obs0)).all()
    assert np.asarray(inside).all()
    assert np.asarray(jax.vmap(jax.vmap(env.action_space(params).contains))(action)).all()
    obs_shape = env.observation_space(params).shape
    chex.assert_shape(obs, (n, steps, *obs_shape))
    chex.assert_type(obs, jnp.int32 if env is DISCRETE else jnp.float32)
    chex.assert_shape([reward, terminated, truncated], (n, steps))
    chex.assert_type(reward, jnp.float32)
    chex.assert_tree_all_finite(reward)
    # Time limits: 100 steps (continuous), 50 or the goal (discrete).
    # Random torques reach the goal about once in 5000 steps: rows that never terminate
    # are truncated exactly every ``limit`` steps.
    limit = params.max_steps_in_episode
    terminated, truncated = np.asarray(terminated), np.asarray(truncated)
    if env is not DISCRETE:
        assert not terminated.any()
    rows = ~terminated.any(1)
    assert rows.sum() >= n // 2
    expected = np.zeros(steps, bool)
    expected[limit - 1::limit] = True
    np.testing.assert_array_equal(truncated[rows], np.broadcast_to(expected, (rows.sum(), steps)))


def test_vmap_over_keys_gives_different_resets():
    obs, state = jax.vmap(PENDULUM.reset, (0, None))(jax.random.split(jax.random.key(10), 64),
                                                    PENDULUM.default_params)
    assert len(np.unique(np.asarray(state.q))) == 64
    x, _ = jax.vmap(DISCRETE.reset, (0, None))(jax.random.split(jax.random.key(11), 4096),
                                              DISCRETE.default_params)
    counts = np.bincount(np.asarray(x), minlength=380)
    assert counts.min() > 0 and counts.max() < 40  # uniform: 10.8 per state


def axes_for(params, field):
    """``in_axes`` for vmapping over one params field."""
    return jax.tree.map(lambda _: None, params).replace(**{field: 0})


@pytest.mark.parametrize("field,values,ref_kw", [
    ("kf", [0.0, 0.1, 0.5, 2.0], "Kf"),
    ("inertia", [0.3, 0.45, 1.0, 2.0], "M"),
])
def test_vmap_over_a_params_field(field, values, ref_kw):
    base = PENDULUM.default_params
    params = base.replace(**{field: jnp.asarray(values, jnp.float32)})
    state = P.PendulumState(time=jnp.int32(0), q=jnp.float32(1.0), v=jnp.float32(-2.0))
    step = jax.jit(jax.vmap(PENDULUM.step, in_axes=(None, None, None, axes_for(base, field))))
    _, new, reward, *_ = step(jax.random.key(12), state, jnp.array([1.5]), params)
    for i, value in enumerate(values):
        rq, rv, rr = RefPendulum(**{ref_kw: value}).dynamics(1.0, -2.0, 1.5)
        assert angle_close(new.q[i], rq, 1e-5)
        assert float(new.v[i]) == pytest.approx(rv, abs=1e-5)
        assert float(reward[i]) == pytest.approx(rr, abs=1e-5)
    assert len(np.unique(np.asarray(new.v))) == len(values)
    # The discrete model follows its params too (friction changes some transitions).
    tables = jax.vmap(_transition_table, in_axes=(axes_for(DISCRETE.default_params, "kf"),))(
        DISCRETE.default_params.replace(kf=jnp.array([0.1, 1.0])))
    assert (np.asarray(tables[0]) != np.asarray(tables[1])).any()


def test_truncation_and_auto_reset():
    env = DISCRETE
    params = env.default_params.replace(max_steps_in_episode=3, terminate_on_goal=False)
    state = P.DiscretePendulumState(time=jnp.int32(2), x=jnp.int32(0))
    obs, new, reward, terminated, truncated, info = env.step(jax.random.key(13), state, 4, params)
    assert bool(truncated) and not bool(terminated)
    assert int(new.time) == 0 and int(obs) == int(new.x)
    assert int(info["final_observation"]) == int(P.discrete_dynamics(jnp.int32(0), 4, params))
    # Reaching the goal terminates (default) and resets.
    ref = RefPendulum(DT=0.3, NDT=5)
    x, iu = next((x, u) for x in range(380) for u in range(9)
                 if x != 190 and ref_discrete_dynamics(x, u, ref) == 190)
    state = P.DiscretePendulumState(time=jnp.int32(0), x=jnp.int32(x))
    obs, new, reward, terminated, truncated, info = env.step(jax.random.key(14), state, iu)
    assert bool(terminated) and not bool(truncated) and float(reward) == 1.0
    assert int(info["final_observation"]) == 190 and int(new.time) == 0
    assert bool(env.is_terminated(P.DiscretePendulumState(time=0, x=jnp.int32(190)),
                                  env.default_params))


def test_transition_gradients():
    env = PENDULUM.with_transition_gradients()
    state = P.PendulumState(time=jnp.int32(0), q=jnp.float32(0.3), v=jnp.float32(0.2))

    def next_v(u):
        return env.step_env(jax.random.key(0), state, u, env.default_params)[1].v

    h = 0.025
    # dv/du over two sub-steps of a = (u - ...)/M: about 2h/M.
    assert float(jax.grad(next_v)(jnp.float32(0.5))) == pytest.approx(2 * h / 0.45, rel=0.05)


# ---------------------------------------------------------------------------------------
# Validation.
# ---------------------------------------------------------------------------------------


def test_bad_params_give_clear_errors():
    key = jax.random.key(0)
    _, state = PENDULUM.reset(key)
    with pytest.raises(TypeError, match=r"PendulumParams\.dt must be a real number"):
        PENDULUM.step(key, state, jnp.array([0.0]), PENDULUM.default_params.replace(dt="0.05"))
    with pytest.raises(TypeError, match="ndt"):
        PENDULUM.reset(key, PENDULUM.default_params.replace(ndt=2.0))
    with pytest.raises(TypeError, match="sincos"):
        PENDULUM.reset(key, PENDULUM.default_params.replace(sincos=1))
    with pytest.raises(ValueError, match="dt must be positive"):
        PENDULUM.reset(key, PENDULUM.default_params.replace(dt=-0.1))
    with pytest.raises(TypeError, match="max_steps_in_episode must be an integer"):
        HYBRID.reset(key, HYBRID.default_params.replace(max_steps_in_episode=10.5))
    with pytest.raises(TypeError, match="terminate_on_goal must be a bool"):
        DISCRETE.tabular_mdp(DISCRETE.default_params.replace(terminate_on_goal="yes"))
    with pytest.raises(TypeError, match="pendulum params"):
        P.check_params({"dt": 0.1})
    # Good values of every accepted kind pass, tracers are not inspected.
    P.check_params(PENDULUM.default_params.replace(kf=np.float32(0.2), umax=jnp.float32(1.0),
                                                   max_steps_in_episode=np.int64(7)))
    jax.jit(lambda kf: PENDULUM.reset(key, PENDULUM.default_params.replace(kf=kf)))(0.3)


def test_bad_actions_give_clear_errors():
    key = jax.random.key(0)
    _, dstate = DISCRETE.reset(key)
    _, cstate = PENDULUM.reset(key)
    with pytest.raises(ValueError, match=r"in \[0, 9\)"):
        DISCRETE.step(key, dstate, 9)
    with pytest.raises(ValueError, match=r"in \[0, 9\)"):
        HYBRID.step(key, cstate, np.int32(-1))
    with pytest.raises(TypeError, match="integer"):
        DISCRETE.step(key, dstate, 1.5)
    with pytest.raises(TypeError, match="integer"):
        HYBRID.step(key, cstate, jnp.zeros(3, jnp.int32))
    with pytest.raises(TypeError, match="real torque"):
        PENDULUM.step(key, cstate, jnp.zeros(2))
    with pytest.raises(TypeError, match="number"):
        PENDULUM.step(key, cstate, "1.0")
    with pytest.raises(ValueError, match="finite"):
        PENDULUM.step(key, cstate, np.array([np.nan]))
    with pytest.raises(ValueError, match=r"in \[-2.0, 2.0\]"):
        PENDULUM.check_action(np.array([2.5]), clip_ok=False)
    # Torques beyond ±umax are clipped (the DDPG practical feeds unclipped noise).
    PENDULUM.step(key, cstate, np.array([2.5], np.float32))
    PENDULUM.step(key, cstate, 1.0)
    DISCRETE.step(key, dstate, jnp.int32(8))
    DISCRETE.step(key, dstate, np.array([3]))
    # Traced actions are not checked (and do not break jit).
    jax.jit(lambda a: DISCRETE.step(key, dstate, a)[2])(jnp.int32(3))


# ---------------------------------------------------------------------------------------
# Rendering and plumbing.
# ---------------------------------------------------------------------------------------


def test_render_draws_upright_at_zero():
    up = render(P.PendulumState(time=0, q=jnp.float32(0.0), v=jnp.float32(0.0)),
                PENDULUM.default_params)
    down = render(P.PendulumState(time=0, q=jnp.float32(np.pi), v=jnp.float32(0.0)))
    assert up.dtype == np.uint8 and up.shape == (200, 200, 3)
    size, length = 200, 0.38 * 200
    bob_up = up[int(size / 2 - length), size // 2]
    bob_down = down[int(size / 2 + length), size // 2]
    assert tuple(bob_up) == _BOB and tuple(bob_down) == _BOB
    assert tuple(up[int(size / 2 + length), size // 2]) != _BOB
    # The discrete state is drawn at its bin centre: iq = 10 is upright.
    centre = render(P.DiscretePendulumState(time=0, x=jnp.int32(190)), DISCRETE.default_params)
    np.testing.assert_array_equal(centre, up)
    hanging = render(P.DiscretePendulumState(time=0, x=jnp.int32(180)), size=64)
    assert hanging.shape == (64, 64, 3)
    _, state = jax.vmap(PENDULUM.reset)(jax.random.split(jax.random.key(0), 2))
    with pytest.raises(ValueError, match="one state"):
        render(state)
    with pytest.raises(TypeError):
        render(object())


def test_rendering_primitives():
    img = rendering.blank(20, 30, (0, 0, 0))
    assert img.shape == (20, 30, 3) and img.dtype == np.uint8 and not img.any()
    rendering.fill_rect(img, 2, 3, 5, 6, (255, 0, 0))
    assert (img[3:6, 2:5] == (255, 0, 0)).all() and img[:3].sum() == 0
    rendering.draw_disc(img, 20, 10, 3, (0, 255, 0))
    assert tuple(img[10, 20]) == (0, 255, 0) and tuple(img[10, 25]) == (0, 0, 0)
    rendering.draw_line(img, 0, 18.5, 30, 18.5, 1, (0, 0, 255))
    assert (img[18, :, 2] == 255).all()
    rendering.draw_ring(img, 15, 10, 8, 1, (9, 9, 9))
    rendering.fill_polygon(img, [(25, 0), (30, 0), (30, 5)], (7, 7, 7))
    assert tuple(img[1, 28]) == (7, 7, 7)
    rendering.draw_disc(img, -50, -50, 3, (1, 1, 1))  # off the canvas: no-op
    with pytest.raises(ValueError):
        rendering.blank(0, 5)
    with pytest.raises(ValueError):
        rendering.draw_disc(np.zeros((4, 4)), 1, 1, 1, (0, 0, 0))


def test_envs_pickle_and_describe_themselves():
    for env in (PENDULUM, DISCRETE, HYBRID):
        clone = pickle.loads(pickle.dumps(env))
        assert clone.name == env.name
        assert clone.default_params == env.default_params
    assert PENDULUM.num_actions == 1 and DISCRETE.num_actions == HYBRID.num_actions == 9
    assert PENDULUM.default_params.dt == 0.05 and PENDULUM.default_params.ndt == 2
    assert PENDULUM.default_params.max_steps_in_episode == 100
    assert HYBRID.default_params.dt == 0.3 and HYBRID.default_params.ndt == 5
    assert DISCRETE.default_params.dt == 0.3 and DISCRETE.default_params.ndt == 5
    assert DISCRETE.default_params.max_steps_in_episode == 50
    assert DISCRETE.default_params.terminate_on_goal is True
    assert PENDULUM.observation_space(P.PendulumParams(sincos=True)).shape == (3,)
    assert DISCRETE.observation_space(DISCRETE.default_params).n == 380
    space = DISCRETE.action_space(DISCRETE.default_params)
    samples = np.asarray(jax.vmap(space.sample)(jax.random.split(jax.random.key(0), 900)))
    assert samples.dtype == np.int32 and set(samples.tolist()) == set(range(9))
    state_space = PENDULUM.state_space(PENDULUM.default_params)
    _, state = PENDULUM.reset(jax.random.key(1))
    assert bool(state_space.contains(state))
