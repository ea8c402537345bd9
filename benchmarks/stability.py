"""Stability: naive NN-Q, PQN with and without LayerNorm, and DQN on CartPole-v1.

The lecture's claim in one plot: Q-learning with a network on the transitions it has
just made (naive NN-Q, ``jaxrl.deep.nnq``, the ``nnq``/``CartPole-v1`` preset) is
unstable; PQN (``jaxrl.deep.pqn``, ``PQNConfig()``) keeps that online learning, with no
replay memory and no target network, and is stable with LayerNorm; the same PQN
without LayerNorm (``layer_norm=False``) is the ablation; DQN (``DQNConfig()``) is the
replay-memory-and-target-network answer. Each learner runs its own config with the
same budget of environment steps (``--steps``) and evaluation interval, and the same
seeds; the mean greedy return over seeds against environment steps goes into a PNG,
the curves into the JSON, and a table (final mean and worst seed, the curve's peak, the
drop from it) is printed.

    .venv/bin/python benchmarks/stability.py            # full run (minutes on 2 cores)
    .venv/bin/python benchmarks/stability.py --quick    # smoke run, seconds
"""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from jaxrl.devices import use_cpu_cores  # noqa: E402

use_cpu_cores()  # one XLA device per core: seeds split over them (before gymnax starts JAX)

from common import device_info, format_table, parser, write_json  # noqa: E402

from jaxrl.deep import dqn, nnq, pqn  # noqa: E402
from jaxrl.presets import preset  # noqa: E402

GOALS = {"pqn_mean": 490.0, "pqn_min": 450.0}


def learners(steps: int, eval_every: int, quick: bool) -> dict:
    """``{name: (module, config)}``: each learner's config with the common budget."""
    budget = dict(total_steps=steps, eval_every=eval_every)
    if quick:
        budget["eval_episodes"] = 4
    naive = preset("nnq", "CartPole-v1")[0].replace(**budget)
    stable = pqn.PQNConfig(**budget)
    replay = dqn.DQNConfig(**budget)
    if quick:
        naive = naive.replace(exploration_steps=1_000)
        stable = stable.replace(num_envs=8, num_steps=16, num_minibatches=2,
                                update_epochs=1, exploration_steps=1_000)
        replay = replay.replace(learning_starts=500, exploration_steps=1_000)
    return {
        "naive NN-Q": (nnq, naive),
        "PQN (LayerNorm)": (pqn, stable),
        "PQN without LayerNorm": (pqn, stable.replace(layer_norm=False)),
        "DQN": (dqn, replay),
    }


def measure(algo, config, seeds: int) -> dict:
    result = algo.run(config, jax.random.split(jax.random.key(0), seeds))
    curve = np.asarray(result.curve.eval_return).mean(-1)  # [seeds, evaluations]
    final = curve[:, -1]
    mean = curve.mean(0)
    return {
        "seeds": seeds, "env_steps": result.env_steps,
        "final_mean": float(final.mean()), "final_min": float(final.min()),
        "peak_mean": float(mean.max()), "drop_from_peak": float(mean.max() - mean[-1]),
        "final_per_seed": final.tolist(),
        "curve_steps": np.asarray(result.curve.env_steps)[0].tolist(),
        "curve_mean": mean.tolist(), "curve_min": curve.min(0).tolist(),
        "wall_s": result.wall_s, "compile_s": result.compile_s,
    }


def plot(path: Path, runs: dict[str, dict], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, res in runs.items():
        ax.plot(res["curve_steps"], res["curve_mean"], label=name)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("greedy return (mean over seeds)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> int:
    p = parser("stability", __doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300_000,
                   help="environment steps per seed for every learner (default: %(default)s)")
    p.add_argument("--seeds", type=int, default=16, help="seeds (default: %(default)s)")
    args = p.parse_args()
    quick = args.quick
    steps = 4_096 if quick else args.steps
    seeds = 2 if quick else args.seeds
    eval_every = steps // 2 if quick else max(steps // 20, 1)
    runs = {}
    for name, (algo, config) in learners(steps, eval_every, quick).items():
        runs[name] = measure(algo, config, seeds)
        print(f"{name}: final {runs[name]['final_mean']:.1f} "
              f"(wall {runs[name]['wall_s']:.1f} s)", flush=True)
    device = device_info()
    print(f"\n== CartPole-v1, {seeds} seeds, {steps:,} env steps each, on {device['device']} "
          f"({device['backend']}, {device['device_count']} device(s)) ==")
    print(format_table(
        ["learner", "final mean", "final min", "peak mean", "drop from peak", "wall s",
         "compile s"],
        [[name, r["final_mean"], r["final_min"], r["peak_mean"], r["drop_from_peak"],
          r["wall_s"], r["compile_s"]] for name, r in runs.items()]))
    png = args.out.with_suffix(".png")
    plot(png, runs, f"CartPole-v1, {seeds} seeds, {device['device']}")
    print(f"learning curves: {png}")
    stable = runs["PQN (LayerNorm)"]
    goals = {"PQN (LayerNorm) mean >= 490": stable["final_mean"] >= GOALS["pqn_mean"],
             "PQN (LayerNorm) every seed >= 450": stable["final_min"] >= GOALS["pqn_min"]}
    print("\n== goals" + (" (quick run: budgets too small to mean anything)" if quick else "")
          + " ==")
    for name, met in goals.items():
        print(f"  {name}: {'met' if met else 'MISSED'}")
    write_json(args.out, "stability", {"steps": steps, "seeds": seeds, "runs": runs,
                                       "goals": goals, "png": png.name}, quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
