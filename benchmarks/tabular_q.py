"""Tabular Q-learning: the course's practical, learned by 100 seeds, and its throughput.

(a) The practical (course.md §2): ``DiscretePendulum``, 500 episodes x 50 steps,
    α = 0.85, γ = 0.99, noisy-argmax exploration, break on success; 100 seeds.
    Reported: the training success rate, and the share of the 380 start states from
    which the greedy policy reaches the goal within 100 steps (mean and min over seeds).
(b) Throughput: training episodes per second at 1, 100 and 4096 seeds (one vmapped
    call, compile excluded, optimality scoring off), against a plain numpy/Python loop
    of the same practical, written here the way the course's own code does it (one
    episode after the other, one step after the other), timed in the same run; and the
    ceiling that drawing the practical's random numbers alone puts on any implementation
    built on jax.random (:func:`normal_draw_bound`).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from jaxrl.tabular.qlearning import QLearningConfig, train  # noqa: E402

# --- The course's practical in plain numpy (pinocchio src/dpendulum.py + src/qtable.py) ---
NQ, NV, NU, VMAX, UMAX, DT, NDT = 20, 19, 9, 5.0, 5.0, 0.3, 5
DQ, DV, DU = 2 * math.pi / NQ, 2 * VMAX / NV, 2 * UMAX / NU
GOAL = NQ // 2 + (NV // 2) * NQ


class NumpyDiscretePendulum:
    """The course's DPendulum: bin-centre state, one 0.3 s step of the pendulum, re-binned."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.x = 0

    def reset(self) -> int:
        self.x = int(self.rng.integers(NQ * NV))
        return self.x

    def step(self, iu: int) -> tuple[int, float]:
        iq, iv = self.x % NQ, self.x // NQ
        q, v = iq * DQ - math.pi, (iv - NV // 2) * DV
        u = min(max((iu - NU // 2) * DU, -2.0), 2.0)
        h = DT / NDT
        for _ in range(NDT):
            a = (u - 0.1 * v + 4.905 * math.sin(q)) / 0.45
            v += a * h
            q += v * h
        q = (q + math.pi) % (2 * math.pi) - math.pi
        v = min(max(v, -8.0), 8.0)
        iq = int(np.round(((q + math.pi) % (2 * math.pi)) / DQ)) % NQ
        iv = int(math.floor((min(max(v, -VMAX + 1e-3), VMAX - 1e-3) + VMAX) / DV))
        self.x = iq + iv * NQ
        return self.x, 1.0 if self.x == GOAL else 0.0


def numpy_practical(episodes: int, seed: int = 0) -> tuple[np.ndarray, float, float]:
    """The course's qtable.py loop; returns (Q, episodes per second, mean steps per episode)."""
    rng = np.random.default_rng(seed)
    env = NumpyDiscretePendulum(rng)
    q = np.zeros((NQ * NV, NU))
    steps = 0
    start = time.perf_counter()
    for episode in range(1, episodes + 1):
        x = env.reset()
        for _ in range(50):
            steps += 1
            u = int(np.argmax(q[x] + rng.standard_normal(NU) / episode))
            x2, reward = env.step(u)
            q[x, u] += 0.85 * (reward + 0.99 * np.max(q[x2]) - q[x, u])
            x = x2
            if reward == 1:
                break
    return q, episodes / (time.perf_counter() - start), steps / episodes


def normal_draw_bound(seeds: int, mean_steps: float) -> dict:
    """The most episodes/s any jax.random implementation of the practical could reach.

    Each step of the noisy argmax needs NU = 9 standard normals. This times drawing them
    alone (``jax.random.normal``, vmapped over ``seeds`` keys, summed so that nothing is
    stored) and divides by the normals an episode needs: 9 per step over the numpy
    loop's mean episode length (its episodes end at the goal, as a perfect
    implementation's would). No environment, no Q-table: a ceiling, not a target.
    """
    per_seed = 2_000 * NU
    draw = jax.jit(jax.vmap(lambda k: jax.random.normal(k, (per_seed,)).sum()))
    keys = jax.random.split(jax.random.key(2), seeds)
    seconds = common.timeit(lambda: draw(keys), repeats=3)
    normals_per_s = seeds * per_seed / seconds
    return {"seeds": seeds, "normals_per_s": normals_per_s,
            "normals_per_episode": NU * mean_steps,
            "max_episodes_per_s": normals_per_s / (NU * mean_steps)}


def main() -> None:
    args = common.parser("tabular_q", __doc__.splitlines()[0]).parse_args()
    seeds_learning = 8 if args.quick else 100
    widths = [1, 8] if args.quick else [1, 100, 4096]
    throughput_episodes = 50 if args.quick else 500
    numpy_episodes = 20 if args.quick else 500
    print(f"device: {common.device_info()['device']} ({jax.default_backend()})")

    # (a) The practical, 100 seeds, scored against the exact optimum.
    config = QLearningConfig(episodes=100 if args.quick else 500)
    keys = jax.random.split(jax.random.key(0), seeds_learning)
    _, metrics = jax.jit(jax.vmap(lambda k: train(config, k)))(keys)
    greedy = np.asarray(metrics.greedy_success)[:, -1]
    learning = {
        "seeds": seeds_learning, "episodes": config.episodes,
        "training_success_rate": float(np.asarray(metrics.success).mean()),
        "greedy_success_mean": float(greedy.mean()),
        "greedy_success_min": float(greedy.min()),
        "greedy_success_per_seed": greedy.tolist(),
        "last_100_success_rate": float(np.asarray(metrics.success)[:, -100:].mean()),
        "value_gap_mean": float(np.asarray(metrics.value_gap)[:, -1].mean()),
    }
    print(f"\n(a) The practical: DiscretePendulum, {config.episodes} episodes x 50 steps, "
          f"α 0.85, γ 0.99, noisy argmax, {seeds_learning} seeds")
    print(common.format_table(
        ["training success", "last 100 episodes", "greedy success mean", "greedy success min",
         "course (re-simulation, 10 seeds)"],
        [[f"{learning['training_success_rate']:.3f}", f"{learning['last_100_success_rate']:.3f}",
          f"{100 * learning['greedy_success_mean']:.2f}%",
          f"{100 * learning['greedy_success_min']:.2f}%", "0.70 / 1.00 / 99.9% / 99.2%"]]))

    # (b) Throughput against the numpy loop (timed before and after, best kept).
    _, numpy_rate, numpy_steps = numpy_practical(numpy_episodes)
    numpy_rates = [numpy_rate]
    fast = QLearningConfig(episodes=throughput_episodes, track_optimum=False)
    run = jax.jit(jax.vmap(lambda k: train(fast, k)))
    rows = []
    for width in widths:
        keys = jax.random.split(jax.random.key(1), width)
        start = time.perf_counter()
        common.block(run(keys))
        first = time.perf_counter() - start
        seconds = common.timeit(lambda keys=keys: run(keys), repeats=1 if width > 100 else 3)
        rate = width * throughput_episodes / seconds
        rows.append({"seeds": width, "episodes_per_s": rate, "compile_and_run_s": first,
                     "run_s": seconds})
        numpy_rates.append(numpy_practical(numpy_episodes)[1])
    numpy_rate = max(numpy_rates)
    for row in rows:
        row["speedup_vs_numpy"] = row["episodes_per_s"] / numpy_rate
    bound = normal_draw_bound(widths[-1], numpy_steps)
    bound["max_speedup_vs_numpy"] = bound["max_episodes_per_s"] / numpy_rate
    print(f"\n(b) Training episodes per second ({throughput_episodes} episodes per seed; "
          f"numpy loop: {numpy_rate:.0f} episodes/s over {numpy_episodes} episodes)")
    print(common.format_table(
        ["seeds", "episodes/s", "run s", "compile+run s", "vs numpy loop"],
        [[r["seeds"], f"{r['episodes_per_s']:.4g}", f"{r['run_s']:.3g}",
          f"{r['compile_and_run_s']:.3g}", f"{r['speedup_vs_numpy']:.0f}x"] for r in rows]))
    print(f"\nCeiling from the random numbers alone, {bound['seeds']} seeds: "
          f"jax.random.normal draws {bound['normals_per_s'] / 1e6:.1f} M normals/s; the "
          f"numpy loop's episodes average {numpy_steps:.1f} steps x {NU} normals, so at most "
          f"{bound['max_episodes_per_s']:.4g} episodes/s "
          f"({bound['max_speedup_vs_numpy']:.0f}x the numpy loop), whatever the rest costs")

    goals = {}
    if not args.quick:
        goals = {
            "greedy_success_99pct": learning["greedy_success_mean"] >= 0.99,
            "throughput_1000x_at_4096": rows[-1]["speedup_vs_numpy"] >= 1000,
        }
    verdicts = [f"{k}: {'met' if v else 'MISSED'}" for k, v in goals.items()]
    print("\nGoals:", ", ".join(verdicts) if verdicts else "(not judged in --quick mode)")
    common.write_json(args.out, "tabular_q", {
        "learning": learning,
        "throughput": {"numpy_loop_episodes_per_s": numpy_rate,
                       "numpy_loop_episodes": numpy_episodes,
                       "numpy_loop_mean_steps_per_episode": numpy_steps, "jaxrl": rows,
                       "normal_draw_ceiling": bound},
        "goals": goals,
    }, args.quick)


if __name__ == "__main__":
    main()
