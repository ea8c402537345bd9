"""Slides "Get out of the maze" / "Value iteration": V_{n+1}(s) = min_a [c(s) + γ V_n(s')].

The lecture's 3x4 maze in cost form (green -1, red +1, γ = 0.9, V_0 = c), solved by value
iteration; prints the tables of iterations 0, 1, 2, 3, 4, 10, 100, 1000 as on the slides,
then the greedy policy; draws them (figure ``maze_value_iteration``).

    python examples/01_value_iteration_maze.py
"""

from _figures import maze_tables as draw_tables

from jaxrl import maze_tables

tables, policy = maze_tables.lecture_tables(maze_tables.LECTURE_ITERATIONS)
for n, values in tables.items():
    print(f"Iteration {n}")
    print(maze_tables.format_table(values))
print("Greedy policy (G: exit, R: trap)")
print(maze_tables.format_policy(policy))

draw_tables("maze_value_iteration", {n: maze_tables.to_grid(v) for n, v in tables.items()},
            [line.split() for line in maze_tables.format_policy(policy).splitlines()])
