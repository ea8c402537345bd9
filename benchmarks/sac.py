"""SAC (jaxrl.deep.sac): its presets' returns over 16 seeds, and its speed beside rejax's
SAC on rejax's own Pendulum-v1 config, in the same run.

* **learning** (``--parts learning``): each preset as shipped (``jaxrl train sac --env
  ENV``), 16 seeds (key 0), the final greedy return (mean of the evaluation's episodes
  per seed; mean, min, max over seeds) and, on the course's pendulum, the swing-up: the
  greedy policy from hanging at rest holds |q| < 0.1 over the last 20 of 100 steps (the
  measure the driver reports for every learner there, as MPC's evaluation does).
  Goals: Pendulum-v1 mean >= -170 at 20k steps (DDPG: -150); the course's ``Pendulum``
  held by >= 14 of 16 seeds at <= 100k steps (DDPG: 6); MountainCarContinuous-v0 mean
  >= 90; discrete SAC on CartPole-v1 mean >= 475.
* **speed** (``--parts speed``): rejax's SAC on its own config
  (``configs/gymnax/pendulum.yaml`` ``sac:``, through ``benchmarks/peers/rejax_onpolicy.py``
  in rejax's venv, one fresh process per run: (64, 64) swish, 1 env, buffer 10k, 256 random
  steps, batch 256, Adam 0.01, polyak 0.98 (τ 0.02), target entropy -1, normalised
  observations, 10k steps) and jaxrl's SAC on the same numbers (no observation
  normalisation), each with one final evaluation (rejax's untimed, jaxrl's inside the
  timed run), at 1 and 16 seeds, in ``--reps`` interleaved rounds (medians compared).
  Goals: >= 1.2x rejax's env steps/s at 1 seed and >= 1.5x at 16. The same runs of both
  with 8-wide hidden layers split a step into the 64-wide dense layers with their
  activations (64-wide minus 8-wide: work both do) and the rest (:func:`step_parts`):
  ``dense_share``, the bound the dense layers leave (rejax's step over jaxrl's dense
  part), and the rest jaxrl's step could have for 1.2x.

Run: ``.venv/bin/python benchmarks/sac.py`` (``--quick``: a smoke run in seconds;
``--parts speed --keep``: rerun a part, keep the others from the JSON at ``--out``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from jaxrl.devices import use_cpu_cores  # noqa: E402

use_cpu_cores()  # one XLA device per core: seeds split over them (before gymnax starts JAX)

import common  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402

from jaxrl.deep import sac  # noqa: E402
from jaxrl.presets import preset  # noqa: E402

PARTS = ("learning", "speed")
SEEDS = 16
PEER_TIMEOUT = 1800  # seconds: a peer that hangs is reported, not waited on
PEER_SCRIPT = Path(__file__).resolve().parent / "peers" / "rejax_onpolicy.py"
PEER_PYTHON = Path(os.environ.get("REJAX_PYTHON", common.ROOT / ".venv-rejax" / "bin" / "python"))

#: rejax's configs/gymnax/pendulum.yaml ``sac:`` in jaxrl's terms (polyak 0.98: τ 0.02).
REJAX_SAC_PENDULUM = sac.SACConfig(
    env="Pendulum-v1", total_steps=10_000, num_envs=1, buffer_size=10_000,
    learning_starts=256, batch_size=256, learning_rate=0.01, hidden_sizes=(64, 64),
    activation="swish", tau=0.02, gamma=0.99, eval_every=10_000, eval_episodes=16,
)

#: (environment, goal name, goal test on the result record) of the learning part.
PRESETS = [
    ("Pendulum-v1", "pendulum_v1_20k_mean_ge_-170",
     lambda r: r["final_return"]["mean"] >= -170 and r["steps"] <= 20_000),
    ("Pendulum", "course_pendulum_swing_up_ge_14_of_16",
     lambda r: r["swing_up_seeds"] >= 14 and r["steps"] <= 100_000),
    ("MountainCarContinuous-v0", "mountaincar_continuous_mean_ge_90",
     lambda r: r["final_return"]["mean"] >= 90),
    ("CartPole-v1", "discrete_cartpole_mean_ge_475",
     lambda r: r["final_return"]["mean"] >= 475),
    ("HybridPendulum", None, None),
]


def learning(quick: bool) -> list[dict]:
    """Each preset as shipped, 16 seeds (key 0); --quick: the course's pendulum alone
    (the swing-up's path), 2 seeds, a few hundred steps."""
    seeds = 2 if quick else SEEDS
    records = []
    for env, _, _ in PRESETS[1:2] if quick else PRESETS:
        config, text = preset("sac", env)
        if quick:
            config = config.replace(total_steps=300, eval_every=300, learning_starts=100,
                                    buffer_size=300, eval_episodes=2)
        result = sac.run(config, jax.random.split(jax.random.key(0), seeds))
        evaluation = result.curve.evaluation
        record = {"env": env, "preset": text, "seeds": seeds, "steps": config.total_steps,
                  "final_return": common.stats(result.curve.final_return),
                  "compile_s": result.compile_s, "wall_s": result.wall_s}
        if "swing_up" in evaluation:
            record["swing_up_seeds"] = int(np.asarray(evaluation["swing_up"])[:, -1].sum())
        records.append(record)
        print(f"  {env}: mean {record['final_return']['mean']:.1f}"
              + (f", swing-up held by {record['swing_up_seeds']} of {seeds}"
                 if "swing_up_seeds" in record else ""), flush=True)
    return records


def ours(config, seeds: int) -> dict:
    """jaxrl on ``config`` with one final evaluation: compile and run time, env steps/s."""
    result = sac.run(config.replace(eval_every=config.total_steps),
                     jax.random.split(jax.random.key(0), seeds))
    return {"compile_s": result.compile_s, "run_s": result.wall_s,
            "steps_per_s": seeds * result.env_steps / result.wall_s,
            "final_return": common.stats(result.curve.final_return)}


def peer(seeds: int, total_steps: int | None = None, preset: str = "sac_pendulum"
         ) -> dict | None:
    """rejax's SAC on its own config (or ``sac_pendulum_8_wide``: with 8-wide hidden
    layers) in its venv and a fresh process, or None without it."""
    if not PEER_PYTHON.exists():
        return None
    cmd = [str(PEER_PYTHON), str(PEER_SCRIPT), "--preset", preset, "--num-seeds",
           str(seeds), "--reps", "1", "--eval", "final-only"]
    if total_steps is not None:
        cmd += ["--total-timesteps", str(total_steps)]
    rec = common.peer_record(cmd, PEER_TIMEOUT, common.ROOT)
    if "error" in rec:
        return rec
    return {"compile_s": rec["lower_plus_compile_s"], "run_s": rec["run_s_median"],
            "steps_per_s": rec.get("env_steps_per_s_done", rec["env_steps_per_s"]),
            "final_return": {"mean": rec["final_return_mean"], "min": rec["final_return_min"],
                             "max": rec["final_return_max"]}}


def speed(quick: bool, reps: int) -> list[dict]:
    """jaxrl then rejax, ``reps`` interleaved rounds at 1 and 16 seeds, medians; and
    jaxrl with 8-wide hidden layers (the dense layers' share of a step)."""
    config = REJAX_SAC_PENDULUM
    if quick:
        config = config.replace(total_steps=400, learning_starts=100, buffer_size=400,
                                eval_episodes=2)
    records = []
    for n in (1,) if quick else (1, SEEDS):
        mine, narrow, theirs, theirs_narrow = [], [], [], []
        for _ in range(1 if quick else reps):
            mine.append(ours(config, n))
            narrow.append(ours(config.replace(hidden_sizes=(8, 8)), n))
            theirs.append(None if quick else peer(n))
            theirs_narrow.append(None if quick else peer(n, preset="sac_pendulum_8_wide"))
        missing = {"error": "not run (--quick, or no .venv-rejax)"}
        theirs = [missing if r is None else r for r in theirs]
        theirs_narrow = [missing if r is None else r for r in theirs_narrow]
        failed = [r for r in theirs + theirs_narrow if "error" in r]
        rec = {"seeds": n, "total_steps": config.total_steps, "rounds": len(mine),
               "jaxrl": common.median_run(mine), "jaxrl_8_wide": common.median_run(narrow),
               "peer": failed[0] if failed else common.median_run(theirs),
               "peer_8_wide": failed[0] if failed else common.median_run(theirs_narrow)}
        rec.update(step_parts(rec, n))
        records.append(rec)
        print(f"  {n} seed(s): jaxrl {rec['jaxrl']['steps_per_s']:.0f} steps/s"
              + (f", rejax {rec['peer']['steps_per_s']:.0f}" if not failed else
                 " (no rejax)"), flush=True)
    return records


def step_parts(rec: dict, seeds: int) -> dict:
    """A step's wall time split by the 8-wide runs (µs per env step of the run, all its
    seeds at once; the medians'): the 64-wide dense layers with their activations
    (64-wide minus 8-wide, work both programs do) and the rest (the 8-wide step:
    sampling, the optimisers, the targets' averaging, the random draws, the environment,
    the small layers); the speed-up the dense layers leave room for (rejax's step over
    jaxrl's dense part) and the rest jaxrl's step could have for 1.2x."""
    def us(run: dict) -> float:
        return 1e6 * seeds / run["steps_per_s"]
    dense, rest = us(rec["jaxrl"]) - us(rec["jaxrl_8_wide"]), us(rec["jaxrl_8_wide"])
    out = {"dense_share": dense / us(rec["jaxrl"]), "jaxrl_dense_us": dense,
           "jaxrl_rest_us": rest}
    if "steps_per_s" in rec["peer"] and "steps_per_s" in rec["peer_8_wide"]:
        peer_dense = us(rec["peer"]) - us(rec["peer_8_wide"])
        out.update(speedup=rec["jaxrl"]["steps_per_s"] / rec["peer"]["steps_per_s"],
                   peer_dense_us=peer_dense, peer_rest_us=us(rec["peer_8_wide"]),
                   max_speedup_if_only_dense_layers=us(rec["peer"]) / max(dense, 1e-9),
                   rest_us_for_1_2x=us(rec["peer"]) / 1.2 - dense)
    return out


def goals(results: dict) -> dict:
    """Every goal met, missed or not measured (``None``: a quick or partial run)."""
    out = {}
    learned = {r["env"]: r for r in results.get("learning", [])}
    for env, name, test in PRESETS:
        if name is not None:
            r = learned.get(env)
            out[name] = None if r is None or r["seeds"] != SEEDS else bool(test(r))
    ups = {r["seeds"]: r.get("speedup") for r in results.get("speed", [])}
    out["speed_ge_1.2x_rejax_at_1_seed"] = None if ups.get(1) is None else ups[1] >= 1.2
    out["speed_ge_1.5x_rejax_at_16_seeds"] = (None if ups.get(SEEDS) is None
                                              else ups[SEEDS] >= 1.5)
    return out


def main() -> None:
    p = common.parser("sac", __doc__.splitlines()[0])
    common.add_parts(p, PARTS)
    p.add_argument("--reps", type=int, default=3,
                   help="speed: rounds of jaxrl then rejax, medians compared (default 3)")
    args = p.parse_args()
    parts, results = common.chosen_parts(p, args, PARTS)
    print(f"device: {common.device_info()}")
    if "learning" in parts:
        results["learning"] = learning(args.quick)
    if "speed" in parts:
        results["speed"] = speed(args.quick, args.reps)
    if results.get("learning"):
        print("\nSAC presets, final greedy return over seeds (key 0)")
        print(common.format_table(
            ["environment", "steps", "seeds", "mean", "min", "max", "swing-up held"],
            [[r["env"], r["steps"], r["seeds"], r["final_return"]["mean"],
              r["final_return"]["min"], r["final_return"]["max"],
              r.get("swing_up_seeds", "")] for r in results["learning"]]))
    if results.get("speed"):
        print("\nSAC on rejax's Pendulum-v1 config (10k steps, one final evaluation), env "
              "steps/s over all seeds, medians of interleaved rounds")
        print(common.format_table(
            ["seeds", "jaxrl", "rejax", "speed-up", "dense share", "bound",
             "dense us jaxrl", "dense us rejax", "rest us jaxrl", "rest us rejax",
             "rest us for 1.2x"],
            [[r["seeds"], r["jaxrl"]["steps_per_s"],
              r["peer"]["steps_per_s"] if "steps_per_s" in r["peer"] else "(none)",
              r.get("speedup", ""), f"{r['dense_share']:.0%}",
              r.get("max_speedup_if_only_dense_layers", ""), r["jaxrl_dense_us"],
              r.get("peer_dense_us", ""), r["jaxrl_rest_us"], r.get("peer_rest_us", ""),
              r.get("rest_us_for_1_2x", "")] for r in results["speed"]]))
    results["goals"] = goals(results)
    print("\nGoals:")
    for name, met in results["goals"].items():
        print(f"  {name}: {'met' if met else 'missed' if met is not None else 'not measured'}")
    common.write_json(args.out, "sac", results, args.quick)


if __name__ == "__main__":
    main()
