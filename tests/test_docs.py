"""The documentation site builds strictly, and its pages' code runs as written.

* ``mkdocs build --strict`` succeeds (broken links, unknown cross-references and the
  generated tables of ``docs/hooks.py`` all fail it).
* Every ```python block of a page under ``docs/`` (the tutorial's pages have their own
  test) runs in a fresh interpreter in an empty folder and prints something; a block
  that loads ``runs/demo`` gets a copy of the one the command line page's session made.
* Every ```bash block runs as one bash script in an empty folder, each line a ``jaxrl``
  command: ``jaxrl train`` and ``jaxrl sweep`` with a small budget appended (2 seeds of
  2 000 steps, no progress bar), the others as written.

A block is marked on the line before its fence: ``<!-- check-only -->`` (bash blocks of
``jaxrl train``/``jaxrl sweep`` lines whose full presets take minutes: each line is
parsed and planned by the real command line, config, preset, environment and output
folder checked, and not trained) or ``<!-- not-run: why -->`` (installs, servers,
clusters, GPUs: counted, and each says why).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: The tutorial's pages are tested with the examples they come from.
OWN_TEST = ("tutorial",)
PAGES = sorted(p for p in DOCS.rglob("*.md")
               if p.relative_to(DOCS).parts[0] not in OWN_TEST)
BLOCK = re.compile(r"(?:^<!--\s*(not-run|check-only)\s*(?::\s*(.*?))?\s*-->\n)?"
                   r"^```(python|bash)[^\n]*\n(.*?)^```", re.M | re.S)
BUDGET = ("--steps", "2000", "--seeds", "2", "--no-progress")
#: Subcommands with a --no-progress option (compare has none).
QUIET = ("train", "sweep", "eval", "render", "plan", "maze", "list")


def _blocks() -> list[tuple[str, str, str, str, str]]:
    """``(page, lang, mode, reason, code)`` of every python and bash block."""
    out = []
    for page in PAGES:
        for mode, reason, lang, code in BLOCK.findall(page.read_text()):
            out.append((str(page.relative_to(DOCS)), lang, mode or "run", reason, code))
    return out


BLOCKS = _blocks()


def _ids(blocks: list[tuple[str, ...]]) -> list[str]:
    return [f"{b[0]}:{i}" for i, b in enumerate(blocks)]


PYTHON = [b for b in BLOCKS if b[1] == "python" and b[2] == "run"]
BASH = [b for b in BLOCKS if b[1] == "bash" and b[2] == "run"]
CHECK = [b for b in BLOCKS if b[2] == "check-only"]
NOT_RUN = [b for b in BLOCKS if b[2] == "not-run"]


def test_every_code_block_is_found_and_classified():
    """Each ```python and ```bash fence of the pages is one block here, and each one that
    does not run says why; the counts, for the record."""
    fences = sum(len(re.findall(r"^```(?:python|bash)\b", p.read_text(), re.M))
                 for p in PAGES)
    assert fences == len(BLOCKS)
    assert PYTHON and BASH and CHECK
    assert all(reason.strip() for *_, reason, _ in NOT_RUN), "a not-run block says why"
    assert all(lang == "bash" for _, lang, *_ in CHECK), "check-only is for jaxrl lines"
    print(f"{len(PYTHON)} python and {len(BASH)} bash blocks run, {len(CHECK)} checked "
          f"without training, {len(NOT_RUN)} not run")


def test_every_learner_has_a_page_with_its_generated_tables():
    from jaxrl.presets import LEARNERS

    for name, learner in LEARNERS.items():
        text = (DOCS / "algorithms" / f"{name}.md").read_text()
        assert f"<!-- presets: {name} -->" in text
        assert re.search(rf"<!-- config: {re.escape(learner.module)}(_setup)?\."
                         rf"{learner.config} -->", text), name


def test_the_site_builds_strictly(tmp_path):
    quiet = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's banner
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d",
                           str(tmp_path / "site")], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env=quiet)
    assert done.returncode == 0, done.stderr[-3000:]
    dqn = (tmp_path / "site" / "algorithms" / "dqn" / "index.html").read_text()
    assert "learning_rate_end" in dqn and "HybridPendulum" in dqn  # the generated tables
    assert "<!-- config:" not in dqn
    bench = (tmp_path / "site" / "benchmarks" / "index.html").read_text()
    assert "Peer ratios" in bench  # benchmarks/RESULTS.md, included


def _lines(code: str) -> list[str]:
    lines = [line.split(" #")[0].strip() for line in code.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _budgeted(line: str) -> str:
    words = line.split()
    if words[1] in ("train", "sweep") and "--resume" not in words:
        return line + " " + " ".join(BUDGET)
    return line + " --no-progress" if words[1] in QUIET else line


def _run_bash(code: str, where: Path) -> subprocess.CompletedProcess:
    lines = _lines(code)
    assert all(line.startswith("jaxrl ") for line in lines), \
        "a bash block that runs is jaxrl commands; mark the others not-run"
    script = "\n".join(["set -e", f'export PATH="{Path(sys.executable).parent}:$PATH"']
                       + [_budgeted(line) for line in lines])
    return subprocess.run(["bash", "-c", script], cwd=where, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> tuple[str, Path, subprocess.CompletedProcess]:
    """The command line page's session (the bash block that makes ``runs/demo``), run
    once: its run folder serves the Python blocks that load ``runs/demo``."""
    code = next(b[4] for b in BASH if "--out runs/demo" in b[4])
    where = tmp_path_factory.mktemp("session")
    return code, where, _run_bash(code, where)


@pytest.mark.parametrize("block", PYTHON, ids=_ids(PYTHON))
def test_a_python_block_runs_as_written(block, tmp_path, request):
    code = block[4]
    if "runs/demo" in code:
        _, where, made = request.getfixturevalue("session")
        assert made.returncode == 0, made.stderr[-2000:]
        shutil.copytree(where / "runs" / "demo", tmp_path / "runs" / "demo")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "a block prints what it computes"
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("block", BASH, ids=_ids(BASH))
def test_a_bash_block_runs(block, tmp_path, request):
    code, _, done = request.getfixturevalue("session")
    if block[4] != code:
        done = _run_bash(block[4], tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


#: Plans each command line with the real parser and checks (config, preset,
#: environment, memory, output folder), the training replaced by a stub.
CHECKER = """
import shlex
import sys

from jaxrl import cli
from jaxrl.cli import execute, sweeping

planned = []
execute.execute = sweeping.execute = lambda plan, **_: planned.append(plan) or 0
for line in sys.argv[1:]:
    status = cli.main(shlex.split(line)[1:] + ["--no-progress"])
    assert status == 0, f"{line}: exit {status}"
print(len(planned), "planned")
"""


def test_the_check_only_lines_plan(tmp_path):
    lines = [line for block in CHECK for line in _lines(block[4])]
    bad = [line for line in lines if not line.startswith(("jaxrl train ", "jaxrl sweep "))]
    assert not bad, "check-only blocks hold jaxrl train and jaxrl sweep lines"
    done = subprocess.run([sys.executable, "-c", CHECKER, *lines], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{len(lines)} planned" in done.stdout
