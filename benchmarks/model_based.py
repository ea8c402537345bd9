"""Model-based RL against the model-free learners: environment steps to the goal.

(a) Tabular, ``DiscretePendulum``: tabular model-based RL (count model, value
iteration; the ``mbrl`` preset explores by the novelty rule, and the same with R-max's
plan) against tabular Q-learning (the course practical), the same seeds: the
environment steps until the greedy policy reaches the goal from >= 99 % of the states,
for each seed (their mean: the goal's reading) and until the mean over the seeds does
(a stricter one, set by the slowest seeds); Q-learning's steps are the steps its
episodes really ran, after the practical's ``break`` on success; model-based RL is
scored every 10 steps, Q-learning after every episode. Also when each model-based seed
first reached the goal. Goal: at most 1/10 of Q-learning's steps (mean over 100 seeds).

(b) The course ``Pendulum``: learned-model MPC (the ``mpc`` preset, at most 10 k steps
of data) against DDPG (the course practical's preset, 100 k steps): seeds that swing up
from hanging at rest and hold |q| < 0.1 over the last 20 of 100 steps. Goal: >= 14 of
16 for MPC. Wall times are reported apart; they do not enter the goals.

    .venv/bin/python benchmarks/model_based.py [--quick] [--parts tabular,pendulum]
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import ddpg as ddpg_bench  # noqa: E402  (its course-pendulum measurement of DDPG)

# One device, all seeds in one vmapped batch: measured on the 2-core CPU, 100 seeds of
# the mbrl preset train in 42 s per 1000 steps so, and in 72 s split over one device per
# core (jaxrl.devices.use_cpu_cores) in groups of at most eight.
import jax  # noqa: E402

import jaxrl  # noqa: E402
from jaxrl import presets  # noqa: E402
from jaxrl.deep import mpc  # noqa: E402
from jaxrl.envs.tabular import exact_model  # noqa: E402
from jaxrl.tabular import model_based, qlearning  # noqa: E402

PARTS = ("tabular", "pendulum")


def first_reaching(steps: np.ndarray, success: np.ndarray, level: float = 0.99):
    """The first of ``steps`` at which ``success`` (same length) is at least ``level``,
    or ``None``."""
    hit = np.flatnonzero(success >= level)
    return int(steps[hit[0]]) if hit.size else None


def random_order_bound(env_name: str = "DiscretePendulum",
                       levels: tuple[float, ...] = (0.5, 0.9, 0.99)) -> dict:
    """What any explorer that knows nothing of the goal is up against: of the ``N``
    pairs ``(s, a)`` at the non-terminal states of the exact model, ``K`` lead into the
    goal. An agent free to try any pair at will, in a uniformly random order, has tried
    none of them after ``n`` tries with probability ``C(N - K, n) / C(N, n)``; the
    quantiles over seeds of its first try into the goal (mean ``(N + 1) / (K + 1)``).
    A real explorer must also walk to the pairs it tries."""
    env, params = jaxrl.make(env_name)
    model = exact_model(env, params)
    open_states = ~np.asarray(model.mdp.terminal)
    into_goal = (np.asarray(model.goal)[np.asarray(model.mdp.next_states)]
                 & (np.asarray(model.mdp.probs) > 0)).any(-1)[open_states]
    n_pairs, k = int(into_goal.size), int(into_goal.sum())

    def none_yet(n):  # log C(N - K, n) - log C(N, n)
        return math.exp(math.lgamma(n_pairs - k + 1) - math.lgamma(n_pairs - k - n + 1)
                        - math.lgamma(n_pairs + 1) + math.lgamma(n_pairs - n + 1))

    survival = np.array([none_yet(n) for n in range(n_pairs - k + 1)])
    return {"pairs": n_pairs, "pairs_into_goal": k, "mean": (n_pairs + 1) / (k + 1),
            **{f"q{round(100 * q)}": int(np.argmax(survival <= 1 - q)) for q in levels}}


def first_goals(result) -> np.ndarray:
    """Per seed, the end of the first ``eval_every`` chunk in which an episode reached
    the goal (``inf``: none did)."""
    steps = np.asarray(result.curve.env_steps[0])[1:]
    goals = np.asarray(result.curve.train["goals"]) > 0  # [seeds, chunks]
    return np.where(goals.any(1), steps[np.argmax(goals, 1)], np.inf)


def known_dynamics_walk(seeds: int, env_name: str = "DiscretePendulum") -> dict:
    """What knowing the dynamics is worth: an agent told the whole (deterministic) model
    but not where the goal is walks, at every step, along a shortest path to the nearest
    state no step has arrived at yet (a random first action among the shortest), under
    the environment's resets (uniform, every ``max_steps_in_episode`` steps), until it
    arrives at the goal. A numpy loop; the quantiles and mean over ``seeds`` of that
    step. A learner must also find the model as it walks."""
    env, params = jaxrl.make(env_name)
    model = exact_model(env, params)
    probs = np.asarray(model.mdp.probs)
    successor = np.take_along_axis(np.asarray(model.mdp.next_states),
                                   probs.argmax(-1)[..., None], -1)[..., 0]
    assert np.allclose(probs.max(-1), 1.0), "a deterministic model"
    goal, (n_states, n_actions) = np.asarray(model.goal), successor.shape
    horizon = int(params.max_steps_in_episode)

    def first_actions(s: int, targets: np.ndarray) -> list[int]:
        first = {int(successor[s, a]): {a} for a in range(n_actions)}
        frontier = list(first)
        while frontier:  # breadth first, one distance at a time
            hits = [x for x in frontier if targets[x]]
            if hits:
                return sorted(set().union(*(first[x] for x in hits)))
            nxt = {}
            for x in frontier:
                for y in successor[x]:
                    if int(y) not in first:
                        nxt.setdefault(int(y), set()).update(first[x])
            first.update(nxt)
            frontier = list(nxt)
        return list(range(n_actions))

    found = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        arrived = np.zeros(n_states, bool)
        s, t, in_episode = int(rng.integers(n_states)), 0, 0
        while True:
            t, in_episode = t + 1, in_episode + 1
            s = int(successor[s, rng.choice(first_actions(s, ~arrived))])
            arrived[s] = True
            if goal[s]:
                break
            if in_episode == horizon:
                s, in_episode = int(rng.integers(n_states)), 0
        found.append(t)
    return {"seeds": seeds, "mean": float(np.mean(found)),
            **{f"q{q}": float(np.percentile(found, q)) for q in (50, 90, 99)}}


def tabular(seeds: int, quick: bool) -> dict:
    """Steps to 99 % greedy success: model-based RL (the preset's novelty rule, and
    R-max) against Q-learning, same keys."""
    keys = jax.random.split(jax.random.key(0), seeds)
    preset_config, what = presets.preset("mbrl", "DiscretePendulum")
    preset_config = preset_config.replace(eval_every=10)  # each seed's steps to 10
    if quick:
        preset_config = preset_config.replace(total_steps=500, eval_every=100)
    explorers = {"model_based": (preset_config, what)}
    if not quick:  # --quick: the preset alone, to keep run_all --quick short
        explorers["model_based_rmax"] = (
            preset_config.replace(exploration="epsilon_greedy", rmax=1.0), "R-max (rmax 1)")
    mb = {}
    for name, (config, label) in explorers.items():
        start = time.perf_counter()
        result = model_based.run(config, keys)
        mb[name] = (config, label, time.perf_counter() - start, result)

    # 2000 episodes: every seed reaches 99 % (the slowest at 22 855 steps, 2026-12-05)
    q_config = qlearning.QLearningConfig(episodes=20 if quick else 2_000,
                                         eval_every_episodes=10 if quick else 1)
    start = time.perf_counter()
    q = qlearning.run(q_config, keys)
    q_seconds = time.perf_counter() - start
    q_metrics = qlearning.metrics(q_config, q.curve)
    ran = np.asarray(q_metrics.episode_length).sum(-1)  # [seeds, episodes]
    ran = np.concatenate([np.zeros((seeds, 1)), np.cumsum(ran, axis=1)], axis=1)
    episodes_done = np.asarray(q_metrics.eval_episode)[0]
    q_steps_seed = ran[:, episodes_done]  # [seeds, evals]: steps each seed had run
    q_success = np.asarray(q_metrics.greedy_success)

    def summary(steps_mean, success, steps_seed):
        per_seed = [first_reaching(s, g) for s, g in zip(steps_seed, success, strict=True)]
        reached = [p for p in per_seed if p is not None]
        return {
            "steps_to_99pct_mean_success": first_reaching(steps_mean, success.mean(0)),
            "seeds_reaching_99pct": len(reached),
            "per_seed_steps_median": float(np.median(reached)) if reached else None,
            "per_seed_steps_mean": float(np.mean(reached)) if len(reached) == seeds else None,
            "per_seed_steps_max": max(reached) if len(reached) == seeds else None,
            "final_greedy_success_mean": float(success[:, -1].mean()),
            "final_greedy_success_min": float(success[:, -1].min()),
            "curve": {"steps": [float(x) for x in steps_mean],
                      "greedy_success_mean": success.mean(0).tolist()},
        }

    out = {"seeds": seeds}
    for name, (config, label, seconds, result) in mb.items():
        steps = np.asarray(result.curve.env_steps[0])
        success = np.asarray(result.curve.evaluation["greedy_success"])  # [seeds, evals]
        first = first_goals(result)
        found = first[np.isfinite(first)]
        out[name] = {
            "explorer": label, "total_steps": config.total_steps, "seconds": seconds,
            **summary(steps, success, np.broadcast_to(steps, success.shape)),
            "first_goal_seeds": int(found.size),
            "first_goal_mean": float(found.mean()) if found.size == seeds else None,
            **{f"first_goal_q{q}": float(np.percentile(found, q)) if found.size == seeds
               else None for q in (50, 90, 99)}}
    out["qlearning"] = {"episodes": q_config.episodes, "seconds": q_seconds,
                        **summary(q_steps_seed.mean(0), q_success, q_steps_seed)}
    out["random_order_bound"] = bound = random_order_bound()
    out["known_dynamics_walk"] = walk = known_dynamics_walk(seeds)
    a, b = (out[k]["steps_to_99pct_mean_success"] for k in ("model_based", "qlearning"))
    out["ratio"] = b / a if a and b else None
    a, b = (out[k]["per_seed_steps_mean"] for k in ("model_based", "qlearning"))
    out["ratio_per_seed_mean"] = b / a if a and b else None
    print(f"\n(a) DiscretePendulum, {seeds} seeds: environment steps until the greedy policy "
          "reaches the goal from >= 99 % of the states")
    print(common.format_table(
        ["learner", "per seed: mean", "median", "max", "seeds >= 99 %",
         "steps (mean success >= 99 %)", "final mean / min", "wall s"],
        [[name, r["per_seed_steps_mean"], r["per_seed_steps_median"], r["per_seed_steps_max"],
          f"{r['seeds_reaching_99pct']}/{seeds}", r["steps_to_99pct_mean_success"],
          f"{r['final_greedy_success_mean']:.4f} / {r['final_greedy_success_min']:.4f}",
          f"{r['seconds']:.1f}"]
         for name, r in (("model-based, novelty (mbrl)", out["model_based"]),
                         ("model-based, R-max", out.get("model_based_rmax")),
                         ("Q-learning", out["qlearning"])) if r]))
    for key, what in (("ratio_per_seed_mean", "on the mean of the seeds' steps"),
                      ("ratio", "until the mean success reaches 99 %")):
        print(f"Q-learning needs {out[key]:.2f}x the steps {what}" if out[key] else
              f"(a learner did not reach 99 % {what})")
    for name in explorers:
        r = out[name]
        q50, q90, q99 = (r[f"first_goal_q{q}"] for q in (50, 90, 99))
        print(f"model-based, {r['explorer']}: first reached the goal by step "
              + (f"{q50:.0f} (median), {q90:.0f} (90 %), {q99:.0f} (99 % of seeds)"
                 if q50 is not None else "– (not every seed did)"))
    print(f"{bound['pairs_into_goal']} of the {bound['pairs']} pairs lead into the goal: "
          "trying pairs at will in a random order, the first into the goal comes at try "
          f"{bound['q50']} (median), {bound['q90']} (90 %), {bound['q99']} (99 % of seeds)")
    print("knowing the dynamics, not the goal, and walking to the nearest state never "
          f"arrived at: the goal comes at step {walk['q50']:.0f} (median), {walk['q90']:.0f} "
          f"(90 %), {walk['q99']:.0f} (99 % of seeds), {walk['mean']:.0f} on average")
    return out


def pendulum(seeds: int, quick: bool) -> dict:
    """Swing-up from hanging at rest: learned-model MPC (and exact-model MPC, the
    optimal-control baseline) against DDPG at 10 k and 100 k steps, the same keys."""
    keys = jax.random.split(jax.random.key(0), seeds)
    config, what = presets.preset("mpc", "Pendulum")
    if quick:
        config = config.replace(total_steps=160, random_steps=120, refit_every=40,
                                fit_steps=50, horizon=10, samples=16, elites=4,
                                iterations=2, eval_every=160, eval_episodes=1)
    rows = []
    # --quick: the learned model only (test_mpc covers the exact one, benchmarks/ddpg.py
    # --quick DDPG's course pendulum), to keep run_all --quick short
    learners = [("MPC, learned model", config)]
    if not quick:
        learners.append(("MPC, exact model", config.replace(model="exact")))
    for name, cfg in learners:
        result = mpc.run(cfg, keys)
        evaluation = {k: np.asarray(v) for k, v in result.curve.evaluation.items()}
        rows.append({
            "name": name, "steps": cfg.total_steps if cfg.model != "exact" else 0,
            "trained_steps": cfg.total_steps,
            "holding": int(evaluation["swing_up"][:, -1].sum()), "seeds": seeds,
            "return_from_hanging": float(evaluation["return"][:, -1, 0].mean()),
            "model_error": float(evaluation["model_error"][:, -1].mean()),
            "reward_error": float(evaluation["reward_error"][:, -1].mean()),
            "compile_s": result.compile_s, "seconds": result.wall_s})
    for steps in (() if quick else (10_000, ddpg_bench.COURSE_STEPS)):
        _, out = ddpg_bench.course_pendulum(seeds, steps, quick)
        rows.append({"name": "DDPG", "steps": steps, "holding": out["swing_up_seeds"],
                     "seeds": seeds, "return_from_hanging": out["return_from_hanging"]["mean"],
                     "compile_s": out["compile_s"], "seconds": out["wall_s"]})
    print(f"\n(b) Course Pendulum, {seeds} seeds: swing up from hanging at rest and hold "
          f"|q| < 0.1 over the last 20 of 100 steps ({what})")
    print(common.format_table(
        ["learner", "data steps", "seeds holding", "return from hanging", "model error",
         "wall s"],
        [[r["name"], r["steps"], f"{r['holding']}/{seeds}", f"{r['return_from_hanging']:.2f}",
          f"{r['model_error']:.4f}" if "model_error" in r else "", f"{r['seconds']:.1f}"]
         for r in rows]))
    return {"preset": what, "rows": rows}


def main() -> None:
    p = common.parser("model_based", __doc__.splitlines()[0])
    common.add_parts(p, PARTS)
    args = p.parse_args()
    parts, results = common.chosen_parts(p, args, PARTS)
    print(f"device: {common.device_info()['device']} ({jax.default_backend()})")
    if "tabular" in parts:
        results["tabular"] = tabular(4 if args.quick else 100, args.quick)
    if "pendulum" in parts:
        results["pendulum"] = pendulum(2 if args.quick else 16, args.quick)
    goals = {}
    if not args.quick and "tabular" in results:
        for key, name in (("ratio_per_seed_mean", "tabular_tenth_of_qlearning_steps"),
                          ("ratio", "tabular_tenth_of_qlearning_steps_mean_success")):
            ratio = results["tabular"][key]
            goals[name] = bool(ratio and ratio >= 10)
    if not args.quick and "pendulum" in results:
        learned = results["pendulum"]["rows"][0]
        goals["mpc_14_of_16_with_10k_steps"] = (learned["holding"] >= 14
                                                and learned["steps"] <= 10_000)
    verdicts = [f"{k}: {'met' if v else 'MISSED'}" for k, v in goals.items()]
    print("\nGoals:", ", ".join(verdicts) if verdicts else "(not judged in --quick mode)")
    common.write_json(args.out, "model_based", {**results, "goals": goals}, args.quick)


if __name__ == "__main__":
    main()
