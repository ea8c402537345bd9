"""``jaxrl train dqn|nnq``: train seeds with a progress bar, print and save the result.

::

    jaxrl train dqn --env CartPole-v1 --seeds 8 --steps 100000 --out runs/dqn
    jaxrl train nnq --env CartPole-v1 --seeds 4

Prints the final greedy return per seed; with ``--out DIR`` writes ``DIR/summary.json``
(algo, env, seeds, env_steps, final_return_per_seed, final_return_mean, wall_s,
compile_s, devices (how many the seeds were split over), the config and the learning
curve).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from jaxrl.argtypes import positive_int, write_summary


def add_arguments(parser: argparse.ArgumentParser, algo: str = "dqn") -> None:
    """The options of ``jaxrl train dqn`` / ``jaxrl train nnq``."""
    parser.set_defaults(deep_algo=algo)
    parser.add_argument("--env", default="CartPole-v1", help="environment (default: %(default)s)")
    parser.add_argument("--seeds", type=positive_int, default=1, help="independent seeds")
    parser.add_argument("--seed", type=int, default=0, help="base random seed")
    parser.add_argument("--steps", type=positive_int, default=100_000,
                        help="environment steps per seed (default: %(default)s)")
    parser.add_argument("--num-envs", type=positive_int, default=None,
                        help="parallel environments per seed")
    parser.add_argument("--lr", type=float, default=None, help="learning rate")
    parser.add_argument("--gamma", type=float, default=None, help="discount γ")
    parser.add_argument("--eval-every", type=positive_int, default=None,
                        help="environment steps between greedy evaluations")
    parser.add_argument("--eval-episodes", type=positive_int, default=None,
                        help="greedy episodes per evaluation")
    if algo == "dqn":
        parser.add_argument("--batch-size", type=positive_int, default=None)
        parser.add_argument("--buffer-size", type=positive_int, default=None)
        parser.add_argument("--updates-per-step", type=positive_int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="write DIR/summary.json")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _config(args: argparse.Namespace):
    from jaxrl.deep import dqn, nnq

    if args.deep_algo == "dqn":
        module, config = dqn, dqn.DQNConfig()
    else:
        module, config = nnq, nnq.NNQConfig()
    changes = {"env": args.env, "total_steps": args.steps}
    for flag, name in (("num_envs", "num_envs"), ("lr", "learning_rate"), ("gamma", "gamma"),
                       ("eval_every", "eval_every"), ("eval_episodes", "eval_episodes"),
                       ("batch_size", "batch_size"), ("buffer_size", "buffer_size"),
                       ("updates_per_step", "updates_per_step")):
        value = getattr(args, flag, None)
        if value is not None:
            changes[name] = value
    if args.deep_algo == "dqn":
        # keep the learning starts and the buffer inside short runs
        changes.setdefault("learning_starts", min(config.learning_starts, args.steps // 2))
        changes["exploration_steps"] = min(config.exploration_steps, max(args.steps * 3 // 10,
                                                                         1))
    return module, config.replace(**changes)


def run(args: argparse.Namespace) -> int:
    """Train, show progress, print the final greedy return per seed, write the summary."""
    import jax
    import numpy as np
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    module, config = _config(args)
    keys = jax.random.split(jax.random.key(args.seed), args.seeds)
    name = args.deep_algo
    print(f"jaxrl train {name}: {config.env}, {args.seeds} seed(s), {config.total_steps} "
          "env steps each (compiling...)")
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} steps"),
                  TextColumn("greedy return {task.fields[ret]}"), TimeRemainingColumn(),
                  disable=args.no_progress) as bar:
        task = bar.add_task(name, total=config.total_steps, ret="-")

        def hook(p):
            bar.update(task, completed=p.env_steps, total=p.total_env_steps,
                       ret=f"{float(np.mean(p.eval_return)):.1f}")

        result = module.run(config, keys, hook=hook)
    final = np.asarray(result.curve.final_return)
    for i, value in enumerate(final):
        print(f"seed {i}: final greedy return {value:.2f}")
    print(f"mean {final.mean():.2f}  (train {result.wall_s:.1f} s, compile "
          f"{result.compile_s:.1f} s)")
    if args.out is not None:
        curve = result.curve
        summary = {
            "algo": name,
            "env": config.env,
            "seeds": args.seeds,
            "seed": args.seed,
            "env_steps": result.env_steps,
            "final_return_per_seed": final.tolist(),
            "final_return_mean": float(final.mean()),
            "wall_s": result.wall_s,
            "compile_s": result.compile_s,
            "devices": result.devices,
            "config": {f.name: getattr(config, f.name) for f in dataclasses.fields(config)},
            "curve": {"env_steps": np.asarray(curve.env_steps)[0].tolist(),
                      "eval_return_mean": np.asarray(curve.eval_return).mean(-1).tolist()},
        }
        write_summary(args.out, summary)
    return 0
