"""``jaxrl eval``, ``render``, ``plan``, ``maze`` and ``list``: using what was trained,
planning with a known model, and what the library ships."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from jaxrl.cli.errors import UsageError, closest


def _load(run: Path) -> Any:
    from jaxrl import runs

    try:
        return runs.load(run)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _int(flag: str, text: str | None, minimum: int, default: int | None = None) -> int | None:
    from jaxrl.cli.fields import ConfigError, parse

    if text is None:
        return default
    try:
        value = parse(flag, int, text)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    if value < minimum:
        raise UsageError(f"{flag} must be >= {minimum}, got {value}")
    return value


def _info(run: Path) -> dict[str, Any]:
    """The run's ``config.json`` (cheap: read before the run is loaded)."""
    from jaxrl import runs

    try:
        return runs.read_info(run)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _seed(info: dict[str, Any], text: str | None) -> int | None:
    seed = _int("--seed-index", text, 0)
    if seed is not None and seed >= info["seeds"]:
        raise UsageError(f"--seed-index {seed}: the run has seeds 0 to {info['seeds'] - 1}")
    return seed


def command_eval(args: argparse.Namespace) -> int:
    """Greedy returns per seed of a trained run, ``--episodes`` fresh episodes each."""
    import jax
    import numpy as np

    from jaxrl import driver

    episodes = _int("--episodes", args.episodes, 1)
    seed = _seed(_info(args.run), args.seed)
    loaded = _load(args.run)
    algo, config = loaded.algorithm, loaded.config
    setup = algo.make(config)
    seeds = range(loaded.info["seeds"]) if seed is None else [seed]

    def one(state, key):
        return driver.greedy_episodes(
            setup.env, setup.env_params, episodes,
            lambda obs: algo.greedy_action(setup, config, state, obs), key)

    states = jax.tree.map(lambda x: x[np.asarray(list(seeds))], loaded.state)
    keys = jax.random.split(jax.random.key(10_000), len(seeds))
    out = jax.jit(jax.vmap(one))(states, keys)
    returns = np.asarray(out["return"])
    print(f"{loaded.algo} on {config.env}: greedy return over {episodes} episode(s) per "
          f"seed{'' if loaded.complete else ' (an interrupted run: its last checkpoint)'}")
    for s, r in zip(seeds, returns, strict=True):
        print(f"seed {s}: mean {r.mean():.2f}  min {r.min():.2f}  max {r.max():.2f}")
    print(f"all: mean {returns.mean():.2f}")
    return 0


def command_render(args: argparse.Namespace) -> int:
    """An episode of the best (or ``--seed``) seed as a GIF, drawn by the environment's
    renderer."""
    import jax
    import numpy as np

    from jaxrl.cli.paths import check_output_file
    from jaxrl.envs.registry import make, renderer
    from jaxrl.envs.rendering import FORMATS, save_gif

    # every input checked before the run is loaded (nothing compiled, nothing written)
    out = check_output_file("--out", args.out, FORMATS)
    info = _info(args.run)
    seed = _seed(info, args.seed)
    asked = _int("--steps", args.steps, 1)
    if renderer(make(info["env"])[0]) is None:
        raise UsageError(f"{info['env']} has no renderer (drawn: Maze, Pendulum, "
                         "DiscretePendulum, HybridPendulum, Pendulum-v1, CartPole-v1)")
    loaded = _load(args.run)
    algo, config = loaded.algorithm, loaded.config
    setup = algo.make(config)
    draw = renderer(setup.env)
    steps = asked or getattr(setup.env_params, "max_steps_in_episode", 500)
    state = loaded.seed_state(seed)
    env, params = setup.env.env, setup.env_params
    obs, env_state = env.reset(jax.random.key(0), params)
    step = jax.jit(lambda k, s, a: env.step(k, s, a, params))
    act = jax.jit(lambda o: algo.greedy_action(
        setup, config, state, jax.tree.map(lambda x: x[None], o))[0])
    frames, total, key = [draw(env_state, params)], 0.0, jax.random.key(1)
    for _ in range(steps):
        key, k = jax.random.split(key)
        obs, env_state, reward, terminated, truncated, _ = step(k, env_state, act(obs))
        total += float(reward)
        if bool(terminated) or bool(truncated):
            break
        frames.append(draw(env_state, params))
    try:  # checked above; a folder that changed since is still one line
        save_gif(out, [np.asarray(f) for f in frames])
    except OSError as error:
        raise UsageError(f"--out {out}: cannot write it ({error.strerror or error})") from None
    which = loaded.best if seed is None else seed
    print(f"wrote {out}: {len(frames)} frames of seed {which}, return {total:.2f}")
    return 0


def command_plan(args: argparse.Namespace) -> int:
    """Value and policy iteration on an environment with an exact model: V and π."""
    import numpy as np

    from jaxrl.envs.registry import make, registered_envs
    from jaxrl.envs.tabular import exact_model
    from jaxrl.tabular.planning import policy_iteration, value_iteration

    if args.env not in registered_envs():
        raise UsageError(f"unknown environment {args.env!r}"
                         f"{closest(args.env, registered_envs())}")
    from jaxrl.cli.fields import ConfigError, parse

    env, params = make(args.env)
    model = exact_model(env, params)
    if model is None:
        raise UsageError(f"{args.env} has no exact model to plan with (planned: Maze, "
                         "DiscretePendulum, FrozenLake-misc)")
    try:
        gamma = parse("--gamma", float, args.gamma or ("0.9" if args.env == "Maze" else
                                                       "0.99"))
    except ConfigError as error:
        raise UsageError(str(error)) from None
    if not 0.0 <= gamma < 1.0:
        raise UsageError(f"--gamma must be in [0, 1), got {gamma}")
    import jax

    wide = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", wide or args.x64)
    try:  # float64 (--x64) for this command only: the model is made again in it
        mdp = exact_model(env, params).mdp if args.x64 else model.mdp
        vi = value_iteration(mdp, gamma, tol=1e-10 if args.x64 else 1e-5)
        pi = policy_iteration(mdp, gamma)
        v, policy = np.asarray(vi.values), np.asarray(pi.policy)
        pi_values = np.asarray(pi.values)
    finally:
        jax.config.update("jax_enable_x64", wide)
    print(f"{args.env}: {v.size} states, {model.mdp.num_actions} actions, γ = {gamma}, "
          f"{v.dtype}")
    print(f"value iteration: {int(vi.iterations)} sweeps; policy iteration: "
          f"{int(pi.iterations)} improvements; max |V_vi - V_pi| = "
          f"{float(np.abs(v - pi_values).max()):.2e}")
    if args.env == "Maze":
        from jaxrl import maze_tables
        print("V* (reward form)")
        print(maze_tables.format_table(v))
        print("greedy policy (G: exit, R: trap)")
        print(maze_tables.format_policy(policy))
        return 0
    tables = plan_tables(env, params, v, policy)
    if tables is not None:
        print(tables)
        return 0
    with np.printoptions(precision=2, suppress=True, linewidth=150):
        print("V*, state by state:")
        print(v)
        print("greedy policy (action per state):")
        print(policy)
    return 0


def plan_tables(env: Any, params: Any, values: Any, policy: Any) -> str | None:
    """``V*`` and the greedy policy laid out on the environment's grid, rows and columns
    labelled: DiscretePendulum's angles and velocities (the policy as the torque it
    applies), FrozenLake's map (the policy as arrows); ``None`` for another one."""
    from gymnax.environments.misc.frozen_lake import FrozenLake

    from jaxrl.envs.discrete_pendulum import DiscretePendulum

    env = getattr(env, "env", env)
    if isinstance(env, DiscretePendulum):
        return _pendulum_tables(params, values, policy)
    if isinstance(env, FrozenLake):
        return _lake_tables(env, values, policy)
    return None


def _table(corner: str, rows: list[str], columns: list[str], cells: list[list[str]]) -> str:
    """A text table: ``corner`` and ``columns`` on the first line, then each row's label
    and cells, right-aligned."""
    width = max(len(c) for c in [*columns, *(x for row in cells for x in row)]) + 1
    left = max(len(r) for r in [corner, *rows]) + 1
    lines = [corner.ljust(left) + "".join(c.rjust(width) for c in columns)]
    lines += [label.rjust(left - 1) + " " + "".join(c.rjust(width) for c in row)
              for label, row in zip(rows, cells, strict=True)]
    return "\n".join(lines)


def _number(x: float, scale: float) -> str:
    """``x`` with 2 decimals (1 or none for tables of larger values), ``-0`` as ``0``."""
    digits = 2 if scale < 10 else 1 if scale < 100 else 0
    text = f"{x:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _pendulum_tables(params: Any, values: Any, policy: Any) -> str:
    import numpy as np

    from jaxrl.envs import discretization as d

    angles = np.degrees(np.asarray(d.d2cq(np.arange(d.NQ)), float))
    speeds = np.asarray(d.d2cv(np.arange(d.NV)), float)
    torques = np.clip(np.asarray(d.d2cu(np.arange(d.NU)), float), -params.umax, params.umax)
    v = np.asarray(values, float).reshape(d.NV, d.NQ).T  # [angle, velocity]
    pi = np.asarray(policy).reshape(d.NV, d.NQ).T
    goal = (d.GOAL % d.NQ, d.GOAL // d.NQ)
    scale = float(np.abs(v).max())
    rows, columns = [f"{a:.0f}" for a in angles], [_number(s, 10) for s in speeds]
    value_cells = [["G" if (i, j) == goal else _number(v[i, j], scale) for j in range(d.NV)]
                   for i in range(d.NQ)]
    names = [_number(t, 10).removesuffix(".0") for t in torques]  # -2, -1.1, 0, 1.1, 2
    torque_cells = [["G" if (i, j) == goal else names[pi[i, j]] for j in range(d.NV)]
                    for i in range(d.NQ)]
    where = ("rows: the angle in degrees (0 upright, -180 hanging), columns: the "
             "velocity in rad/s; G: the goal, upright at rest")
    return "\n".join([f"V* ({where})", _table("deg\\rad/s", rows, columns, value_cells),
                      f"greedy policy: the torque applied (clipped to ±{params.umax:g}; "
                      "same rows and columns)",
                      _table("deg\\rad/s", rows, columns, torque_cells)])


def _lake_tables(env: Any, values: Any, policy: Any) -> str:
    import numpy as np
    from gymnax.environments.misc.frozen_lake import GOAL, HOLE

    desc = np.asarray(env.desc)
    shape = desc.shape
    v, pi = np.asarray(values, float).reshape(shape), np.asarray(policy).reshape(shape)
    marks = {int(GOAL): "G", int(HOLE): "H"}
    scale = float(np.abs(v).max())
    rows, columns = [str(r) for r in range(shape[0])], [str(c) for c in range(shape[1])]
    value_cells = [[marks.get(int(desc[r, c])) or _number(v[r, c], scale)
                    for c in range(shape[1])] for r in range(shape[0])]
    arrows = [[marks.get(int(desc[r, c])) or "←↓→↑"[int(pi[r, c])]
               for c in range(shape[1])] for r in range(shape[0])]
    return "\n".join([f"V* on the {shape[0]}x{shape[1]} map (rows and columns of the map; "
                      "G: the goal, H: a hole)", _table("row\\col", rows, columns,
                                                        value_cells),
                      "greedy policy (the move from each cell)",
                      _table("row\\col", rows, columns, arrows)])


def command_maze(args: argparse.Namespace) -> int:
    """Print the lecture's value-iteration tables and the greedy policy."""
    from jaxrl import maze_tables

    given = args.iterations or list(maze_tables.LECTURE_ITERATIONS)
    iterations = tuple(sorted({_int("--iterations", str(n), 0) for n in given}))
    tables, policy = maze_tables.lecture_tables(iterations)
    print("Get out of the maze: value iteration, V_{n+1}(s) = min_a [c(s) + 0.9 V_n(s')]")
    print("(costs: green -1, red +1; X is the wall; V_0 = c)\n")
    for n, values in tables.items():
        print(f"Iteration {n}")
        print(maze_tables.format_table(values))
        print()
    print(f"Greedy policy after {iterations[-1]} iterations (G: exit, R: trap)")
    print(maze_tables.format_policy(policy))
    return 0


def command_list(args: argparse.Namespace) -> int:
    """The algorithms and the presets jaxrl ships."""
    from jaxrl import presets

    print("algorithms:")
    for name, learner in presets.LEARNERS.items():
        print(f"  {name:10} {learner.help}")
    print("\npresets (jaxrl train ALGO --env ENV; the first of each algorithm is its "
          "default):")
    for (algo, env), (text, _) in presets.PRESETS.items():
        print(f"  {algo:10} {env:17} {text}")
    return 0
