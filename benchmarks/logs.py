"""What TensorBoard logging costs a run: each learner's first preset at its evaluation
interval, its seconds in the logging calls against its training seconds.

Each case is ``jaxrl train ALGO --seeds N`` through the command line, in this process,
for three evaluation intervals of the preset (at most its budget; the interval, and so
the rows per chunk, as shipped: a whole budget only adds chunks of the same cost).
The logging calls (:class:`jaxrl.cli.boards.Board`: the events rebuilt at the start,
each chunk's rows, the plot at the end) are timed where they run, in the hook between chunks, so the
figure does not drift with the machine's load as a difference of two wall times would;
the run's own training seconds (``summary.json``'s ``wall_s``, compile apart) are the
denominator. Reported: the share of a chunk (its rows' logging against its training),
and of the preset's whole run (its chunks, the start and the end, against its training;
from the chunks measured, as the whole budget has the preset's number of them).
Goal: TensorBoard's (on by default) under 5 % of a preset's run, at 4 seeds
(the command line's default) and at 32. W&B (offline, beside TensorBoard) is measured
for DQN and PPO at 4 seeds; its start (a W&B run a seed) is reported apart, as
TensorBoard's (its events rebuilt from metrics.csv).

    .venv/bin/python benchmarks/logs.py            # about 10 minutes on 2 CPU cores
    .venv/bin/python benchmarks/logs.py --quick    # one preset, one chunk
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from common import format_table, parser, write_json

from jaxrl import cli, presets
from jaxrl.cli import boards, wandb_runs

SEEDS = (4, 32)
#: The learners also run with W&B (offline), at 4 seeds.
WANDB = ("dqn", "ppo")
GOAL = 0.05


class Timed:
    """Seconds spent in the loggers' methods, patched in while a run trains: each
    chunk's rows (``add``), and apart the start (TensorBoard's events rebuilt from
    metrics.csv; W&B's runs started, one a seed) and the end (the plot, the summary)."""

    def __init__(self) -> None:
        self.seconds = {"chunks": 0.0, "start": 0.0, "end": 0.0}
        self.patched = [(boards.Board, "add", "chunks"), (boards.Board, "end", "end"),
                        (wandb_runs.WandbRuns, "add", "chunks"),
                        (wandb_runs.WandbRuns, "end", "end"),
                        (wandb_runs.WandbRuns, "__init__", "start")]
        self.originals = [getattr(owner, name) for owner, name, _ in self.patched]
        self.rebuilt = boards.Board.rebuilt

    def __enter__(self) -> Timed:
        for (owner, name, part), original in zip(self.patched, self.originals, strict=True):
            setattr(owner, name, self._timed(original, part))
        boards.Board.rebuilt = classmethod(self._timed(self.rebuilt.__func__, "start"))
        return self

    def _timed(self, original, part: str):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[part] += time.perf_counter() - start
        return timed

    def __exit__(self, *exc: object) -> None:
        for (owner, name, _), original in zip(self.patched, self.originals, strict=True):
            setattr(owner, name, original)
        boards.Board.rebuilt = self.rebuilt


def case(algo: str, env: str, seeds: int, chunks: int, out: Path,
         logs: tuple[str, ...] = ()) -> dict:
    """One run of ``chunks`` evaluation intervals of the preset, its logging timed;
    ``logs``: more options (W&B's)."""
    config, _ = presets.preset(algo, env)
    learner = presets.LEARNERS[algo]
    episodes = learner.budget == "episodes"
    interval = config.eval_every_episodes if episodes else config.eval_every
    total = config.episodes if episodes else config.total_steps
    budget = ["--episodes" if episodes else "--steps", str(min(chunks * interval, total))]
    argv = ["train", algo, "--env", env, "--seeds", str(seeds), *budget, "--out", str(out),
            "--no-progress", *logs]
    with Timed() as timed:
        status = cli.main(argv)
    if status != 0:
        raise SystemExit(f"jaxrl {' '.join(argv)} failed ({status})")
    summary = json.loads((out / "summary.json").read_text())
    rows = sum(1 for _ in (out / "metrics.csv").open()) - 1
    done = min(chunks * interval, total)
    full = -(-total // interval)  # the preset's chunks over its whole budget
    per_chunk_log = timed.seconds["chunks"] / (rows // seeds)  # with the first evaluation's
    per_chunk_train = summary["wall_s"] * interval / done
    once = timed.seconds["start"] + timed.seconds["end"]
    return {"algo": algo, "env": env, "seeds": seeds, "chunks": chunks,
            "eval_every": interval, "rows": rows, "logs": "W&B offline + TensorBoard"
            if logs else "TensorBoard", "log_s": timed.seconds["chunks"],
            "start_s": timed.seconds["start"], "end_s": timed.seconds["end"],
            "train_s": summary["wall_s"], "share": per_chunk_log / per_chunk_train,
            "preset_chunks": full,
            "share_whole_run": (once + (full + 1) * per_chunk_log) / (full * per_chunk_train)}


def main(argv: list[str] | None = None) -> None:
    p = parser("logs", __doc__.splitlines()[0])
    args = p.parse_args(argv)
    pairs = [(algo, presets.default_env(algo)) for algo in presets.LEARNERS]
    if args.quick:
        pairs = [("dqn", "CartPole-v1")]
    records = []
    wandb = ("--wandb", "jaxrl-bench", "--wandb-mode", "offline")
    with tempfile.TemporaryDirectory() as tmp:
        for algo, env in pairs:
            for seeds, logs in [(2, ())] if args.quick else \
                    [(n, ()) for n in SEEDS] + [(SEEDS[0], wandb)] * (algo in WANDB):
                out = Path(tmp) / f"{algo}-{seeds}-{len(logs)}"
                records.append(case(algo, env, seeds, 1 if args.quick else 3, out, logs))
                r = records[-1]
                print(f"  {algo} {env} {seeds} seeds, {r['logs']}: {r['log_s']:.3f} s "
                      f"logging chunks, {r['start_s']:.2f} s start, {r['end_s']:.2f} s end, "
                      f"{r['train_s']:.1f} s training ({r['share']:.2%} a chunk, "
                      f"{r['share_whole_run']:.2%} of the preset's run)", flush=True)
    print(format_table(["algo", "env", "seeds", "logs", "eval_every", "log s (chunks)",
                        "start s", "end s", "train s", "a chunk", "the preset's run"],
                       [[r["algo"], r["env"], r["seeds"], r["logs"], r["eval_every"],
                         f"{r['log_s']:.3f}", f"{r['start_s']:.2f}", f"{r['end_s']:.2f}",
                         f"{r['train_s']:.1f}", f"{r['share']:.2%}",
                         f"{r['share_whole_run']:.2%}"] for r in records]))
    worst = max(r["share_whole_run"] for r in records if r["logs"] == "TensorBoard")
    met = worst < GOAL
    print(f"goal: TensorBoard logging under {GOAL:.0%} of training: "
          f"{'met' if met else 'MISSED'} (worst {worst:.2%})")
    write_json(args.out, "logs", {"cases": records, "worst_share": worst,
                                  "goals": {"tensorboard_under_5_percent": {
                                      "met": met, "worst": worst}}}, args.quick)


if __name__ == "__main__":
    main()
