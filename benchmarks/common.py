"""Shared plumbing for the benchmark scripts: device name, timing, tables, JSON.

Every benchmark script prints a table, writes JSON (``--out``, default
``benchmarks/results/<name>.json``) naming the device, and has a ``--quick`` mode
that runs in seconds (``benchmarks/run_all.py --quick`` runs them all that way, as
``tests/test_benchmarks.py`` does).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax

RESULTS_DIR = Path(__file__).resolve().parent / "results"
ROOT = RESULTS_DIR.parents[1]


def rejax_paths() -> tuple[Path, Path]:
    """The peer's Python and ``rejax_bench.py``: ``.venv-rejax`` and ``../shared/peers``
    (``../shared/peers/README.md``), or where ``REJAX_PYTHON`` / ``REJAX_BENCH`` say
    (on a machine where rejax is installed elsewhere, such as a lent GPU)."""
    python = os.environ.get("REJAX_PYTHON", ROOT / ".venv-rejax" / "bin" / "python")
    bench = os.environ.get("REJAX_BENCH", ROOT.parent / "shared" / "peers" / "rejax_bench.py")
    return Path(python), Path(bench)


def peer_record(cmd: list[str], timeout: float | None = None, cwd: Path | None = None) -> dict:
    """Run a peer's benchmark (one fresh process, in its own venv) and read the JSON line
    it prints last: that record, or ``{"error": ...}`` when it fails, prints none or
    runs past ``timeout`` seconds."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=cwd,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"no result after {timeout} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr or done.stdout)[-2000:]}
    return json.loads(lines[-1])


def parser(name: str, description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark shares."""
    p = argparse.ArgumentParser(prog=f"benchmarks/{name}.py", description=description)
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run in seconds")
    p.add_argument(
        "--out",
        type=Path,
        default=RESULTS_DIR / f"{name}.json",
        help="where to write the JSON results (default: %(default)s)",
    )
    return p


def add_parts(p: argparse.ArgumentParser, parts: tuple[str, ...]) -> None:
    """``--parts`` (which sections to run, all by default) and ``--keep`` (keep the
    others from the JSON already at ``--out``)."""
    p.add_argument("--parts", default=",".join(parts),
                   help=f"comma-separated sections among {', '.join(parts)}")
    p.add_argument("--keep", action="store_true",
                   help="keep the parts not rerun from the JSON already at --out")


def chosen_parts(p: argparse.ArgumentParser, args: argparse.Namespace,
                 parts: tuple[str, ...]) -> tuple[set[str], dict[str, Any]]:
    """The parts asked for (a usage error for an unknown one) and the results kept from
    ``--out`` with ``--keep`` (the parts not rerun, and ``kept_from``: their date)."""
    asked = set(args.parts.split(","))
    if not asked <= set(parts):
        p.error(f"--parts: choose among {', '.join(parts)}")
    results: dict[str, Any] = {"parts": sorted(asked)}
    if args.keep and args.out.exists():
        kept = json.loads(args.out.read_text())
        results.update({k: kept[k] for k in set(parts) - asked if k in kept})
        results["kept_from"] = {"date": kept.get("date"), "parts": sorted(set(parts) - asked)}
    return asked, results


def stats(x: Any) -> dict[str, Any]:
    """Mean, min, max and the per-seed values (2 decimals) of a vector of returns."""
    import numpy as np

    x = np.asarray(x, float)
    return {"mean": float(x.mean()), "min": float(x.min()), "max": float(x.max()),
            "per_seed": [round(float(v), 2) for v in x]}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median env steps/s (the lower middle one for an even count), with the
    rates of all runs beside it."""
    ordered = sorted(runs, key=lambda r: r["steps_per_s"])
    return {**ordered[(len(ordered) - 1) // 2],
            "steps_per_s_all": [r["steps_per_s"] for r in runs]}


def device_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    device = jax.devices()[0]
    return {
        "backend": jax.default_backend(),
        "device": getattr(device, "device_kind", str(device)),
        "device_count": jax.device_count(),
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "jax": jax.__version__,
        "python": platform.python_version(),
    }


def device_slug(info: dict[str, Any] | None = None) -> str:
    """A file name for the kind of machine (default: this one's :func:`device_info`):
    ``cpu-2cores`` on a CPU, the accelerator's kind otherwise (``nvidia-h200``, with
    ``4x-`` in front for four of them)."""
    info = info or device_info()
    if info["backend"] == "cpu":
        return f"cpu-{info['cpu_count']}cores"
    kind = re.sub(r"[^a-z0-9]+", "-", str(info["device"]).lower()).strip("-") or info["backend"]
    count = info.get("device_count", 1)
    return f"{count}x-{kind}" if count > 1 else kind


def dqn_greedy_returns(config: Any, states: Any, params: Any, keys: Any) -> Any:
    """``config.eval_episodes`` greedy episodes of each DQN agent in a batch of ``states``,
    acting on ``params`` (θ or θ̄; a batch too): a ``[agents, episodes]`` numpy array."""
    import numpy as np

    from jaxrl import driver  # here: importing it starts JAX (after use_cpu_cores)
    from jaxrl.deep import dqn

    setup = dqn.make(config)

    def one(state, k):
        # greedy_action reads θ̄: give it the params to play
        return driver.evaluate(dqn.ALGORITHM, setup, config, state, k)["return"]

    return np.asarray(jax.jit(jax.vmap(one))(states.replace(average_params=params), keys))


def block(tree: Any) -> Any:
    """Wait for every array of a pytree."""
    return jax.block_until_ready(tree)


def timeit(fn: Callable[[], Any], *, repeats: int = 3, min_time: float = 0.0) -> float:
    """Best wall time (seconds) of ``fn()`` over ``repeats`` calls (results blocked on).

    With ``min_time``, each sample repeats ``fn`` until that much time has passed and
    reports the time per call.
    """
    best = float("inf")
    for _ in range(repeats):
        calls = 0
        start = time.perf_counter()
        while True:
            block(fn())
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        best = min(best, elapsed / calls)
    return best


def timeit_interleaved(fns: dict[str, Callable[[], Any]], *, repeats: int = 5) -> dict[str, float]:
    """Best wall time of each ``fns[name]()``, timed in turns (A, B, A, B, ...).

    On a shared machine the load drifts; taking turns exposes every contender to the
    same drift, so that their ratio stays honest.
    """
    for fn in fns.values():  # warm up (compile) outside the timing
        block(fn())
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            block(fn())
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with right-aligned columns."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)

    body = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h)
              for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(lines)


def write_json(path: Path, name: str, results: dict[str, Any], quick: bool) -> None:
    """Write the results with the device and date they were measured on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "quick": quick,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "device": device_info(),
        **results,
    }
    path.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    print(f"\nwrote {path}")
