"""RESULTS.md from the benchmarks' JSON: one section per script, the peer ratios, goals.

Used by ``benchmarks/run_all.py`` (not a benchmark itself). Each ``section_<name>``
reads the JSON that ``benchmarks/<name>.py`` writes and returns its Markdown lines and
its side-by-side ratios against a peer (rows of the peer-ratios table); a script with
no section of its own gets its goals only.
"""

from __future__ import annotations

import math
import os
import textwrap
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
    "sweep": "Sweeps: configs x seeds in one `jaxrl sweep`",
    "logs": "Logging: what TensorBoard and W&B cost a run",
    "sac": "SAC, continuous and discrete",
}
ROOT = Path(__file__).resolve().parents[1]  # the repository


def stored_path(path: Path | str) -> str:
    """How a merged JSON records a script's JSON: relative to the repository when inside it,
    so that a committed record renders the same in any checkout."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def json_file(rec: dict) -> Path:
    """The path of a record's JSON (``stored_path``'s inverse; an absolute one as it is)."""
    return ROOT / rec["json"]


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


def section_sweep(d: dict, ctx: dict) -> tuple[list[str], list[list]]:
    cases = d.get("cases", {})
    each = cases.get("train_each", [])
    rows = [[name, fmt(c.get("outside_s")), fmt(c.get("compile_s")), fmt(c.get("wall_s"))]
            for name, c in (("sweep", cases.get("sweep", {})),
                            ("train_128", cases.get("train_128", {})))]
    rows.append([f"train_each ({len(each)} runs)", fmt(sum(c["outside_s"] for c in each)),
                 fmt(sum(c["compile_s"] for c in each)), fmt(sum(c["wall_s"] for c in each))])
    lines = [f"{d.get('configs')} DQN configs x {d.get('seeds')} seeds on CartPole-v1 "
             f"({d.get('budget')} budget); seconds per (config, seed): sweep "
             f"{fmt(d.get('seconds_per_run', {}).get('sweep'))}, one train of as many seeds "
             f"{fmt(d.get('seconds_per_run', {}).get('train_128'))}:", ""]
    lines += table(["case", "wall s (outside)", "compile s", "train s"], rows)
    # in the order `jaxrl sweep` ranks today (IQM, then mean, then the interval's lower
    # end), whichever version wrote the JSON
    ranked = sorted(cases.get("sweep", {}).get("ranked", []),
                    key=lambda r: (0, -r["iqm"], -r["mean"], -r["iqm_low"])
                    if math.isfinite(r["iqm"]) else (1, 0, 0, 0))
    lines += ["", "The sweep's ranking (final greedy return, IQM over seeds, 95 % "
              "stratified-bootstrap interval; ties by mean):", ""]
    lines += table(["rank", "config", "IQM", "interval", "mean", "min"],
                   [[i, r["name"], r["iqm"], f"[{fmt(r['iqm_low'])}, "
                     f"{fmt(r['iqm_high'])}]", r["mean"], r["min"]]
                    for i, r in enumerate(ranked, 1)])
    kept = d.get("kept_from")
    if kept:
        lines += ["", f"Cases {', '.join(kept['parts'])} from the run of {kept['date']}, "
                  f"rerun: {', '.join(d.get('parts', []))}."]
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
        png = json_file({"json": ctx["json_path"]}).with_name(d["png"])
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
        same = r.get("jaxrl_same_work")
        rows.append([r["race"], r["seeds"], r.get("rounds", 1), r["jaxrl"]["steps_per_s"],
                     theirs, ratio(r["speedup"]), same["steps_per_s"] if same else "–",
                     ratio(r.get("speedup_same_work"))])
        peers.append(["ppo", f"env steps/s, {plural(r['seeds'], 'seed')}, {r['race']}",
                      r["jaxrl"]["steps_per_s"], r["peer_name"], theirs,
                      ratio(r["speedup"])])
    if rows:
        lines += ["Env steps/s on the peers' own configs (one final evaluation, compile "
                  "apart; each side's median over the race's interleaved rounds; same work: "
                  "a truncation ended like a termination, as the peers do; PQN with "
                  "rejax's Adam in both columns):", ""]
        lines += table(["race", "seeds", "rounds", "jaxrl", "peer", "speed-up", "same work",
                        "speed-up"], rows)
    lines += _profile_lines(d.get("profile") or {})
    return lines, peers


def _profile_lines(prof: dict) -> list[str]:
    """Where one seed's iteration goes: each part compiled alone, ms and share."""
    rows = []
    for part in (prof, prof.get("rejax_pendulum") or {}, prof.get("pqn") or {}):
        ms = part.get("ms_per_iteration") or {}
        for name, v in ms.items():
            rows.append([part["config"], name.replace("_", " "), v,
                         f"{v / ms['train_step']:.0%}"])
    if not rows:
        return []
    return ["One seed's iteration by part (`--parts profile`; each part compiled alone, "
            "ms per iteration; the shuffle orders drawn as the epochs draw them and, for "
            "comparison, with `jax.random.permutation`):", "",
            *table(["config", "part", "ms", "share of train_step"], rows)]


def section_sac(d: dict, ctx: dict) -> tuple[list[str], list[list]]:
    lines, peers = [], []
    learning = d.get("learning") or []
    if learning:
        lines += ["Each preset as shipped, final greedy return over the seeds (key 0); "
                  "swing-up: held from hanging at rest (|q| < 0.1, last 20 of 100 steps):",
                  ""]
        lines += table(["environment", "env steps", "seeds", "mean", "min", "max",
                        "swing-up held", "wall s"],
                       [[r["env"], r["steps"], r["seeds"], r["final_return"]["mean"],
                         r["final_return"]["min"], r["final_return"]["max"],
                         r.get("swing_up_seeds", "–"), r["wall_s"]] for r in learning])
    rows = []
    for r in d.get("speed", []):
        ok = "steps_per_s" in r["peer"]
        theirs = r["peer"]["steps_per_s"] if ok else _peer_note(ctx, None if ctx["quick"]
                                                                 else r["peer"])
        rows.append([r["seeds"], r["jaxrl"]["steps_per_s"], theirs, ratio(r.get("speedup")),
                     f"{r['dense_share']:.0%}",
                     ratio(r.get("max_speedup_if_only_dense_layers")),
                     *[r.get(k, "–") for k in ("jaxrl_dense_us", "peer_dense_us",
                                                "jaxrl_rest_us", "peer_rest_us",
                                                "rest_us_for_1_2x")]])
        peers.append(["sac", f"env steps/s, {plural(r['seeds'], 'seed')}",
                      r["jaxrl"]["steps_per_s"], "rejax SAC", theirs, ratio(r.get("speedup"))])
    if rows:
        lines += [f"SAC on rejax's Pendulum-v1 config ({fmt(d['speed'][0]['total_steps'])} "
                  "steps, one final evaluation), env steps/s over all seeds, medians of "
                  f"{plural(d['speed'][0]['rounds'], 'interleaved round')}. Each side "
                  "also ran with 8-wide hidden layers, which splits a step (wall µs per "
                  "env step of the run, all its seeds at once) into the 64-wide dense "
                  "layers with their activations (64-wide minus 8-wide: the same work in "
                  "both) and the rest (the 8-wide step); "
                  "dense share: jaxrl's dense part of its step; bound: rejax's step over "
                  "jaxrl's dense part, the most any rest could give; for 1.2×: the rest "
                  "jaxrl's step could have to be 1.2× rejax's:", ""]
        lines += table(["seeds", "jaxrl", "rejax", "speed-up", "dense share", "bound",
                        "dense µs, jaxrl", "dense µs, rejax", "rest µs, jaxrl",
                        "rest µs, rejax", "rest µs for 1.2×"], rows)
    return lines, peers


def _peer_note(ctx: dict, record: Any) -> str:
    if ctx["quick"]:
        return "peers not run in --quick mode"
    if record is None:
        return "peer not installed: skipped"
    return "peer failed"


def section_logs(d: dict, ctx: dict) -> tuple[list[str], list[list]]:
    rows = [[r["algo"], r["env"], r["seeds"], r["logs"], r["eval_every"], r["log_s"],
             r["start_s"], r["end_s"], r["train_s"], f"{r['share']:.2%}",
             f"{r['share_whole_run']:.2%}"] for r in d.get("cases", [])]
    lines = ["Each learner's first preset for three evaluation intervals, the loggers' calls "
             "timed where they run (between chunks):", ""]
    lines += table(["algo", "env", "seeds", "logs", "eval_every", "log s (chunks)",
                    "start s", "end s", "train s", "a chunk", "the preset's run"], rows)
    lines += ["", f"Worst share of a preset's run (TensorBoard): "
              f"{d.get('worst_share', 0):.2%} (goal < 5 %)."]
    return lines, []


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
        png = json_file({"json": ctx["json_path"]}).with_name(d["png"])
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
           "Written by `" + merged.get("command", "benchmarks/run_all.py"
                                       + (" --quick" if quick else "")) + "`.", ""]
    if quick:
        out += ["**Quick run**: tiny sizes that check the code paths; the numbers and goals "
                "mean nothing.", ""]
    out += ["| benchmark | arguments | status | wall s | JSON |", "|---|---|---|---|---|"]
    for name, rec in merged["benchmarks"].items():
        wall = "–" if rec["wall_s"] is None else f"{rec['wall_s']:.1f}"
        given = " ".join(rec.get("arguments") or []) or "all parts"
        out.append(f"| {name} | {given} | {rec['status']} | {wall} | "
                   f"`{os.path.relpath(json_file(rec), results_md.parent)}` |")
    out.append("")
    peers, goal_rows = [], []
    ctx = {"quick": quick, "rejax_installed": merged["rejax"] == "installed",
           "results_md": results_md}
    for name, rec in merged["benchmarks"].items():
        script = rec.get("script", name)  # run_all --gpu runs a script under another name
        given = "" if script == name else f", `{' '.join(rec.get('arguments') or [])}`"
        out += [f"## {title(script)}{given}", ""]
        data = rec.get("results")
        if rec["status"].startswith("not run"):
            out += [f"**Not run** ({rec['status'].removeprefix('not run: ')}).", ""]
            goal_rows.append([name, "(all)", "not measured: not run"])
            continue
        if not rec["status"].startswith("ok") or data is None:
            out += [f"**Failed** ({rec['status']}); the last lines of its output:", "", "```",
                    *rec.get("output_tail", []), "```", ""]
            goal_rows.append([name, "(all)", "not measured: the benchmark failed"])
            continue
        section = SECTIONS.get(script)
        if section:
            lines, rows = section(data, {**ctx, "json_path": rec["json"]})
            out += lines
            peers += rows
        goals = goals_of(script, data)
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


# The README's GPU table (``benchmarks/gpu.py``): one row per figure, with its status.

GPU_START, GPU_END = "<!-- gpu-table -->", "<!-- /gpu-table -->"
GPU_HEADERS = ["figure", "what it measures", "jaxrl", "peer", "ratio", "status"]
#: The races of ``benchmarks/ppo.py``'s speed part whose 16-seed figures the table gives.
PPO_RACES = ("PPO, PureJaxRL's CartPole config", "PPO, PureJaxRL's continuous config, Pendulum-v1",
             "PPO, rejax's CartPole config", "PPO, rejax's Pendulum-v1 config",
             "PQN, rejax's CartPole config")
DQN_RACE = "env steps/s on rejax's CartPole-v1 DQN config"
TD3_RACE = "env steps/s on rejax's Pendulum-v1 TD3 config"


def _peer_text(merged: dict, rec: dict, name: str) -> str:
    """Why a figure's peer has no number."""
    peers = rec.get("peers")
    if merged.get("quick") or peers == "not run in --quick mode":
        return "not run in --quick mode"
    if peers == "not installed" or (peers is None and merged.get("rejax") != "installed"):
        return f"{name} not installed"
    if peers == "skipped: time budget":
        return "skipped: time budget"
    return f"{name} failed"


def _gpu_rows(step: str, d: dict | None) -> list[dict]:
    """The figures of one step of the GPU plan: ``figure``, ``measures``, and when the
    step's JSON ``d`` holds it, ``jaxrl`` and (for a race) ``peer`` (a number or None)."""
    rows: list[dict] = []
    if step == "dqn":
        speed = (d or {}).get("speed") or {}
        for n in ("1", "16", "128"):
            r = speed.get(n)
            row = {"figure": f"DQN, {plural(int(n), 'seed')}", "measures": DQN_RACE,
                   "peer_name": "rejax" if n != "128" else None}
            if r:
                row["jaxrl"] = r["jaxrl"]["env_steps_per_s"]
                row["peer"] = (r.get("rejax") or {}).get("env_steps_per_s")
            rows.append(row)
    elif step == "ddpg":
        speed = {(r["mode"], r["seeds"]): r for r in (d or {}).get("speed", [])}
        for mode, what in (("eval 128 eps / 100 steps", "128 greedy episodes every 100 steps"),
                           ("final eval only", "one final evaluation")):
            for n in (1, 16, 128):
                if n == 128 and mode != "final eval only":
                    continue
                r = speed.get((mode, n))
                row = {"figure": f"TD3, {plural(n, 'seed')}, {what}", "measures": TD3_RACE,
                       "peer_name": "rejax" if n != 128 else None}
                if r:
                    peer = r.get("rejax")
                    row["jaxrl"] = r["jaxrl"]["steps_per_s"]
                    row["peer"] = peer.get("steps_per_s") if isinstance(peer, dict) else None
                rows.append(row)
        for algo in ("DDPG", "TD3"):
            rec = ((d or {}).get("pendulum_v1") or {}).get(algo)
            row = {"figure": f"{algo}, Pendulum-v1, 16 seeds",
                   "measures": "mean final greedy return at 20 k env steps"}
            if rec:
                last = max((k for k in rec if k.startswith("return_at_")),
                           key=lambda k: int(k.rsplit("_", 1)[1]), default=None)
                row["jaxrl"] = rec[last]["mean"] if last else None
            rows.append(row)
        cp = (d or {}).get("course_pendulum")
        row = {"figure": "DDPG, the course's pendulum, 16 seeds",
               "measures": "seeds that swing up from hanging and hold the top (100 k steps)"}
        if cp:
            row["jaxrl"] = f"{cp['swing_up_seeds']} of {cp['seeds']}"
        rows.append(row)
    elif step in ("scaling", "scaling_ddpg"):
        algo = "dqn" if step == "scaling" else "ddpg"
        points = ((d or {}).get("points") or {}).get(algo)
        over = "256's (goal ≥ 50×)" if algo == "dqn" else "1 024's"
        row = {"figure": f"{algo.upper()}, 1 to 1 024 seeds",
               "measures": f"seconds per seed, seeds: s; ratio: 1 seed's over {over}"}
        if points:
            row["jaxrl"] = " / ".join(f"{fmt(p['seeds'])}: {p['s_per_seed']:.3g}" for p in points)
            by = {p["seeds"]: p["s_per_seed"] for p in points}
            top = 256 if algo == "dqn" and 256 in by else max(by)
            row["ratio"] = f"{by[min(by)] / by[top]:.3g}× ({fmt(top)} seeds)"
        rows.append(row)
    elif step == "ppo":
        speed = (d or {}).get("speed") or []
        names = list(PPO_RACES) + [r["race"] for r in speed if r["race"] not in PPO_RACES
                                   and r["seeds"] == 16]
        for name in dict.fromkeys(names):
            r = next((r for r in speed if r["race"] == name and r["seeds"] == 16), None)
            row = {"figure": f"{name.split(',')[0]}, 16 seeds, {name.split(', ', 1)[1]}",
                   "measures": "env steps/s on the peer's config",
                   "peer_name": "PureJaxRL" if "PureJaxRL" in name else "rejax"}
            if r:
                peer = r.get("peer")
                row["jaxrl"] = r["jaxrl"]["steps_per_s"]
                row["peer"] = peer.get("steps_per_s") if isinstance(peer, dict) else None
            rows.append(row)
    return rows


#: The steps of ``benchmarks/gpu.py`` in the table's order.
GPU_STEPS = ("dqn", "ddpg", "scaling", "scaling_ddpg", "ppo")


def gpu_figures(merged: dict | None) -> list[dict]:
    """Every figure of the README's GPU table from ``run_all --gpu``'s merged record (or
    any run_all record with those scripts; None: none rerun), each with its ``status``:
    ``measured``, ``not in this run`` (a quick run's sizes), the step's ``not run: ...``,
    ``failed: ...`` or ``stopped: ...``, or ``not rerun``."""
    merged = merged or {}
    records = merged.get("benchmarks") or {}
    out = []
    for step in GPU_STEPS:
        rec = records.get(step)
        if rec is None and step == "scaling_ddpg" and "scaling" in records:
            rec = records["scaling"]  # run_all's own run: both curves in one JSON
        ok = rec is not None and rec["status"].startswith("ok") and rec.get("results")
        for row in _gpu_rows(step, rec.get("results") if ok else None):
            found = "jaxrl" in row
            status = ("not rerun" if rec is None else
                      ("measured" if found else "not in this run") if ok else rec["status"])
            peer, peer_name = row.get("peer"), row.pop("peer_name", None)
            if peer_name is None:
                peer_cell = "–"
            elif isinstance(peer, int | float):
                peer_cell = peer
                row["ratio"] = f"{row['jaxrl'] / peer:.3g}×" if peer else None
            else:
                peer_cell = _peer_text(merged, rec, peer_name) if found else "–"
            out.append({"step": step, "figure": row["figure"], "measures": row["measures"],
                        "jaxrl": row.get("jaxrl"), "peer": peer_cell,
                        "ratio": row.get("ratio"), "status": status})
    return out


def gpu_table(merged: dict | None, json_path: str | None = None) -> str:
    """The README's GPU table (what goes between its markers) from ``run_all --gpu``'s
    merged record; None: a table of the figures, each ``not rerun``."""
    if merged is None:
        lines = ["Not rerun on a GPU with this version: run `python benchmarks/run_all.py "
                 "--gpu` on a GPU.", ""]
    else:
        info, slug = merged.get("device") or {}, merged["device_slug"]
        budget = merged.get("budget_s")
        spent = f"{merged['wall_s']:.0f} s" + (f" of a {budget:g} s budget" if budget else "")
        where = f"`{json_path}`" if json_path else f"`{slug}.json`"
        lines = [f"`{merged['command']}` on **{slug}** ({info.get('device_count')} × "
                 f"{info.get('device')}, jax {info.get('jax')}; rejax {merged['rejax']}), "
                 f"{spent}: {where}, each script's JSON and RESULTS.md in "
                 f"`{where.strip('`').removesuffix('.json')}/`.", ""]
        if merged.get("quick"):
            lines += ["**Quick run**: tiny sizes that check the code paths; the numbers "
                      "mean nothing.", ""]
    lines = [textwrap.fill(line, 89, break_long_words=False, break_on_hyphens=False)
             for line in lines]
    rows = [[f["figure"], f["measures"], f["jaxrl"], f["peer"], f["ratio"], f["status"]]
            for f in gpu_figures(merged)]
    return "\n".join(lines + table(GPU_HEADERS, rows)).rstrip("\n")
