"""The maze environment, the registry and the auto-reset wrapper (the environment contract)."""

from __future__ import annotations

import copy
import pickle

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnax.environments import spaces

import jaxrl
from jaxrl import maze_tables
from jaxrl.envs import maze, pendulum, rendering
from jaxrl.envs.maze import (
    GREEN_STATE,
    RANDOM_START,
    RED_STATE,
    START_STATE,
    Maze,
    maze_env_mdp,
    maze_mdp,
)
from jaxrl.envs.registry import make, registered_envs, renderer
from jaxrl.envs.wrappers import AutoReset, EpisodeStats, Transition, WrapperState

OUR_ENVS = ["Maze", "Pendulum", "DiscretePendulum", "HybridPendulum"]
WRAPPED_ENVS = [*OUR_ENVS, "CartPole-v1", "FrozenLake-misc"]
N, E, S, W = range(4)


def cell_state(row: int, col: int) -> int:
    return maze.STATE_OF_CELL[(row, col)]


def run_actions(env: AutoReset, params, actions, start_key: int = 0):
    """Reset, then take ``actions`` one by one; returns the states and transitions."""
    _, state = env.reset(jax.random.key(start_key), params)
    states, transitions = [state], []
    for i, action in enumerate(actions):
        state, transition = env.step(jax.random.key(100 + i), state, action, params)
        states.append(state)
        transitions.append(jax.tree.map(np.asarray, transition))
    return states, transitions


# -- the maze environment ------------------------------------------------------------------


def test_maze_matches_tabular_mdp_for_every_state_and_action():
    env, params = Maze(), Maze().default_params
    mdp = maze_mdp()
    s, a = np.meshgrid(np.arange(maze.NUM_STATES), np.arange(maze.NUM_ACTIONS), indexing="ij")
    states = maze.EnvState(position=jnp.asarray(s.ravel()), time=jnp.zeros(s.size, jnp.int32))

    def one(state, action, params):
        return env.step_env(jax.random.key(0), state, action, params)

    for exit_terminates in (True, False):
        p = params.replace(exit_terminates=exit_terminates)
        obs, nxt, reward, terminated, _ = jax.vmap(one, in_axes=(0, 0, None))(
            states, jnp.asarray(a.ravel()), p
        )
        np.testing.assert_array_equal(obs.reshape(s.shape), mdp.next_states[..., 0])
        np.testing.assert_array_equal(nxt.position, obs)
        np.testing.assert_array_equal(nxt.time, 1)
        next_state = np.asarray(mdp.next_states[..., 0])
        np.testing.assert_array_equal(reward.reshape(s.shape), -maze.costs()[next_state])
        np.testing.assert_array_equal(
            terminated.reshape(s.shape), (next_state == GREEN_STATE) & exit_terminates
        )
        # The exact model of the environment agrees wherever an episode is running.
        model, goal = maze_env_mdp(p)
        live = ~np.asarray(model.terminal)
        np.testing.assert_array_equal(model.next_states[live, :, 0], next_state[live])
        np.testing.assert_array_equal(model.rewards[live], reward.reshape(s.shape)[live])
        assert np.flatnonzero(goal).tolist() == [GREEN_STATE]
        assert bool(model.terminal[GREEN_STATE]) == exit_terminates
    chex.assert_type([reward, obs, terminated], [jnp.float32, jnp.int32, bool])


def test_maze_dynamics_by_hand():
    env = Maze()
    params = env.default_params
    # (2, 0) north -> (1, 0); (1, 0) east is the wall -> stay; the red trap is absorbing.
    for start, action, expected in [
        ((2, 0), N, (1, 0)),
        ((1, 0), E, (1, 0)),
        ((0, 2), E, (0, 3)),
        ((1, 3), W, (1, 3)),
        ((2, 3), N, (1, 3)),
        ((0, 0), W, (0, 0)),
    ]:
        state = maze.EnvState(position=jnp.int32(cell_state(*start)), time=jnp.int32(0))
        obs, *_ = env.step_env(jax.random.key(0), state, action, params)
        assert int(obs) == cell_state(*expected), (start, action)


def test_maze_reset_start_states():
    env = Maze()
    params = env.default_params
    obs, state = env.reset(jax.random.key(0), params)
    assert int(obs) == START_STATE == cell_state(2, 0)
    assert int(state.time) == 0
    keys = jax.random.split(jax.random.key(1), 2000)
    vreset = jax.vmap(env.reset, in_axes=(0, None))
    uniform = np.asarray(vreset(keys, params.replace(start_state=RANDOM_START))[0])
    assert set(uniform.tolist()) == set(range(maze.NUM_STATES)) - {GREEN_STATE}
    counts = np.bincount(uniform, minlength=maze.NUM_STATES)
    assert counts[GREEN_STATE] == 0 and counts.min(where=counts > 0, initial=2000) > 150
    continuing = params.replace(start_state=RANDOM_START, exit_terminates=False)
    assert set(np.asarray(vreset(keys, continuing)[0]).tolist()) == set(range(maze.NUM_STATES))
    fixed = np.asarray(vreset(keys[:5], params.replace(start_state=5))[0])
    np.testing.assert_array_equal(fixed, 5)
    with pytest.raises(ValueError, match="start_state must be a state index"):
        env.reset(keys[0], params.replace(start_state=11))


def test_maze_spaces_and_render():
    env = Maze()
    params = env.default_params
    assert env.action_space(params).n == 4
    assert env.observation_space(params).n == 11
    obs, state = env.reset(jax.random.key(0), params)
    assert bool(env.observation_space(params).contains(obs))
    chex.assert_shape(obs, ())
    chex.assert_type(obs, jnp.int32)
    image = env.render(state, params)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape == (3 * 48 + 1, 4 * 48 + 1, 3)
    # The agent's colour appears in its cell, and nowhere when it is elsewhere.
    assert (maze.render(state, params) == image).all()
    other = maze.render(state.replace(position=jnp.int32(0)), params)
    assert not (other == image).all()
    with pytest.raises(ValueError, match="one state"):
        maze.render(state.replace(position=jnp.zeros(3, jnp.int32)), params)
    with pytest.raises(ValueError, match="state index"):
        maze.render_maze(11)


# -- the registry --------------------------------------------------------------------------


@pytest.mark.parametrize("name", OUR_ENVS)
def test_make_our_envs(name):
    env, params = make(name)
    assert env.name == name
    assert params == env.default_params
    assert name in registered_envs()


def test_make_falls_through_to_gymnax():
    env, params = make("CartPole-v1", max_steps_in_episode=7)
    assert env.name == "CartPole-v1" and params.max_steps_in_episode == 7
    env, params = make("FrozenLake-misc", env_kwargs={"is_slippery": False})
    assert not env.is_slippery
    assert set(registered_envs()) >= {"Pendulum-v1", "FrozenLake-misc", *OUR_ENVS}
    assert jaxrl.make is make


def test_make_overrides_params():
    env, params = make("Maze", max_steps_in_episode=5, exit_terminates=False, start_state=-1)
    assert (params.max_steps_in_episode, params.exit_terminates, params.start_state) == (
        5, False, -1,
    )
    # Arrays are accepted (a stacked sweep over a parameter).
    _, params = make("CartPole-v1", gravity=jnp.array([9.8, 3.7]))
    assert params.gravity.shape == (2,)


def test_make_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="Did you mean 'CartPole-v1'") as info:
        make("CartPol-v1")
    assert "Maze" in str(info.value) and "Pendulum-v1" in str(info.value)
    with pytest.raises(ValueError, match="Did you mean 'Maze'"):
        make("maze")
    with pytest.raises(ValueError, match="Did you mean 'DiscretePendulum'"):
        make("DiscretPendulum")


def test_make_bad_params():
    with pytest.raises(ValueError, match="no parameter 'max_steps'.*max_steps_in_episode"):
        make("Maze", max_steps=3)
    with pytest.raises(ValueError, match="Valid parameters: .*gravity"):
        make("CartPole-v1", gravityy=3.0)
    with pytest.raises(TypeError, match="'max_steps_in_episode' expects an integer"):
        make("Maze", max_steps_in_episode="3")
    with pytest.raises(TypeError, match="expects an integer"):
        make("Maze", max_steps_in_episode=3.5)
    with pytest.raises(TypeError, match="expects a boolean"):
        make("Maze", exit_terminates=1)
    with pytest.raises(TypeError, match="'gravity' expects a number"):
        make("CartPole-v1", gravity="strong")
    with pytest.raises(TypeError, match="expects a number"):
        make("CartPole-v1", gravity=True)
    with pytest.raises(TypeError):
        make("Pendulum", dt="0.05")


def test_renderer_finds_each_familys_drawing():
    maze_env, maze_params = make("Maze")
    draw = renderer(AutoReset(maze_env))  # the wrapper is unwrapped
    _, state = maze_env.reset(jax.random.key(0), maze_params)
    assert (draw(state, maze_params) == maze.render(state)).all()
    for name in ("Pendulum", "DiscretePendulum", "HybridPendulum"):
        assert renderer(make(name)[0]) is pendulum.render
    assert renderer(make("Pendulum-v1")[0]) is pendulum.render_gymnax
    assert renderer(make("CartPole-v1")[0]) is rendering.cartpole
    assert renderer(make("FrozenLake-misc")[0]) is None
    # gymnax's Pendulum-v1 is drawn as the course's: theta 0 upright, as q 0
    gym_env, gym_params = make("Pendulum-v1")
    _, gym_state = gym_env.reset(jax.random.key(0), gym_params)
    upright = pendulum.PendulumState(time=0, q=jnp.float32(0.0), v=jnp.float32(0.0))
    assert (pendulum.render_gymnax(gym_state.replace(theta=jnp.float32(0.0)))
            == pendulum.render(upright)).all()


# -- the wrapper: auto-reset with the true final observation -------------------------------


@pytest.mark.parametrize("cached", [False, True])
def test_truncated_step_keeps_the_final_observation(cached):
    env = AutoReset(Maze(), cached_reset=cached)
    params = env.default_params.replace(max_steps_in_episode=3)
    # (2, 0) -N-> (1, 0) -N-> (0, 0) -E-> (0, 1): the time limit cuts the third step.
    states, tr = run_actions(env, params, [N, N, E, N])
    path = [cell_state(2, 0), cell_state(1, 0), cell_state(0, 0), cell_state(0, 1)]
    assert [int(t.obs) for t in tr[:3]] == path[:3]
    assert [int(t.next_obs) for t in tr[:3]] == path[1:]
    assert [bool(t.truncated) for t in tr] == [False, False, True, False]
    assert not any(bool(t.terminated) for t in tr)
    assert [bool(t.done) for t in tr] == [False, False, True, False]
    # After the episode ends the wrapper stands at the reset observation...
    assert int(states[3].obs) == START_STATE
    assert int(states[3].env_state.time) == 0
    # ... and the next transition starts from it.
    assert int(tr[3].obs) == START_STATE and int(tr[3].next_obs) == cell_state(1, 0)
    stats = states[3].stats
    assert bool(stats.finished) and int(stats.episodes) == 1
    assert int(stats.last_length) == 3 and float(stats.last_return) == 0.0
    assert int(stats.episode_length) == 0 and float(stats.episode_return) == 0.0
    assert not bool(states[4].stats.finished) and int(states[4].stats.episode_length) == 1


@pytest.mark.parametrize("cached", [False, True])
def test_terminated_step_in_the_exit(cached):
    env = AutoReset(Maze(), cached_reset=cached)
    params = env.default_params.replace(start_state=cell_state(0, 2))
    states, tr = run_actions(env, params, [E, N, E])
    # Arriving in the exit pays +1 and ends the episode; the next step starts over.
    assert [float(t.reward) for t in tr] == [1.0, 0.0, 1.0]
    assert [bool(t.terminated) for t in tr] == [True, False, True]
    assert not any(bool(t.truncated) for t in tr)
    assert int(tr[0].obs) == cell_state(0, 2) and int(tr[0].next_obs) == GREEN_STATE
    assert int(states[1].obs) == cell_state(0, 2)  # reset
    assert int(tr[1].obs) == cell_state(0, 2) and int(tr[1].next_obs) == cell_state(0, 2)
    stats = states[3].stats
    assert float(stats.last_return) == 1.0 and int(stats.last_length) == 2
    assert bool(stats.finished) and int(stats.episodes) == 2


def test_episode_statistics_by_hand():
    # From (1, 2) east into the red trap (-1 on arrival), then stuck there paying -1 until
    # the limit of 4; then again from (1, 2).
    env = AutoReset(Maze())
    params = env.default_params.replace(start_state=cell_state(1, 2), max_steps_in_episode=4)
    states, tr = run_actions(env, params, [E, W, S, N, E, E])
    assert [float(t.reward) for t in tr] == [-1.0] * 6
    assert [int(t.next_obs) for t in tr[:4]] == [RED_STATE] * 4
    assert [bool(t.truncated) for t in tr] == [False, False, False, True, False, False]
    returns = [float(s.stats.episode_return) for s in states[1:]]
    lengths = [int(s.stats.episode_length) for s in states[1:]]
    assert returns == [-1.0, -2.0, -3.0, 0.0, -1.0, -2.0]
    assert lengths == [1, 2, 3, 0, 1, 2]
    last = states[-1].stats
    assert float(last.last_return) == -4.0 and int(last.last_length) == 4
    assert int(last.episodes) == 1 and not bool(last.finished)
    assert [bool(s.stats.finished) for s in states[1:]] == [False, False, False, True, False, False]


def test_wrapper_agrees_with_gymnax_step():
    """Same keys: the wrapper's transitions are gymnax's, final observations included."""
    raw, params = make("CartPole-v1", max_steps_in_episode=20)
    env = AutoReset(raw)
    key = jax.random.key(3)
    keys = jax.random.split(key, 60)
    actions = jax.random.randint(jax.random.key(4), (60,), 0, 2)

    def raw_rollout(key):
        obs, state = raw.reset(key, params)

        def body(carry, inputs):
            obs, state = carry
            k, a = inputs
            next_obs, state, reward, term, trunc, info = raw.step(k, state, a, params)
            return (next_obs, state), (obs, info["final_observation"], reward, term, trunc)

        return jax.lax.scan(body, (obs, state), (keys, actions))[1]

    def wrapped_rollout(key):
        _, state = env.reset(key, params)

        def body(state, inputs):
            return env.step(*inputs[:1], state, inputs[1], params)

        return jax.lax.scan(body, state, (keys, actions))[1]

    obs, final, reward, term, trunc = jax.jit(raw_rollout)(key)
    tr = jax.jit(wrapped_rollout)(key)
    chex.assert_trees_all_equal(
        (tr.obs, tr.next_obs, tr.reward, tr.terminated, tr.truncated),
        (obs, final, reward, term, trunc),
    )
    assert bool(tr.done.any())  # the rollout crossed episode ends


def test_cached_reset_restarts_from_the_first_start():
    env = AutoReset(Maze(), cached_reset=True)
    params = env.default_params.replace(start_state=RANDOM_START, max_steps_in_episode=2)
    obs, state = env.batch_reset(jax.random.key(0), params, num_envs=16)
    step = jax.jit(env.batch_step)
    for i in range(6):
        state, tr = step(jax.random.key(i), state, jnp.full(16, i % 4), params)
        if i % 2 == 1:  # every second step ends an episode by truncation
            assert bool(tr.truncated.all())
            np.testing.assert_array_equal(state.obs, obs)
    assert len(set(np.asarray(obs).tolist())) > 1  # the starts differ across environments


def test_lecture_policy_leaves_the_maze():
    """The slides' greedy policy walks from (2, 0) to the exit in 5 moves."""
    _, policy = maze_tables.lecture_tables(iterations=(0, 100))
    env = AutoReset(make("Maze")[0])
    params = env.default_params
    _, state = env.reset(jax.random.key(0), params)
    for i in range(5):
        state, tr = env.step(jax.random.key(i), state, int(policy[int(state.obs)]), params)
    assert bool(tr.terminated) and int(tr.next_obs) == GREEN_STATE
    assert float(state.stats.last_return) == 1.0 and int(state.stats.last_length) == 5


def test_action_outside_the_space_is_rejected():
    env = AutoReset(Maze())
    _, state = env.reset(jax.random.key(0))
    for bad in (4, -1, 1.5):
        with pytest.raises(ValueError, match="outside the action space"):
            env.step(jax.random.key(1), state, bad)
    with pytest.raises(ValueError, match="action must be an integer"):
        env.step(jax.random.key(1), state, "N")
    _, batch = env.batch_reset(jax.random.key(0), num_envs=3)
    with pytest.raises(ValueError, match="outside the action space"):
        env.batch_step(jax.random.key(1), batch, jnp.array([0, 1, 9]))


# -- every wrapped environment: copies, jit, vmap, shapes ----------------------------------


@pytest.mark.parametrize("cached", [False, True])
@pytest.mark.parametrize("name", WRAPPED_ENVS)
def test_wrapped_env_survives_copy_and_pickle(name, cached):
    env = AutoReset(make(name)[0], cached_reset=cached)
    params = env.default_params
    clones = (copy.deepcopy(env), copy.copy(env), pickle.loads(pickle.dumps(env)))
    for clone in clones:
        assert isinstance(clone, AutoReset) and clone.cached_reset == cached
        assert type(clone.env) is type(env.env) and clone.name == env.name
        assert clone.default_params == params
        assert pickle.loads(pickle.dumps(params)) == params
    # The unpickled wrapper resets and steps exactly like the original. (Each copy has
    # its own environment object, hence its own compiled step: only one is run here.)
    clone = clones[-1]
    obs, state = env.reset(jax.random.key(0), params)
    chex.assert_trees_all_equal(clone.reset(jax.random.key(0), params), (obs, state))
    action = env.action_space(params).sample(jax.random.key(1))
    chex.assert_trees_all_equal(
        clone.step(jax.random.key(2), state, action, params),
        env.step(jax.random.key(2), state, action, params),
    )
    restored = pickle.loads(pickle.dumps(jax.tree.map(np.asarray, state)))
    chex.assert_trees_all_equal(restored, jax.tree.map(np.asarray, state))


@pytest.mark.parametrize("name", WRAPPED_ENVS)
def test_wrapped_env_jits_and_vmaps(name):
    num_envs, num_steps = 5, 4
    env = AutoReset(make(name)[0])
    params = env.default_params
    obs_space, action_space = env.observation_space(params), env.action_space(params)

    @jax.jit
    def rollout(key):
        key_reset, key_loop = jax.random.split(key)
        # vmap over environments by hand ...
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(
            jax.random.split(key_reset, num_envs), params
        )

        def body(state, key):
            key_action, key_step = jax.random.split(key)
            actions = jax.vmap(action_space.sample)(jax.random.split(key_action, num_envs))
            # ... or with batch_step, which splits the key and vmaps for us.
            return env.batch_step(key_step, state, actions, params)

        state, transitions = jax.lax.scan(body, state, jax.random.split(key_loop, num_steps))
        return obs, state, transitions

    obs, state, tr = rollout(jax.random.key(0))
    obs_shape = tuple(obs_space.shape)
    chex.assert_shape(obs, (num_envs, *obs_shape))
    chex.assert_shape([tr.obs, tr.next_obs], (num_steps, num_envs, *obs_shape))
    chex.assert_shape([tr.reward, tr.terminated, tr.truncated], (num_steps, num_envs))
    chex.assert_type([tr.terminated, tr.truncated, state.stats.finished], bool)
    chex.assert_type([tr.reward, state.stats.episode_return], jnp.float32)
    chex.assert_type(state.stats.episode_length, jnp.int32)
    if isinstance(obs_space, spaces.Discrete):
        chex.assert_type([obs, tr.obs, tr.next_obs], jnp.int32)
    else:
        chex.assert_type([obs, tr.obs, tr.next_obs], jnp.float32)
    chex.assert_tree_all_finite((tr.reward, state.stats))
    contains = jax.vmap(obs_space.contains)
    assert bool(contains(obs).all())
    assert bool(contains(tr.obs.reshape(-1, *obs_shape)).all())
    assert bool(contains(tr.next_obs.reshape(-1, *obs_shape)).all())
    assert isinstance(tr, Transition) and isinstance(state, WrapperState)
    assert isinstance(state.stats, EpisodeStats)
    # Consecutive transitions chain: next_obs of a step is obs of the next unless it ended.
    carried = ~np.asarray(tr.done[:-1])
    np.testing.assert_array_equal(
        np.asarray(tr.next_obs[:-1])[carried], np.asarray(tr.obs[1:])[carried]
    )


def _imported_modules(path) -> set[str]:
    """Every module a source file imports, at the top or inside a function."""
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_envs_sit_below_the_learners():
    """jaxrl.envs imports neither the planners and tabular learners nor the deep ones."""
    from pathlib import Path

    files = sorted((Path(jaxrl.__file__).parent / "envs").glob("*.py"))
    assert len(files) > 5
    for path in files:
        above = {name for name in _imported_modules(path)
                 if name.split(".")[:2] in (["jaxrl", "tabular"], ["jaxrl", "deep"])}
        assert not above, f"{path.name} imports {sorted(above)}"


def test_course_step_is_the_shared_auto_reset_on_the_whole_key():
    """The pendulums' step is ``auto_reset_step`` with the reset drawn from the unsplit key."""
    from jaxrl.envs.wrappers import auto_reset_step

    for name in ("Pendulum", "DiscretePendulum", "HybridPendulum"):
        env, params = make(name, max_steps_in_episode=1)  # every step ends the episode
        _, state = env.reset(jax.random.key(0), params)
        key = jax.random.key(1)
        action = env.action_space(params).sample(jax.random.key(2))
        got = env.step(key, state, action, params)

        @jax.jit  # compiled as the step is: the same XLA program, the same floats
        def shared(key, state, action, params, env=env):
            return auto_reset_step(env, key, state, action, params,
                                   lambda: env.reset_env(key, params))

        chex.assert_trees_all_equal(got, shared(key, state, action, params))
        chex.assert_trees_all_equal(got[:2], jax.jit(env.reset_env)(key, params))
