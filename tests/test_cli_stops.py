"""A run stopped and resumed, as its timings and messages say it: the times of its parts
add up in ``summary.json`` (``times.json`` keeps each part's), and a stop before the
first chunk ended says that nothing was saved (a real process and a real signal)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

ARGS = ["train", "dqn", "--seeds", "2", "--steps", "2400", "--eval_every", "200",
        "--hidden_sizes", "8", "--eval_episodes", "1", "--batch_size", "16",
        "--buffer_size", "500", "--no-progress"]


def _jaxrl(*argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jaxrl.cli", *argv], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _resume(out) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jaxrl.cli", "train", "--resume", str(out),
                           "--no-progress"], capture_output=True, text=True, timeout=240)


def test_a_resumed_runs_times_add_up(tmp_path):
    out = tmp_path / "run"
    process = _jaxrl(*ARGS, "--out", str(out))
    deadline = time.monotonic() + 240
    while not (out / "checkpoints" / "3").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=240)
    assert process.returncode == 130 and "checkpoint saved" in stdout, stderr
    first = json.loads((out / "times.json").read_text())["parts"]
    assert len(first) == 1 and first[0]["first_chunk"] == 0 and first[0]["last_chunk"] >= 3
    assert _resume(out).returncode == 0
    parts = json.loads((out / "times.json").read_text())["parts"]
    summary = json.loads((out / "summary.json").read_text())
    assert len(parts) == 2 == summary["parts"] and summary["complete"]
    assert parts[1]["first_chunk"] <= first[0]["last_chunk"]
    assert parts[1]["last_chunk"] == 12
    assert summary["wall_s"] == pytest.approx(sum(p["wall_s"] for p in parts))
    assert summary["compile_s"] == pytest.approx(sum(p["compile_s"] for p in parts))
    assert summary["steps_per_s"] == pytest.approx(2 * 2400 / summary["wall_s"])
    # resuming a complete run trains nothing: a third part, the rate of the whole run
    assert _resume(out).returncode == 0
    again = json.loads((out / "summary.json").read_text())
    assert again["parts"] == 3
    assert again["wall_s"] >= summary["wall_s"]
    assert again["steps_per_s"] == pytest.approx(2 * 2400 / again["wall_s"])


def test_a_stop_while_compiling_saves_nothing_and_says_so(tmp_path):
    out = tmp_path / "run"
    process = _jaxrl(*ARGS, "--out", str(out))
    for line in process.stdout:  # printed just before the driver compiles
        if line.startswith("run folder:"):
            break
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=240)
    assert process.returncode == 130, stderr
    assert "stopped before the first chunk ended: nothing trained, no checkpoint" in stdout
    assert "checkpoint saved" not in stdout and "Traceback" not in stderr
    assert not (out / "checkpoints").exists() or not any((out / "checkpoints").iterdir())
    done = _resume(out)  # starts it again
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "summary.json").read_text())["complete"]
