"""``jaxrl train ddpg`` and ``jaxrl train td3``: DDPG / TD3 from the command line.

::

    jaxrl train ddpg --env Pendulum-v1 --seeds 8
    jaxrl train td3 --env MountainCarContinuous-v0 --steps 50000 --out runs/td3
    jaxrl train ddpg --env Pendulum --sincos --steps 20000      # the course's practical

``td3`` is ``ddpg`` with TD3's switches on (twin critics, policy delay 2, target-policy
smoothing); each switch can be set on either command.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax
import numpy as np

from jaxrl.argtypes import positive_int, write_summary
from jaxrl.deep import ddpg


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 64,64, got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser, td3: bool = False) -> None:
    """The options of ``jaxrl train ddpg`` (``td3=True``: TD3's defaults)."""
    d = ddpg.td3_config() if td3 else ddpg.DDPGConfig()
    parser.set_defaults(td3=td3)
    add = parser.add_argument
    add("--env", default=d.env, help="environment with a Box action space (default: "
        "%(default)s); 'Pendulum' is the course's")
    add("--sincos", action="store_true",
        help="observe [cos q, sin q, v] (the course Pendulum, as in the DDPG practical)")
    add("--seeds", type=positive_int, default=1, help="independent runs, vmapped")
    add("--seed", type=int, default=0, help="base random seed")
    add("--steps", type=positive_int, default=d.total_steps, help="environment steps per seed")
    add("--num-envs", type=positive_int, default=d.num_envs)
    add("--buffer-size", type=positive_int, default=d.buffer_size)
    add("--batch-size", type=positive_int, default=d.batch_size)
    add("--learning-starts", type=int, default=d.learning_starts)
    add("--updates-per-step", type=positive_int, default=d.updates_per_step)
    add("--hidden", type=_sizes, default=d.hidden_sizes, help="hidden sizes, e.g. 64,64")
    add("--activation", default=d.activation)
    add("--noise", choices=ddpg.NOISES, default=d.noise, help="exploration noise")
    add("--sigma", type=float, default=d.exploration_noise,
        help="exploration noise σ (fraction of the action half-range)")
    add("--actor-lr", type=float, default=d.actor_learning_rate)
    add("--critic-lr", type=float, default=d.critic_learning_rate)
    add("--actor-lr-end", type=float, default=d.actor_learning_rate_end,
        help="decay the actor's step size linearly to this over the run")
    add("--critic-lr-end", type=float, default=d.critic_learning_rate_end,
        help="decay the critic's step size linearly to this over the run")
    add("--gamma", type=float, default=d.gamma)
    add("--tau", type=float, default=d.tau, help="soft target update τ in (0, 1]")
    add("--num-critics", type=positive_int, default=d.num_critics, help="TD3: 2")
    add("--policy-delay", type=positive_int, default=d.policy_delay, help="TD3: 2")
    add("--target-noise", type=float, default=d.target_noise, help="TD3: 0.2")
    add("--target-noise-clip", type=float, default=d.target_noise_clip)
    add("--eval-every", type=positive_int, default=d.eval_every)
    add("--eval-episodes", type=positive_int, default=d.eval_episodes)
    add("--out", type=Path, default=None, help="write DIR/summary.json")


def config_from(args: argparse.Namespace) -> ddpg.DDPGConfig:
    """The config the command line asks for."""
    return ddpg.DDPGConfig(
        env=args.env, env_options=(("sincos", True),) if args.sincos else (),
        total_steps=args.steps, num_envs=args.num_envs, buffer_size=args.buffer_size,
        batch_size=args.batch_size, learning_starts=args.learning_starts,
        updates_per_step=args.updates_per_step, hidden_sizes=tuple(args.hidden),
        activation=args.activation, noise=args.noise, num_critics=args.num_critics,
        policy_delay=args.policy_delay, eval_every=args.eval_every,
        eval_episodes=args.eval_episodes, actor_learning_rate=args.actor_lr,
        critic_learning_rate=args.critic_lr, actor_learning_rate_end=args.actor_lr_end,
        critic_learning_rate_end=args.critic_lr_end,
        gamma=args.gamma, tau=args.tau, exploration_noise=args.sigma,
        target_noise=args.target_noise, target_noise_clip=args.target_noise_clip,
    )


def run(args: argparse.Namespace) -> int:
    """Train the seeds in compiled chunks with a progress bar; print and write a summary."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    name = "td3" if args.td3 else "ddpg"
    config = config_from(args)
    ddpg.make(config)  # one clear line before anything compiles
    keys = jax.random.split(jax.random.key(args.seed), args.seeds)
    print(f"{name.upper()} on {config.env}: {args.seeds} seed(s) x {config.total_steps} "
          f"steps, critics={config.num_critics}, policy_delay={config.policy_delay}, "
          f"τ={config.tau}, σ={config.exploration_noise} ({config.noise})")
    from jaxrl import driver

    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} steps"),
                  TextColumn("{task.fields[ret]}"), TimeElapsedColumn()) as progress:
        task = progress.add_task("compiling", total=config.total_steps, ret="")

        def hook(p: driver.Progress) -> None:
            progress.update(task, completed=min(p.env_steps, config.total_steps),
                            description="training",
                            ret=f"greedy return {float(np.mean(p.eval_return)):.1f}")

        result = ddpg.run(config, keys, hook=hook)
    final = np.asarray(result.curve.final_return)
    summary = {
        "algo": name, "env": config.env, "seeds": args.seeds,
        "env_steps": result.env_steps,  # per seed, the key the DQN summary uses too
        "final_return_per_seed": final.tolist(),
        "final_return_mean": float(final.mean()),
        "curve_env_steps": np.asarray(result.curve.env_steps[0]).tolist(),
        "curve_return_mean": np.asarray(result.curve.eval_return).mean(-1).mean(0).tolist(),
        "compile_s": result.compile_s, "wall_s": result.wall_s, "devices": result.devices,
        "steps_per_s": args.seeds * result.env_steps / result.wall_s,
    }
    print("final greedy return per seed: " + " ".join(f"{r:.1f}" for r in final))
    print(f"mean {final.mean():.1f}, min {final.min():.1f}, max {final.max():.1f}; "
          f"compile {result.compile_s:.1f} s, run {result.wall_s:.1f} s "
          f"({summary['steps_per_s']:.0f} env steps/s)")
    write_summary(args.out, summary)
    return 0
