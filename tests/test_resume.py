"""Exact resume: a real ``jaxrl train`` process, stopped by SIGINT or SIGTERM in the
middle of training, saves and exits (130 / 143) with a line that says how to go on;
``jaxrl train --resume`` then ends with parameters, metrics and curve bit-identical to
a run that was never stopped. A damaged newest checkpoint is passed over (one line
says so, nothing is deleted), and a non-finite loss stops the run keeping the last
finite checkpoint."""

from __future__ import annotations

import csv
import json
import logging
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest
from conftest import assert_events_equal_metrics
from test_boards import wandb_history

import jaxrl
from jaxrl import checkpointing, cli

ARGS = ["train", "dqn", "--seeds", "2", "--steps", "3000", "--eval_every", "200",
        "--hidden_sizes", "16", "--eval_episodes", "2", "--batch_size", "16",
        "--buffer_size", "1000", "--no-progress"]


def _leaves(tree):
    return [np.asarray(jax.random.key_data(x) if jax.dtypes.issubdtype(
        x.dtype, jax.dtypes.prng_key) else x) for x in jax.tree.leaves(tree)]


def _jaxrl(*argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jaxrl.cli", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run, in its own process as the stopped one is: a process whose JAX
    started before the command line spread the seeds over one XLA device per core (as
    pytest's has) runs another XLA program, equal only to the last bit of float32."""
    out = tmp_path_factory.mktemp("ref") / "run"
    stdout, stderr = _jaxrl(*ARGS, "--out", str(out)).communicate(timeout=240)
    assert (out / "summary.json").exists(), stderr
    return out


def _stop_midway(out, signum, *extra: str) -> subprocess.CompletedProcess:
    process = _jaxrl(*ARGS, *extra, "--out", str(out))
    deadline = time.monotonic() + 240
    while not (out / "checkpoints" / "2").exists():  # two chunks of 15 trained
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=240)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_stopped_and_resumed_is_bit_identical(tmp_path, reference, signum):
    """Also: the TensorBoard events equal metrics.csv after the resume, and (SIGTERM)
    the resume goes on with the same W&B runs (offline), whose history is then the
    seed's rows, each once."""
    out = tmp_path / "run"
    wandb = ("--wandb", "jaxrl-tests", "--wandb-mode", "offline") \
        if signum == signal.SIGTERM else ()
    stopped = _stop_midway(out, signum, *wandb)
    assert stopped.returncode == 128 + signum, stopped.stderr
    assert f"jaxrl train --resume {out}" in stopped.stdout
    assert "Traceback" not in stopped.stderr
    partial = jaxrl.load(out)
    assert not partial.complete and 2 <= partial.chunks < 15
    resumed = subprocess.run([sys.executable, "-m", "jaxrl.cli", "train", "--resume", str(out),
                              "--no-progress"], capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    a, b = jaxrl.load(out), jaxrl.load(reference)
    assert a.complete and a.chunks == b.chunks == 15
    for x, y in zip(_leaves(a.state), _leaves(b.state), strict=True):
        np.testing.assert_array_equal(x, y)
    assert (out / "metrics.csv").read_text() == (reference / "metrics.csv").read_text()
    assert_events_equal_metrics(out)  # rewritten from metrics.csv, then appended to
    if wandb:
        ids = json.loads((out / "wandb.json").read_text())["ids"]
        with (out / "metrics.csv").open(newline="") as f:
            rows = list(csv.DictReader(f))
        for seed, run_id in enumerate(ids):
            history = wandb_history(out, run_id)[0]
            assert len(list(out.glob(f"wandb/offline-run-*-{run_id}"))) == 2  # two parts
            assert [h["step"] for h in history] == [int(r["env_steps"]) for r in rows
                                                    if r["seed"] == str(seed)]


def _damage(step: Path, how: str) -> None:
    """Damage checkpoint ``step``: its arrays' data files cut to a third, or its array
    metadata gone."""
    if how == "truncated":
        for f in step.glob("default/**/d/*"):
            f.write_bytes(f.read_bytes()[: f.stat().st_size // 3])
    else:
        (step / "default" / "_METADATA").unlink()


def _files(folder: Path) -> dict[str, bytes]:
    return {str(f.relative_to(folder)): f.read_bytes() for f in folder.rglob("*")
            if f.is_file()}


def _clean_notes(stderr: str) -> list[str]:
    """The ``jaxrl: note:`` lines of ``stderr``, which holds nothing else (no traceback,
    no absl or TensorStore lines)."""
    lines = stderr.strip().splitlines()
    assert all(line.startswith("jaxrl: note: ") for line in lines), stderr
    assert not any(noise in stderr for noise in ("Traceback", "absl", "tensorstore_spec",
                                                 "pybind11", "Event loop")), stderr
    return lines


def test_a_damaged_newest_checkpoint_is_passed_over_and_the_resume_is_exact(tmp_path,
                                                                             reference):
    """``--resume`` goes on from the newest checkpoint that reads, saying so in one line;
    the damaged one is moved aside, not deleted, so that the chunk is saved anew; the run
    ends bit-identical to the one never damaged."""
    out = tmp_path / "run"
    shutil.copytree(reference, out)
    _damage(out / "checkpoints" / "15", "truncated")
    damaged = _files(out / "checkpoints" / "15")
    resumed = subprocess.run([sys.executable, "-m", "jaxrl.cli", "train", "--resume", str(out),
                              "--no-progress"], capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    passed, aside = _clean_notes(resumed.stderr)
    assert passed.startswith("jaxrl: note: checkpoints/15 is unreadable (") and \
        passed.endswith("); going on from checkpoints/14"), passed
    assert "resuming after chunk 14" in resumed.stdout
    moved = [p for p in (out / "checkpoints").iterdir() if p.name.startswith("15.damaged-")]
    assert len(moved) == 1 and f"moved aside to checkpoints/{moved[0].name}" in aside
    assert _files(moved[0]) == damaged  # kept as it was
    a, b = jaxrl.load(out), jaxrl.load(reference)
    assert a.complete and a.chunks == b.chunks == 15
    for x, y in zip(_leaves(a.state), _leaves(b.state), strict=True):
        np.testing.assert_array_equal(x, y)
    assert (out / "metrics.csv").read_text() == (reference / "metrics.csv").read_text()


@pytest.mark.parametrize("how", ["truncated", "no_metadata"])
def test_eval_of_a_damaged_newest_checkpoint_uses_the_previous_one(tmp_path, reference,
                                                                   capfd, how):
    out = tmp_path / "run"
    shutil.copytree(reference, out)
    _damage(out / "checkpoints" / "15", how)
    before = _files(out)
    assert cli.main(["eval", str(out)]) == 0
    (note,) = _clean_notes(capfd.readouterr().err)
    reason = "default/_METADATA is missing" if how == "no_metadata" else "out of range: "
    assert note.startswith(f"jaxrl: note: checkpoints/15 is unreadable ({reason}"), note
    assert note.endswith("; going on from checkpoints/14")
    assert _files(out) == before  # nothing deleted, moved or written
    assert jaxrl.load(out).chunks == 14


def test_no_readable_checkpoint_is_one_clear_line(tmp_path, reference, capfd):
    out = tmp_path / "run"
    shutil.copytree(reference, out)
    _damage(out / "checkpoints" / "15", "truncated")
    _damage(out / "checkpoints" / "14", "no_metadata")
    assert cli.main(["eval", str(out)]) == 2
    err = capfd.readouterr().err.strip()
    assert err.startswith(f"jaxrl: error: {out}: no checkpoint reads: checkpoints/15 is "
                          "unreadable (out of range: "), err
    assert err.endswith("; checkpoints/14 is unreadable (default/_METADATA is missing)")
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "absl" not in err


def test_a_non_finite_loss_stops_keeping_the_last_finite_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "dqn", "--seeds", "2", "--steps", "1000", "--eval_every", "200",
            "--hidden_sizes", "8", "--eval_episodes", "1", "--batch_size", "8",
            "--learning_starts", "100", "--learning_rate", "1e30", "--learning_rate_end",
            "none", "--max_grad_norm", "inf", "--out", str(out), "--no-progress"]
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    assert "diverged" in captured.out and "loss" in captured.out
    run = jaxrl.load(out) if (out / "checkpoints").exists() else None
    if run is not None:
        assert all(np.isfinite(x).all() for x in _leaves(run.state.params))


def test_sigterm_with_the_progress_bar_on_a_terminal_shows_the_cursor_again(tmp_path):
    """On a terminal the bar hides the cursor; a SIGTERM mid-run ends the bar cleanly:
    the cursor is shown again, then the line that says how to go on."""
    import os
    import pty
    import threading

    out = tmp_path / "run"
    leader, follower = pty.openpty()
    argv = [a for a in ARGS if a != "--no-progress"]
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    process = subprocess.Popen([sys.executable, "-m", "jaxrl.cli", *argv, "--out", str(out)],
                               stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # the process closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    while not (out / "checkpoints" / "2").exists():
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=240) == 128 + signal.SIGTERM
    reader.join(timeout=10)
    os.close(leader)
    text = b"".join(chunks).decode(errors="replace")
    hide, show = "\x1b[?25l", "\x1b[?25h"
    assert hide in text, "the bar drew on the terminal"
    assert show in text[text.rindex(hide):], "the cursor is shown again"
    assert f"jaxrl train --resume {out}" in text and "Traceback" not in text


def test_unretrieved_tensorstore_reads_are_not_logged(caplog):
    """After a damaged checkpoint, asyncio's line for each TensorStore read that orbax
    left unawaited is dropped (the note says it once); any other such line stays."""
    checkpointing._drop_unretrieved_read_errors()
    log = logging.getLogger("asyncio")
    log.error("Task exception was never retrieved\nfuture: <Task finished exception="
              "ValueError('OUT_OF_RANGE: Error reading [tensorstore_spec=...]')>")
    log.error("Task exception was never retrieved\nfuture: <Task finished exception="
              "ValueError('something else')>")
    assert [r.getMessage() for r in caplog.records] == [
        "Task exception was never retrieved\nfuture: <Task finished exception="
        "ValueError('something else')>"]


def test_closed_event_loop_errors_are_dropped_and_nothing_else(monkeypatch, capsys):
    """After a failed restore, TensorStore's late callbacks into orbax's closed event
    loop print ``RuntimeError('Event loop is closed')``, as unraisable exceptions or
    through ``sys.excepthook``: both hooks drop those and pass every other error on."""
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    checkpointing._drop_closed_loop_errors()

    class RaisesWhenCollected:
        def __init__(self, error: Exception):
            self.error = error

        def __del__(self):
            raise self.error

    for error in (RuntimeError("Event loop is closed"), ValueError("another error")):
        sys.excepthook(type(error), error, None)
        RaisesWhenCollected(error)  # collected at once: an unraisable exception
    err = capsys.readouterr().err
    assert "Event loop is closed" not in err
    assert err.count("ValueError: another error") == 2
