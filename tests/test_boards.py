"""TensorBoard events (``jaxrl.cli.boards``) and W&B runs (``jaxrl.cli.wandb_runs``)
through the real command line. The events read back, with TensorBoard's own event
reader, equal to ``metrics.csv`` value for value (to float32, TensorBoard's precision)
for every seed and the aggregates over the seeds; the config is in the HPARAMS tab and
the plot an image; ``--no-tensorboard`` writes none; each config of a sweep is its own
TensorBoard run. The resumed run's events are checked in ``test_resume.py`` (a run
stopped by a signal and resumed). W&B in offline mode writes one run per seed whose
history equals that seed's rows of ``metrics.csv``, read back from W&B's own files."""

from __future__ import annotations

import csv
import json
import struct
from pathlib import Path

import pytest
from conftest import assert_events_equal_metrics, hparams_of, read_events

from jaxrl import cli
from jaxrl.cli import boards

TINY = ["dqn", "--seeds", "3", "--steps", "600", "--eval_every", "200", "--hidden_sizes",
        "8", "--eval_episodes", "2", "--batch_size", "16", "--buffer_size", "300",
        "--learning_starts", "100", "--exploration_steps", "300", "--no-progress"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("boards") / "run"
    assert cli.main(["train", *TINY, "--out", str(out)]) == 0
    return out


def test_a_runs_events_equal_its_metrics_csv(run):
    events = assert_events_equal_metrics(run)
    tags = events.Tags()["scalars"]
    assert {"seed_0/return_mean", "seed_2/train_loss", "iqm/return_mean",
            "max/train_loss"} <= set(tags)
    assert [e.step for e in events.Scalars("iqm/return_mean")] == [0, 200, 400, 600]
    assert [e.step for e in events.Scalars("mean/train_loss")] == [200, 400, 600]
    assert events.Tags()["images"] == ["learning_curve"]


def test_the_config_is_in_the_hparams_tab(run):
    values, metrics = hparams_of(read_events(run))
    config = json.loads((run / "config.json").read_text())["config"]
    assert values["learning_rate"] == pytest.approx(config["learning_rate"])
    assert values["hidden_sizes"] == "8" and config["hidden_sizes"] == [8]
    assert values["env"] == "CartPole-v1" and values["seeds"] == 3
    assert metrics == ["iqm/return_mean"]


def test_no_tensorboard_writes_no_events(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", *TINY, "--steps", "200", "--no-tensorboard", "--out",
                     str(out)]) == 0
    assert not list(out.glob(f"{boards.EVENTS}*"))
    assert (out / "metrics.csv").exists()


def test_each_config_of_a_sweep_is_a_tensorboard_run_and_a_wandb_group(tmp_path):
    out = tmp_path / "sweep"
    assert cli.main(["sweep", *TINY, "--seeds", "2", "--grid", "learning_rate=0.001,0.01",
                     "--wandb", "jaxrl-tests", "--wandb-mode", "offline",
                     "--out", str(out)]) == 0
    folders = sorted((out / "configs").iterdir())
    assert [f.name for f in folders] == ["learning_rate=0.001", "learning_rate=0.01"]
    with (out / "results.csv").open(newline="") as f:
        results = list(csv.DictReader(f))
    for i, folder in enumerate(folders):
        events = assert_events_equal_metrics(folder)
        values, _ = hparams_of(events)
        assert values["learning_rate"] == pytest.approx([0.001, 0.01][i])
        with (folder / "metrics.csv").open(newline="") as f:
            rows = list(csv.DictReader(f))
        mine = [r for r in results if r["config"] == str(i)]  # the sweep's headline
        assert [float(r["return_mean"]) for r in rows] == pytest.approx(
            [float(r["value"]) for r in sorted(mine, key=lambda r: (int(r["env_steps"]),
                                                                    int(r["seed"])))])
        assert (folder / "learning_curve.png").exists()
        state = json.loads((folder / "wandb.json").read_text())
        assert state["group"] == f"sweep/{folder.name}" and len(state["ids"]) == 2
        history = wandb_history(folder, state["ids"][1])[0]
        assert [h["return_mean"] for h in history] == [float(r["return_mean"]) for r in rows
                                                       if r["seed"] == "1"]


def wandb_records(path: Path) -> list:
    """The records of an offline W&B run's ``.wandb`` file: W&B's protobuf ``Record``s in
    LevelDB's log format (32 KiB blocks of chunks: crc32, length, type; FULL = 1 or
    FIRST/MIDDLE/LAST = 2/3/4), after a 7-byte header. W&B reads it back only in its
    Go service, so the test reads it here."""
    from wandb.proto import wandb_internal_pb2

    data, block = path.read_bytes(), 32768
    assert data[:4] == b":W&B"
    pos, chunk, out = 7, b"", []
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a chunk header
            pos += block - pos % block
            continue
        _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        chunk += data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(chunk)
            out.append(record)
            chunk = b""
    return out


def wandb_history(folder: Path, run_id: str) -> tuple[list[dict], dict, dict]:
    """``(history rows without W&B's own keys, config, summary)`` of an offline run, over
    all its files (a resumed run adds one)."""
    history, config, summary = [], {}, {}
    for path in sorted(folder.glob(f"wandb/offline-run-*-{run_id}/run-{run_id}.wandb")):
        for record in wandb_records(path):
            kind = record.WhichOneof("record_type")
            if kind == "history":
                row = {item.key or "/".join(item.nested_key): json.loads(item.value_json)
                       for item in record.history.item}
                history.append({k: v for k, v in row.items() if not k.startswith("_")})
                history[-1]["step"] = row["_step"]
            elif kind == "run":
                config.update({item.key: json.loads(item.value_json)
                               for item in record.run.config.update})
            elif kind == "summary":
                summary.update({item.key or "/".join(item.nested_key):
                                json.loads(item.value_json) for item in record.summary.update})
    return history, config, summary


def test_wandb_offline_logs_each_seed_as_its_run(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", *TINY, "--seeds", "2", "--wandb", "jaxrl-tests",
                     "--wandb-mode", "offline", "--out", str(out)]) == 0
    state = json.loads((out / "wandb.json").read_text())
    assert state["project"] == "jaxrl-tests" and state["group"] == "run"
    with (out / "metrics.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    for seed, run_id in enumerate(state["ids"]):
        history, config, summary = wandb_history(out, run_id)
        assert summary["learning_curve"]["_type"] == "image-file"
        assert summary["final greedy return"] == json.loads(
            (out / "summary.json").read_text())["final_per_seed"][seed]
        mine = [r for r in rows if r["seed"] == str(seed)]
        assert [h["step"] for h in history] == [int(r["env_steps"]) for r in mine]
        for h, r in zip(history, mine, strict=True):
            want = {k: float(v) for k, v in r.items()
                    if k not in ("chunk", "seed", "env_steps") and v != ""}
            assert {k: v for k, v in h.items() if k != "step"} == want
        assert config["seed"] == seed and config["seeds"] == 2
        assert config["learning_rate"] == json.loads(
            (out / "config.json").read_text())["config"]["learning_rate"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--wandb", "p"], 'pip install "jaxrl[wandb]"'),
    (["--wandb-group", "g"], "--wandb-group and --wandb-mode go with --wandb"),
    (["--wandb", "p", "--wandb-mode", "sometimes"], "expected one of online, offline"),
    (["--wandb", "a/b"], "expected a W&B project name"),
])
def test_bad_wandb_options_are_one_line(tmp_path, monkeypatch, usage_error, argv, message):
    from jaxrl.cli import wandb_runs

    if "jaxrl[wandb]" in message:  # as if the extra were not installed
        monkeypatch.setattr(wandb_runs.importlib.util, "find_spec",
                            lambda name: None if name == "wandb" else object())
    out = tmp_path / "run"
    usage_error(["train", *TINY, *argv, "--out", str(out)], message)
    usage_error(["sweep", *TINY, "--grid", "gamma=0.9,0.99", *argv, "--out", str(out)],
                message)
    assert not out.exists()
