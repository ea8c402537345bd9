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
    assert len(BLOCKS) >= 2


def test_the_readme_is_a_front_page_whose_links_resolve():
    """At most 200 lines (the rest is the docs site), and every relative link names a
    file of the repository."""
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if "://" not in link]
    assert local, "the README links its docs pages"
    missing = [link for link in local if not (README.parent / link).exists()]
    assert not missing, f"README links to missing files: {missing}"


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_a_readme_block_runs_as_written(block, tmp_path):
    if "runs/quickstart" in block:  # run with the quick start's shell block, below
        return
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


def test_the_quick_start_runs_as_written(tmp_path):
    """The quick start's shell block, after the set-up command (its venv here as
    `.venv`), line by line through bash: the training line with a short budget, every
    other line as written (TensorBoard in its --inspect mode); then the Python block on
    the run it made."""
    text = README.read_text()
    shell = re.search(r"<!-- quick-start -->\n```bash\n(.*?)```", text, re.S).group(1)
    lines = [line.split("#")[0].strip() for line in shell.splitlines()]
    lines = [line for line in lines if line]
    assert lines[0] == ". .venv/bin/activate"
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    # TensorBoard's server would run until stopped: its --inspect mode reads the same
    # folders' events, prints what it finds and exits
    script = "\n".join(["set -e"] + [
        line + " --steps 2000 --seeds 2 --no-progress"
        if line.startswith(("jaxrl train", "jaxrl sweep"))
        else line + " --inspect" if line.startswith("tensorboard --logdir")
        else line for line in lines])
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (tmp_path / "episode.gif").exists() and "seed 1: mean" in done.stdout
    assert (tmp_path / "sweeps" / "quickstart" / "best.toml").exists()
    assert (tmp_path / "compare.png").exists() and "P(> first)" in done.stdout
    assert "last_step            2000" in done.stdout  # the runs' events, to their end
    block = next(b for b in BLOCKS if "runs/quickstart" in b)
    done = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.startswith("CartPole-v1"), done.stderr
