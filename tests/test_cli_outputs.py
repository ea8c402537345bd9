"""What the command writes and says: every output path checked before any work (one line,
exit 2, nothing written, the run not even loaded), the best seed by the run's headline,
labels and units that say what is measured (environment steps for tabular Q-learning,
whose budget counts episodes), ``jaxrl plan``'s labelled tables."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from jaxrl import cli, runs
from jaxrl.cli.errors import UsageError
from jaxrl.cli.paths import check_output_file, check_output_folder

EPISODES, MAX_STEPS, EVERY = 60, 20, 20


@pytest.fixture(scope="module")
def q_run(tmp_path_factory):
    """Tabular Q-learning on the maze, 3 seeds: episodes end early at the exit, and the
    seeds' final greedy success differ (the best is not seed 0); the plot's labels are
    recorded."""
    out = tmp_path_factory.mktemp("runs") / "qlearning"
    labels = {}

    def plot(path, steps, values, title, xlabel="", ylabel=""):
        labels.update(xlabel=xlabel, ylabel=ylabel)
        plot_curve(path, steps, values, title, xlabel, ylabel)

    plot_curve = runs.plot_curve
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runs, "plot_curve", plot)
        assert cli.main(["train", "qlearning", "--env", "Maze", "--episodes", str(EPISODES),
                         "--max_steps", str(MAX_STEPS), "--eval_every_episodes", str(EVERY),
                         "--seeds", "3", "--out", str(out), "--no-progress"]) == 0
    return out, labels


def _rows(folder) -> list[dict[str, str]]:
    with (folder / runs.METRICS).open() as f:
        return list(csv.DictReader(f))


def test_qlearning_reports_environment_steps_and_episodes(q_run):
    folder, labels = q_run
    rows = _rows(folder)
    assert [int(r["episodes"]) for r in rows[::3]] == [0, 20, 40, 60]
    for seed in range(3):
        mine = [r for r in rows if int(r["seed"]) == seed]
        # the steps each chunk's episodes took: their mean length x episodes per chunk
        taken = np.cumsum([0] + [float(r["train_episode_length"]) * EVERY for r in mine[1:]])
        np.testing.assert_allclose([int(r["env_steps"]) for r in mine], taken)
    finals = [int(r["env_steps"]) for r in rows[-3:]]
    assert min(finals) < EPISODES * MAX_STEPS  # some episodes reached the exit early
    summary = json.loads((folder / runs.SUMMARY).read_text())
    assert summary["unit"] == "episodes" and summary["budget"] == EPISODES
    assert summary["episodes"] == EPISODES
    assert summary["env_steps"] == round(np.mean(finals))
    assert summary["steps_per_s"] == pytest.approx(sum(finals) / summary["wall_s"])
    assert summary["episodes_per_s"] == pytest.approx(3 * EPISODES / summary["wall_s"])
    assert summary["metric"] == "greedy success"
    assert labels == {"xlabel": "episodes per seed", "ylabel": "greedy success"}


def test_the_best_seed_is_the_headline_argmax(q_run, tmp_path, capsys):
    import jaxrl

    folder, _ = q_run
    finals = json.loads((folder / runs.SUMMARY).read_text())["final_per_seed"]
    best = int(np.argmax(finals))
    assert best != 0 and finals[best] > finals[0]  # the fixture tells the rules apart
    assert jaxrl.load(folder).best == best
    gif = tmp_path / "best.gif"
    assert cli.main(["render", str(folder), "--out", str(gif), "--steps", "3"]) == 0
    assert f"of seed {best}," in capsys.readouterr().out and gif.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir()] == ["best.gif"]  # no temporary left


BAD_OUT = [
    (["--out", "/proc/x.gif"], "cannot write in /proc"),
    (["--out", "afile/x.gif"], "afile is not a folder"),
    (["--out", "ep.mp4"], "unsupported format '.mp4' (supported: .gif)"),
    (["--out", "ep"], "no file extension (supported: .gif)"),
    (["--out", "/nonexist/d/x.gif"], "no folder /nonexist/d"),
    (["--out", "adir"], "is a folder"),
    (["--out", "x.gif", "--steps", "0"], "--steps must be >= 1"),
    (["--out", "x.gif", "--seed-index", "3"], "--seed-index 3: the run has seeds 0 to 2"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_OUT, ids=[" ".join(a) for a, _ in BAD_OUT])
def test_bad_render_input_is_one_line_before_loading(q_run, tmp_path, monkeypatch, capsys,
                                                      argv, message):
    folder, _ = q_run
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()

    def load(*args, **kwargs):
        raise AssertionError("the run was loaded before the input was checked")

    monkeypatch.setattr(runs, "load", load)
    before = sorted(tmp_path.rglob("*")), sorted(folder.rglob("*"))
    assert cli.main(["render", str(folder), *argv]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("jaxrl: error:") and message in err, err
    assert len(err.splitlines()) == 1 and captured.out == ""
    assert (sorted(tmp_path.rglob("*")), sorted(folder.rglob("*"))) == before
    assert not (tmp_path.parent / "nonexist").exists()


def test_eval_checks_its_seed_before_loading(q_run, monkeypatch, capsys):
    monkeypatch.setattr(runs, "load", lambda *a, **k: pytest.fail("loaded"))
    assert cli.main(["eval", str(q_run[0]), "--seed-index", "9"]) == 2
    assert "--seed-index 9: the run has seeds 0 to 2" in capsys.readouterr().err


def test_output_path_helpers(tmp_path):
    """The checks ``jaxrl train --out`` and ``jaxrl render --out`` share: a probe, not
    ``os.access`` alone (which says yes to root for /proc)."""
    (tmp_path / "afile").write_text("x")
    bad = [
        (lambda: check_output_folder("--out", "/proc/x"), "cannot write in /proc"),
        (lambda: check_output_folder("--out", "/proc/x/y"), "cannot write in /proc"),
        (lambda: check_output_folder("--out", tmp_path / "afile"), "not a folder"),
        (lambda: check_output_folder("--out", tmp_path / "afile" / "run"), "not a folder"),
        (lambda: check_output_folder("--out", tmp_path / "a" / "b", parents=False),
         "no folder"),
        (lambda: check_output_file("--out", tmp_path / "x.png", (".gif",)), "'.png'"),
    ]
    for call, message in bad:
        with pytest.raises(UsageError, match=message.replace("(", r"\(")):
            call()
    assert check_output_folder("--out", tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert check_output_folder("--out", tmp_path) == tmp_path
    assert check_output_file("--out", tmp_path / "X.GIF", (".gif",)) == tmp_path / "X.GIF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # probes removed


def test_plan_labels_rows_and_columns(capsys):
    assert cli.main(["plan", "DiscretePendulum"]) == 0
    lines = capsys.readouterr().out.splitlines()
    heads = [i for i, line in enumerate(lines) if line.startswith("deg\\rad/s")]
    assert len(heads) == 2  # V*, then the policy: rows angles, columns velocities
    assert "angle in degrees" in lines[heads[0] - 1] and "torque" in lines[heads[1] - 1]
    speeds = lines[heads[0]].split()[1:]
    assert len(speeds) == 19 and speeds[0] == "-4.7" and speeds[9] == "0.0"
    values = [line.split() for line in lines[heads[0] + 1:heads[0] + 21]]
    assert [row[0] for row in values] == [str(a) for a in range(-180, 180, 18)]
    assert values[10][10] == "G"  # upright (0 degrees) at rest (the 10th velocity)
    torques = {cell for line in lines[heads[1] + 1:heads[1] + 21] for cell in line.split()[1:]}
    assert torques <= {"-2", "-1.1", "0", "1.1", "2", "G"} and "2" in torques
    assert cli.main(["plan", "FrozenLake-misc"]) == 0
    out = capsys.readouterr().out
    assert "V* on the 4x4 map" in out and "row\\col" in out and "H" in out
    assert "      3  H → ↓ G" in out  # the map's last row: a hole, moves, the goal
