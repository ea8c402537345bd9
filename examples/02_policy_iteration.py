"""Slide "Policy iteration": evaluate π (solve V = c_π + γ P_π V), improve it greedily,
until it no longer changes.

On the maze and on the course's discretised pendulum (380 states, 9 torques), policy
iteration and value iteration reach the same V*; prints the number of improvements, the
largest gap to value iteration's V, and the maze's policy (the bottom-left cell ties:
up and right are equally good, and either may be printed).

    python examples/02_policy_iteration.py
"""

import numpy as np

import jaxrl
from jaxrl import maze_tables
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
