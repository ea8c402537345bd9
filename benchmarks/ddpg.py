"""DDPG and TD3 (jaxrl.deep.ddpg): returns on Pendulum-v1 and the course's pendulum,
steps per second, and rejax's TD3 side by side.

One config for all seeds (printed), no per-seed tuning:

* **Pendulum-v1** (gymnax): final greedy return (mean of 16 episodes per seed; mean,
  min, max over 16 seeds) at 10k and 20k steps, DDPG (``DDPGConfig()``) and TD3
  (``td3_config()``, the same config with TD3's three switches on).
  Goal: DDPG mean >= -170 at 20k (RL Zoo's tuned DDPG: -152 +- 94 at 20k).
* **Course Pendulum** (``[cos q, sin q, v]``, 100-step episodes, trained from random
  starts, ``COURSE_DDPG``: σ 0.2, step sizes decaying to 1e-5): greedy return from
  random starts and from hanging at rest (q = π, v = 0; u = 0 gives -49.4), and the
  swing-up criterion |q| < 0.1 rad over the last 20 of 100 steps from hanging at rest.
  Goal: >= 14 of 16 seeds.
* **Speed and rejax**: rejax's TD3 on its own Pendulum-v1 config
  (``../shared/peers/rejax_bench.py --preset td3_pendulum``: 64-64 swish, 1 env, batch
  100, buffer 10k, 1000 random steps, lr 1e-3, polyak 0.95 (τ = 0.05), noise 0.3, target
  noise 0.2 clipped 0.5 (absolute on ±2: 0.15, 0.1, 0.25 of the half-range here),
  policy delay 2, 10k steps) and jaxrl's TD3 on the same numbers, with the same
  evaluation budget (128 greedy episodes every 100 steps, timed inside the run) and
  with a final evaluation only; env steps per second at 1, 16 and 128 seeds.
  Goal: >= 3x rejax's steps/s at 1 and 16 seeds. rejax normalises observations
  (its config's ``normalize_observations``); jaxrl does not. rejax runs in its own
  venv (``.venv-rejax``, ``../shared/peers/README.md``), as a subprocess after jaxrl's
  runs; without that venv its columns are skipped with a note.

Run: ``.venv/bin/python benchmarks/ddpg.py`` (``--quick``: a smoke run in seconds).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from jaxrl.deep import ddpg  # noqa: E402
from jaxrl.presets import preset  # noqa: E402

#: The course pendulum's training budget (the practical: 1000 episodes x 100 steps = 100k).
COURSE_STEPS = 100_000
REJAX_PYTHON, REJAX_BENCH = common.rejax_paths()

#: rejax's td3_pendulum preset, in jaxrl's terms (noise scales relative to the ±2 range).
REJAX_TD3 = ddpg.td3_config(
    env="Pendulum-v1", total_steps=10_000, num_envs=1, buffer_size=10_000, batch_size=100,
    learning_starts=1_000, hidden_sizes=(64, 64), activation="swish", final_scale=0.0,
    actor_learning_rate=1e-3, critic_learning_rate=1e-3, gamma=0.99, tau=0.05,
    exploration_noise=0.15,
    target_noise=0.1, target_noise_clip=0.25, max_grad_norm=None, eval_every=100,
    eval_episodes=128,
)

#: DDPG on the course's pendulum (the DDPG practical's [cos q, sin q, v] observations):
#: jaxrl.presets' ddpg/Pendulum (`jaxrl train ddpg --env Pendulum`), DDPGConfig() with
#: σ 0.2 and both step sizes decaying to 1e-5, found on tuning seeds (keys 1000 and 2000,
#: 8 each, 100k steps; the benchmark uses key 0). Holding upright within 0.1 rad: 4 of 8
#: tuning seeds with DDPGConfig(), 12 of 16 with these (σ 0.2 without the decay: 3 of 8;
#: the decay with σ 0.1: 3 of 8, with σ 0.3: 4 of 8; γ 0.98 or 0.97: 3 of 8; reward x10:
#: 3 of 8; hidden 128-128: 4 of 8; the course's τ 0.01 and actor step 1e-4: 2 of 8; TD3's
#: three switches on these settings: 1 of 16; 2 updates per step: 5 of 8).
COURSE_DDPG = preset("ddpg", "Pendulum")[0]


def pendulum_v1(seeds: int, steps: int, quick: bool) -> tuple[list, dict]:
    """DDPG and TD3 on Pendulum-v1: greedy return at steps/2 and steps."""
    rows, out = [], {}
    algos = (("DDPG", ddpg.DDPGConfig()), ("TD3", ddpg.td3_config()))
    for name, config in algos[:1] if quick else algos:
        config = config.replace(total_steps=steps, eval_every=steps // 2,
                                buffer_size=max(steps, config.batch_size))
        if quick:
            config = config.replace(learning_starts=100, eval_episodes=2)
        result = ddpg.run(config, jax.random.split(jax.random.key(0), seeds))
        returns = np.asarray(result.curve.eval_return).mean(-1)  # [seeds, 3]
        steps_at = np.asarray(result.curve.env_steps[0])
        out[name] = {"config": _config_dict(config), "compile_s": result.compile_s,
                     "wall_s": result.wall_s}
        for j in (1, 2):
            s = common.stats(returns[:, j])
            out[name][f"return_at_{int(steps_at[j])}"] = s
            rows.append([name, int(steps_at[j]), s["mean"], s["min"], s["max"]])
    return rows, out


def course_pendulum(seeds: int, steps: int, quick: bool) -> tuple[list, dict]:
    """DDPG on the course's pendulum: random starts, hanging at rest, swing-up count."""
    config = COURSE_DDPG.replace(total_steps=steps, eval_every=steps, buffer_size=steps)
    if quick:
        config = config.replace(learning_starts=100, eval_episodes=2)
    result = ddpg.run(config, jax.random.split(jax.random.key(0), seeds))
    setup = ddpg.make(config)
    env, env_params = setup.env, setup.env_params
    start = env.env.reset_env(jax.random.key(0), env_params)[1].replace(
        q=jnp.asarray(jnp.pi, jnp.float32), v=jnp.asarray(0.0, jnp.float32))

    def from_hanging(actor_params):
        states, rewards = ddpg.greedy_rollout(setup, actor_params, start, 100)
        return states.q, rewards.sum()

    q, hang_return = jax.jit(jax.vmap(from_hanging))(result.state.actor_params)
    q = np.asarray(q)
    swung = np.all(np.abs(q[:, -20:]) < 0.1, axis=1)
    random_start = np.asarray(result.curve.final_return)
    out = {"config": _config_dict(config), "steps": steps,
           "return_random_starts": common.stats(random_start),
           "return_from_hanging": common.stats(hang_return),
           "swing_up_seeds": int(swung.sum()), "seeds": seeds,
           "max_abs_q_last_20_per_seed": [round(float(v), 3)
                                          for v in np.abs(q[:, -20:]).max(1)],
           "compile_s": result.compile_s, "wall_s": result.wall_s}
    rows = [["random starts", steps, *[out["return_random_starts"][k]
                                       for k in ("mean", "min", "max")], ""],
            ["hanging at rest", steps, *[out["return_from_hanging"][k]
                                         for k in ("mean", "min", "max")],
             f"{int(swung.sum())}/{seeds}"]]
    return rows, out


def jaxrl_speed(config, seeds: int, final_only: bool) -> dict:
    """jaxrl's TD3 on ``config``: compile and run time, env steps/s (one run)."""
    if final_only:
        config = config.replace(eval_every=config.total_steps)
    result = ddpg.run(config, jax.random.split(jax.random.key(0), seeds))
    steps = seeds * result.env_steps
    return {"seeds": seeds, "compile_s": result.compile_s, "run_s": result.wall_s,
            "steps_per_s": steps / result.wall_s,
            "final_return": common.stats(result.curve.final_return)}


def rejax_speed(seeds: int, final_only: bool) -> dict | None:
    """rejax's TD3 preset in its own venv (one fresh process), or None without it."""
    if not REJAX_PYTHON.exists() or not REJAX_BENCH.exists():
        return None
    cmd = [str(REJAX_PYTHON), str(REJAX_BENCH), "--preset", "td3_pendulum",
           "--num-seeds", str(seeds), "--reps", "1"]
    if final_only:
        cmd += ["--eval", "final-only"]
    rec = common.peer_record(cmd)
    if "error" in rec:
        return rec
    return {"seeds": seeds, "compile_s": rec["lower_plus_compile_s"],
            "run_s": rec["run_s_median"], "steps_per_s": rec["env_steps_per_s"],
            "final_return": {"mean": rec["final_return_mean"], "min": rec["final_return_min"],
                             "max": rec["final_return_max"],
                             "per_seed": rec["final_return_per_seed"]}}


def speed_bound(config, speed: list, quick: bool) -> list:
    """How much faster than rejax any implementation of this config could be here.

    The same run with 8-wide hidden layers instead of 64 keeps every other cost
    (environment, replay, optimiser bookkeeping, loop); the difference in time per step
    is what the 64-wide dense layers cost at least, work rejax's TD3 does too. rejax's
    time per step divided by it bounds any speed-up from the rest of the code.
    """
    rows = []
    print("\nTD3 speed-up bound (final evaluation only): time per env step with 64-wide "
          "and 8-wide hidden layers")
    for record in speed:
        final_only = record["mode"] == "final eval only"
        if (not final_only and not quick) or record["seeds"] == 128:
            continue  # --quick has no final-only runs: it checks the code on the other
        n = record["seeds"]
        narrow = jaxrl_speed(config.replace(hidden_sizes=(8, 8)), n, final_only)
        wide_us = 1e6 * n / record["jaxrl"]["steps_per_s"]
        narrow_us = 1e6 * n / narrow["steps_per_s"]
        peer = record["rejax"]
        rejax_us = (1e6 * n / peer["steps_per_s"]
                    if peer and "error" not in peer else None)
        bound = None if rejax_us is None else rejax_us / max(wide_us - narrow_us, 1e-9)
        rows.append({"seeds": n, "us_per_step_64": wide_us, "us_per_step_8": narrow_us,
                     "dense_share": (wide_us - narrow_us) / wide_us,
                     "rejax_us_per_step": rejax_us, "max_speedup_vs_rejax": bound})
    print(common.format_table(
        ["seeds", "µs/step 64-wide", "µs/step 8-wide", "dense layers' share",
         "rejax µs/step", "max speed-up"],
        [[r["seeds"], r["us_per_step_64"], r["us_per_step_8"], f"{r['dense_share']:.0%}",
          r["rejax_us_per_step"] or "(no rejax)", r["max_speedup_vs_rejax"] or ""]
         for r in rows]))
    return rows


def _config_dict(config) -> dict:
    return {k: (v if isinstance(v, int | float | str | bool | tuple | type(None))
                else float(v)) for k, v in vars(config).items()}


def main() -> None:
    args = common.parser("ddpg", __doc__.splitlines()[0]).parse_args()
    quick = args.quick
    seeds = 2 if quick else 16
    results: dict = {"device_note": "CPU; timings on a machine shared with other jobs"}
    print(f"device: {common.device_info()}")

    rows, results["pendulum_v1"] = pendulum_v1(seeds, 400 if quick else 20_000, quick)
    print("\nPendulum-v1: final greedy return (16 episodes per seed), over seeds; "
          "DDPGConfig() / td3_config()")
    print(common.format_table(["algo", "steps", "mean", "min", "max"], rows))

    rows, results["course_pendulum"] = course_pendulum(seeds, 400 if quick else COURSE_STEPS, quick)
    print("\nCourse Pendulum ([cos q, sin q, v], 100-step episodes; u = 0 from hanging: "
          "-49.4), DDPG (COURSE_DDPG); swing-up: |q| < 0.1 over the last 20 of 100 steps")
    print(common.format_table(["start", "steps", "mean", "min", "max", "swing-up"], rows))

    # speed: rejax's config, rejax's evaluation budget, then a final evaluation only
    config = REJAX_TD3
    if quick:
        config = config.replace(total_steps=200, learning_starts=100, eval_every=100,
                                eval_episodes=4)
    speed_rows, results["speed"] = [], []
    counts = (1,) if quick else (1, 16, 128)
    for final_only in (False,) if quick else (False, True):
        for n in counts:
            if n == 128 and not final_only:
                continue  # 128 x 128 evaluation episodes every 100 steps: not a speed test
            cfg = config
            if n == 128:
                cfg = config.replace(total_steps=3_000)  # same per-step work, fewer steps
            ours = jaxrl_speed(cfg, n, final_only)
            peer = None if quick or n == 128 else rejax_speed(n, final_only)
            mode = "final eval only" if final_only else "eval 128 eps / 100 steps"
            record = {"mode": mode, "seeds": n, "total_steps": cfg.total_steps,
                      "jaxrl": ours, "rejax": peer}
            results["speed"].append(record)
            if peer is None:
                peer_cols = ["(no rejax)", "", ""]
            elif "error" in peer:
                peer_cols = ["(rejax failed)", "", ""]
            else:
                peer_cols = [peer["steps_per_s"], peer["final_return"]["mean"],
                             ours["steps_per_s"] / peer["steps_per_s"]]
            speed_rows.append([mode, n, ours["steps_per_s"], ours["final_return"]["mean"],
                               *peer_cols])
            print(f"  {mode}, {n} seed(s): jaxrl {ours['steps_per_s']:.0f} steps/s"
                  + (f", rejax {peer['steps_per_s']:.0f}" if peer and "error" not in peer
                     else ""), flush=True)
    print("\nTD3 on rejax's Pendulum-v1 config (10k steps; 128 seeds: 3k), env steps/s "
          "(all seeds), final greedy return mean")
    print(common.format_table(["evaluation", "seeds", "jaxrl steps/s", "jaxrl return",
                               "rejax steps/s", "rejax return", "speed-up"], speed_rows))
    if not REJAX_PYTHON.exists():
        print(f"note: {REJAX_PYTHON} not found: rejax columns skipped "
              "(see ../shared/peers/README.md)")

    results["speed_bound"] = speed_bound(config, results["speed"], quick)

    # goals
    ddpg20 = results["pendulum_v1"]["DDPG"].get(f"return_at_{20_000}", {}).get("mean")
    swing = results["course_pendulum"]["swing_up_seeds"]
    ups = [r["jaxrl"]["steps_per_s"] / r["rejax"]["steps_per_s"] for r in results["speed"]
           if r["rejax"] and "error" not in r["rejax"] and r["mode"].startswith("eval")]
    goals = {
        "pendulum_v1_ddpg_20k_mean_ge_-170": None if ddpg20 is None else ddpg20 >= -170,
        "course_swing_up_ge_14_of_16": swing >= 14 if seeds == 16 else None,
        "speed_ge_3x_rejax_at_1_and_16": (all(u >= 3 for u in ups) if len(ups) == 2
                                          else None),
    }
    results["goals"] = goals
    print("\nGoals:")
    for name, met in goals.items():
        print(f"  {name}: {'met' if met else 'missed' if met is not None else 'not measured'}")
    results["elapsed"] = time.strftime("%H:%M:%S")
    common.write_json(args.out, "ddpg", results, quick)


if __name__ == "__main__":
    main()
