"""The ``jaxrl`` command through its real entry point: every learner trains into a run
folder with the same summary schema, a trained run is evaluated, rendered, loaded; and
bad input is one line, exit 2, nothing written (tiny budgets: the product, not learning).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from jaxrl import cli

SUMMARY_KEYS = {"algo", "env", "preset", "seeds", "seed", "complete", "budget", "unit",
                "env_steps", "metric", "final_per_seed", "final_mean", "final_min",
                "final_max", "wall_s", "compile_s", "steps_per_s", "devices", "run_folder"}
TINY_DQN = ["--steps", "800", "--eval_every", "200", "--hidden_sizes", "16",
            "--eval_episodes", "2", "--batch_size", "16", "--buffer_size", "400"]


def _train(tmp_path, name: str, argv: list[str]) -> tuple[dict, str]:
    out = tmp_path / name
    assert cli.main(["train", *argv, "--seeds", "2", "--out", str(out), "--no-progress"]) == 0
    return json.loads((out / "summary.json").read_text()), str(out)


@pytest.fixture(scope="module")
def dqn_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "dqn"
    assert cli.main(["train", "dqn", *TINY_DQN, "--seeds", "2", "--out", str(out),
                     "--no-progress"]) == 0
    return out


def test_a_run_folder_holds_config_metrics_summary_plot_checkpoints(dqn_run, capsys):
    names = {p.name for p in dqn_run.iterdir()}
    assert {"config.json", "metrics.csv", "summary.json", "learning_curve.png",
            "checkpoints"} <= names
    info = json.loads((dqn_run / "config.json").read_text())
    assert info["algo"] == "dqn" and info["seeds"] == 2 and info["env"] == "CartPole-v1"
    assert info["config"]["total_steps"] == 800 and info["config"]["hidden_sizes"] == [16]
    assert {"jax", "jaxrl", "flax"} <= info["versions"].keys() and "backend" in info["device"]
    with (dqn_run / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 5  # seeds x (the first evaluation + 4 chunks)
    assert [int(r["env_steps"]) for r in rows[::2]] == [0, 200, 400, 600, 800]
    assert {"return_mean", "return_min", "return_max", "train_loss"} <= rows[0].keys()
    summary = json.loads((dqn_run / "summary.json").read_text())
    assert SUMMARY_KEYS <= summary.keys() and summary["complete"]
    assert summary["env_steps"] == 800 and len(summary["final_per_seed"]) == 2
    last = [float(r["return_mean"]) for r in rows[-2:]]
    assert summary["final_per_seed"] == pytest.approx(last)
    assert (dqn_run / "learning_curve.png").stat().st_size > 10_000


@pytest.mark.parametrize(("algo", "argv"), [
    # 25 episodes: the default evaluation interval (50) fitted to a divisor of them
    ("qlearning", ["--env", "Maze", "--episodes", "25", "--max_steps", "10"]),
    ("nnq", ["--steps", "400", "--eval_every", "200", "--hidden_sizes", "16",
             "--eval_episodes", "2"]),
    ("ddpg", ["--steps", "200", "--learning_starts", "100", "--batch_size", "16",
              "--buffer_size", "200", "--hidden_sizes", "16,16", "--eval_every", "100",
              "--eval_episodes", "2", "--set", "actor_learning_rate_end=1e-5"]),
    ("td3", ["--steps", "200", "--learning_starts", "100", "--batch_size", "16",
             "--hidden-sizes", "16", "--eval-every", "100", "--eval-episodes", "2"]),
    ("mbrl", ["--env", "Maze", "--steps", "105", "--plan_every", "10"]),  # 105 -> 120
    ("mpc", ["--steps", "120", "--random_steps", "80", "--refit_every", "20",
             "--fit_steps", "20", "--horizon", "5", "--samples", "8", "--elites", "2",
             "--iterations", "2", "--eval_episodes", "1", "--hidden_sizes", "8"]),
    ("pqn", ["--steps", "250", "--num_envs", "4", "--num_steps", "16", "--num_minibatches",
             "2", "--hidden_sizes", "8", "--eval_episodes", "2"]),  # 250 -> 256
    ("reinforce", ["--steps", "256", "--num_envs", "4", "--num_steps", "16",
                   "--hidden_sizes", "8", "--eval_episodes", "2"]),
    # Pendulum-v1's preset has vf_clip = inf: written to config.json and read back
    ("ppo", ["--env", "Pendulum-v1", "--steps", "256", "--num_envs", "4", "--num_steps",
             "16", "--num_minibatches", "2", "--hidden_sizes", "8", "--eval_episodes", "2"]),
    # the course's pendulum: the swing-up task in the summary, as for every learner there
    ("sac", ["--env", "Pendulum", "--steps", "200", "--learning_starts", "100",
             "--batch_size", "16", "--hidden_sizes", "8", "--eval_episodes", "2"]),
])
def test_every_learner_writes_the_same_summary(tmp_path, algo, argv):
    summary, folder = _train(tmp_path, algo, [algo, *argv])
    assert SUMMARY_KEYS <= summary.keys()
    assert summary["algo"] == algo and summary["seeds"] == 2 and summary["complete"]
    assert len(summary["final_per_seed"]) == 2
    if algo in ("pqn", "ppo"):  # a rollout of every environment per train_step
        assert summary["env_steps"] == 256
        assert cli.main(["eval", folder, "--episodes", "2", "--no-progress"]) == 0
    if algo == "sac":
        assert len(summary["swing_up_per_seed"]) == 2
        assert summary["swing_up_seeds"] == sum(summary["swing_up_per_seed"])
        rows = list(csv.DictReader(open(Path(folder) / "metrics.csv")))
        assert {r["swing_up"] for r in rows} <= {"0.0", "1.0"}


def test_short_runs_are_said_and_budgets_exact(tmp_path, capsys):
    summary, folder = _train(tmp_path, "dqn", ["dqn", "--steps", "1205", "--hidden_sizes",
                                               "8", "--eval_episodes", "1"])
    out = capsys.readouterr().out
    # capped from the budget trained, 1210, not the one asked
    assert "learning_starts 5000 -> 605" in out and "exploration_steps 30000 -> 363" in out
    assert "total_steps 1205 -> 1210" in out  # whole steps of the 10 environments
    assert "eval_every 5000 -> 1210" in out
    assert summary["env_steps"] == 1210
    assert f"run folder: {folder}" in out


def test_eval_render_load_a_trained_run(dqn_run, tmp_path, capsys):
    import jaxrl

    assert cli.main(["eval", str(dqn_run), "--episodes", "3"]) == 0
    out = capsys.readouterr().out
    assert "seed 0: mean" in out and "seed 1: mean" in out
    gif = tmp_path / "episode.gif"
    assert cli.main(["render", str(dqn_run), "--out", str(gif), "--steps", "20"]) == 0
    from PIL import Image

    with Image.open(gif) as image:
        assert image.n_frames >= 2 and image.size == (300, 200)
    run = jaxrl.load(dqn_run)
    assert run.algo == "dqn" and run.complete and run.config.total_steps == 800
    assert run.state.params is not None and 0 <= run.best < 2
    action = run.policy()(np.zeros(4, np.float32))
    assert action.shape == () and int(action) in (0, 1)
    assert run.policy(seed=1)(np.zeros((5, 4), np.float32)).shape == (5,)


def test_plan_prints_v_and_the_policy(capsys):
    assert cli.main(["plan", "Maze"]) == 0
    out = capsys.readouterr().out
    assert "   0.81    0.9      1      0" in out and "→  →  →  G" in out
    assert cli.main(["plan", "FrozenLake-misc", "--gamma", "0.95"]) == 0
    out = capsys.readouterr().out
    assert "policy iteration" in out and "float32" in out
    assert cli.main(["plan", "FrozenLake-misc", "--gamma", "0.95", "--x64"]) == 0
    out = capsys.readouterr().out
    assert "float64" in out and "max |V_vi - V_pi| = " in out
    assert float(out.split("max |V_vi - V_pi| = ")[1].split()[0]) < 1e-8
    import jax
    assert not jax.config.jax_enable_x64  # for that command only


def test_list_and_version_and_help_start_no_jax():
    code = ("import sys; from jaxrl import cli\n"
            "for argv in (['list'], ['--version'], ['--help'], ['train', '--help']):\n"
            "    try: cli.main(argv)\n"
            "    except SystemExit: pass\n"
            "print('JAX' if 'jax' in sys.modules else 'NOJAX')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "dqn" in out and "CartPole-v1" in out and "jaxrl 0.1.0" in out
    assert out.strip().endswith("NOJAX")


BAD = [
    (["trian"], "did you mean train"),
    (["train", "dqm"], "did you mean dqn"),
    (["train", "dqn", "--env", "CartPol-v1"], "did you mean CartPole-v1"),
    (["train", "dqn", "--env", "Pendulum-v1"], "DDPG"),
    (["train", "ddpg", "--env", "CartPole-v1"], "DQN"),
    (["train", "qlearning", "--env", "CartPole-v1"], "Discrete observation"),
    (["train", "pqn", "--env", "Pendulum-v1"], "PQN needs a Discrete action space"),
    (["train", "ppo", "--num_minibatches", "3"], "num_minibatches (3) must divide"),
    (["train", "pqn", "--conv_features", "16"], "need an image observation"),
    (["train", "reinforce", "--learning_rate", "0"], "learning_rate must be > 0"),
    (["train", "dqn", "--set", "learning_rat=1e-3"], "did you mean learning_rate"),
    (["train", "dqn", "--set", "learning_rate"], "FIELD=VALUE"),
    (["train", "dqn", "--set", "learning_rate=fast"], "expected a number"),
    (["train", "dqn", "--learning_rate", "inf"], "finite"),
    (["train", "dqn", "--gamma", "nan"], "finite"),
    (["train", "dqn", "--gamma", "1.5"], "gamma"),
    (["train", "ddpg", "--tau", "0"], "tau"),
    (["train", "dqn", "--learning_rate", "-1"], "learning_rate must be > 0, got -1.0"),
    (["train", "dqn", "--batch_size", "100", "--buffer_size", "50"], "replay memory"),
    (["train", "qlearning", "--set", "gamma=2"], "gamma (γ) must be in [0, 1]"),
    (["train", "dqn", "--steps", "1e13"], "int32"),
    (["train", "ddpg", "--steps", "1e13"], "int32"),
    (["train", "dqn", "--buffer_size", "1e10"], "int32"),
    (["train", "dqn", "--buffer_size", "2e9"], "GiB"),
    (["train", "dqn", "--steps", "12.5"], "integer"),
    (["train", "dqn", "--seeds", "0"], "--seeds must be >= 1"),
    (["train", "dqn", "--hidden_sizes", ""], "hidden_sizes"),
    (["train", "dqn", "--dueling", "maybe"], "true or false"),
    (["train", "dqn", "--frobnicate", "3"], "unrecognized arguments"),
    (["train", "qlearning", "--steps", "100"], "--episodes"),
    (["train", "dqn", "--config", "missing.toml"], "cannot read"),
    (["train", "--resume", "nowhere"], "no such run folder"),
    (["train", "dqn", "--resume", "nowhere"], "no other options"),
    (["eval", "nowhere"], "no such run folder"),
    (["plan", "CartPole-v1"], "no exact model"),
    (["train", "dqn", "--coordinator", "localhost:1234"], "together"),
    (["train", "dqn", "--coordinator", "localhost", "--num-processes", "2",
      "--process-id", "0"], "HOST:PORT"),
    (["train", "dqn", "--coordinator", "h:1", "--num-processes", "2", "--process-id", "2"],
     "--process-id must be below --num-processes 2"),
    (["train", "dqn", "--coordinator", "h:1", "--num-processes", "0", "--process-id", "0"],
     "--num-processes must be >= 1"),
    (["train", "dqn", "--distributed", "--num-processes", "2"], "alone"),
    (["maze", "--iterations", "x"], "integer"),
    (["train", "dqn", "--set", "gamma=0.9", "--gamma", "0.5"], "--set and --gamma both set"),
    (["train", "dqn", "--set", "gamma=0.9", "--set", "gamma=0.5"], "give it once"),
    (["train", "dqn", "--steps", "1000", "--total_steps", "2000"], "both set total_steps"),
    (["train", "dqn", "--env", "Acrobot-v1", "--set", "env=CartPole-v1"], "both set env"),
    (["train", "dqn", "--env", "LunarLander-v3"], "Gymnasium's are not among them"),
    (["train", "mpc", "--env", "CartPole-v1"], "MPC needs a Box action space"),
    (["train", "ppo", "--num-envs", "5000", "--steps", "2000"],
     "less than one train_step call of 640000 environment steps"),
    (["train", "pqn", "--num_envs", "5000", "--steps", "2000"], "(num_envs 5000 x num_steps"),
    (["train", "dqn", "--num_envs", "64", "--steps", "10"], "one train_step call of 64"),
    (["train", "dqn", "--out", "/proc/x"], "cannot write in /proc"),
    (["train", "dqn", "--env_options", "gravity=abc"], "expects a number"),
    (["train", "dqn", "--coordinator", "::1:80", "--num-processes", "2", "--process-id",
      "0"], "in brackets"),
    (["eval", "nowhere", "--seed", "1"], "--seed-index"),
    (["render", "nowhere", "--seed", "1"], "--seed-index"),
    (["train"], "give an algorithm"),
    ([], "give a command"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, monkeypatch, argv, message,
                                                       usage_error):
    monkeypatch.chdir(tmp_path)
    usage_error(argv, message, quiet=argv not in ([], ["train"]))  # those print the help
    assert not any(tmp_path.iterdir())  # no run folder, nothing half-written


def test_bad_files_and_folders(tmp_path, dqn_run, capsys):
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("learning_rate = = 1")
    unknown = tmp_path / "unknown.json"
    unknown.write_text('{"learning_rat": 0.1}')
    a_file = tmp_path / "file"
    a_file.write_text("x")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    cases = [
        (["--config", str(bad_toml)], "not valid TOML"),
        (["--config", str(unknown)], "did you mean learning_rate"),
        (["--out", str(a_file)], "not a folder"),
        (["--out", str(foreign)], "not a jaxrl run folder"),
        (["--out", str(dqn_run)], "--resume"),
    ]
    if os.geteuid() != 0:  # root writes anywhere
        cases.append((["--out", str(locked / "run")], "cannot write"))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    for argv, message in cases:
        assert cli.main(["train", "dqn", *argv]) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("jaxrl: error:") and message in err, (argv, err)
        assert len(err.splitlines()) == 1
    assert cli.main(["train", "ddpg", "--out", str(dqn_run)]) == 2
    assert "a run of dqn, not ddpg" in capsys.readouterr().err
    assert cli.main(["train", "--resume", str(foreign)]) == 2
    assert "not a jaxrl run folder" in capsys.readouterr().err
    assert cli.main(["train", "--resume", str(dqn_run), "--seeds", "3"]) == 2
    assert "no other options" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
