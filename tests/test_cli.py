"""The ``jaxrl train …`` commands: they train, print, write ``DIR/summary.json``, and
refuse bad input with one clear line (tiny budgets: this checks the product, not learning)."""

from __future__ import annotations

import json

import pytest

from jaxrl import cli

DEEP_KEYS = {"algo", "env", "seeds", "env_steps", "final_return_per_seed",
             "final_return_mean", "wall_s", "compile_s", "devices"}


def _summary(tmp_path, argv: list[str]) -> dict:
    assert cli.main([*argv, "--out", str(tmp_path)]) == 0
    return json.loads((tmp_path / "summary.json").read_text())


def test_train_qlearning_writes_summary(tmp_path, capsys):
    summary = _summary(tmp_path, ["train", "qlearning", "--env", "DiscretePendulum",
                                  "--seeds", "2", "--episodes", "20"])
    assert {"algo", "env", "seeds", "episodes", "final_return_per_seed",
            "greedy_success_per_seed", "wall_s"} <= summary.keys()
    assert summary["algo"] == "qlearning" and summary["seeds"] == 2
    assert summary["episodes"] == 20
    assert len(summary["final_return_per_seed"]) == 2
    assert all(0.0 <= s <= 1.0 for s in summary["greedy_success_per_seed"])
    assert "training success rate" in capsys.readouterr().out


def test_train_dqn_and_nnq_write_summary(tmp_path):
    common = ["--env", "CartPole-v1", "--seeds", "2", "--steps", "400", "--eval-every",
              "200", "--eval-episodes", "2", "--no-progress"]
    dqn = _summary(tmp_path / "dqn", ["train", "dqn", *common, "--batch-size", "16",
                                      "--buffer-size", "400"])
    assert DEEP_KEYS <= dqn.keys()
    assert dqn["algo"] == "dqn" and dqn["env_steps"] == 400
    assert len(dqn["final_return_per_seed"]) == 2
    nnq = _summary(tmp_path / "nnq", ["train", "nnq", *common])
    assert DEEP_KEYS <= nnq.keys() and nnq["algo"] == "nnq"


@pytest.mark.parametrize("algo", ["ddpg", "td3"])
def test_train_ddpg_and_td3_write_summary(tmp_path, algo):
    summary = _summary(tmp_path, [
        "train", algo, "--env", "Pendulum-v1", "--seeds", "2", "--steps", "200",
        "--learning-starts", "100", "--batch-size", "16", "--buffer-size", "200",
        "--hidden", "16,16", "--eval-every", "100", "--eval-episodes", "2",
        "--actor-lr-end", "1e-5", "--critic-lr-end", "1e-5"])
    assert DEEP_KEYS <= summary.keys()
    assert summary["algo"] == algo and summary["seeds"] == 2
    assert len(summary["final_return_per_seed"]) == 2


@pytest.mark.parametrize(("argv", "message"), [
    (["train", "qlearning", "--env", "CartPole-v1"], "Discrete observation"),
    (["train", "qlearning", "--lr", "1.5"], "learning_rate"),
    (["train", "dqn", "--env", "Pendulum-v1", "--steps", "100"], "DDPG"),
    (["train", "ddpg", "--env", "CartPole-v1"], "DQN"),
    (["train", "ddpg", "--tau", "0"], "tau"),
])
def test_bad_input_is_one_clear_line(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("jaxrl: error:") and message in err
    assert len(err.splitlines()) == 1
