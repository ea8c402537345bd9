"""``jaxrl sweep`` through its real entry point, and :mod:`jaxrl.sweep`'s Python API: a
grid of configs × seeds gives each config's seeds as its own ``jaxrl train`` does, a
stopped sweep resumes bit-identically, a static field makes one program per value, the
best config trains as written, and bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from jaxrl import cli, presets, runs
from jaxrl import sweep as sweeps
from jaxrl.cli import fields, sweeping
from jaxrl.deep import dqn

TINY = ["dqn", "--steps", "600", "--eval_every", "200", "--hidden_sizes", "8",
        "--eval_episodes", "2", "--batch_size", "16", "--buffer_size", "300",
        "--learning_starts", "100", "--exploration_steps", "300", "--seeds", "2",
        "--no-progress"]
GRID = ["--grid", "learning_rate=0.001,0.01", "--grid", "gamma=0.9,0.99"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def _params(folder: Path) -> list[np.ndarray]:
    """The newest checkpoint's arrays, in a fixed order (parameters and all)."""
    host = runs.latest_checkpoint(folder)
    return [np.asarray(x) for x in jax.tree.leaves(host)]


@pytest.fixture(scope="module")
def grid_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweeps") / "grid"
    assert cli.main(["sweep", *TINY, *GRID, "--out", str(out)]) == 0
    return out


def test_a_sweep_folder_ranks_its_configs(grid_sweep, capsys):
    files = {p.name for p in grid_sweep.iterdir()}
    assert {"sweep.json", "results.csv", "summary.json", "curves.png", "best.toml",
            "groups"} <= files
    info = json.loads((grid_sweep / "sweep.json").read_text())
    assert info["configs"] == [{"learning_rate": lr, "gamma": g}
                               for lr in (0.001, 0.01) for g in (0.9, 0.99)]
    assert info["groups"] == [[0, 1, 2, 3]]  # only leaves swept: one program
    rows = _rows(grid_sweep / "results.csv")
    assert len(rows) == 4 * 2 * 4  # configs x seeds x evaluations (0, 200, 400, 600)
    summary = json.loads((grid_sweep / "summary.json").read_text())
    ranked = summary["ranked"]
    assert [r["rank"] for r in ranked] == [1, 2, 3, 4]
    assert [r["iqm"] for r in ranked] == sorted((r["iqm"] for r in ranked), reverse=True)
    for r in ranked:
        finals = [float(row["value"]) for row in rows
                  if int(row["config"]) == r["config"] and row["env_steps"] == "600"]
        assert r["mean"] == pytest.approx(np.mean(finals))
        assert r["iqm_low"] <= r["iqm"] <= r["iqm_high"]
    assert summary["best"] == ranked[0]["config"]
    assert len(summary["programs"]) == 1 and summary["programs"][0]["configs"] == 4


def test_each_config_of_a_sweep_is_its_own_train_run(grid_sweep, tmp_path):
    """Config by config, seed by seed: the curves equal those of `jaxrl train` of that
    config with the same seeds, and the parameters to float32 rounding (a seed in a
    batch: the README's precision)."""
    rows = _rows(grid_sweep / "results.csv")
    sweep_host = runs.latest_checkpoint(grid_sweep / "groups" / "0")
    for i, (lr, gamma) in enumerate([(lr, g) for lr in ("0.001", "0.01")
                                     for g in ("0.9", "0.99")]):
        out = tmp_path / f"run{i}"
        assert cli.main(["train", *TINY, "--learning_rate", lr, "--gamma", gamma,
                         "--out", str(out)]) == 0
        mine = {(r["seed"], r["env_steps"]): float(r["value"]) for r in rows
                if int(r["config"]) == i}
        theirs = {(r["seed"], r["env_steps"]): float(r["return_mean"])
                  for r in _rows(out / "metrics.csv")}
        assert mine == theirs, i
        run_host = runs.latest_checkpoint(out)
        compared = 0  # the seed-batched float leaves: parameters, optimiser state, buffer
        for a, b in zip(jax.tree.leaves(run_host), jax.tree.leaves(sweep_host), strict=True):
            a, b = np.asarray(a), np.asarray(b)
            if a.ndim and b.ndim and b.shape[0] == 8 and a.shape[0] == 2 and \
                    np.issubdtype(a.dtype, np.floating):
                np.testing.assert_allclose(b[2 * i:2 * i + 2], a, rtol=1e-5, atol=1e-6)
                compared += 1
        assert compared >= 8, compared
    # a sweep compares with a run of the same environment: its best config's curves
    plot = tmp_path / "compare.png"
    assert cli.main(["compare", str(tmp_path / "run0"), str(grid_sweep), "--out",
                     str(plot)]) == 0
    rows = json.loads(plot.with_suffix(".json").read_text())["rows"]
    assert rows[1]["name"].startswith("grid best (") and plot.exists()


def test_best_toml_trains_the_winning_config(grid_sweep, tmp_path):
    summary = json.loads((grid_sweep / "summary.json").read_text())
    best = summary["ranked"][0]["values"]
    out = tmp_path / "best"
    assert cli.main(["train", "dqn", "--config", str(grid_sweep / "best.toml"), "--seeds",
                     "1", "--out", str(out), "--no-progress"]) == 0
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["learning_rate"] == best["learning_rate"]
    assert config["gamma"] == best["gamma"]
    assert config["total_steps"] == 600 and config["hidden_sizes"] == [8]


def test_every_preset_round_trips_through_toml(tmp_path):
    for (algo, env) in presets.PRESETS:
        config = presets.preset(algo, env)[0]
        sweeping.write_toml(tmp_path / "c.toml", config, "a preset")
        back = fields.apply(presets.LEARNERS[algo].default_config(),
                            fields.read_file(tmp_path / "c.toml"))
        assert back == config, (algo, env)


def _jaxrl(*argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jaxrl.cli", *argv], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_a_static_field_makes_programs_and_a_stopped_sweep_resumes_bit_identically(
        tmp_path):
    """A static field (hidden_sizes) makes one program per value, run in turn; a sweep
    stopped by SIGINT in its first program and resumed ends as the one never stopped."""
    argv = ["sweep", *[a for a in TINY if a not in ("--hidden_sizes", "8")], "--grid",
            "hidden_sizes=8;4,4", "--grid", "learning_rate=0.001,0.01"]
    whole = tmp_path / "whole"  # a process of its own, as the stopped one: the same devices
    done = subprocess.run([sys.executable, "-m", "jaxrl.cli", *argv, "--out", str(whole)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0 and "2 program(s)" in done.stdout, done.stderr
    info = json.loads((whole / "sweep.json").read_text())
    assert info["groups"] == [[0, 1], [2, 3]]
    summary = json.loads((whole / "summary.json").read_text())
    assert [p["configs"] for p in summary["programs"]] == [2, 2]

    out = tmp_path / "stopped"
    process = _jaxrl(*argv, "--out", str(out))
    deadline = time.monotonic() + 240
    while not (out / "groups" / "0" / "checkpoints" / "1").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=240)
    assert process.returncode == 130 and "jaxrl sweep --resume" in stdout, stderr
    assert not (out / "summary.json").exists()  # stopped in its first or second program
    resumed = subprocess.run([sys.executable, "-m", "jaxrl.cli", "sweep", "--resume",
                              str(out), "--no-progress"], capture_output=True, text=True,
                             timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    assert _rows(out / "results.csv") == _rows(whole / "results.csv")
    for group in ("0", "1"):
        for a, b in zip(_params(out / "groups" / group), _params(whole / "groups" / group),
                        strict=True):
            np.testing.assert_array_equal(a, b)


def test_the_python_api_indexes_results_by_config_and_seed():
    config = dqn.DQNConfig(total_steps=400, eval_every=200, hidden_sizes=(8,),
                           eval_episodes=2, batch_size=16, buffer_size=300,
                           learning_starts=100, exploration_steps=200)
    stacked = sweeps.grid(config, learning_rate=[1e-3, 1e-2], gamma=[0.9, 0.95, 0.99])
    assert sweeps.size(stacked) == 6
    np.testing.assert_allclose(stacked.learning_rate, [1e-3] * 3 + [1e-2] * 3)
    np.testing.assert_allclose(stacked.gamma, [0.9, 0.95, 0.99] * 2)
    keys = jax.random.split(jax.random.key(0), 2)
    result = sweeps.run(dqn.ALGORITHM, stacked, keys)
    assert result.curve.eval_return.shape[:2] == (6, 2)
    assert jax.tree.leaves(result.state)[0].shape[:2] == (6, 2)
    alone = dqn.run(config.replace(learning_rate=1e-2, gamma=0.95), keys)
    np.testing.assert_allclose(result.curve.eval_return[4], alone.curve.eval_return)


BAD = [
    (["sweep", *TINY], "give the values to sweep"),
    (["sweep", *TINY, "--grid", "learning_rat=0.1,0.2"], "did you mean learning_rate"),
    (["sweep", *TINY, "--grid", "learning_rate"], "expected FIELD=V1,V2"),
    (["sweep", *TINY, "--grid", "learning_rate="], "an empty value"),
    (["sweep", *TINY, "--grid", "learning_rate=0.1,,0.2"], "an empty value"),
    (["sweep", *TINY, "--grid", "learning_rate=fast,slow"], "expected a number"),
    (["sweep", *TINY, "--grid", "gamma=0.9,1.5"], "gamma"),
    (["sweep", *TINY, "--grid", "learning_rate=0.1,0.1"], "a value given twice"),
    (["sweep", *TINY, "--zip", "num_envs=2,4"], "a static field"),
    (["sweep", *TINY, "--zip", "learning_rate=0.1,0.2", "--zip", "gamma=0.9,0.95,0.99"],
     "as many values each"),
    (["sweep", *TINY, "--grid", "gamma=0.9,0.99", "--zip", "gamma=0.9,0.95"],
     "swept twice"),
    (["sweep", *TINY, "--grid", "batch_size=16,32"], "sweep it or set it"),
    (["sweep", *TINY, "--grid", "env=CartPole-v1,Acrobot-v1"], "one environment"),
    (["sweep", *TINY, "--grid", "total_steps=400,800"], "the budget cannot be swept"),
    (["sweep", *TINY, "--seeds", "0", *GRID], "--seeds must be >= 1"),
    (["sweep", *TINY[:TINY.index("--buffer_size")], *TINY[TINY.index("--buffer_size") + 2:],
      "--seeds", "100000", "--grid", "buffer_size=2000000,3000000"], "more than 80%"),
    (["sweep", *TINY, *GRID, "--coordinator", "localhost:1234"],
     "unrecognized arguments: --coordinator"),
    (["sweep", "--resume", "nowhere"], "no such sweep folder"),
    (["sweep", "--resume", "nowhere", *GRID], "give no other options"),
    (["sweep", "dqm", *GRID], "unknown algorithm"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a[1:]) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, monkeypatch, argv, message,
                                                       usage_error):
    monkeypatch.chdir(tmp_path)
    usage_error(argv, message)
    assert not any(tmp_path.iterdir())


def test_a_run_folder_is_not_a_sweep_to_resume(grid_sweep, tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")
    assert cli.main(["sweep", "--resume", str(tmp_path / "run")]) == 2
    assert "not a jaxrl sweep folder" in capsys.readouterr().err
    assert cli.main(["sweep", *TINY, *GRID, "--out", str(grid_sweep)]) == 2
    assert "jaxrl sweep --resume" in capsys.readouterr().err


def test_configs_rank_by_iqm_then_mean_and_a_diverged_one_last():
    """Configs that all reach a return's cap tie on IQM: the mean decides, then the
    interval's lower end; a config with no finite score ranks last."""
    def row(config, iqm, mean, low):
        return {"config": config, "iqm": iqm, "mean": mean, "iqm_low": low}

    rows = [row(0, math.nan, math.nan, math.nan), row(1, 500.0, 449.9, 399.8),
            row(2, 500.0, 500.0, 500.0), row(3, 500.0, 500.0, 480.0), row(4, 389.0, 400, 288)]
    out = sweeping.ranked(rows)
    assert [r["config"] for r in out] == [2, 3, 1, 4, 0]
    assert [r["rank"] for r in out] == [1, 2, 3, 4, 5]
