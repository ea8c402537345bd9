"""Every Python block of the README runs as written and prints what it computes.

Each block runs in a fresh interpreter in an empty folder; the quick start's block loads
the newest DQN run folder, so a short ``jaxrl train dqn`` makes one there first.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_readme_has_its_python_blocks():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_a_readme_block_runs_as_written(block, tmp_path):
    if "runs" in block:
        made = subprocess.run(
            [sys.executable, "-m", "jaxrl.cli", "train", "dqn", "--steps", "2000",
             "--seeds", "2", "--out", "runs/dqn-CartPole-v1-test", "--no-progress"],
            cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert made.returncode == 0, made.stderr
    done = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "a README block prints what it computes"
    assert "Traceback" not in done.stderr
