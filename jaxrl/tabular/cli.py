"""``jaxrl train qlearning``: the course's tabular practical from the command line."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import numpy as np

from jaxrl.argtypes import positive_int, write_summary
from jaxrl.tabular.qlearning import (
    EXPLORATIONS,
    QLearningConfig,
    make,
    metrics,
)
from jaxrl.tabular.qlearning import (
    run as run_seeds,
)

#: Episodes whose training return makes up ``final_return_per_seed``.
LAST_EPISODES = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``jaxrl train qlearning`` (defaults: the course's practical)."""
    defaults = QLearningConfig()
    parser.add_argument("--env", default=defaults.env,
                        help="environment with Discrete observations (default: %(default)s)")
    parser.add_argument("--seeds", type=positive_int, default=1, help="independent runs")
    parser.add_argument("--seed", type=int, default=0, help="base random seed")
    parser.add_argument("--episodes", type=positive_int, default=defaults.episodes)
    parser.add_argument("--max-steps", type=positive_int, default=defaults.max_steps,
                        help="steps per episode at most")
    parser.add_argument("--num-envs", type=positive_int, default=defaults.num_envs)
    parser.add_argument("--lr", type=float, default=defaults.learning_rate, help="α in (0, 1]")
    parser.add_argument("--gamma", type=float, default=defaults.gamma)
    parser.add_argument("--exploration", choices=EXPLORATIONS, default=defaults.exploration)
    parser.add_argument("--epsilon", type=float, default=defaults.epsilon)
    parser.add_argument("--eval-every", type=int, default=None,
                        help="episodes between progress/optimality reports (default: 1/10)")
    parser.add_argument("--out", type=Path, default=None,
                        help="write DIR/summary.json")




def config_from(args: argparse.Namespace) -> QLearningConfig:
    """The config the command line asks for."""
    eval_every = args.eval_every
    if eval_every is None:
        eval_every = args.episodes // 10 if args.episodes % 10 == 0 else 0
    return QLearningConfig(
        env=args.env, episodes=args.episodes, max_steps=args.max_steps,
        num_envs=args.num_envs, eval_every=eval_every, exploration=args.exploration,
        learning_rate=args.lr, gamma=args.gamma, epsilon=args.epsilon,
    )


def summarise(config: QLearningConfig, metrics, seeds: int, wall_s: float) -> dict:
    """What a run reports: per-seed final returns, success rates, timings."""
    returns = np.asarray(metrics.episode_return)  # [seeds, episodes, envs]
    summary = {
        "algo": "qlearning",
        "env": config.env,
        "seeds": seeds,
        "episodes": config.episodes,
        "num_envs": config.num_envs,
        "final_return_per_seed": returns[:, -LAST_EPISODES:].mean(axis=(1, 2)).tolist(),
        "training_success_per_seed": np.asarray(metrics.success).mean(axis=(1, 2)).tolist(),
        "greedy_success_per_seed": None,
        "wall_s": wall_s,
    }
    if metrics.greedy_success is not None:
        summary["greedy_success_per_seed"] = np.asarray(metrics.greedy_success)[:, -1].tolist()
        summary["q_error_per_seed"] = np.asarray(metrics.q_error)[:, -1].tolist()
        summary["value_gap_per_seed"] = np.asarray(metrics.value_gap)[:, -1].tolist()
    return summary


def run(args: argparse.Namespace) -> int:
    """Train, report progress, print and optionally write the summary."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    config = config_from(args)
    make(config)  # one clear line before anything starts
    keys = jax.random.split(jax.random.key(args.seed), args.seeds)
    print(f"Q-learning on {config.env}: {args.seeds} seed(s) x {config.episodes} episodes "
          f"x {config.num_envs} env(s), α={config.learning_rate}, γ={config.gamma}, "
          f"{config.exploration}")
    start = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} episodes"),
                  TimeElapsedColumn()) as progress:
        task = progress.add_task("training (compiling first)", total=config.episodes)
        result = run_seeds(config, keys, hook=lambda p: progress.update(
            task, completed=p.env_steps, description="training"))
    metrics_ = metrics(config, result.curve)
    wall_s = time.perf_counter() - start
    summary = summarise(config, metrics_, args.seeds, wall_s)
    final = summary["final_return_per_seed"]
    print(f"mean return of the last {LAST_EPISODES} episodes, per seed: "
          + " ".join(f"{r:.3g}" for r in final))
    print(f"training success rate: {np.mean(summary['training_success_per_seed']):.3f}")
    if summary["greedy_success_per_seed"] is not None:
        success = np.asarray(summary["greedy_success_per_seed"])
        print(f"greedy policy reaches the goal within {config.greedy_horizon} steps from "
              f"{100 * success.mean():.1f}% of states (min over seeds {100 * success.min():.1f}%)")
        print(f"max |Q - Q*| {np.mean(summary['q_error_per_seed']):.3g}, "
              f"mean V* - V^greedy {np.mean(summary['value_gap_per_seed']):.3g}")
    print(f"wall time {wall_s:.1f} s")
    write_summary(args.out, summary)
    return 0
