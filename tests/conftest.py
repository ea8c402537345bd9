"""The suite's shared setting: XLA's compiled programs kept in a persistent cache.

Many tests compile the same programs (the stopped, resumed and reference runs of a
resume test; the processes of a multi-process run; the README's blocks and the
examples run in processes of their own): JAX's persistent compilation cache, set here
before JAX starts and inherited by every subprocess, compiles each once per machine. A
cached program is the very program compiled (results are bit-identical); a value
already in the environment is left as it is.
"""

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      str(Path(tempfile.gettempdir()) / "jaxrl-tests-xla-cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")


@pytest.fixture
def usage_error(capsys):
    """``check(argv, message)``: ``jaxrl ARGV`` exits 2 with one line ``jaxrl: error:
    ...`` holding ``message``, no traceback, and (``quiet``) nothing on stdout."""
    from jaxrl import cli

    def check(argv: list[str], message: str, quiet: bool = True) -> None:
        capsys.readouterr()
        assert cli.main(argv) == 2
        captured = capsys.readouterr()
        err = captured.err.strip()
        assert err.startswith("jaxrl: error:") and message in err, err
        assert len(err.splitlines()) == 1 and "Traceback" not in captured.out + err
        if quiet:
            assert captured.out == ""  # no "compiling", no empty bar before the error

    return check


# TensorBoard's events of a run or sweep folder against its metrics.csv (test_boards,
# test_resume): the reader imported when used, not by every test process.


def read_events(folder: Path):
    """TensorBoard's own reader of the folder's events, every point kept."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


def expected_series(metrics: Path) -> dict[str, list[tuple[int, float]]]:
    """What the events should hold, computed from metrics.csv alone: each seed's value of
    each measured column, and the IQM, mean, min and max over the seeds, at each chunk's
    env steps; float32, as TensorBoard stores them."""
    import csv
    from collections import defaultdict

    import numpy as np

    from jaxrl import stats

    with metrics.open(newline="") as f:
        rows = list(csv.DictReader(f))
    out: dict[str, list[tuple[int, float]]] = defaultdict(list)
    by_step: dict[tuple[str, int], list[float]] = defaultdict(list)
    for row in rows:
        step = int(row["env_steps"])
        for column, text in row.items():
            if column in ("chunk", "seed", "env_steps") or text == "":
                continue
            out[f"seed_{row['seed']}/{column}"].append((step, float(np.float32(text))))
            by_step[column, step].append(float(text))
    for (column, step), values in by_step.items():
        x = np.asarray(values)
        for name, value in (("iqm", stats.iqm(x)), ("mean", x.mean()), ("min", x.min()),
                            ("max", x.max())):
            out[f"{name}/{column}"].append((step, float(np.float32(value))))
    return dict(out)


def assert_events_equal_metrics(folder: Path):
    """The folder's events equal its metrics.csv, series by series, step by step (no
    step missing or twice); the reader, for more checks."""
    events = read_events(folder)
    expected = expected_series(folder / "metrics.csv")
    assert sorted(events.Tags()["scalars"]) == sorted(expected)
    for tag, points in expected.items():
        got = [(e.step, e.value) for e in events.Scalars(tag)]
        assert got == points, tag
    return events


def hparams_of(events) -> tuple[dict, list[str]]:
    """``(hyper-parameters, metric tags)`` of the events' HPARAMS session."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    content = events.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]).session_start_info
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/experiment"]).experiment
    values = {k: getattr(v, v.WhichOneof("kind")) for k, v in start.hparams.items()}
    return values, [m.name.tag for m in experiment.metric_infos]


def assert_trees_equal(a, b):
    """Bit-for-bit equality of two pytrees (PRNG keys compared by their data)."""
    import jax  # here: JAX starts after the cache settings above
    import jax.numpy as jnp
    import numpy as np

    def leaf(x, y):
        if jnp.issubdtype(jnp.asarray(x).dtype, jax.dtypes.prng_key):
            x, y = jax.random.key_data(x), jax.random.key_data(y)
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    jax.tree.map(leaf, a, b)
