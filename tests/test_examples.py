"""The lecture as runnable examples: each script in ``examples/`` runs to the end on a
small budget (``JAXRL_EXAMPLES_QUICK=1``) and prints what its slide computes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXPECT = {
    "01_value_iteration_maze": "  -7.29   -8.1     -9    -10",
    "02_policy_iteration": "DiscretePendulum: 380 states",
    "03_model_based_pendulum": "greedy plan swings up",
    "04_tabular_q_pendulum": "max |Q - Q*|",
    "05_nnq_vs_dqn": "DQN       : greedy return",
    "06_ddpg_pendulum": "greedy return per seed",
    "07_policy_gradient": "PPO      : ",
}


def test_every_example_is_checked():
    assert sorted(p.stem for p in EXAMPLES.glob("*.py")) == sorted(EXPECT)


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_example_runs(name):
    env = {**os.environ, "JAXRL_EXAMPLES_QUICK": "1"}
    proc = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert EXPECT[name] in proc.stdout, proc.stdout
