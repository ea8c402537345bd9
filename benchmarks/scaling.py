"""Scaling: what a seed of training costs as the seeds grow, from 1 to 1024 in one run.

For 1, 4, 16, 64, 256 and 1024 seeds (``--max-seeds`` caps them) of

* DQN on CartPole-v1, the default preset (``jaxrl.presets.preset("dqn", "CartPole-v1")``,
  ``DQNConfig()``: 10 envs, 5 gradient steps of batch 100 per call, (128, 128) layers),
* DDPG on Pendulum-v1, the default preset (``preset("ddpg", "Pendulum-v1")``,
  ``DDPGConfig()``: 1 env, 1 gradient step of batch 128 per env step, (64, 64) layers),

one ``algo.run(config, jax.random.split(jax.random.key(0), n))`` each (the driver splits
the seeds over every device; on a CPU, one XLA device per core, ``use_cpu_cores``), and
its wall time (compile apart; both recorded): seconds per seed and env steps per second.
A point whose runs last under 10 s in all is run three times and its fastest kept.

Each seed has a short fixed budget (``BUDGETS``; printed and in the JSON) on which
gradient steps dominate, so that the time is what training costs: ``total_steps`` cut,
``learning_starts`` cut to a tenth of it, the replay memory as large as the run (its
capacity costs memory, not time per step), and a single evaluation at the end of one
greedy episode (with the initial one, the driver's only other evaluation).

Goal (issue 16): DQN's cost per seed falls >= 3x from 1 to 256 seeds on a CPU, >= 50x on
a GPU. A PNG (seconds per seed against seeds, log-log) is written next to the JSON.

    .venv/bin/python benchmarks/scaling.py            # full run (about 10 min on 2 cores)
    .venv/bin/python benchmarks/scaling.py --quick    # 1 and 4 seeds, tiny budgets, seconds
    .venv/bin/python benchmarks/scaling.py --algos dqn --max-seeds 256
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from jaxrl.devices import use_cpu_cores  # noqa: E402

use_cpu_cores()  # one XLA device per core: seeds split over them (before JAX starts)

import jax  # noqa: E402
from common import device_info, format_table, parser, write_json  # noqa: E402

from jaxrl.deep import ddpg, dqn  # noqa: E402
from jaxrl.presets import preset  # noqa: E402

SEEDS = (1, 4, 16, 64, 256, 1024)
QUICK_SEEDS = (1, 4)
#: (module, preset (algorithm, environment)) per algorithm.
ALGOS = {"dqn": (dqn, ("dqn", "CartPole-v1")), "ddpg": (ddpg, ("ddpg", "Pendulum-v1"))}
#: Env steps per seed; a tenth of them before learning.
BUDGETS = {"dqn": 3_000, "ddpg": 1_500}
QUICK_BUDGETS = {"dqn": 200, "ddpg": 100}
#: A point whose runs took under REPEAT_UNDER_S in all is run again, REPEATS times in all,
#: and its fastest run kept (a 1-seed run lasts a fraction of a second: noisy).
REPEATS, REPEAT_UNDER_S = 3, 10.0
#: DQN's cost per seed from 1 to 256 seeds must fall at least this much.
TARGET = {"cpu": 3.0, "gpu": 50.0}


def budget_config(name: str, quick: bool):
    """The preset with the benchmark's budget (``config.__post_init__`` checks it)."""
    steps = (QUICK_BUDGETS if quick else BUDGETS)[name]
    config = preset(*ALGOS[name][1])[0]
    return config.replace(total_steps=steps, learning_starts=steps // 10,
                          buffer_size=max(steps, config.batch_size),
                          eval_every=steps, eval_episodes=1)


def budget_dict(module, config) -> dict:
    """What the JSON and the table say of a budget."""
    keys = ("env", "total_steps", "learning_starts", "num_envs", "updates_per_step",
            "batch_size", "buffer_size", "hidden_sizes", "eval_every", "eval_episodes")
    out = {k: getattr(config, k) for k in keys}
    setup = module.make(config)
    out["gradient_steps"] = setup.schedule.learning_updates(config.learning_starts,
                                                            config.updates_per_step)
    if module is dqn:
        out["dense_flop_per_gradient_step"] = dqn_dense_flop(setup, config)
    return out


def dqn_dense_flop(setup, config) -> int:
    """The dense layers' arithmetic in one DQN gradient step, estimated: the batch through
    the Q-network forward and backward (3 passes), the target network's forward, and with
    double DQN the online network's forward on the next observations (2 FLOP per
    multiply-add). Acting and evaluating are left out: a lower bound of the work."""
    obs = 1
    for d in setup.env.observation_space(setup.env_params).shape:
        obs *= d
    actions = setup.env.action_space(setup.env_params).n
    widths = [obs, *config.hidden_sizes]
    macs = sum(a * b for a, b in zip(widths, widths[1:], strict=False))
    macs += widths[-1] * (actions + (1 if config.dueling else 0))
    passes = 3 + 1 + (1 if config.double else 0)
    return 2 * config.batch_size * macs * passes


def point(module, config, seeds: int, budget: dict, repeats: int = REPEATS) -> dict:
    """One run of ``seeds`` seeds: wall time (compile apart), per seed, env steps/s, and
    for DQN the dense layers' estimated arithmetic rate (GFLOP/s)."""
    keys = jax.random.split(jax.random.key(0), seeds)
    result = module.run(config, keys)
    walls = [result.wall_s]
    while len(walls) < repeats and sum(walls) < REPEAT_UNDER_S:  # short runs: best of 3
        walls.append(module.run(config, keys).wall_s)
    out = {"seeds": seeds, "devices": result.devices, "wall_s": min(walls),
           "walls_s": walls, "compile_s": result.compile_s,
           "s_per_seed": min(walls) / seeds,
           "env_steps_per_seed": result.env_steps,
           "env_steps_per_s": seeds * result.env_steps / min(walls)}
    flop = budget.get("dense_flop_per_gradient_step")
    if flop:
        out["dense_gflop_per_s"] = seeds * budget["gradient_steps"] * flop / min(walls) / 1e9
    return out


def goal(points: list[dict], backend: str) -> tuple[str, dict]:
    """The issue's goal on DQN's points: its name and ``{met, ratio, target}``."""
    target = TARGET["gpu" if backend == "gpu" else "cpu"]
    name = f"DQN cost per seed falls >= {target:g}x from 1 to 256 seeds"
    by_seeds = {p["seeds"]: p["s_per_seed"] for p in points}
    if 1 not in by_seeds or 256 not in by_seeds:
        return name, {"met": None, "ratio": None, "target": target}
    ratio = by_seeds[1] / by_seeds[256]
    return name, {"met": bool(ratio >= target), "ratio": ratio, "target": target}


def plot(path: Path, curves: dict[str, list[dict]], title: str) -> None:
    """Seconds per seed against seeds, log-log, one line per algorithm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, points in curves.items():
        ax.loglog([p["seeds"] for p in points], [p["s_per_seed"] for p in points], "o-",
                  label=name)
    ax.set_xlabel("seeds (one run)")
    ax.set_ylabel("wall seconds per seed (compile apart)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> int:
    p = parser("scaling", __doc__.splitlines()[0])
    p.add_argument("--max-seeds", type=int, default=SEEDS[-1],
                   help="largest seed count (default: %(default)s)")
    p.add_argument("--algos", default=",".join(ALGOS),
                   help="comma-separated algorithms (default: %(default)s)")
    p.add_argument("--seeds", help="comma-separated seed counts instead of "
                   f"{','.join(map(str, SEEDS))} (e.g. to time single points)")
    args = p.parse_args()
    algos = [a for a in args.algos.split(",") if a]
    if not algos or not set(algos) <= set(ALGOS):
        p.error(f"--algos: choose among {', '.join(ALGOS)}")
    try:
        counts = (tuple(int(s) for s in args.seeds.split(",")) if args.seeds
                  else QUICK_SEEDS if args.quick else SEEDS)
    except ValueError:
        p.error(f"--seeds: whole numbers separated by commas, not {args.seeds!r}")
    counts = tuple(n for n in counts if n <= args.max_seeds)
    if not counts:
        p.error("no seed count left under --max-seeds")
    info = device_info()
    device = f"{info['device_count']} x {info['device']} ({info['backend']})"
    if info["backend"] == "cpu":
        device += f", {info['cpu_count']} cores"
    print(f"device: {device}; jax {info['jax']}")

    results: dict = {"seeds": list(counts), "budgets": {}, "points": {}}
    rows = []
    for name in algos:
        module = ALGOS[name][0]
        config = budget_config(name, args.quick)
        budget = results["budgets"][name] = budget_dict(module, config)
        print(f"\n== {name} on {config.env}: {budget['total_steps']} env steps per seed, "
              f"learning from {budget['learning_starts']}, {budget['gradient_steps']} "
              "gradient steps per seed ==", flush=True)
        points = results["points"][name] = []
        for n in counts:
            points.append(point(module, config, n, budget, 1 if args.quick else REPEATS))
            q = points[-1]
            print(f"  {n:>5} seeds: {q['wall_s']:.2f} s ({q['s_per_seed']:.4g} s/seed, "
                  f"{q['env_steps_per_s']:,.0f} env steps/s), compile {q['compile_s']:.1f} s",
                  flush=True)
            rows.append([name, n, q["devices"], q["wall_s"], q["s_per_seed"],
                         points[0]["s_per_seed"] / q["s_per_seed"], f"{q['env_steps_per_s']:,.0f}",
                         q.get("dense_gflop_per_s", "-"), q["compile_s"]])

    print(f"\nScaling on {device}; budget per seed: "
          + "; ".join(f"{n} {b['env']} {b['total_steps']} env steps "
                      f"({b['gradient_steps']} gradient steps of batch {b['batch_size']})"
                      for n, b in results["budgets"].items()))
    print(format_table(["algo", "seeds", "devices", "wall s", "s per seed",
                        "cost per seed vs 1 seed", "env steps/s",
                        "dense GFLOP/s (est.)", "compile s"],
                       [[*r[:5], f"{r[5]:.3g}x lower", *r[6:]]
                        for r in rows]))

    goals = {}
    if "dqn" in results["points"]:
        name, verdict = goal(results["points"]["dqn"], info["backend"])
        goals[name] = verdict
    results["goals"] = goals
    print("\nGoals" + (" (quick run: budgets too small to mean anything)" if args.quick else "")
          + ":")
    for name, v in goals.items():
        state = "not measured" if v["met"] is None else "met" if v["met"] else "MISSED"
        ratio = "" if v["ratio"] is None else f" (measured {v['ratio']:.3g}x)"
        print(f"  {name}: {state}{ratio}")

    png = args.out.with_suffix(".png")
    png.parent.mkdir(parents=True, exist_ok=True)
    plot(png, {f"{n} ({results['budgets'][n]['env']}, {results['budgets'][n]['total_steps']} "
               "steps/seed)": pts for n, pts in results["points"].items()},
         f"seconds per seed against seeds: {device}")
    results["png"] = png.name
    print(f"plot: {png}")
    write_json(args.out, "scaling", results, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
