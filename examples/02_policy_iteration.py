"""Slide "Policy iteration": evaluate π (solve V = c_π + γ P_π V), improve it greedily,
until it no longer changes.

On the maze and on the course's discretised pendulum (380 states, 9 torques), policy
iteration and value iteration reach the same V*; prints the number of improvements, the
largest gap to value iteration's V, and the maze's policy (the bottom-left cell ties:
up and right are equally good, and either may be printed). Draws the pendulum's V* and
its greedy torque over (angle, velocity) (figure ``pendulum_optimum``).

    python examples/02_policy_iteration.py
"""

import numpy as np
from _figures import pendulum_maps

import jaxrl
from jaxrl import maze_tables
from jaxrl.envs import discretization as grid
from jaxrl.envs.maze import maze_mdp
from jaxrl.envs.tabular import exact_model

maze = maze_mdp(cost=True)
pi = jaxrl.policy_iteration(maze, 0.9, minimize=True)
vi = jaxrl.value_iteration(maze, 0.9, tol=1e-5, minimize=True)
print(f"maze: {int(pi.iterations)} improvements, "
      f"max |V_pi - V_vi| = {np.abs(np.asarray(pi.values) - np.asarray(vi.values)).max():.1e}")
print(maze_tables.format_table(np.asarray(pi.values)))
print(maze_tables.format_policy(np.asarray(pi.policy)))

env, params = jaxrl.make("DiscretePendulum")
pendulum = exact_model(env, params).mdp
pi = jaxrl.policy_iteration(pendulum, 0.99)
vi = jaxrl.value_iteration(pendulum, 0.99, tol=1e-4)
gap = np.abs(np.asarray(pi.values) - np.asarray(vi.values)).max()
print(f"DiscretePendulum: {pendulum.num_states} states, {int(pi.iterations)} improvements, "
      f"max |V_pi - V_vi| = {gap:.1e} (the policies may differ where torques tie)")

shape = (grid.NV, grid.NQ)  # state x = iq + iv * NQ: a row per velocity bin
extent = (-np.pi - grid.DQ / 2, np.pi - grid.DQ / 2, -grid.VMAX, grid.VMAX)
values = np.asarray(pi.values).copy()
values[grid.GOAL] = np.nan  # the goal ends the episode: blank
torque = np.clip(np.asarray(grid.d2cu(pi.policy)), -2.0, 2.0)  # as the pendulum applies it
pendulum_maps("pendulum_optimum", {
    "V*(q, v) by policy iteration (goal blank)": (values.reshape(shape), "viridis"),
    "greedy torque u (clipped to ±2)": (torque.reshape(shape), "coolwarm")},
    extent, "DiscretePendulum: 380 states, 9 torques, γ 0.99; goal: upright at rest")
