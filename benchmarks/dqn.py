"""DQN, naive NN-Q and PQN: learning (final greedy return over seeds) and speed (env steps/s).

* learning: DQN's default config (tuned on CartPole-v1, the same for every seed) on
  CartPole-v1 and Acrobot-v1 at 100k env steps, 16 seeds; the course's DQN practical on
  HybridPendulum; naive NN-Q and PQN (``PQNConfig()``, tuned on CartPole-v1) against DQN
  on CartPole-v1 (learning curves in a PNG; PQN's goal: DQN's returns in less wall time);
  CartPole's final agents played greedy on θ and on θ̄ (the default), 64 episodes each.
* deeptable: the course's practical (course.md §3.1), 100 seeds of
  :func:`jaxrl.deep.nnq.deeptable` next to :func:`numpy_deeptable`, a plain numpy port
  of ``deeptable.py`` on the numpy pendulum of ``benchmarks/tabular_q.py``.
* speed: env steps/s, compile time apart, at 1, 16 and 128 seeds on rejax's CartPole
  config, and rejax's own DQN on that config side by side (same network, num envs,
  batch, updates per step and evaluation budget: 128 greedy episodes every 2500 steps)
  when ``.venv-rejax`` exists (``../shared/peers/README.md``; or ``REJAX_PYTHON`` and
  ``REJAX_BENCH`` name the peer elsewhere); otherwise the peer columns are skipped
  with a note.

    .venv/bin/python benchmarks/dqn.py            # full run (tens of minutes on 2 cores)
    .venv/bin/python benchmarks/dqn.py --quick    # smoke run, seconds
    .venv/bin/python benchmarks/dqn.py --parts speed   # some sections only
"""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from jaxrl.devices import use_cpu_cores  # noqa: E402

use_cpu_cores()  # one XLA device per core: seeds split over them (before gymnax starts JAX)

import tabular_q  # noqa: E402  (the numpy DiscretePendulum)
from common import (  # noqa: E402
    add_parts,
    chosen_parts,
    dqn_greedy_returns,
    format_table,
    parser,
    peer_record,
    rejax_paths,
    write_json,
)

from jaxrl.deep import dqn, nnq, pqn  # noqa: E402
from jaxrl.presets import preset  # noqa: E402

REJAX_PY, REJAX_BENCH = rejax_paths()

#: rejax's configs/gymnax/cartpole.yaml `dqn:`, in jaxrl's terms (for the speed race);
#: rejax's greedy policy is its θ, so no average here.
REJAX_CARTPOLE = dqn.DQNConfig(
    env="CartPole-v1", total_steps=100_000, num_envs=10, buffer_size=50_000,
    learning_starts=5_000, batch_size=100, updates_per_step=5, target_update_every=10,
    tau=0.02, exploration_steps=50_000, epsilon_end=0.05, hidden_sizes=(64, 64),
    activation="swish", dueling=True, double=True, loss="l2", learning_rate=1e-3,
    learning_rate_end=None, max_grad_norm=10.0, eval_every=2_500, eval_episodes=128,
    average_step=1.0,
)
#: The course's DQN practical on HybridPendulum (jaxrl.presets: `jaxrl train dqn --env
#: HybridPendulum` trains the same config).
COURSE_HYBRID = preset("dqn", "HybridPendulum")[0]
PARTS = ("learning", "deeptable", "speed")
GOALS = {"cartpole_mean": 490.0, "cartpole_min": 450.0, "acrobot_mean": -90.0,
         "speedup": 3.0}
#: The curves in the PNG: the name in the plot's legend, the name in the learning table.
PLOTTED = {"DQN": "CartPole-v1", "naive NN-Q": "nnq CartPole-v1", "PQN": "pqn CartPole-v1"}


def learn(config, seeds: int, algo=dqn):
    result = algo.run(config, jax.random.split(jax.random.key(0), seeds))
    final = np.asarray(result.curve.final_return)
    curve = np.asarray(result.curve.eval_return).mean(-1)
    out = {
        "env": config.env, "seeds": seeds, "env_steps": result.env_steps,
        "final_mean": float(final.mean()), "final_min": float(final.min()),
        "final_max": float(final.max()), "final_per_seed": final.tolist(),
        "curve_steps": np.asarray(result.curve.env_steps)[0].tolist(),
        "curve_mean": curve.mean(0).tolist(), "curve_min": curve.min(0).tolist(),
        "wall_s": result.wall_s, "compile_s": result.compile_s,
    }
    if algo is dqn and config.env == "CartPole-v1" and config.average_step < 1.0:
        out["theta_vs_average"] = theta_vs_average(config, result.state)
    return out


def theta_vs_average(config, state, episodes: int = 64) -> dict:
    """The final agents greedy on θ and on θ̄ (the default policy), ``episodes`` fresh
    episodes each: what the average adds, on the same trained runs."""
    config = config.replace(eval_episodes=episodes)
    keys = jax.random.split(jax.random.key(99), state.step.shape[0])
    out = {}
    for name, params in (("theta", state.params), ("theta_bar", state.average_params)):
        ret = dqn_greedy_returns(config, state, params, keys)
        per_seed = ret.mean(-1)
        out[name] = {"mean": float(per_seed.mean()), "min": float(per_seed.min()),
                     "seeds_under_450": int((per_seed < 450).sum()),
                     "episodes_under_450": int((ret < 450).sum()), "episodes": int(ret.size)}
    return out


def speed(config, seeds: int, devices=None):
    result = dqn.run(config, jax.random.split(jax.random.key(1), seeds), devices=devices)
    final = np.asarray(result.curve.final_return)
    return {"seeds": seeds, "env_steps_per_s": seeds * result.env_steps / result.wall_s,
            "wall_s": result.wall_s, "compile_s": result.compile_s,
            "final_mean": float(final.mean()), "final_min": float(final.min())}


def rejax(seeds: int, total_steps: int):
    if not REJAX_PY.exists() or not REJAX_BENCH.exists():
        return None
    cmd = [str(REJAX_PY), str(REJAX_BENCH), "--preset", "dqn_cartpole", "--num-seeds",
           str(seeds), "--reps", "1", "--total-timesteps", str(total_steps)]
    rec = peer_record(cmd, timeout=3600)
    if "error" in rec:
        print(f"rejax failed: {rec['error'][-500:]}")
        return None
    return rec


def numpy_deeptable(episodes: int, seed: int) -> tuple[float, float]:
    """The course's ``deeptable.py`` in plain numpy: ``(training success, greedy success)``.

    An independent check of :func:`jaxrl.deep.nnq.deeptable`: the environment is the
    numpy ``DiscretePendulum`` of ``benchmarks/tabular_q.py`` (not jaxrl's), tabulated
    once. The loop is the source's: ``W ~ U(0, 0.01)``, episodes 1 .. N-1 of 49 steps
    from a uniform state, ``u = clip(argmax W[x] + int(randn * 10 / (episode/50 + 10)))``,
    the table step ``W[x, u] += 2 lr (r + γ max W[x2] - W[x, u])`` (SGD on the summed
    square), break on the reward; the rate is divided by N as the source does.
    """
    table = _numpy_pendulum_table()
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.0, 0.01, table.shape)
    successes = 0
    for episode in range(1, episodes):
        x = int(rng.integers(table.shape[0]))
        for _ in range(49):
            u = int(np.argmax(w[x])) + int(rng.standard_normal() * 10 / (episode / 50 + 10))
            u = min(max(u, 0), table.shape[1] - 1)
            x2 = int(table[x, u])
            reward = 1.0 if x2 == tabular_q.GOAL else 0.0
            w[x, u] += 0.2 * (reward + 0.99 * np.max(w[x2]) - w[x, u])
            x = x2
            if reward == 1.0:
                successes += 1
                break
    policy = np.argmax(w, axis=1)
    reached = 0
    for start in range(table.shape[0]):
        x = start
        for _ in range(100):
            x = int(table[x, policy[x]])
            if x == tabular_q.GOAL:
                reached += 1
                break
    return successes / episodes, reached / table.shape[0]


def _numpy_pendulum_table() -> np.ndarray:
    """``next_state[x, u]`` of the numpy ``DiscretePendulum`` (it is deterministic)."""
    env = tabular_q.NumpyDiscretePendulum(np.random.default_rng(0))
    table = np.zeros((tabular_q.NQ * tabular_q.NV, tabular_q.NU), np.int64)
    for x in range(table.shape[0]):
        for u in range(tabular_q.NU):
            env.x = x
            table[x, u] = env.step(u)[0]
    return table


def plot(path: Path, curves: dict[str, dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, res in curves.items():
        ax.plot(res["curve_steps"], res["curve_mean"], label=f"{name} (mean)")
        ax.plot(res["curve_steps"], res["curve_min"], "--", label=f"{name} (worst seed)")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("greedy return")
    ax.set_title(f"CartPole-v1, {next(iter(curves.values()))['seeds']} seeds")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> int:
    p = parser("dqn", __doc__.splitlines()[0])
    add_parts(p, PARTS)
    args = p.parse_args()
    parts, kept = chosen_parts(p, args, PARTS)
    quick = args.quick
    seeds = 2 if quick else 16
    steps = 2_000 if quick else 100_000
    small = dict(total_steps=steps, eval_every=steps // 4 if quick else 10_000)
    if quick:
        small.update(learning_starts=500, exploration_steps=1_000, eval_episodes=4)
    results: dict = {"learning": {}, "speed": {}, **kept}

    if "learning" in parts:
        print("== learning: final greedy return over seeds ==")
        default = dqn.DQNConfig(**small)
        results["learning"]["CartPole-v1"] = learn(default, seeds)
        if not quick:  # quick: compile time would dominate; these run in the full benchmark
            results["learning"]["Acrobot-v1"] = learn(default.replace(env="Acrobot-v1"), seeds)
            results["learning"]["HybridPendulum"] = learn(COURSE_HYBRID, seeds)
        nnq_config = nnq.NNQConfig(total_steps=steps, num_envs=10,
                                   eval_every=small["eval_every"],
                                   eval_episodes=4 if quick else 16)
        results["learning"]["nnq CartPole-v1"] = learn(nnq_config, seeds, algo=nnq)
        pqn_config = pqn.PQNConfig()
        if quick:
            pqn_config = pqn_config.replace(total_steps=steps, num_envs=8, num_steps=16,
                                            num_minibatches=2, update_epochs=1,
                                            exploration_steps=1_000,
                                            eval_every=small["eval_every"], eval_episodes=4)
        results["learning"]["pqn CartPole-v1"] = learn(pqn_config, seeds, algo=pqn)
        rows = [[name, r["seeds"], r["env_steps"], r["final_mean"], r["final_min"], r["final_max"],
                 r["wall_s"], r["compile_s"]] for name, r in results["learning"].items()]
        print(format_table(["run", "seeds", "env steps", "mean", "min", "max", "wall s",
                            "compile s"], rows))
        rows = [[name, which, r[which]["mean"], r[which]["min"], r[which]["seeds_under_450"],
                 f"{r[which]['episodes_under_450']} of {r[which]['episodes']}"]
                for name, res in results["learning"].items()
                if (r := res.get("theta_vs_average")) for which in ("theta", "theta_bar")]
        print("\nthe same final agents, 64 fresh greedy episodes per seed, on θ and on θ̄:")
        print(format_table(["run", "greedy on", "mean", "min", "seeds < 450",
                            "episodes < 450"], rows))
        png = args.out.with_suffix(".png")
        plot(png, {name: results["learning"][row] for name, row in PLOTTED.items()})
        print(f"learning curves: {png}")

    if "deeptable" in parts:
        print("\n== deeptable (course §3.1): NN-Q, one-hot linear, SGD 0.1, DiscretePendulum ==")
        dt_seeds = 2 if quick else 100
        episodes = 50 if quick else 500
        train_success, greedy = jax.vmap(lambda k: nnq.deeptable(k, episodes=episodes))(
            jax.random.split(jax.random.key(100), dt_seeds))
        port = np.array([numpy_deeptable(episodes, seed) for seed in range(dt_seeds)])
        results["deeptable"] = {"seeds": dt_seeds, "episodes": episodes}
        rows = []
        for name, (success, share) in {"jaxrl nnq.deeptable": (train_success, greedy),
                                       "numpy port of deeptable.py": port.T}.items():
            success, share = np.asarray(success), np.asarray(share)
            results["deeptable"][name] = {"training_success": success.tolist(),
                                          "greedy_success": share.tolist()}
            rows.append([name, float(success.mean()), float(share.mean()),
                         float(np.median(share)), int((share >= 0.99).sum())])
        print(format_table(["run", "training success (mean)", "greedy success (mean)",
                            "greedy (median)", "seeds with greedy >= 0.99"], rows))
        print("course.md §3.1 re-simulation (10 seeds): training success 0.84, greedy 0.995")

    if "speed" in parts:
        print("\n== speed: rejax's CartPole DQN config, 128 greedy episodes every 2500 steps ==")
        race_steps = 5_000 if quick else 25_000
        race = REJAX_CARTPOLE.replace(total_steps=race_steps)
        if quick:
            race = race.replace(learning_starts=1_000, eval_episodes=8)
        widths = (1,) if quick else (1, 16, 128)
        rows = []
        for n in widths:
            ours = speed(race.replace(total_steps=min(race_steps, 10_000)) if n == 128 else race, n)
            # the same seeds on one device (one core on a CPU): what the split over devices adds
            single = (speed(race, n, devices=jax.devices()[:1])
                      if jax.device_count() > 1 and n == 16 else None)
            peer = rejax(n, race_steps) if n in (1, 16) and not quick else None
            results["speed"][str(n)] = {"jaxrl": ours, "jaxrl_one_device": single, "rejax": peer}
            ratio = ours["env_steps_per_s"] / peer["env_steps_per_s"] if peer else None
            rows.append([n, ours["env_steps_per_s"],
                         single["env_steps_per_s"] if single else "-", ours["compile_s"],
                         peer["env_steps_per_s"] if peer else "-",
                         peer["compile_s"] if peer else "-",
                         f"{ratio:.1f}x" if ratio else "-"])
        print(f"jaxrl: {jax.device_count()} {jax.default_backend()} device(s), seeds split over "
              "them; rejax: its own process, one device")
        print(format_table(["seeds", "jaxrl steps/s", "jaxrl on 1 device", "jaxrl compile s",
                            "rejax steps/s", "rejax compile s", "speed-up"], rows))
        if not REJAX_PY.exists():
            print("note: no .venv-rejax: rejax columns skipped (see ../shared/peers/README.md)")

    cp = results["learning"].get("CartPole-v1")
    ac = results["learning"].get("Acrobot-v1")
    pq = results["learning"].get("pqn CartPole-v1")
    ratios = [results["speed"][k]["jaxrl"]["env_steps_per_s"]
              / results["speed"][k]["rejax"]["env_steps_per_s"]
              for k in ("1", "16") if results["speed"].get(k, {}).get("rejax")]
    goals = {
        "CartPole-v1 mean >= 490": cp["final_mean"] >= GOALS["cartpole_mean"] if cp else None,
        "CartPole-v1 every seed >= 450": cp["final_min"] >= GOALS["cartpole_min"] if cp else None,
        "Acrobot-v1 mean >= -90": ac["final_mean"] >= GOALS["acrobot_mean"] if ac else None,
        "PQN CartPole-v1 mean >= 490": pq["final_mean"] >= GOALS["cartpole_mean"] if pq else None,
        "PQN CartPole-v1 every seed >= 450": (pq["final_min"] >= GOALS["cartpole_min"]
                                              if pq else None),
        "PQN in less wall time than DQN": pq["wall_s"] < cp["wall_s"] if pq and cp else None,
        ">= 3x rejax steps/s at 1 and 16 seeds": (bool(ratios) and len(ratios) == 2
                                                  and min(ratios) >= GOALS["speedup"])
        if ratios else None,
    }
    results["goals"] = goals
    print("\n== goals" + (" (quick run: budgets too small to mean anything)" if quick else "")
          + " ==")
    for name, met in goals.items():
        print(f"  {name}: {'met' if met else 'not measured' if met is None else 'MISSED'}")
    write_json(args.out, "dqn", results, quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
