"""Every headline benchmark in one call: run each script, merge their JSON, write RESULTS.md.

Runs each benchmark script of ``benchmarks/`` (planning, tabular_q, model_based, envs,
dqn, dqn_sweep, ddpg, scaling, and any other ``*.py`` there but ``common.py``,
``report.py``, ``gpu.py`` and this one) as its own process (``sys.executable``), with
``--out <out-dir>/<name>.json`` and ``--quick`` when given, streaming its output and
recording its exit status and wall time.
Then it merges every script's JSON into ``<out-dir>/<device>.json`` (``cpu-2cores``,
``nvidia-h200``: :func:`common.device_slug`) and writes ``RESULTS.md``: the device and
date, one section per benchmark with its headline numbers, one table of every
side-by-side ratio against a peer (rejax, pymdptoolbox, gymnax, the numpy loops), the
scaling table and plot, and each script's goals (met / missed / not measured). A script
that fails is reported as failed there and in the exit status (1); the others still run.
rejax runs only where ``.venv-rejax`` exists (``../shared/peers/README.md``; or
``REJAX_PYTHON`` / ``REJAX_BENCH``); RESULTS.md says so when it does not.

The parent process never starts JAX (on a GPU it would hold the memory the scripts need).
``--gpu`` runs the README's GPU figures instead, within 9 minutes (``benchmarks/gpu.py``;
on a lent GPU machine: ``bash benchmarks/gpu_command.sh``).

    .venv/bin/python benchmarks/run_all.py                    # full: hours on 2 CPU cores
    .venv/bin/python benchmarks/run_all.py --quick --out-dir /tmp/b --results-md /tmp/b/RESULTS.md
    .venv/bin/python benchmarks/run_all.py --only dqn,scaling
    python benchmarks/run_all.py --gpu                        # on a GPU: at most 9 minutes
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402
from common import RESULTS_DIR, device_slug, rejax_paths  # noqa: E402  (imports jax, starts nothing)

#: Files of benchmarks/ that are not benchmarks.
NOT_BENCHMARKS = {"common", "gpu", "report", "run_all"}
#: The headline order; other scripts follow by name.
ORDER = ("planning", "tabular_q", "model_based", "envs", "dqn", "dqn_sweep", "stability",
         "ddpg", "ppo", "sac", "scaling")
TAIL_LINES = 40


def benchmarks() -> list[str]:
    """The benchmark scripts' names, in the headline order."""
    names = {p.stem for p in HERE.glob("*.py")} - NOT_BENCHMARKS
    return [n for n in ORDER if n in names] + sorted(names - set(ORDER))


def run_one(name: str, out: Path, quick: bool, extra: tuple[str, ...] = (), *,
            script: str | None = None, env: dict[str, str] | None = None,
            timeout: float | None = None) -> dict:
    """Run ``benchmarks/<script or name>.py`` (with ``extra`` arguments and ``env`` added to
    the environment), streaming its output: status, wall time, results. With ``timeout``
    (seconds), the script and every process it started are killed then (status
    ``stopped: time budget``)."""
    path = Path(script) if script and script.endswith(".py") else HERE / f"{script or name}.py"
    cmd = [sys.executable, str(path), "--out", str(out), *extra]
    if quick:
        cmd.append("--quick")
    print(f"\n{'=' * 20} {name}: {' '.join(cmd[1:])}", flush=True)
    if out.exists():
        out.unlink()  # a stale file must not pass for this run's
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    start = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=env, cwd=HERE.parent,
                          start_new_session=timeout is not None) as proc:
        assert proc.stdout is not None
        fired, timer = threading.Event(), None
        if timeout is not None:  # its own session: its peers' processes go with it
            timer = threading.Timer(max(timeout, 0.0), _kill_group, (proc.pid, fired))
            timer.start()
        for line in proc.stdout:
            sys.stdout.write(line)
            tail.append(line.rstrip("\n"))
        code = proc.wait()
        if timer is not None:
            timer.cancel()
        stopped = fired.is_set() and code != 0
    wall = time.perf_counter() - start
    record = {"returncode": code, "wall_s": wall, "json": report.stored_path(out), "results": None,
              "arguments": list(extra)}
    if stopped:
        record["status"] = f"stopped: time budget (killed after {wall:.0f} s)"
    elif code != 0:
        record["status"] = f"failed: exit code {code}"
    elif not out.exists():
        record["status"] = "failed: wrote no JSON"
    else:
        try:
            record["results"] = json.loads(out.read_text())
            record["status"] = "ok"
        except json.JSONDecodeError as err:
            record["status"] = f"failed: unreadable JSON ({err})"
    if record["status"] != "ok":
        record["output_tail"] = list(tail)
    print(f"{'=' * 20} {name}: {record['status']} in {wall:.1f} s", flush=True)
    return record


def _kill_group(pid: int, fired: threading.Event) -> None:
    """Kill a process group (a script and the peers it started), if it still runs."""
    fired.set()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def earlier(name: str, out: Path, quick: bool, extra: tuple[str, ...] = ()) -> dict:
    """``--report-only``: the record of a JSON an earlier run left (not rerun)."""
    record = {"returncode": None, "wall_s": None, "json": report.stored_path(out), "results": None,
              "status": "missing: no JSON in --out-dir"}
    if out.exists():
        record["results"] = json.loads(out.read_text())
        record["status"] = f"ok (not rerun: JSON of {record['results'].get('date')})"
    record["output_tail"] = [] if record["results"] else [f"{out} not found"]
    return record


def device_of(records: dict) -> dict:
    """The device the scripts measured on (from their JSON; else asked of a child)."""
    for rec in records.values():
        if rec["results"] and "device" in rec["results"]:
            return rec["results"]["device"]
    code = "import json, common; print(json.dumps(common.device_info()))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=HERE, check=False)
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"backend": "unknown", "device": "unknown", "device_count": 0,
                "cpu_count": os.cpu_count()}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--gpu" in argv:  # the README's GPU figures: benchmarks/gpu.py
        import gpu

        return gpu.main([a for a in argv if a != "--gpu"])
    p = argparse.ArgumentParser(prog="benchmarks/run_all.py",
                                description=__doc__.splitlines()[0])
    p.add_argument("--gpu", action="store_true",
                   help="the README's GPU figures in at most 9 minutes instead "
                   "(benchmarks/gpu.py; `--gpu --help` lists its options)")
    p.add_argument("--quick", action="store_true", help="every script's --quick mode")
    p.add_argument("--only", help="comma-separated subset of: " + ", ".join(benchmarks()))
    p.add_argument("--out-dir", type=Path, default=RESULTS_DIR,
                   help="where the JSON goes (default: %(default)s)")
    p.add_argument("--results-md", type=Path, default=HERE / "RESULTS.md",
                   help="the summary to write (default: %(default)s)")
    p.add_argument("--report-only", action="store_true",
                   help="run nothing: rebuild the merged JSON and RESULTS.md from the "
                   "scripts' JSON already in --out-dir")
    p.add_argument("--args", action="append", default=[], metavar="NAME=ARGS",
                   help="more arguments for one script, e.g. 'dqn=--parts speed' "
                   "(repeatable; recorded in the JSON and RESULTS.md)")
    args = p.parse_args(argv)
    names = benchmarks()
    extra = {}
    for item in args.args:
        name, sep, rest = item.partition("=")
        if not sep or name not in names:
            p.error(f"--args {item!r}: expected NAME=ARGS with NAME among {', '.join(names)}")
        extra[name] = tuple(rest.split())
    if args.only:
        chosen = [n for n in args.only.split(",") if n]
        unknown = sorted(set(chosen) - set(names))
        if unknown:
            p.error(f"--only: unknown benchmark(s) {', '.join(unknown)}; "
                    f"choose among {', '.join(names)}")
        names = [n for n in names if n in chosen]
    out_dir = args.out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    python, bench = rejax_paths()
    rejax = "installed" if python.exists() and bench.exists() else "not installed"
    print(f"benchmarks: {', '.join(names)}; rejax {rejax}; JSON in {out_dir}", flush=True)

    start = time.perf_counter()
    run = earlier if args.report_only else run_one
    records = {name: run(name, out_dir / f"{name}.json", args.quick, extra.get(name, ()))
               for name in names}
    info = device_of(records)
    merged = {
        "benchmark": "run_all", "quick": args.quick, "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "device": info, "device_slug": device_slug(info), "rejax": rejax,
        "wall_s": time.perf_counter() - start, "benchmarks": records,
    }
    merged_path = out_dir / f"{merged['device_slug']}.json"
    merged_path.write_text(json.dumps(merged, indent=2, default=float) + "\n")
    results_md = args.results_md.resolve()
    results_md.parent.mkdir(parents=True, exist_ok=True)
    results_md.write_text(report.render(merged, results_md) + "\n")

    failed = [n for n, r in records.items() if not r["status"].startswith("ok")]
    print(f"\n{'=' * 20} done in {merged['wall_s']:.0f} s")
    for name, rec in records.items():
        print(f"  {name:>10}: {rec['status']}"
              + ("" if rec["wall_s"] is None else f" ({rec['wall_s']:.1f} s)"))
    print(f"wrote {merged_path}\nwrote {results_md}")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
