"""What a run of the command line costs beyond training: the shipped PPO preset against the
same budget in a multiple of its call size, and a run of many short chunks.

Each case is a real ``jaxrl train`` process (``python -m jaxrl.cli``), watched from
outside: its resident memory (``/proc/PID/status``, Linux) and the time each chunk's
rows reach ``metrics.csv``, polled every 50 ms. Three goals, from the issue that found a
preset 140x too slow and memory growing with every chunk:

* ``jaxrl train ppo --seeds 16`` (the CartPole preset as shipped: 500 000 steps, cut by
  the command line into 10 chunks) trains within 1.5x the wall time per step of
  ``--steps 512000`` (1 000 calls of 512 steps: 10 chunks of 51 200);
* its resident memory at the end is within 1.5x of that after its first chunk;
* ``jaxrl train dqn --seeds 2 --steps 60000 --eval_every 100 --eval_episodes 2`` (600
  chunks) keeps its memory flat: the last 100 chunks' within 1.2x of chunks 50-150's;
  and, with ``--learning_starts 0 --learning_rate 1e-9`` (the same chunks, the agent
  learning nothing, so that each chunk's work stays the same: a learning agent's
  evaluation episodes grow from about 10 to 500 steps), its memory and time per chunk.

    .venv/bin/python benchmarks/cli_runs.py            # about 5 minutes on 2 CPU cores
    .venv/bin/python benchmarks/cli_runs.py --quick    # tiny sizes: the code paths
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import format_table, parser, write_json

PPO = ["train", "ppo", "--env", "CartPole-v1"]
DQN = ["train", "dqn", "--eval_every", "100", "--eval_episodes", "2"]


def _rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def watch(argv: list[str], seeds: int) -> dict:
    """Run ``jaxrl`` with ``argv`` into a fresh folder: the chunk times, the resident
    memory after each chunk, the summary's wall and compile time."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "jaxrl.cli", *argv, "--seeds", str(seeds), "--out",
               str(out), "--no-progress"]
        start = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        chunk_times, chunk_rss, seen = [], [], 0
        while process.poll() is None:
            metrics = out / "metrics.csv"
            rows = max(0, sum(1 for _ in metrics.open()) - 1) if metrics.exists() else 0
            chunks = rows // seeds - 1  # the first evaluation is chunk 0
            while seen < chunks:
                seen += 1
                chunk_times.append(time.perf_counter() - start)
                chunk_rss.append(_rss_mib(process.pid))
            time.sleep(0.05)
        stdout, stderr = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{stderr[-2000:]}")
        summary = json.loads((out / "summary.json").read_text())
        with (out / "metrics.csv").open() as f:  # each chunk's mean evaluation episode
            lengths = [float(r["length_mean"]) for r in csv.DictReader(f)
                       if r.get("length_mean") and int(r["chunk"]) > 0]
        lengths = np.asarray(lengths).reshape(-1, seeds).mean(1).tolist() if lengths else []
    notes = [line for line in stdout.splitlines() if line.startswith("jaxrl: note:")]
    return {"command": "jaxrl " + " ".join(argv + ["--seeds", str(seeds)]),
            "chunks": summary["env_steps"] and len(chunk_times), "env_steps": summary[
                "env_steps"], "wall_s": summary["wall_s"], "compile_s": summary["compile_s"],
            "process_s": time.perf_counter() - start, "notes": notes,
            "chunk_times": chunk_times, "chunk_rss_mib": chunk_rss,
            "eval_length_per_chunk": lengths}


def flat(record: dict, early: slice, late: slice) -> dict:
    """The late chunks' memory and mean time per chunk over the early ones', and their
    evaluation episodes' mean length (work that grows as the agent learns)."""
    t, rss = np.diff(record["chunk_times"]), np.asarray(record["chunk_rss_mib"], float)
    length = np.asarray(record["eval_length_per_chunk"] or [np.nan], float)
    return {"eval_length_early": float(np.mean(length[early])),
            "eval_length_late": float(np.mean(length[late])),
            "rss_early_mib": float(np.nanmean(rss[early])),
            "rss_late_mib": float(np.nanmean(rss[late])),
            "rss_ratio": float(np.nanmean(rss[late]) / np.nanmean(rss[early])),
            "chunk_s_early": float(t[early].mean()), "chunk_s_late": float(t[late].mean()),
            "chunk_s_ratio": float(t[late].mean() / t[early].mean())}


def main(argv: list[str] | None = None) -> None:
    p = parser("cli_runs", __doc__.splitlines()[0])
    args = p.parse_args(argv)
    quick = args.quick
    seeds = 2 if quick else 16
    # quick: a budget of 49 calls (7 x 7) with an interval of 5 calls, against 50 calls
    preset_steps, multiple_steps = (25_000, 25_600) if quick else (None, 512_000)
    ppo_extra = ["--steps", str(preset_steps), "--eval_every", "2560"] if quick else []
    preset = watch(PPO + ppo_extra, seeds)
    multiple = watch(PPO + ["--steps", str(multiple_steps)]
                     + (["--eval_every", "2560"] if quick else []), seeds)
    dqn_steps = 3_000 if quick else 60_000
    tiny = ["--hidden_sizes", "16", "--buffer_size", "1000", "--batch_size", "16"] if quick \
        else []
    dqn = watch(DQN + ["--steps", str(dqn_steps)] + tiny, 2)
    # the same chunks with constant work: learning from the start at a step size that
    # changes nothing, so the evaluation episodes stay as short as the first ones
    still = watch(DQN + ["--steps", str(dqn_steps), "--learning_starts", "0",
                         "--learning_rate", "1e-9"] + tiny, 2)

    per_step = {name: r["wall_s"] / r["env_steps"] for name, r in
                (("preset", preset), ("multiple", multiple))}
    time_ratio = per_step["preset"] / per_step["multiple"]
    rss = [x for x in preset["chunk_rss_mib"] if x is not None]
    ppo_rss_ratio = rss[-1] / rss[0] if rss else None
    early, late = (slice(5, 15), slice(-10, None)) if quick else \
        (slice(50, 150), slice(-100, None))
    chunks, constant = flat(dqn, early, late), flat(still, early, late)
    goals = {
        "the PPO preset's wall time per step within 1.5x of a multiple of its call size": {
            "met": time_ratio <= 1.5, "ratio": time_ratio},
        "the PPO preset's memory at the end within 1.5x of after its first chunk": {
            "met": ppo_rss_ratio is not None and ppo_rss_ratio <= 1.5,
            "ratio": ppo_rss_ratio},
        "DQN's memory over 600 chunks flat (late within 1.2x of early)": {
            "met": chunks["rss_ratio"] <= 1.2, "ratio": chunks["rss_ratio"]},
        "DQN's time per chunk over 600 chunks of constant work flat (late within 1.2x of "
        "early)": {"met": constant["chunk_s_ratio"] <= 1.2,
                   "ratio": constant["chunk_s_ratio"]},
        "DQN's memory over 600 chunks of constant work flat (late within 1.2x of early)": {
            "met": constant["rss_ratio"] <= 1.2, "ratio": constant["rss_ratio"]},
    }
    rows = [[r["command"], r["chunks"], r["env_steps"], f"{r['wall_s']:.1f}",
             f"{r['compile_s']:.1f}", f"{r['env_steps'] * seeds / r['wall_s']:,.0f}"
             if r is preset or r is multiple else f"{r['env_steps'] * 2 / r['wall_s']:,.0f}",
             f"{r['chunk_rss_mib'][0]:.0f} -> {r['chunk_rss_mib'][-1]:.0f}"]
            for r in (preset, multiple, dqn, still)]
    print(format_table(["command", "chunks", "steps/seed", "train s", "compile s",
                        "steps/s", "RSS MiB (1st -> last chunk)"], rows))
    print(f"\nPPO preset / multiple, wall per step: {time_ratio:.2f}x; memory end / first "
          f"chunk: {ppo_rss_ratio:.2f}x")
    for name, c in (("DQN", chunks), ("DQN, constant work", constant)):
        print(f"{name}, chunks {early.start}-{early.stop} vs the last {-late.start}: memory "
              f"{c['rss_ratio']:.2f}x, time per chunk {c['chunk_s_ratio']:.2f}x, mean "
              f"evaluation episode {c['eval_length_early']:.0f} -> "
              f"{c['eval_length_late']:.0f} steps")
    for goal, value in goals.items():
        print(f"goal: {goal}: {'met' if value['met'] else 'MISSED'} ({value['ratio']:.2f}x)")
    write_json(args.out, "cli_runs", {
        "cpu_count": os.cpu_count(), "seeds": seeds,
        "cases": {"ppo_preset": preset, "ppo_multiple": multiple, "dqn_chunks": dqn,
                  "dqn_constant_work": still},
        "ppo_time_ratio": time_ratio, "ppo_rss_ratio": ppo_rss_ratio, "dqn_flat": chunks,
        "dqn_constant_flat": constant,
        "goals": goals}, quick)


if __name__ == "__main__":
    main()
