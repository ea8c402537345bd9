"""The lecture as runnable examples: each script in ``examples/`` runs to the end on a
small budget (``JAXRL_EXAMPLES_QUICK=1``), prints what its slide computes and draws its
figure (into ``JAXRL_FIGURES``); the tutorial's figures are the examples' own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TUTORIAL = ROOT / "docs" / "tutorial"
FIGURES = ROOT / "docs" / "figures"
PNG = b"\x89PNG\r\n\x1a\n"
#: ``{example: (a line it prints, the figures it draws)}``.
EXPECT = {
    "01_value_iteration_maze": ("  -7.29   -8.1     -9    -10", ("maze_value_iteration",)),
    "02_policy_iteration": ("DiscretePendulum: 380 states", ("pendulum_optimum",)),
    "03_model_based_pendulum": ("greedy plan swings up", ("model_based_vs_q_learning",)),
    "04_tabular_q_pendulum": ("max |Q - Q*|", ("tabular_q_pendulum",)),
    "05_nnq_vs_dqn": ("DQN       : greedy return", ("nnq_vs_dqn",)),
    "06_ddpg_pendulum": ("TD3 : greedy return per seed", ("ddpg_td3_pendulum",)),
    "07_policy_gradient": ("PPO      : ", ("reinforce_vs_ppo",)),
    "08_mpc_pendulum": ("MPC, exact model  : greedy return", ("mpc_pendulum",)),
    "09_pqn_cartpole": ("PQN without LayerNorm: ", ("pqn_cartpole",)),
}


def examples() -> list[Path]:
    """The examples: ``examples/*.py`` but the helpers (``_figures.py``)."""
    return [p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")]


def test_every_example_is_checked():
    assert sorted(p.stem for p in examples()) == sorted(EXPECT)


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_example_runs(name, tmp_path):
    env = {**os.environ, "JAXRL_EXAMPLES_QUICK": "1", "JAXRL_FIGURES": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line, figures = EXPECT[name]
    assert line in proc.stdout, proc.stdout
    for figure in figures:
        path = tmp_path / f"{figure}.png"
        assert path.is_file(), f"{name} drew no {path.name}: {sorted(tmp_path.iterdir())}"
        assert path.read_bytes()[:8] == PNG, path


def test_tutorial_figures_are_the_examples():
    """Every figure a tutorial page shows is in ``docs/figures/`` (a PNG) and is drawn
    by an example (its name in the example's source and in ``EXPECT``)."""
    shown = {m for page in TUTORIAL.glob("*.md")
             for m in re.findall(r"\]\(\.\./figures/([\w.-]+)\.png\)", page.read_text())}
    assert shown, "no figure found in docs/tutorial/"
    drawn = {figure: name for name, (_, figures) in EXPECT.items() for figure in figures}
    for figure in sorted(shown):
        path = FIGURES / f"{figure}.png"
        assert path.is_file() and path.read_bytes()[:8] == PNG, path
        assert figure in drawn, f"{figure}.png is drawn by no example"
        assert f'"{figure}"' in (EXAMPLES / f"{drawn[figure]}.py").read_text()


def test_tutorial_commands_are_examples():
    """The commands the tutorial's pages give run examples that exist (and are tested
    above)."""
    commands = [line for page in TUTORIAL.glob("*.md")
                for block in re.findall(r"^```bash\n(.*?)^```", page.read_text(), re.M | re.S)
                for line in block.splitlines() if line.strip()]
    assert commands
    for line in commands:
        found = re.fullmatch(r"(?:JAXRL_FIGURES=\S+ )?python examples/(\w+)\.py", line)
        assert found and found.group(1) in EXPECT, line
