"""One run over two processes (``jax.distributed`` on 127.0.0.1, two CPU devices each,
gloo collectives): the same per-seed results as one process of four devices, bit for
bit, stopped by a signal to one process and resumed; a killed process fails the other
with one clear line instead of a hang."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np

import jaxrl
from jaxrl import runs

# 3 seeds: over 2 processes x 2 devices and over 1 process x 4 devices both padded to 4
ARGS = ["train", "dqn", "--seeds", "3", "--steps", "1200", "--eval_every", "200",
        "--hidden_sizes", "16", "--eval_episodes", "2", "--batch_size", "16",
        "--buffer_size", "400", "--no-progress"]


def _env(devices: int) -> dict[str, str]:
    return {**os.environ, "JAX_PLATFORMS": "cpu",
            "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _processes(*argv: str) -> list[subprocess.Popen]:
    """Both processes of a run: process 0 at a free port, 2 CPU devices each."""
    where = ["--coordinator", f"127.0.0.1:{_port()}", "--num-processes", "2"]
    return [subprocess.Popen([sys.executable, "-m", "jaxrl.cli", *argv, *where,
                              "--process-id", str(i)], env=_env(2), text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for i in range(2)]


def _wait_for(path: Path, processes: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + 240
    while not path.exists():
        assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
        assert time.monotonic() < deadline, f"no {path}"
        time.sleep(0.05)


def _leaves(tree):
    return [np.asarray(jax.random.key_data(x) if jax.dtypes.issubdtype(
        x.dtype, jax.dtypes.prng_key) else x) for x in jax.tree.leaves(tree)]


def test_two_processes_stopped_and_resumed_equal_one_process_bit_for_bit(tmp_path):
    out = tmp_path / "two"
    first = _processes(*ARGS, "--out", str(out))
    _wait_for(out / "checkpoints" / "2", first)
    first[0].send_signal(signal.SIGTERM)  # one process asked: both stop after one chunk
    done = [p.communicate(timeout=240) for p in first]
    assert [p.returncode for p in first] == [143, 143], done
    assert f"jaxrl train --resume {out}" in done[0][0]
    assert done[1][0].count("jaxrl") == 0  # process 1 prints nothing of its own
    partial = jaxrl.load(out)  # one process reads both processes' rows
    assert not partial.complete and 2 <= partial.chunks < 6
    host = runs.latest_checkpoint(out)
    assert host["chunk"].shape == (2,)  # a row per process, written by each

    again = _processes("train", "--resume", str(out), "--no-progress")
    done = [p.communicate(timeout=240) for p in again]
    assert [p.returncode for p in again] == [0, 0], done

    one = tmp_path / "one"
    alone = subprocess.run([sys.executable, "-m", "jaxrl.cli", *ARGS, "--out", str(one)],
                           env=_env(4), capture_output=True, text=True, timeout=240)
    assert alone.returncode == 0, alone.stderr
    a, b = jaxrl.load(out), jaxrl.load(one)
    assert a.complete and a.chunks == b.chunks == 6
    assert json.loads((out / "config.json").read_text())["processes"] == 2
    summary = json.loads((out / "summary.json").read_text())
    assert summary["devices"] == 4 and len(summary["final_per_seed"]) == 3
    assert summary["final_per_seed"] == json.loads((one / "summary.json").read_text())[
        "final_per_seed"]
    assert (out / "metrics.csv").read_text() == (one / "metrics.csv").read_text()
    for x, y in zip(_leaves(a.state), _leaves(b.state), strict=True):
        np.testing.assert_array_equal(x, y)


def test_a_killed_process_fails_the_other_with_one_clear_line(tmp_path):
    out = tmp_path / "run"
    both = _processes(*ARGS, "--out", str(out))
    _wait_for(out / "checkpoints" / "1", both)
    both[1].kill()
    t0 = time.monotonic()
    stdout, stderr = both[0].communicate(timeout=240)  # no hang: it fails, and soon
    assert both[0].returncode == 1, (stdout, stderr)
    # at its next exchange, or, when the peer dies while it waits in one, once JAX's
    # heartbeats stop (100 s, jaxrl.devices.start_processes): seen at 82 s on a loaded
    # 2-core machine
    assert time.monotonic() - t0 < 150
    lines = [ln for ln in stderr.splitlines() if ln.startswith("jaxrl: error:")]
    assert len(lines) == 1 and "lost another process" in lines[0], stderr
    assert f"--resume {out}" in lines[0]
    assert "Traceback" not in stderr
    both[1].communicate()
