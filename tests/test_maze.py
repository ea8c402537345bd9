"""The lecture's maze: every cell of every value table on the slides."""

import numpy as np
import pytest

from jaxrl import cli, maze_tables
from jaxrl.envs import maze
from jaxrl.tabular.planning import policy_iteration, value_iteration

# The slides' tables, transcribed as printed ("Canonical Example", iterations 0 … 1000).
SLIDES = {
    0: """0 0 0 -1
          0 X 0 1
          0 0 0 0""",
    1: """0 0 -0.9 -1.9
          0 X 0 1.9
          0 0 0 0""",
    2: """0 -0.81 -1.71 -2.71
          0 X -0.81 2.71
          0 0 0 0""",
    3: """-0.73 -1.54 -2.44 -3.44
          0 X -1.54 3.44
          0 0 -0.73 0""",
    4: """-1.39 -2.2 -3.1 -4.1
          -0.66 X -2.2 4.1
          0 -0.66 -1.39 -0.66""",
    10: """-4.15 -4.96 -5.86 -6.86
           -3.42 X -4.96 6.86
           -2.77 -3.42 -4.15 -3.42""",
    100: """-7.29 -8.1 -9 -10
            -6.56 X -8.1 10
            -5.9 -6.56 -7.29 -6.56""",
    1000: """-7.29 -8.1 -9 -10
             -6.56 X -8.1 10
             -5.9 -6.56 -7.29 -6.56""",
}


def slide_cells(n: int) -> list[list[str]]:
    return [line.split() for line in SLIDES[n].strip().splitlines()]


@pytest.fixture(scope="module")
def tables():
    return maze_tables.lecture_tables()


@pytest.mark.parametrize("n", maze_tables.LECTURE_ITERATIONS)
def test_every_cell_of_every_slide_table(tables, n):
    values, _ = tables
    printed = [line.split() for line in maze_tables.format_table(values[n]).splitlines()]
    assert printed == slide_cells(n)
    # And numerically: each slide value is round(V, 2).
    for r, row in enumerate(slide_cells(n)):
        for c, cell in enumerate(row):
            if cell == "X":
                assert (r, c) == maze.WALL
                continue
            v = values[n][maze.STATE_OF_CELL[(r, c)]]
            assert abs(v - float(cell)) <= 0.005 + 1e-6, (n, r, c, v, cell)


def test_red_and_green_closed_forms(tables):
    values, _ = tables
    for n in maze_tables.LECTURE_ITERATIONS:
        expected = (1 - 0.9 ** (n + 1)) / 0.1
        assert values[n][maze.STATE_OF_CELL[maze.RED]] == pytest.approx(expected, abs=1e-4)
        assert values[n][maze.STATE_OF_CELL[maze.GREEN]] == pytest.approx(-expected, abs=1e-4)


def test_greedy_policy_reads_the_way_out(tables):
    _, policy = tables
    arrows = maze_tables.format_policy(policy).splitlines()
    assert arrows[0].split() == ["→", "→", "→", "G"]
    assert arrows[1].split()[:3] == ["↑", "X", "↑"]
    # (2, 3) goes west, not north into the trap.
    assert arrows[2].split()[3] == "←"


def test_policy_iteration_agrees_on_the_maze(tables):
    mdp = maze.maze_mdp(cost=True)
    vi = value_iteration(mdp, maze.GAMMA, v0=maze.costs(), tol=1e-7, minimize=True)
    pi = policy_iteration(mdp, maze.GAMMA, minimize=True)
    np.testing.assert_allclose(pi.values, vi.values, atol=1e-4)
    np.testing.assert_allclose(tables[0][1000], vi.values, atol=1e-4)
    # Same value of the greedy action in every state (ties may pick different arrows).
    states = np.arange(maze.NUM_STATES)
    np.testing.assert_allclose(
        vi.q_values[states, pi.policy], vi.q_values[states, vi.policy], atol=1e-4
    )


def test_reward_form_is_the_cost_form_negated():
    costs = value_iteration(maze.maze_mdp(cost=True), 0.9, tol=1e-7, minimize=True)
    rewards = value_iteration(maze.maze_mdp(), 0.9, tol=1e-7)
    np.testing.assert_allclose(rewards.values, -costs.values, atol=1e-5)
    np.testing.assert_array_equal(rewards.policy, costs.policy)


def test_cli_prints_the_slides(capsys):
    assert cli.main(["maze"]) == 0
    out = capsys.readouterr().out
    for n in maze_tables.LECTURE_ITERATIONS:
        assert f"Iteration {n}\n" in out
    # The converged table, as on the slide.
    assert "  -7.29   -8.1     -9    -10" in out
    assert "   -5.9  -6.56  -7.29  -6.56" in out
    assert "↑" in out and "G" in out


def test_cli_rejects_bad_input(capsys):
    assert cli.main(["maze", "--iterations", "-3"]) == 2
    assert "must be >= 0" in capsys.readouterr().err
