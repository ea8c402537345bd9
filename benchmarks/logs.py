"""What TensorBoard logging costs a run: each learner's first preset at its evaluation
interval, its seconds in the logging calls against its training seconds.

Each case is ``jaxrl train ALGO --seeds N`` through the command line, in this process,
for three evaluation intervals of the preset (at most its budget; the interval, and so
the rows per chunk, as shipped: a whole budget would only add chunks of the same cost).
The logging calls (:class:`jaxrl.cli.boards.Board`: the events rebuilt at the start,
each chunk's rows, the plot at the end) are timed where they run, in the hook between chunks, so the
figure does not drift with the machine's load as a difference of two wall times would;
the run's own training seconds (``summary.json``'s ``wall_s``, compile apart) are the
denominator. Goal: under 5 % for every preset, at 4 seeds (the command line's default)
and at 64.

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
from jaxrl.cli import boards

SEEDS = (4, 64)
GOAL = 0.05


class Timed:
    """Seconds spent in the board's methods, patched in while a run trains."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.originals = {name: getattr(boards.Board, name) for name in ("add", "end")}
        self.rebuilt = boards.Board.rebuilt

    def __enter__(self) -> Timed:
        for name, original in self.originals.items():
            setattr(boards.Board, name, self._timed(original))
        rebuilt = self.rebuilt.__func__
        boards.Board.rebuilt = classmethod(self._timed(rebuilt))
        return self

    def _timed(self, original):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1
        return timed

    def __exit__(self, *exc: object) -> None:
        for name, original in self.originals.items():
            setattr(boards.Board, name, original)
        boards.Board.rebuilt = self.rebuilt


def case(algo: str, env: str, seeds: int, chunks: int, out: Path) -> dict:
    """One run of ``chunks`` evaluation intervals of the preset, its logging timed."""
    config, _ = presets.preset(algo, env)
    learner = presets.LEARNERS[algo]
    episodes = learner.budget == "episodes"
    interval = config.eval_every_episodes if episodes else config.eval_every
    total = config.episodes if episodes else config.total_steps
    budget = ["--episodes" if episodes else "--steps", str(min(chunks * interval, total))]
    argv = ["train", algo, "--env", env, "--seeds", str(seeds), *budget, "--out", str(out),
            "--no-progress"]
    with Timed() as timed:
        status = cli.main(argv)
    if status != 0:
        raise SystemExit(f"jaxrl {' '.join(argv)} failed ({status})")
    summary = json.loads((out / "summary.json").read_text())
    rows = sum(1 for _ in (out / "metrics.csv").open()) - 1
    return {"algo": algo, "env": env, "seeds": seeds, "chunks": chunks,
            "eval_every": interval, "rows": rows, "log_s": timed.seconds,
            "log_calls": timed.calls, "train_s": summary["wall_s"],
            "share": timed.seconds / summary["wall_s"]}


def main(argv: list[str] | None = None) -> None:
    p = parser("logs", __doc__.splitlines()[0])
    args = p.parse_args(argv)
    pairs = [(algo, presets.default_env(algo)) for algo in presets.LEARNERS]
    if args.quick:
        pairs = [("dqn", "CartPole-v1")]
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for algo, env in pairs:
            for seeds in (2,) if args.quick else SEEDS:
                out = Path(tmp) / f"{algo}-{seeds}"
                records.append(case(algo, env, seeds, 1 if args.quick else 3, out))
                r = records[-1]
                print(f"  {algo} {env} {seeds} seeds: {r['log_s']:.3f} s logging, "
                      f"{r['train_s']:.1f} s training ({r['share']:.2%})", flush=True)
    print(format_table(["algo", "env", "seeds", "eval_every", "rows", "log s", "train s",
                        "share"],
                       [[r["algo"], r["env"], r["seeds"], r["eval_every"], r["rows"],
                         f"{r['log_s']:.3f}", f"{r['train_s']:.1f}", f"{r['share']:.2%}"]
                        for r in records]))
    worst = max(r["share"] for r in records)
    met = worst < GOAL
    print(f"goal: TensorBoard logging under {GOAL:.0%} of training: "
          f"{'met' if met else 'MISSED'} (worst {worst:.2%})")
    write_json(args.out, "logs", {"cases": records, "worst_share": worst,
                                  "goals": {"tensorboard_under_5_percent": {
                                      "met": met, "worst": worst}}}, args.quick)


if __name__ == "__main__":
    main()
