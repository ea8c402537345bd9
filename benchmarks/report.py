"""RESULTS.md from the benchmarks' JSON: one section per script, the peer ratios, goals.

Used by ``benchmarks/run_all.py`` (not a benchmark itself). Each ``section_<name>``
reads the JSON that ``benchmarks/<name>.py`` writes and returns its Markdown lines and
its side-by-side ratios against a peer (rows of the peer-ratios table); a script with
no section of its own gets its goals only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Each section's heading; RESULTS.md has one per benchmark run.
TITLES = {
    "planning": "Planning: jaxrl against pymdptoolbox",
    "tabular_q": "Tabular Q-learning: the course's practical",
    "envs": "Environments: random-policy steps per second",
    "dqn": "DQN, naive NN-Q and PQN",
    "stability": "Stability: naive NN-Q, PQN with and without LayerNorm, DQN",
    "dqn_sweep": "DQN on CartPole-v1: a config sweep",
    "ddpg": "DDPG and TD3",
    "scaling": "Scaling: cost per seed from 1 to 1024 seeds",
    "model_based": "Model-based RL against the model-free learners",
    "ppo": "Policy gradients (REINFORCE, PPO) and PQN",
}
PEER_HEADERS = ["benchmark", "measure", "jaxrl", "peer", "peer's", "ratio"]


def title(name: str) -> str:
    """The heading of ``name``'s section."""
    return f"{TITLES.get(name, name)} (`benchmarks/{name}.py`)"


def fmt(value: Any) -> str:
    """A number as a table shows it: 4 significant digits, thousands apart."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if abs(value) >= 1e4:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}×"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A Markdown table (empty list without rows)."""
    if not rows:
        return []
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def verdict(met: Any) -> str:
    return "not measured" if met is None else "met" if met else "**missed**"


def goals_of(name: str, data: dict) -> list[tuple[str, str]]:
    """``(goal, met / missed / not measured)`` for each goal the JSON records."""
    if name == "envs" and "goal" in data:
        return [("our pendulums at least as fast as gymnax's Pendulum-v1 at every width",
                 verdict(data["goal"].get("met")))]
    out = []
    for goal, value in (data.get("goals") or {}).items():
        if isinstance(value, dict):
            extra = f" (measured {value['ratio']:.3g}×)" if value.get("ratio") else ""
            out.append((goal, verdict(value.get("met")) + extra))
        else:
            out.append((goal, verdict(value)))
    return out


def _mean(xs: list | None) -> float | None:
    return sum(xs) / len(xs) if xs else None


def section_planning(d: dict, ctx: dict) -> tuple[list[str], list[list]]:
    e2e, sweep = d.get("end_to_end", []), d.get("per_sweep", [])
    lines = ["End to end (build + validate + solve to tolerance), seconds:", ""]
    lines += table(["S", "dtype", "jaxrl cold", "jaxrl warm", "pymdptoolbox VI",
                    "pymdptoolbox PI", "speed-up (cold)"],
                   [[r["states"], r["dtype"], r["jaxrl_cold_s"], r["jaxrl_warm_s"],
                     r["pymdptoolbox_vi_s"], r["pymdptoolbox_pi_s"], ratio(r["speedup_cold"])]
                    for r in e2e])
    lines += [f"Per sweep ({d.get('config', {}).get('sweeps')} sweeps from V = 0), ms:", ""]
    lines += table(["S", "dtype", "jaxrl", "pymdptoolbox", "speed-up"],
                   [[r["states"], r["dtype"], r["jaxrl_ms"], r["pymdptoolbox_ms"],
                     ratio(r["speedup"])] for r in sweep])
    b = d.get("batch_gammas")
    if b:
        lines += [f"{b['gammas']} discounts at S = {b['states']:,}: {b['gammas']} calls "
                  f"{fmt(b['separate_calls_s'])} s, one vmapped call "
                  f"{fmt(b['one_vmapped_call_s'])} s ({ratio(b['speedup'])}).", ""]
    peers = []
    for r in e2e:
        if r["speedup_cold"] is not None:
            peer = min(v for v in (r["pymdptoolbox_vi_s"], r["pymdptoolbox_pi_s"]) if v)
            peers.append(["planning", f"end to end, S = {r['states']:,} {r['dtype']}, s",
                          r["jaxrl_cold_s"], "pymdptoolbox (faster of VI, PI)", peer,
                          ratio(r["speedup_cold"])])
    for r in sweep:
        if r["speedup"] is not None:
            peers.append(["planning", f"per sweep, S = {r['states']:,} {r['dtype']}, ms",
                          r["jaxrl_ms"], "pymdptoolbox", r["pymdptoolbox_ms"],
                          ratio(r["speedup"])])
    if not peers:
        peers.append(["planning", "value iteration", "", "pymdptoolbox",
                      "pymdptoolbox not installed: skipped", "–"])
    return lines, peers


def section_tabular_q(d: dict, ctx: dict) -> tuple[list[str], list[list]]:
    ln, tp = d.get("learning", {}), d.get("throughput", {})
    lines = table(["seeds", "episodes", "training success", "last 100 episodes",
                   "greedy success (mean)", "greedy success (min)"],
                  [[ln.get("seeds"), ln.get("episodes"), ln.get("training_success_rate"),
                    ln.get("last_100_success_rate"), ln.get("greedy_success_mean"),
                    ln.get("greedy_success_min")]])
    numpy_rate = tp.get("numpy_loop_episodes_per_s")
    lines += [f"Training episodes per second (compile apart); the numpy loop: "
              f"{fmt(numpy_rate)} episodes/s.", ""]
    rows = tp.get("jaxrl", [])
    lines += table(["seeds", "jaxrl episodes/s", "vs numpy loop"],
                   [[r["seeds"], r["episodes_per_s"], ratio(r["speedup_vs_numpy"])]
                    for r in rows])
    bound = tp.get("normal_draw_ceiling")
    if bound:
        lines += [f"Ceiling set by drawing the random numbers alone: "
                  f"{fmt(bound.get('max_episodes_per_s'))} episodes/s "
                  f"({ratio(bound.get('max_speedup_vs_numpy'))} the numpy loop).", ""]
    peers = [["tabular_q", f"training episodes/s, {plural(r['seeds'], 'seed')}",
              r["episodes_per_s"],
              "numpy loop (the course's practical)", numpy_rate, ratio(r["speedup_vs_numpy"])]
             for r in rows]
    return lines, peers


def section_model_based(d: dict, ctx: dict) -> tuple[list[str], list[list]]:
    lines = []
    tab = d.get("tabular")
    if tab:
        lines += [f"DiscretePendulum, {plural(tab['seeds'], 'seed')}: environment steps until "
                  "the greedy policy reaches the goal from ≥ 99 % of the states.", ""]
        lines += table(["learner", "per seed: mean", "per seed: median", "per seed: max",
                        "seeds ≥ 99 %", "steps (mean ≥ 99 %)", "final mean", "wall s"],
                       [[name, r.get("per_seed_steps_mean"), r.get("per_seed_steps_median"),
                         r.get("per_seed_steps_max"), r.get("seeds_reaching_99pct"),
                         r.get("steps_to_99pct_mean_success"),
                         r.get("final_greedy_success_mean"), r.get("seconds")]
                        for name, r in (("model-based (mbrl)", tab["model_based"]),
                                        ("model-based, R-max", tab.get("model_based_rmax")),
                                        ("Q-learning", tab["qlearning"])) if r])
        lines += [f"Q-learning needs {ratio(tab.get('ratio_per_seed_mean'))} the steps on "
                  f"the mean of the seeds' steps, {ratio(tab.get('ratio'))} until the mean "
                  "success reaches 99 %.", ""]
    pend = d.get("pendulum")
    if pend:
        lines += ["Course Pendulum: seeds that swing up from hanging at rest and hold "
                  "|q| < 0.1 over the last 20 of 100 steps.", ""]
        lines += table(["learner", "data steps", "seeds holding", "return from hanging",
                        "wall s"],
                       [[r["name"], r.get("steps"), f"{r['holding']}/{r['seeds']}",
                         r.get("return_from_hanging"), r.get("seconds")]
                        for r in pend.get("rows", [])])
    return lines, []


def section_envs(d: dict, ctx: dict) -> tuple[list[str], list[list]]:
    rate = {(r["env"], r["width"], r["mode"]): r["steps_per_s"] for r in d.get("results", [])}
    envs = list(dict.fromkeys(k[0] for k in rate))
    widths = sorted({k[1] for k in rate})
    lines = ["Random-policy steps per second, `env.step` (AutoReset / cached, where "
             "measured):", ""]
    rows = []
    for env in envs:
        cells = []
        for w in widths:
            main = fmt(rate.get((env, w, "env.step")))
            extra = [fmt(rate[env, w, m]) for m in ("AutoReset", "AutoReset cached")
                     if (env, w, m) in rate]
            cells.append(main + (f" ({' / '.join(extra)})" if extra else ""))
        rows.append([env, *cells])
    lines += table(["env", *(plural(w, "env") for w in widths)], rows)
    peers = []
    for key, value in (d.get("goal") or {}).get("ratios", {}).items():
        env, width = key.rsplit("@", 1)
        peers.append(["envs", f"{env} env.step steps/s, {plural(int(width), 'env')}",
                      rate.get((env, int(width), "env.step")), "gymnax Pendulum-v1",
                      rate.get(("Pendulum-v1", int(width), "env.step")), ratio(value)])
    return lines, peers


def _rejax_note(ctx: dict, record: Any) -> str:
    if not ctx["rejax_installed"]:
        return "rejax not installed: skipped"
    if ctx["quick"]:
        return "rejax not run in --quick mode"
    if isinstance(record, dict) and "error" in record:
        return "rejax failed"
    return "rejax not run at this seed count"


def section_dqn(d: dict, ctx: dict) -> tuple[list[str], list[list]]:
    learning = d.get("learning", {})
    lines = []
    if learning:  # not with --parts speed
        lines = ["Final greedy return over seeds:", ""]
        lines += table(["run", "seeds", "env steps", "mean", "min", "max"],
                       [[name, r["seeds"], r["env_steps"], r["final_mean"], r["final_min"],
                         r["final_max"]] for name, r in learning.items()])
    peers = []
    dt = d.get("deeptable")
    if dt:
        dt_rows = []
        for name in ("jaxrl nnq.deeptable", "numpy port of deeptable.py"):
            r = dt.get(name, {})
            dt_rows.append([name, _mean(r.get("training_success")),
                            _mean(r.get("greedy_success"))])
        lines += [f"`deeptable` (course §3.1), {dt['seeds']} seeds, {dt['episodes']} episodes:",
                  ""]
        lines += table(["run", "training success (mean)", "greedy success (mean)"], dt_rows)
        ours, port = dt_rows[0][2], dt_rows[1][2]
        if ours is not None and port:
            peers.append(["dqn (deeptable)", "greedy success, mean over seeds", ours,
                          "numpy port of deeptable.py", port, ratio(ours / port)])
    speed = d.get("speed", {})
    rows = []
    for n, rec in speed.items():
        ours, one, peer = rec.get("jaxrl"), rec.get("jaxrl_one_device"), rec.get("rejax")
        up = ours["env_steps_per_s"] / peer["env_steps_per_s"] if peer else None
        rows.append([n, ours["env_steps_per_s"], one["env_steps_per_s"] if one else None,
                     peer["env_steps_per_s"] if peer else _rejax_note(ctx, peer), ratio(up)])
        if n in ("1", "16"):
            peers.append(["dqn", f"env steps/s, {plural(int(n), 'seed')}, rejax's CartPole config",
                          ours["env_steps_per_s"], "rejax DQN",
                          peer["env_steps_per_s"] if peer else _rejax_note(ctx, peer),
                          ratio(up)])
    lines += ["Speed on rejax's CartPole DQN config (env steps/s, compile apart):", ""]
    lines += table(["seeds", "jaxrl", "jaxrl, 1 device", "rejax", "speed-up"], rows)
    if not any(p[0] == "dqn" for p in peers):
        peers.append(["dqn", "env steps/s at 1 and 16 seeds", "–", "rejax DQN",
                      _rejax_note(ctx, None), "–"])
    return lines, peers


def section_dqn_sweep(d: dict, ctx: dict) -> tuple[list[str], list[list]]:
    lines = [f"{d.get('seeds')} seeds per config (key {d.get('key')}), "
             f"{fmt(d.get('total_steps'))} env steps:", ""]
    lines += table(["change", "mean", "min", "seeds < 450", "late evals < 450",
                    "on θ: seeds < 450"],
                   [[r["change"], r["mean"], r["min"], r["seeds_under_450"],
                     f"{r['late_evals_under_450']} of {r['late_evals']}",
                     r["theta_seeds_under_450"]] for r in d.get("results", [])])
    return lines, []


def section_ddpg(d: dict, ctx: dict) -> tuple[list[str], list[list]]:
    rows = []
    for algo, rec in d.get("pendulum_v1", {}).items():
        for key, s in rec.items():
            if key.startswith("return_at_"):
                rows.append([algo, int(key.rsplit("_", 1)[1]), s["mean"], s["min"], s["max"]])
    lines = ["Pendulum-v1, final greedy return over seeds:", ""]
    lines += table(["algo", "env steps", "mean", "min", "max"], rows)
    cp = d.get("course_pendulum")
    if cp:
        lines += [f"Course pendulum, {fmt(cp['steps'])} steps: random starts "
                  f"{fmt(cp['return_random_starts']['mean'])}, from hanging "
                  f"{fmt(cp['return_from_hanging']['mean'])}, swing-up held by "
                  f"{cp['swing_up_seeds']} of {cp['seeds']} seeds.", ""]
    rows, peers = [], []
    for r in d.get("speed", []):
        ours, peer = r["jaxrl"], r.get("rejax")
        ok = isinstance(peer, dict) and "error" not in peer
        up = ours["steps_per_s"] / peer["steps_per_s"] if ok else None
        theirs = peer["steps_per_s"] if ok else _rejax_note(ctx, peer)
        rows.append([r["mode"], r["seeds"], ours["steps_per_s"], theirs, ratio(up)])
        if r["seeds"] in (1, 16):
            peers.append(["ddpg (TD3)", f"env steps/s, {plural(r['seeds'], 'seed')}, {r['mode']}",
                          ours["steps_per_s"], "rejax TD3", theirs, ratio(up)])
    lines += ["TD3 on rejax's Pendulum-v1 config, env steps/s:", ""]
    lines += table(["evaluation", "seeds", "jaxrl", "rejax", "speed-up"], rows)
    bound = d.get("speed_bound") or []
    if bound:
        lines += ["TD3's speed-up bound: time per env step with 64-wide and 8-wide hidden "
                  "layers (the difference is the dense layers' own cost, which rejax pays "
                  "too):", ""]
    lines += table(["seeds", "µs/step, 64-wide", "µs/step, 8-wide", "dense layers' share",
                    "max speed-up vs rejax"],
                   [[b["seeds"], b["us_per_step_64"], b["us_per_step_8"],
                     f"{b['dense_share']:.0%}", ratio(b["max_speedup_vs_rejax"])]
                    for b in bound])
    return lines, peers


def section_stability(d: dict, ctx: dict) -> tuple[list[str], list[list]]:
    lines = [f"CartPole-v1, {d.get('steps', 0):,} env steps, "
             f"{plural(d.get('seeds', 0), 'seed')}: mean greedy return over the seeds", ""]
    lines += table(["learner", "final mean", "final min", "peak mean", "drop from peak",
                    "wall s"],
                   [[name, r["final_mean"], r["final_min"], r["peak_mean"],
                     r["drop_from_peak"], r["wall_s"]] for name, r in d.get("runs", {}).items()])
    if d.get("png") and ctx.get("json_path"):
        png = Path(ctx["json_path"]).with_name(d["png"])
        link = os.path.relpath(png, ctx["results_md"].parent)
        lines += [f"![mean greedy return against env steps]({link})", ""]
    return lines, []


def section_ppo(d: dict, ctx: dict) -> tuple[list[str], list[list]]:
    lines, peers = [], []
    for part, what in (("learning", "the presets"), ("minatar", "PQN's MinAtar presets")):
        learning = d.get(part)
        if not learning:
            continue
        lines += [f"Final greedy return over {plural(learning['seeds'], 'seed')} (key 0), "
                  f"{what}:", ""]
        lines += table(["algo", "env", "env steps", "mean", "min", "max", "wall s"],
                       [[r["name"], r["env"], r["total_steps"], r["final_return"]["mean"],
                         r["final_return"]["min"], r["final_return"]["max"], r["wall_s"]]
                        for r in learning["runs"]])
    rows = []
    for r in d.get("speed", []):
        theirs = r["peer"]["steps_per_s"] if r["speedup"] else _peer_note(ctx, r["peer"])
        rows.append([r["race"], r["seeds"], r["jaxrl"]["steps_per_s"], theirs,
                     ratio(r["speedup"])])
        peers.append(["ppo", f"env steps/s, {plural(r['seeds'], 'seed')}, {r['race']}",
                      r["jaxrl"]["steps_per_s"], r["peer_name"], theirs,
                      ratio(r["speedup"])])
    if rows:
        lines += ["Env steps/s on the peers' own configs (one final evaluation, compile "
                  "apart):", ""]
        lines += table(["race", "seeds", "jaxrl", "peer", "speed-up"], rows)
    return lines, peers


def _peer_note(ctx: dict, record: Any) -> str:
    if ctx["quick"]:
        return "peers not run in --quick mode"
    if record is None:
        return "peer not installed: skipped"
    return "peer failed"


def section_scaling(d: dict, ctx: dict) -> tuple[list[str], list[list]]:
    lines = ["Budget per seed: " + "; ".join(
        f"{name} on {b['env']}, {b['total_steps']:,} env steps ({b['gradient_steps']:,} "
        f"gradient steps of batch {b['batch_size']}, learning from {b['learning_starts']:,})"
        for name, b in d.get("budgets", {}).items()) + ".", ""]
    rows = []
    for name, points in d.get("points", {}).items():
        for p in points:
            rows.append([name, p["seeds"], p["devices"], p["wall_s"], p["s_per_seed"],
                         ratio(points[0]["s_per_seed"] / p["s_per_seed"]),
                         p["env_steps_per_s"], p.get("dense_gflop_per_s"), p["compile_s"]])
    lines += table(["algo", "seeds", "devices", "wall s", "s per seed",
                    "cost per seed, 1 seed / this", "env steps/s",
                    "dense GFLOP/s (DQN, estimated)", "compile s"], rows)
    if d.get("png") and ctx.get("json_path"):
        png = Path(ctx["json_path"]).with_name(d["png"])
        link = os.path.relpath(png, ctx["results_md"].parent)
        lines += [f"![seconds per seed against seeds]({link})", ""]
    return lines, []


SECTIONS = {name[len("section_"):]: fn for name, fn in globals().items()
            if name.startswith("section_")}


def render(merged: dict, results_md: Path) -> str:
    """RESULTS.md's text from run_all's merged record."""
    info = merged["device"] or {}
    quick = merged["quick"]
    machine = (f"{info.get('cpu_count')} CPU cores, {info.get('processor')}"
               if info.get("backend") == "cpu" else
               f"{info.get('device_count')} × {info.get('device')}, "
               f"{info.get('cpu_count')} CPU cores")
    out = ["# Benchmark results", "",
           f"Device: **{merged['device_slug']}** ({info.get('backend')}: {machine}; jax "
           f"{info.get('jax')}, Python {info.get('python')}). Date: {merged['date']}. "
           "Written by `benchmarks/run_all.py" + (" --quick" if quick else "") + "`.", ""]
    if quick:
        out += ["**Quick run**: tiny sizes that check the code paths; the numbers and goals "
                "mean nothing.", ""]
    out += ["| benchmark | arguments | status | wall s | JSON |", "|---|---|---|---|---|"]
    for name, rec in merged["benchmarks"].items():
        wall = "–" if rec["wall_s"] is None else f"{rec['wall_s']:.1f}"
        given = " ".join(rec.get("arguments") or []) or "all parts"
        out.append(f"| {name} | {given} | {rec['status']} | {wall} | "
                   f"`{os.path.relpath(rec['json'], results_md.parent)}` |")
    out.append("")
    peers, goal_rows = [], []
    ctx = {"quick": quick, "rejax_installed": merged["rejax"] == "installed",
           "results_md": results_md}
    for name, rec in merged["benchmarks"].items():
        out += [f"## {title(name)}", ""]
        data = rec.get("results")
        if not rec["status"].startswith("ok") or data is None:
            out += [f"**Failed** ({rec['status']}); the last lines of its output:", "", "```",
                    *rec.get("output_tail", []), "```", ""]
            goal_rows.append([name, "(all)", "not measured: the benchmark failed"])
            continue
        section = SECTIONS.get(name)
        if section:
            lines, rows = section(data, {**ctx, "json_path": rec["json"]})
            out += lines
            peers += rows
        goals = goals_of(name, data)
        out += [f"Goals: {', '.join(f'{g}: {v}' for g, v in goals)}." if goals
                else "Goals: none judged in this run.", ""]
        goal_rows += [[name, g, v] for g, v in goals]
    out += ["## Peer ratios", "",
            "Every side-by-side ratio of this run. Ratio: how many times faster jaxrl is "
            "(the peer's time over jaxrl's, or jaxrl's rate over the peer's); for a success "
            "rate, jaxrl's over the peer's."
            + ("" if ctx["rejax_installed"] else " rejax not installed: skipped "
               "(`.venv-rejax`, see `../shared/peers/README.md`)."), ""]
    out += table(PEER_HEADERS, peers) or ["No peer was measured in this run.", ""]
    out += ["## Goals", ""]
    if quick:
        out += ["(A quick run: the verdicts below check the code that judges them, "
                "not the library.)", ""]
    out += table(["benchmark", "goal", "verdict"], goal_rows) or ["No goals recorded.", ""]
    return "\n".join(out)
