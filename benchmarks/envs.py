"""Random-policy environment steps per second: our environments against gymnax's.

For each environment and each width (number of parallel environments), one jitted
``lax.scan`` of random-action steps, ``vmap``-ed over the environments, is compiled
(timed apart) and then timed. Three ways to step:

* ``env.step``: each environment's own auto-resetting ``step`` (gymnax's, or the course
  environments' ``CourseEnvironment.step``, on ``jaxrl.envs.wrappers.auto_reset_step``);
* ``AutoReset``: our wrapper (:mod:`jaxrl.envs.wrappers`), which also builds the
  ``Transition`` and the episode statistics;
* ``AutoReset cached``: the wrapper's cached-reset mode (no fresh reset per step).

Goal: our pendulums at least as fast as gymnax's ``Pendulum-v1`` at every width
(``env.step`` column).

    .venv/bin/python benchmarks/envs.py            # widths 1, 64, 4096
    .venv/bin/python benchmarks/envs.py --quick    # smoke run: widths 1 and 64, few steps
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import format_table, parser, timeit_interleaved, write_json  # noqa: E402

from jaxrl.envs.registry import make  # noqa: E402
from jaxrl.envs.wrappers import AutoReset  # noqa: E402

OURS = ("Pendulum", "DiscretePendulum", "HybridPendulum", "Maze")
PEERS = ("Pendulum-v1", "CartPole-v1")
OUR_PENDULUMS = ("Pendulum", "DiscretePendulum", "HybridPendulum")
BASELINE = "Pendulum-v1"
MODES = ("env.step", "AutoReset", "AutoReset cached")
#: Steps per scan, by width: about the same work per measurement at every width.
STEPS = {1: 20_000, 64: 4_000, 4096: 500}
QUICK_STEPS = {1: 200, 64: 100}


def rollout(env: Any, params: Any, num_envs: int, num_steps: int, mode: str):
    """A function ``key -> final carry`` running ``num_steps`` random steps of ``num_envs``."""
    space = env.action_space(params)

    def actions(key: jax.Array) -> jax.Array:
        return jax.vmap(space.sample)(jax.random.split(key, num_envs))

    if mode == "env.step":
        vreset = jax.vmap(env.reset, in_axes=(0, None))
        vstep = jax.vmap(env.step, in_axes=(0, 0, 0, None))

        def run(key: jax.Array):
            key_reset, key_loop = jax.random.split(key)
            obs, state = vreset(jax.random.split(key_reset, num_envs), params)

            def body(carry, key):
                obs, state, total = carry
                key_action, key_step = jax.random.split(key)
                step_keys = jax.random.split(key_step, num_envs)
                obs, state, reward, *_ = vstep(step_keys, state, actions(key_action), params)
                return (obs, state, total + reward), None

            init = (obs, state, jnp.zeros(num_envs, jnp.float32))
            keys = jax.random.split(key_loop, num_steps)
            return jax.lax.scan(body, init, keys)[0]

    else:
        wrapped = AutoReset(env, cached_reset=mode == "AutoReset cached")

        def run(key: jax.Array):
            key_reset, key_loop = jax.random.split(key)
            _, state = wrapped.batch_reset(key_reset, params, num_envs)

            def body(state, key):
                key_action, key_step = jax.random.split(key)
                state, _ = wrapped.batch_step(key_step, state, actions(key_action), params)
                return state, None

            keys = jax.random.split(key_loop, num_steps)
            return jax.lax.scan(body, state, keys)[0]

    return run


def measure_width(names: list[str], modes_of: Any, num_envs: int, num_steps: int,
                  repeats: int) -> list[dict]:
    """Compile every (env, mode) rollout at one width, then time them in turns (best of
    ``repeats`` rounds), so that load drift on a shared machine hits all of them alike;
    steps per second over all environments."""
    key = jax.random.key(0)
    compiled, compile_s = {}, {}
    for name in names:
        env, params = make(name)
        for mode in modes_of(num_envs):
            start = time.perf_counter()
            fn = jax.jit(rollout(env, params, num_envs, num_steps, mode)).lower(key).compile()
            compile_s[(name, mode)] = time.perf_counter() - start
            compiled[(name, mode)] = fn
    best = timeit_interleaved(
        {f"{name}|{mode}": (lambda fn=fn: fn(key)) for (name, mode), fn in compiled.items()},
        repeats=repeats,
    )
    return [
        {
            "env": name,
            "width": num_envs,
            "mode": mode,
            "steps": num_steps,
            "compile_s": compile_s[(name, mode)],
            "run_s": best[f"{name}|{mode}"],
            "steps_per_s": num_envs * num_steps / best[f"{name}|{mode}"],
        }
        for (name, mode) in compiled
    ]


def main() -> None:
    """Run the benchmark, print the table and the goal, write JSON."""
    p = parser("envs", __doc__.splitlines()[0])
    p.add_argument("--widths", type=int, nargs="+", help="numbers of parallel environments")
    p.add_argument("--repeats", type=int, default=None, help="timed calls (best kept)")
    args = p.parse_args()
    steps = QUICK_STEPS if args.quick else STEPS
    widths = args.widths or list(steps)
    repeats = args.repeats or (1 if args.quick else 7)

    def modes_of(width: int) -> tuple[str, ...]:
        # --quick compiles the wrapper's two modes at the widest width only.
        return MODES if not args.quick or width == max(widths) else MODES[:1]

    results = []
    for width in widths:
        num_steps = steps.get(width, max(100, 20_000 // width))
        for r in measure_width(OURS + PEERS, modes_of, width, num_steps, repeats):
            results.append(r)
            print(f"  {r['env']:>16} x{width:<5} {r['mode']:<17} "
                  f"{r['steps_per_s']:>12,.0f} steps/s", file=sys.stderr)

    rate = {(r["env"], r["width"], r["mode"]): r["steps_per_s"] for r in results}

    def ratio(num: tuple, den: tuple) -> str:
        return f"{rate[num] / rate[den]:.2f}x" if num in rate and den in rate else "-"

    headers = ["env", "width", *(f"{m} steps/s" for m in MODES), "cached/plain",
               f"vs {BASELINE}"]
    rows = []
    for name in OURS + PEERS:
        for width in widths:
            rows.append([
                name, width,
                *(f"{rate[name, width, m]:,.0f}" if (name, width, m) in rate else "-"
                  for m in MODES),
                ratio((name, width, "AutoReset cached"), (name, width, "AutoReset")),
                ratio((name, width, "env.step"), (BASELINE, width, "env.step")),
            ])
    goal = {
        f"{name}@{width}": rate[name, width, "env.step"] / rate[BASELINE, width, "env.step"]
        for name in OUR_PENDULUMS for width in widths
    }
    met = all(ratio >= 1.0 for ratio in goal.values())
    print(format_table(headers, rows))
    print(f"\nGoal (our pendulums' env.step at least as fast as {BASELINE} at every width): "
          f"{'met' if met else 'NOT met'}; slowest ratio "
          f"{min(goal.values()):.3f}x ({min(goal, key=goal.get)})")
    write_json(args.out, "envs", {"results": results, "goal": {"ratios": goal, "met": met}},
               args.quick)


if __name__ == "__main__":
    main()
