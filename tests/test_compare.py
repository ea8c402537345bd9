"""``jaxrl compare`` through its real entry point: two runs (and a sweep) on one plot
with the final scores' table and the probability of improvement; bad input is one line,
exit 2, nothing written."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from jaxrl import cli, stats

TINY = ["dqn", "--steps", "400", "--eval_every", "200", "--hidden_sizes", "8",
        "--eval_episodes", "2", "--batch_size", "16", "--buffer_size", "300",
        "--learning_starts", "100", "--exploration_steps", "200", "--seeds", "3",
        "--no-progress"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    for name, lr in (("slow", "0.0001"), ("fast", "0.01")):
        assert cli.main(["train", *TINY, "--learning_rate", lr, "--out",
                         str(root / name)]) == 0
    return root


def _finals(folder):
    return np.array(json.loads((folder / "summary.json").read_text())["final_per_seed"])


def test_compare_writes_the_plot_and_the_table(two_runs, tmp_path, capsys):
    out = tmp_path / "compare.png"
    capsys.readouterr()
    assert cli.main(["compare", str(two_runs / "slow"), str(two_runs / "fast"), "--out",
                     str(out)]) == 0
    printed = capsys.readouterr().out
    assert out.stat().st_size > 10_000 and "P(> first)" in printed and "(the baseline)" in \
        printed
    rows = json.loads(out.with_suffix(".json").read_text())["rows"]
    assert [r["name"] for r in rows] == ["slow", "fast"]
    slow, fast = _finals(two_runs / "slow"), _finals(two_runs / "fast")
    assert rows[1]["iqm"] == pytest.approx(stats.iqm(fast))
    assert rows[1]["p_improve"] == pytest.approx(stats.probability_of_improvement(fast, slow))
    assert rows[1]["p_low"] <= rows[1]["p_improve"] <= rows[1]["p_high"]
    assert rows[0]["env_steps"] == 400


BAD = [
    (["compare"], "two or more"),
    (["compare", "{slow}"], "two or more"),
    (["compare", "{slow}", "{slow}"], "given twice"),
    (["compare", "{slow}", "nowhere"], "no such run or sweep folder"),
    (["compare", "{slow}", "{empty}"], "not a jaxrl run or sweep folder"),
    (["compare", "{slow}", "{unfinished}"], "has not ended"),
    (["compare", "{slow}", "{acrobot}"], "one environment"),
    (["compare", "{slow}", "{fast}", "--metric", "retrn_mean"], "did you mean return_mean"),
    (["compare", "{slow}", "{fast}", "--out", "{out}/compare.txt"], "unsupported format"),
    (["compare", "{slow}", "{fast}", "--out", "{out}/missing/compare.png"], "no folder"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a[1:]) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_nothing_written(two_runs, tmp_path, monkeypatch, argv,
                                                       message, usage_error):
    work = tmp_path / "work"
    (work / "empty").mkdir(parents=True)
    shutil.copytree(two_runs / "fast", work / "unfinished")
    (work / "unfinished" / "summary.json").unlink()
    shutil.copytree(two_runs / "fast", work / "acrobot")
    info = json.loads((work / "acrobot" / "config.json").read_text())
    (work / "acrobot" / "config.json").write_text(json.dumps({**info, "env": "Acrobot-v1"}))
    (tmp_path / "out").mkdir()
    names = {"slow": two_runs / "slow", "fast": two_runs / "fast", "empty": work / "empty",
             "unfinished": work / "unfinished", "acrobot": work / "acrobot",
             "out": tmp_path / "out"}
    monkeypatch.chdir(tmp_path / "out")
    usage_error([a.format(**names) for a in argv], message)
    assert not any((tmp_path / "out").iterdir())
