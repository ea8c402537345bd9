"""The ``jaxrl`` command."""

from __future__ import annotations

import argparse
import sys

from jaxrl.argtypes import non_negative_int
from jaxrl.devices import use_cpu_cores


def _maze(args: argparse.Namespace) -> int:
    """Print the lecture's value-iteration tables and the greedy policy."""
    from jaxrl import maze_tables

    iterations = tuple(sorted(set(args.iterations)))
    tables, policy = maze_tables.lecture_tables(iterations)
    print("Get out of the maze: value iteration, V_{n+1}(s) = min_a [c(s) + 0.9 V_n(s')]")
    print("(costs: green -1, red +1; X is the wall; V_0 = c)\n")
    for n, values in tables.items():
        print(f"Iteration {n}")
        print(maze_tables.format_table(values))
        print()
    print(f"Greedy policy after {iterations[-1]} iterations (G: exit, R: trap)")
    print(maze_tables.format_policy(policy))
    return 0




def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``jaxrl`` command."""
    from jaxrl.maze_tables import LECTURE_ITERATIONS
    from jaxrl.tabular import cli as tabular_cli

    parser = argparse.ArgumentParser(
        prog="jaxrl", description="Reinforcement learning in pure JAX, after the lecture."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    maze = commands.add_parser("maze", help="value iteration on the lecture's 3x4 maze")
    maze.add_argument(
        "--iterations",
        type=non_negative_int,
        nargs="+",
        default=list(LECTURE_ITERATIONS),
        metavar="N",
        help="which iterations to print (default: the slides' 0 1 2 3 4 10 100 1000)",
    )
    maze.set_defaults(run=_maze)

    train = commands.add_parser("train", help="train an agent")
    algos = train.add_subparsers(dest="algo", metavar="ALGO", required=True)
    qlearning = algos.add_parser("qlearning", help="tabular Q-learning (the course practical)")
    tabular_cli.add_arguments(qlearning)
    qlearning.set_defaults(run=tabular_cli.run)
    from jaxrl.deep import ddpg_cli
    for name, text in (("ddpg", "DDPG (continuous actions)"), ("td3", "TD3 (DDPG + switches)")):
        sub = algos.add_parser(name, help=text)
        ddpg_cli.add_arguments(sub, td3=name == "td3")
        sub.set_defaults(run=ddpg_cli.run)
    from jaxrl.deep import cli as deep_cli
    for name, text in (("dqn", "DQN (replay + target network)"),
                       ("nnq", "naive Q-learning with a network")):
        sub = algos.add_parser(name, help=text)
        deep_cli.add_arguments(sub, name)
        sub.set_defaults(run=deep_cli.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``jaxrl`` console script."""
    # seeds train in parallel on a CPU's cores (jaxrl.devices); before gymnax is
    # imported, which starts JAX's backends
    use_cpu_cores()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except (ValueError, TypeError) as error:
        print(f"jaxrl: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jaxrl: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
