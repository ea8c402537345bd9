"""The README's GPU figures in one call of at most 9 minutes: ``run_all.py --gpu``.

Runs, each as its own process (as ``run_all.py`` does; this process never starts JAX):

============  ==========================================================  =============
step          what it measures                                            device s:
                                                                          alone / peers
============  ==========================================================  =============
dqn           ``dqn.py --parts speed``: env steps/s on rejax's CartPole   35 / +35
              DQN config at 1, 16 and 128 seeds, rejax's DQN at 1 and 16
ddpg          ``ddpg.py``: TD3 on rejax's Pendulum-v1 config at 1, 16     105 / +65
              (rejax's too) and 128 seeds and its speed-up bound; DDPG's
              and TD3's returns on Pendulum-v1, the course's swing-up
scaling       ``scaling.py --algos dqn``: DQN's cost per seed, 1 to 1 024  140
              seeds
ppo           ``ppo.py --parts speed``: PPO and PQN on PureJaxRL's and    130 / +200
              rejax's configs at 1 and 16 seeds, the peers' own runs
scaling_ddpg  ``scaling.py --algos ddpg``: DDPG's curve, if time is left  135
============  ==========================================================  =============

The estimates: the H200 run of ``b866c7c`` (``results/dqn-h200.json``,
``ddpg-h200.json``) compiled each jaxrl run in 6–8 s and ran one in 0.5–2.3 s, rejax's in
7–9 s plus 1–3 s, each peer a process of its own (about 8 s to start); the scripts' run
counts: dqn 3 runs and 2 of rejax's; ddpg 10 runs (its course run 6 + 11 s) and 4 of
rejax's; scaling 6 seed counts, each run (and so compiled) 3 times when short; ppo 10
runs and 10 of the peers' (on the CPU, ``results/ppo.json``: 3.5–6.5 s to compile each).
A step runs only if its estimate fits in what is left of the budget (else ``not run:
time budget``), with its peers only if they fit too with the later required steps'
estimates kept aside (else ``peers skipped: time budget``: its peer columns say so); a
step still running when the budget ends is killed (``stopped: time budget``). With rejax
installed and about 15 s of set-up, the estimates give dqn and ddpg their peers, not
ppo. Each step's estimate and wall time are in the JSON, to correct them.

It writes ``<out-dir>/<device>.json`` (every step's record, results and status, and
``figures``: each figure of the README's GPU table with its status), each script's JSON
(and ``RESULTS.md``, ``scaling.png``) in ``<out-dir>/<device>/``, after every step, a
tar of both with ``--bundle``, and at the end the table between ``<!-- gpu-table -->``
and ``<!-- /gpu-table -->`` in ``--readme`` (README.md; a ``--quick`` run only into a
``--readme`` named). Without a GPU it says that the figures are not rerun and writes
nothing (exit 3), unless ``--quick`` (the test suite's smoke run).

rejax runs where ``REJAX_PYTHON`` / ``REJAX_BENCH`` (or ``.venv-rejax`` and
``../shared/peers/rejax_bench.py``) exist; otherwise the table says ``rejax not
installed`` and the rest runs. The README's install (``../shared/peers/README.md``)
needs PyPI; a lent GPU machine reaches none, so ``benchmarks/gpu_command.sh`` carries
the wheels (``bash benchmarks/gpu_command.sh prepare`` here first).

    python benchmarks/run_all.py --gpu                          # on a GPU: README and JSON
    bash benchmarks/gpu_command.sh                              # on a lent GPU machine
    .venv/bin/python benchmarks/run_all.py --gpu --report-only  # the table from the JSON
    .venv/bin/python benchmarks/run_all.py --gpu --quick --only dqn --out-dir /tmp/g \\
        --readme /tmp/g/README.md                               # smoke run on a CPU
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402
import run_all  # noqa: E402
from common import RESULTS_DIR, ROOT, device_slug, rejax_paths  # noqa: E402

#: Seconds of device time for the whole plan.
BUDGET_S = 540.0
#: A Python that cannot exist: a script given it as ``REJAX_PYTHON`` skips its peers.
NO_PEER = "/dev/null/no-peer-python"
#: Exit status when there is no GPU and no ``--quick``.
NO_GPU = 3


@dataclass(frozen=True)
class Step:
    """One script run of the plan."""

    name: str  #: the record's name; its JSON is ``<out-dir>/<device>/<name>.json``
    script: str  #: ``benchmarks/<script>.py``, or a path ending in ``.py``
    arguments: tuple[str, ...]
    estimate_s: float  #: device seconds without the peers
    peers_s: float = 0.0  #: more seconds with the peers (0: it has none)
    required: bool = True  #: later steps keep its estimate aside when choosing peers


PLAN: tuple[Step, ...] = (
    Step("dqn", "dqn", ("--parts", "speed"), 35, 35),
    Step("ddpg", "ddpg", (), 105, 65),
    Step("scaling", "scaling", ("--algos", "dqn"), 140),
    Step("ppo", "ppo", ("--parts", "speed"), 130, 200),
    Step("scaling_ddpg", "scaling", ("--algos", "ddpg"), 135, required=False),
)


def probe_device() -> dict:
    """The device a script will see (asked of a child process, which starts JAX)."""
    return run_all.device_of({})


def choose(step: Step, later: list[Step], elapsed: float, budget: float | None,
           peers_installed: bool, quick: bool) -> tuple[bool, str]:
    """Whether ``step`` runs now, and its peers' fate: ``run``, ``not installed``,
    ``skipped: time budget``, ``not run in --quick mode`` or ``none`` (it has none)."""
    if not step.peers_s:
        peers = "none"
    elif quick:
        peers = "not run in --quick mode"
    elif not peers_installed:
        peers = "not installed"
    else:
        peers = "run"
    if budget is None or quick:
        return True, peers
    kept = sum(s.estimate_s for s in later if s.required)
    if peers == "run" and elapsed + step.estimate_s + step.peers_s + kept > budget:
        peers = "skipped: time budget"
    return elapsed + step.estimate_s <= budget, peers


def skipped(step: Step, out: Path, status: str) -> dict:
    """The record of a step not run."""
    return {"returncode": None, "wall_s": None, "json": report.stored_path(out), "results": None,
            "arguments": list(step.arguments), "status": status, "output_tail": []}


def _shown(path: Path) -> str:
    """A path as the README and the JSON name it: from the repository root if inside."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def write_outputs(merged: dict, out_dir: Path, bundle: Path | None) -> Path:
    """The merged JSON, the run's RESULTS.md and the bundle, as they stand now (a report
    that fails is said in the JSON: it must not cost the figures still to run)."""
    slug = merged["device_slug"]
    md = out_dir / slug / "RESULTS.md"
    try:
        merged["figures"] = report.gpu_figures(merged)
        md.write_text(report.render(merged, md) + "\n")
        merged.pop("report_error", None)
    except Exception as err:
        merged["report_error"] = repr(err)
        print(f"the report failed (the JSON holds the results): {err!r}")
    path = out_dir / f"{slug}.json"
    path.write_text(json.dumps(merged, indent=2, default=float) + "\n")
    if bundle is not None:
        bundle.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(bundle, "w") as tar:
            for item in (path, out_dir / slug):
                tar.add(item, arcname=_shown(item))
    return path


def write_readme(readme: Path, merged: dict | None, json_path: Path | None) -> bool:
    """Rewrite the GPU table between the markers of ``readme``; False if it has none."""
    text = readme.read_text()
    start, end = text.find(report.GPU_START), text.find(report.GPU_END)
    if start < 0 or end < start:
        print(f"{readme}: no {report.GPU_START} ... {report.GPU_END} markers: table not "
              "written")
        return False
    shown = None if json_path is None else _shown(json_path)
    table = report.gpu_table(merged, shown)
    readme.write_text(text[:start + len(report.GPU_START)] + "\n" + table + "\n"
                      + text[end:])
    print(f"wrote the GPU table in {readme}")
    return True


def newest_gpu_json(out_dir: Path, slug: str | None) -> Path | None:
    """``<out-dir>/<slug>.json``, or the newest merged JSON of a full GPU run there (a
    ``--quick`` run's only when named)."""
    if slug:
        path = out_dir / f"{slug}.json"
        return path if path.exists() else None
    found = []
    for path in out_dir.glob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if (isinstance(data, dict) and data.get("benchmark") == "run_all --gpu"
                and not data.get("quick")):
            found.append((data.get("date") or "", path))
    return max(found)[1] if found else None


def report_only(args: argparse.Namespace, readme: Path | None) -> int:
    """Rebuild the README's table (and the run's RESULTS.md) from a run's merged JSON."""
    path = newest_gpu_json(args.out_dir, args.device)
    if path is None:
        print(f"no full GPU run's JSON in {args.out_dir}: the GPU figures are not rerun; "
              "the README is left as it is")
        return 0
    merged = json.loads(path.read_text())
    folder = args.out_dir / merged["device_slug"]
    folder.mkdir(parents=True, exist_ok=True)
    for name, rec in merged["benchmarks"].items():  # where the scripts' JSON are now
        rec["json"] = report.stored_path(folder / f"{name}.json")
    write_outputs(merged, args.out_dir, None)
    print(f"rebuilt from {path}")
    if readme is not None:
        write_readme(readme, merged, path)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``run_all.py --gpu``: run the plan within the budget, write the JSON and the table."""
    p = argparse.ArgumentParser(prog="benchmarks/run_all.py --gpu",
                                description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="every script's --quick mode, no budget (a smoke run, on a CPU too)")
    p.add_argument("--only", help="comma-separated steps among "
                   + ", ".join(s.name for s in PLAN))
    p.add_argument("--out-dir", type=Path, default=RESULTS_DIR,
                   help="where <device>.json and <device>/ go (default: %(default)s)")
    p.add_argument("--readme", type=Path, default=None,
                   help=f"the file whose GPU table to rewrite (default: {ROOT / 'README.md'}; "
                   "with --quick: none)")
    p.add_argument("--budget-s", type=float, default=None,
                   help=f"device seconds for the plan (default: {BUDGET_S:g}; --quick: none)")
    p.add_argument("--bundle", type=Path, default=None,
                   help="also write a tar of <device>.json and <device>/ here, after every "
                   "step (paths from the repository root: `tar xf` there restores them)")
    p.add_argument("--report-only", action="store_true",
                   help="run nothing: rewrite the table from the newest full GPU run's JSON "
                   "in --out-dir")
    p.add_argument("--device", help="with --report-only: the device's JSON to use "
                   "(<out-dir>/<device>.json, a --quick run's too)")
    args = p.parse_args(argv)
    args.out_dir = args.out_dir.resolve()
    readme = args.readme or (None if args.quick else ROOT / "README.md")
    if args.report_only:
        return report_only(args, readme)
    steps = list(PLAN)
    chosen = set(args.only.split(",")) if args.only else {s.name for s in steps}
    unknown = sorted(chosen - {s.name for s in steps})
    if unknown:
        p.error(f"--only: unknown step(s) {', '.join(unknown)}")
    budget = args.budget_s if args.budget_s is not None else None if args.quick else BUDGET_S

    start = time.perf_counter()
    info = probe_device()
    if info.get("backend") != "gpu" and not args.quick:
        print(f"no GPU here (backend {info.get('backend')}, device {info.get('device')}): "
              "the GPU figures are not rerun; nothing written. On a GPU: python "
              "benchmarks/run_all.py --gpu (a lent machine: bash benchmarks/gpu_command.sh)")
        return NO_GPU
    slug = device_slug(info)
    (args.out_dir / slug).mkdir(parents=True, exist_ok=True)
    python, bench = rejax_paths()
    rejax = "installed" if python.exists() and bench.exists() else "not installed"
    merged = {
        "benchmark": "run_all --gpu", "quick": args.quick,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "device": info, "device_slug": slug,
        "rejax": rejax, "budget_s": budget, "wall_s": None,
        "command": "python benchmarks/run_all.py --gpu" + (" --quick" if args.quick else "")
        + (f" --only {args.only}" if args.only else ""),
        "plan": [{"step": s.name, "script": s.script, "arguments": list(s.arguments),
                  "estimate_s": s.estimate_s, "peers_s": s.peers_s, "required": s.required}
                 for s in steps],
        "benchmarks": {},
    }
    print(f"GPU figures on {slug}: budget {budget or 'none'} s; rejax {rejax}; "
          f"JSON in {args.out_dir / slug}", flush=True)
    json_path = None
    for i, step in enumerate(steps):
        out = args.out_dir / slug / f"{step.name}.json"
        elapsed = time.perf_counter() - start
        if step.name not in chosen:
            record = skipped(step, out, "not run: not in --only")
            peers = "none"
        else:
            runs, peers = choose(step, steps[i + 1:], elapsed, budget,
                                 rejax == "installed", args.quick)
            if not runs:
                record = skipped(step, out, "not run: time budget")
                print(f"\n{'=' * 20} {step.name}: not run: {elapsed:.0f} s spent, its "
                      f"estimate {step.estimate_s:g} s, budget {budget:g} s", flush=True)
            else:
                record = run_all.run_one(
                    step.name, out, args.quick, step.arguments, script=step.script,
                    env=None if peers == "run" else {"REJAX_PYTHON": NO_PEER},
                    timeout=None if budget is None else budget - elapsed)
        record.update(script=step.script, peers=peers, estimate_s=step.estimate_s,
                      peers_s=step.peers_s)
        merged["benchmarks"][step.name] = record
        if record["results"] and "device" in record["results"]:
            merged["device"] = record["results"]["device"]  # as the scripts see it
        merged["wall_s"] = time.perf_counter() - start
        json_path = write_outputs(merged, args.out_dir, args.bundle)
    if readme is not None:
        write_readme(readme, merged, json_path)
    print(f"\n{'=' * 20} done in {merged['wall_s']:.0f} s")
    for name, rec in merged["benchmarks"].items():
        print(f"  {name:>12}: {rec['status']}"
              + ("" if rec["wall_s"] is None else f" ({rec['wall_s']:.1f} s)")
              + ("" if rec["peers"] in ("none", "run") else f"; peers {rec['peers']}"))
    print(f"wrote {json_path}")
    failed = [n for n, r in merged["benchmarks"].items()
              if not r["status"].startswith(("ok", "not run"))]
    if failed:
        print(f"FAILED or stopped: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
