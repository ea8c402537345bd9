"""The ``jaxrl`` command: ``train``, ``sweep``, ``eval``, ``render``, ``plan``, ``maze``,
``list``.

::

    jaxrl train dqn                                  the default preset (CartPole-v1)
    jaxrl train ddpg --env Pendulum --seeds 8 --set exploration_noise=0.3
    jaxrl train --resume runs/dqn-CartPole-v1-20261202-101500
    jaxrl sweep dqn --grid learning_rate=1e-4,1e-3 --grid gamma=0.9,0.99 --seeds 8
    jaxrl compare runs/dqn-CartPole-v1-A runs/dqn-CartPole-v1-B --out compare.png
    jaxrl eval RUN --episodes 32
    jaxrl render RUN --out episode.gif
    jaxrl plan DiscretePendulum

``jaxrl --help`` and ``jaxrl --version`` import no JAX; every bad input is one line
``jaxrl: error: ...`` with exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import metadata
from pathlib import Path

from jaxrl.cli.errors import Parser, UsageError, closest

COMMANDS = {
    "train": "train an algorithm: a run folder with config, metrics, plot, checkpoints",
    "sweep": "train a grid of configs x seeds in one compiled program per static "
             "combination: a sweep folder with ranked scores, curves, the best config",
    "compare": "the curves and final scores of run or sweep folders side by side (IQM, "
               "bootstrap intervals, probability of improvement)",
    "eval": "greedy returns of a trained run's seeds, from its checkpoint",
    "render": "draw an episode of a trained run's best seed (GIF)",
    "plan": "value and policy iteration on an environment with an exact model",
    "maze": "the lecture's value-iteration tables of the 3x4 maze",
    "list": "the algorithms and their presets",
}


def _version() -> str:
    try:
        return metadata.version("jaxrl")
    except metadata.PackageNotFoundError:  # pragma: no cover - not installed
        return "unknown"


def build_parser() -> Parser:
    """The top-level parser (the algorithms' field flags are added by ``train``)."""
    from jaxrl.cli import compare, sweep, train

    parser = Parser(prog="jaxrl", description="Reinforcement learning in pure JAX, after "
                    "the lecture 'Introduction to Deep Reinforcement Learning'.")
    parser.add_argument("--version", action="version", version=f"jaxrl {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub = {name: commands.add_parser(name, help=text, description=text)
           for name, text in COMMANDS.items()}
    train.add_common(sub["train"])
    train.add_common(sub["sweep"], sweep=True)
    sweep.add_options(sub["sweep"])
    for name in ("eval", "render"):
        sub[name].add_argument("run", type=Path, metavar="RUN", help="a run folder")
        sub[name].add_argument("--seed-index", dest="seed", default=None, metavar="I",
                               help="which of the run's seeds, 0 to SEEDS-1 (default: "
                               "every seed for eval, the best for render)")
        sub[name].add_argument("--seed", dest="base_seed", default=None,
                               help=argparse.SUPPRESS)
    compare.add_options(sub["compare"])
    sub["eval"].add_argument("--episodes", default="16", help="greedy episodes per seed")
    sub["render"].add_argument("--out", type=Path, default=Path("episode.gif"),
                               help="the GIF to write (default: %(default)s)")
    sub["render"].add_argument("--steps", default=None,
                               help="steps at most (default: the episode's time limit)")
    sub["plan"].add_argument("env", metavar="ENV",
                             help="Maze, DiscretePendulum, FrozenLake-misc, ...")
    sub["plan"].add_argument("--gamma", default=None,
                             help="discount (default: 0.9 for Maze, else 0.99)")
    sub["plan"].add_argument("--x64", action="store_true",
                             help="in float64 (jax_enable_x64), value iteration to 1e-10 "
                             "(default: float32, to 1e-5)")
    sub["maze"].add_argument("--iterations", nargs="+", default=None, metavar="N",
                             help="which iterations (default: the slides' 0 1 2 3 4 10 100 1000)")
    for name in (n for n in COMMANDS if n not in ("train", "sweep")):
        sub[name].add_argument("--no-progress", action="store_true",
                               help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``jaxrl`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except UsageError as error:
        message = str(error).removeprefix("jaxrl: ")
        print(f"jaxrl: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before training (checks, imports): nothing trained
        print("\njaxrl: interrupted before training started: nothing trained",
              file=sys.stderr)
        return 130


def _main(argv: list[str]) -> int:
    parser = build_parser()
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        raise UsageError(f"unknown command {argv[0]!r}{closest(argv[0], COMMANDS)} "
                         f"(commands: {', '.join(COMMANDS)})")
    if argv[:1] in (["train"], ["sweep"]):
        return _train(parser, argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        raise UsageError(f"give a command ({', '.join(COMMANDS)})")
    if getattr(args, "base_seed", None) is not None:
        raise UsageError(f"jaxrl {args.command}: a run's seed is chosen with --seed-index "
                         "I (0 to SEEDS-1); --seed is train's base random seed")
    if args.command == "compare":
        from jaxrl.cli import compare

        return compare.command(args)
    from jaxrl.cli import use

    return getattr(use, f"command_{args.command}")(args)


def _train(parser: Parser, argv: list[str]) -> int:
    """``jaxrl train`` and ``jaxrl sweep``: the common options first, then the
    algorithm's field flags (read from the config's source: :mod:`jaxrl.cli.schema`);
    everything that needs no JAX is checked before JAX is imported."""
    from jaxrl import presets
    from jaxrl.cli import sweep, train

    command = argv[0]
    first = Parser(prog=f"jaxrl {command}", add_help=False)
    train.add_common(first, sweep=command == "sweep")
    if command == "sweep":
        sweep.add_options(first)
    known, _ = first.parse_known_args(argv[1:])
    asked_help = "-h" in argv or "--help" in argv
    if known.algo is None and known.resume is None:
        if asked_help:
            parser.parse_args(argv)  # prints train's help, exits 0
        sub = next(a for a in parser._actions if a.dest == "command").choices[command]
        sub.print_help()
        raise UsageError(f"jaxrl {command}: give an algorithm ("
                         + ", ".join(presets.LEARNERS) + ") or --resume DIR")
    if known.algo is not None and known.algo not in presets.LEARNERS:
        raise UsageError(f"unknown algorithm {known.algo!r}"
                         f"{closest(known.algo, presets.LEARNERS)} (algorithms: "
                         f"{', '.join(presets.LEARNERS)})")
    prog = f"jaxrl {command} {known.algo or ''}".strip()
    full = Parser(prog=prog, usage=f"{prog} [options] [--FIELD VALUE ...]" if known.algo
                  else None,
                  description=presets.LEARNERS[known.algo].help if known.algo else None)
    train.add_common(full, algo_given=known.algo is not None, sweep=command == "sweep")
    if command == "sweep":
        sweep.add_options(full)
    if known.algo is not None:
        train.add_field_flags(full, known.algo, with_presets=asked_help)
    args = full.parse_args(argv[1:])
    if command == "sweep":
        return _sweep(args, argv)
    request = train.precheck(args)  # no JAX yet: a typo is one line at once
    _use_cpu_cores()
    many = train.start_processes(known)  # before JAX computes anything
    from jaxrl.cli import wandb_runs
    from jaxrl.cli.execute import execute

    if not many:
        return execute(train.plan(request, argv), progress=not args.no_progress,
                       **wandb_runs.logs(args))
    # a process of many: one that fails alone must not leave the others waiting, so it
    # leaves at once (JAX's shutdown barrier would wait for the ones still running);
    # the others fail at their next exchange with it
    import jax

    plan = None
    try:
        plan = train.plan(request, argv)
        return execute(plan, progress=not args.no_progress, **wandb_runs.logs(args))
    except UsageError as error:
        message, status = str(error).removeprefix("jaxrl: "), 2
    except jax.errors.JaxRuntimeError as error:
        first = (str(error).strip().splitlines() or [""])[0][:300]
        message, status = (f"process {jax.process_index()} of {jax.process_count()} lost "
                           f"another process of the run ({first}); every checkpoint "
                           "saved is intact: start all the processes again with `jaxrl "
                           f"train --resume {plan.folder if plan else 'RUN'}` and the "
                           "same process options"), 1
    print(f"jaxrl: error: {message}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(status)


def _sweep(args: argparse.Namespace, argv: list[str]) -> int:
    from jaxrl.cli import sweep, wandb_runs

    request = sweep.precheck(args)  # no JAX yet
    _use_cpu_cores()
    from jaxrl.cli import sweeping

    return sweeping.execute(sweep.plan(request, argv), progress=not args.no_progress,
                            **wandb_runs.logs(args))


def _use_cpu_cores() -> None:
    # seeds train in parallel over a CPU's cores (jaxrl.devices), set before JAX starts;
    # main() called in a process where JAX runs already (a notebook, a test) trains the
    # seeds on the devices it has, as the library does: no warning for that here
    import warnings

    from jaxrl.devices import use_cpu_cores

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        use_cpu_cores()


if __name__ == "__main__":
    sys.exit(main())
