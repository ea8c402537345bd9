"""A long run of short chunks keeps its resident memory and its time per chunk flat:
nothing a run keeps grows with the chunks done. (Once, every checkpoint stacked every
chunk's outputs with a ``jnp.stack`` that XLA compiled anew for each count of chunks: a
DQN run grew by about 12.5 MB a chunk, 8.5 GB after 600, and ran ten times slower.)"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from jaxrl import cli, driver

STATUS = Path("/proc/self/status")
WARM, LAST = 50, 300  # chunks: after warming up, and the run's last
#: 300 chunks of 10 steps of a tiny DQN that never learns (learning_starts past the run):
#: its greedy episodes, and so its chunks, stay as short as they start
ARGS = ["train", "dqn", "--seeds", "2", "--steps", str(10 * LAST), "--eval_every", "10",
        "--hidden_sizes", "8", "--eval_episodes", "1", "--batch_size", "8",
        "--buffer_size", "500", "--learning_starts", "100000", "--no-progress"]
#: resident memory may grow this much from chunk WARM to LAST (measured: 18 MiB; the
#: old code: 2.7 GB, and past this bound by chunk 59)
GROWTH_MIB = 64
#: the last 50 chunks' median time over that of the 50 after WARM (measured: 0.9 to 1.2;
#: the old code: 3.6)
SLOWDOWN = 2.0


def _rss_mib() -> float:
    line = next(x for x in STATUS.read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.mark.skipif(not STATUS.exists(), reason="reads the resident memory in /proc")
def test_memory_and_time_per_chunk_stay_flat(tmp_path, monkeypatch):
    seen: dict[int, tuple[float, float]] = {}  # chunk: (time, resident MiB) after it
    run = driver.run

    def watched(*args, hook, **kwargs):
        def watch(progress: driver.Progress) -> None:
            hook(progress)
            seen[progress.chunk] = (time.perf_counter(), _rss_mib())
            if progress.chunk > WARM:  # fail as soon as it shows, not after minutes
                grown = seen[progress.chunk][1] - seen[WARM][1]
                assert grown < GROWTH_MIB, (f"resident memory grew by {grown:.0f} MiB from "
                                            f"chunk {WARM} to chunk {progress.chunk}")

        return run(*args, hook=watch, **kwargs)

    monkeypatch.setattr(driver, "run", watched)
    assert cli.main([*ARGS, "--out", str(tmp_path / "run")]) == 0
    assert max(seen) == LAST
    gaps = np.diff([seen[c][0] for c in range(WARM, LAST + 1)])
    early, late = np.median(gaps[:50]), np.median(gaps[-50:])
    grown = seen[LAST][1] - seen[WARM][1]
    print(f"chunks {WARM}..{LAST}: resident memory +{grown:.1f} MiB, median "
          f"{1e3 * early:.1f} ms then {1e3 * late:.1f} ms a chunk")
    assert late < SLOWDOWN * early, (f"the last 50 chunks took {1e3 * late:.1f} ms each, "
                                     f"the 50 after chunk {WARM} {1e3 * early:.1f} ms")
