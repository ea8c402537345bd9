"""Configs cost what seeds cost: a grid of DQN configs × seeds in one ``jaxrl sweep``,
against one ``jaxrl train`` of as many seeds and against one ``jaxrl train`` per config.

Every case is a real command-line process (``python -m jaxrl.cli``), timed from outside
(start-up, imports and compiles included) and from its own ``summary.json`` (training
time, compile apart). The grid: ``learning_rate`` × ``gamma``, 4 × 4 = 16 configs of
DQN's CartPole-v1 preset at its budget (100 k steps), 8 seeds each: 128 runs.

* ``sweep``: ``jaxrl sweep dqn --grid learning_rate=... --grid gamma=... --seeds 8``;
* ``train_128``: ``jaxrl train dqn --seeds 128`` (the preset's config, 128 seeds);
* ``train_each``: 16 × ``jaxrl train dqn --seeds 8 --learning_rate A --gamma G``.

Goals: (a) the sweep's training seconds per (config, seed) at most 1.1× those per seed
of ``train_128``; (b) the sweep's wall time, start to end, at least 2× below the 16
``train_each`` runs' together. Reported: seconds per (config, seed), each compile time,
and the sweep's ranked table (its IQM and interval per config); the sweep's
``curves.png`` is kept as ``sweep_curves.png`` beside the JSON.

    .venv/bin/python benchmarks/sweep.py            # about 80 minutes on 2 CPU cores
    .venv/bin/python benchmarks/sweep.py --quick    # tiny sizes: the code paths
    .venv/bin/python benchmarks/sweep.py --parts sweep --keep   # rerun one case
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import add_parts, chosen_parts, format_table, parser, write_json

LEARNING_RATES = ("0.0003", "0.001", "0.002", "0.003")
GAMMAS = ("0.95", "0.98", "0.99", "0.995")
SEEDS = 8
QUICK = ["--steps", "600", "--eval_every", "300", "--hidden_sizes", "8",
         "--eval_episodes", "2", "--batch_size", "16", "--buffer_size", "300",
         "--learning_starts", "100", "--exploration_steps", "300"]


def jaxrl(argv: list[str], out: Path) -> dict:
    """Run ``jaxrl ARGV --out OUT``: its wall time from outside and its summary.json."""
    cmd = [sys.executable, "-m", "jaxrl.cli", *argv, "--out", str(out), "--no-progress"]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    summary = json.loads((out / "summary.json").read_text())
    return {"command": " ".join(["jaxrl", *argv]), "outside_s": wall,
            "wall_s": summary["wall_s"], "compile_s": summary["compile_s"],
            "summary": summary, "stdout": done.stdout}


CASES = ("sweep", "train_128", "train_each")


def main(argv: list[str] | None = None) -> None:
    p = parser("sweep", __doc__.splitlines()[0])
    add_parts(p, CASES)
    args = p.parse_args(argv)
    asked, kept = chosen_parts(p, args, CASES)
    kept_cases = json.loads(args.out.read_text())["cases"] if args.keep and \
        args.out.exists() else {}
    # quick: one config of 2 seeds, each case's code path once (a process costs ~15 s)
    rates, gammas = (LEARNING_RATES[1:2], GAMMAS[2:3]) if args.quick else \
        (LEARNING_RATES, GAMMAS)
    seeds = 2 if args.quick else SEEDS
    extra = QUICK if args.quick else []
    configs = len(rates) * len(gammas)
    runs = configs * seeds
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if "sweep" in asked:
            sweep = jaxrl(["sweep", "dqn", "--grid", "learning_rate=" + ",".join(rates),
                           "--grid", "gamma=" + ",".join(gammas), "--seeds", str(seeds),
                           *extra], root / "sweep")
            print(sweep["stdout"])
            if not args.quick:  # the sweep's plot, to look at beside the JSON
                shutil.copy(root / "sweep" / "curves.png",
                            args.out.with_name("sweep_curves.png"))
        train_all = jaxrl(["train", "dqn", "--seeds", str(runs), *extra], root / "all") \
            if "train_128" in asked else kept_cases["train_128"]
        each = [jaxrl(["train", "dqn", "--seeds", str(seeds), "--learning_rate", lr,
                       "--gamma", g, *extra], root / f"each-{lr}-{g}")
                for lr in rates for g in gammas] if "train_each" in asked else \
            kept_cases["train_each"]
    if "sweep" in asked:
        summary = sweep.pop("summary")
        sweep["programs"] = summary["programs"]
        sweep["ranked"] = [{k: r[k] for k in ("rank", "name", "iqm", "iqm_low", "iqm_high",
                                              "mean", "min", "max")}
                           for r in summary["ranked"]]
        sweep.pop("stdout")
    else:
        sweep = kept_cases["sweep"]
    per_run = {"sweep": sweep["wall_s"] / runs, "train_128": train_all["wall_s"] / runs}
    each_outside = sum(r["outside_s"] for r in each)
    cost_ratio = per_run["sweep"] / per_run["train_128"]
    wall_ratio = each_outside / sweep["outside_s"]
    rows = [["sweep", f"{configs} x {seeds}", f"{sweep['outside_s']:.1f}",
             f"{sweep['compile_s']:.1f}", f"{sweep['wall_s']:.1f}", f"{per_run['sweep']:.3f}"],
            ["train_128", f"1 x {runs}", f"{train_all['outside_s']:.1f}",
             f"{train_all['compile_s']:.1f}", f"{train_all['wall_s']:.1f}",
             f"{per_run['train_128']:.3f}"],
            ["train_each", f"{configs} runs x {seeds}", f"{each_outside:.1f}",
             f"{sum(r['compile_s'] for r in each):.1f}",
             f"{sum(r['wall_s'] for r in each):.1f}",
             f"{sum(r['wall_s'] for r in each) / runs:.3f}"]]
    print(format_table(["case", "configs x seeds", "wall s (outside)", "compile s",
                        "train s", "train s per (config, seed)"], rows))
    for r in train_all, *each:
        r.pop("summary", None)
        r.pop("stdout", None)
    goals = {
        "sweep_cost_per_run_le_1.1x_train_128": {"met": cost_ratio <= 1.1,
                                                 "ratio": cost_ratio},
        "sweep_wall_ge_2x_below_train_each": {"met": wall_ratio >= 2.0, "ratio": wall_ratio},
    }
    for goal, value in goals.items():
        print(f"goal: {goal}: {'met' if value['met'] else 'MISSED'} ({value['ratio']:.2f}x)")
    write_json(args.out, "sweep", {
        "grid": {"learning_rate": list(rates), "gamma": list(gammas)}, "seeds": seeds,
        "configs": configs, "budget": "preset" if not args.quick else "quick",
        "cases": {"sweep": sweep, "train_128": train_all, "train_each": each},
        "seconds_per_run": per_run, "cost_ratio": cost_ratio, "wall_ratio": wall_ratio,
        "goals": goals, **kept}, args.quick)


if __name__ == "__main__":
    main()
