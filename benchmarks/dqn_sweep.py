"""DQN on CartPole-v1: how often a seed ends under 450, over many seeds, config by config.

The DQN benchmark's 16 seeds cannot tell a 1 % from a 6 % chance that a seed's greedy
policy is down at 100 k steps; this sweep can, given an accelerator. Each change to
``DQNConfig()`` trains the same ``--seeds`` keys (tuning key 2000 by default, never the
benchmark's key 0), so the configs are compared seed by seed. Changes of pytree leaves
(step sizes, τ, γ, ε) run stacked in one compiled call (:func:`jaxrl.sweep.sweep`);
static ones (sizes, switches) one call each. Reported per config: the final greedy
return (16 episodes, the default policy on θ̄) as mean / min, seeds under 450 at the end,
evaluations under 450 from 80 k steps on, and the same final agents greedy on θ itself.

``benchmarks/results/dqn-cartpole-sweep-h200.json`` is an earlier form of this sweep
(the greedy policy was on θ then) on an NVIDIA H200 with float32 matrix products at full
precision (``--highest``): 128 seeds of 20 configs in about 5 minutes. On the 2-core CPU
a config takes about 12 minutes per 64 seeds.

    .venv/bin/python benchmarks/dqn_sweep.py --seeds 128 --highest   # on a GPU
    .venv/bin/python benchmarks/dqn_sweep.py --quick                 # smoke run, seconds
"""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from jaxrl.devices import use_cpu_cores  # noqa: E402

use_cpu_cores()  # one XLA device per core (before gymnax starts JAX)

from common import dqn_greedy_returns, format_table, parser, write_json  # noqa: E402

from jaxrl.deep import dqn  # noqa: E402
from jaxrl.sweep import sweep  # noqa: E402

#: Changes of pytree leaves: one stacked run. {} is the default.
LEAF_CHANGES = [
    {},
    {"learning_rate": 1e-3},
    {"tau": 0.01},
    {"epsilon_end": 0.05},
    {"gamma": 0.995},
    {"average_step": 0.005},
]
#: Changes of static fields: one run each.
STATIC_CHANGES = [
    {"buffer_size": 100_000},
    {"hidden_sizes": (256, 256)},
    {"dueling": False},
    {"double": False},
]


def summary(name, final, late, theta) -> dict:
    return {"change": name, "seeds": int(final.size), "mean": float(final.mean()),
            "min": float(final.min()), "seeds_under_450": int((final < 450).sum()),
            "late_evals_under_450": int((late < 450).sum()), "late_evals": int(late.size),
            "theta_seeds_under_450": int((theta < 450).sum()), "per_seed": final.tolist()}


def main() -> int:
    p = parser("dqn_sweep", __doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=64, help="seeds per config (default: 64)")
    p.add_argument("--key", type=int, default=2000, help="base key (default: 2000)")
    p.add_argument("--highest", action="store_true",
                   help="float32 matrix products at full precision (a GPU's default is lower)")
    args = p.parse_args()
    if args.highest:
        jax.config.update("jax_default_matmul_precision", "highest")
    seeds = 2 if args.quick else args.seeds
    base = dqn.DQNConfig(eval_every=5_000)
    leaf, static = LEAF_CHANGES, STATIC_CHANGES
    if args.quick:
        base = base.replace(total_steps=2_000, learning_starts=500, exploration_steps=1_000,
                            eval_every=500, eval_episodes=4, buffer_size=1_000)
        leaf, static = LEAF_CHANGES[:2], [{"double": False}]
    keys = jax.random.split(jax.random.key(args.key), seeds)
    eval_keys = jax.random.split(jax.random.key(args.key + 1), seeds)
    rows, results = [], []

    def record(name, result, config, slice_):
        final = np.asarray(result.curve.final_return)[slice_]
        steps = np.asarray(result.curve.env_steps)[0]
        late = np.asarray(result.curve.eval_return).mean(-1)[slice_][
            :, steps >= 0.8 * config.total_steps]
        state = jax.tree.map(lambda x: x[slice_], result.state)
        theta = dqn_greedy_returns(config, state, state.params, eval_keys).mean(-1)
        results.append(summary(name, final, late, theta))
        r = results[-1]
        rows.append([name, r["mean"], r["min"], f"{r['seeds_under_450']} of {seeds}",
                     f"{r['late_evals_under_450']} of {r['late_evals']}",
                     f"{r['theta_seeds_under_450']} of {seeds}"])
        print(f"{name}: {r['mean']:.1f} / {r['min']:.1f}", flush=True)

    fields = sorted({k for change in leaf for k in change})
    stacked = sweep(base, **{f: np.repeat([c.get(f, getattr(base, f)) for c in leaf], seeds)
                             for f in fields})
    result = dqn.run(stacked, jnp.concatenate([keys] * len(leaf)), stacked_config=True)
    for i, change in enumerate(leaf):
        record(str(change or "default"), result, base, slice(i * seeds, (i + 1) * seeds))
    for change in static:
        config = base.replace(**change)
        record(str(change), dqn.run(config, keys), config, slice(None))

    print(f"\nCartPole-v1, {seeds} seeds (key {args.key}), {base.total_steps} env steps; "
          f"{jax.device_count()} {jax.default_backend()} device(s)")
    print(format_table(["change", "mean", "min", "seeds < 450", "evals < 450 (late)",
                        "on θ: seeds < 450"], rows))
    write_json(args.out, "dqn_sweep", {"seeds": seeds, "key": args.key,
                                       "total_steps": base.total_steps,
                                       "highest_precision": args.highest,
                                       "results": results}, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
