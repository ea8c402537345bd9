"""Planning at scale: jaxrl's value iteration against pymdptoolbox, in one run.

Both solve the same random sparse MDPs (A = 4 actions, K = 4 successors each,
rewards uniform in [0, 1), gamma = 0.95):

* end to end: build the model, validate it, solve to tolerance. jaxrl: ``TabularMDP``
  + ``value_iteration`` (cold = first call of a shape, compile included; warm = later
  calls). pymdptoolbox: CSR matrices + ``ValueIteration`` (its own stopping rule) and
  ``PolicyIteration`` (exact evaluation); V is checked against pymdptoolbox's policy
  iteration, which is exact. pymdptoolbox's input check builds a dense S x S array, so
  it cannot run end to end from S = 10^5 on.
* per sweep: exactly 100 sweeps from V = 0 (pymdptoolbox's ``max_iter`` is set after
  construction, because its constructor replaces it with its own bound; its O(S^2)
  input check and its iteration bound are bypassed inside this benchmark for
  S >= 10^5, and its bound for every S, since neither is part of a sweep). Both V are
  compared after the 100 sweeps.
* a batch of 16 discounts: one ``jax.vmap`` call against 16 separate calls.

Install the peer with ``pip install -e ".[bench]"``; without it the peer's columns are
left empty. Run: ``python benchmarks/planning.py`` (about 5 minutes on 2 CPU cores),
or ``--quick``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from jaxrl.mdp import TabularMDP  # noqa: E402
from jaxrl.tabular.planning import value_iteration  # noqa: E402

try:
    import mdptoolbox.mdp as pmt_mdp
    import scipy.sparse as sparse
except ImportError:  # the peer is optional
    pmt_mdp = None

A, K, GAMMA = 4, 4, 0.95
TOL = {"float32": 1e-6, "float64": 1e-9}
# float32 cannot resolve 1e-6 around |V| ~ 20: value_iteration stops at its precision
# floor, and V agrees to ~1e-5 relative; float64 is held to the 1e-6 check.
AGREE = {"float32": 1e-3, "float64": 1e-6}
DTYPES = {"float32": jnp.float32, "float64": jnp.float64}
PEER_END_TO_END_MAX_S = 10**4  # its dense S x S check: 80 GB at S = 10^5


def random_arrays(num_states: int, seed: int = 0):
    """A random sparse MDP as numpy arrays ([S, A, K] successors and probs, [S, A] rewards)."""
    rng = np.random.default_rng(seed)
    next_states = rng.integers(0, num_states, (num_states, A, K), dtype=np.int32)
    weights = rng.exponential(size=(num_states, A, K))
    probs = weights / weights.sum(-1, keepdims=True)
    rewards = rng.random((num_states, A))
    return next_states, probs, rewards


def peer_model(next_states, probs, rewards):
    """pymdptoolbox's input: one CSR matrix P[a] (S x S) per action, and R[S, A]."""
    num_states = next_states.shape[0]
    rows = np.repeat(np.arange(num_states), K)
    transitions = [
        sparse.csr_matrix(
            (probs[:, a].ravel(), (rows, next_states[:, a].ravel())),
            shape=(num_states, num_states),
        )
        for a in range(A)
    ]
    return transitions, rewards


def jaxrl_end_to_end(arrays, dtype: str):
    """Build, validate and solve to tolerance; returns (seconds, result)."""
    start = time.perf_counter()
    mdp = TabularMDP.create(*arrays, dtype=DTYPES[dtype])
    result = common.block(value_iteration(mdp, GAMMA, tol=TOL[dtype]))
    return time.perf_counter() - start, result


def peer_end_to_end(arrays, solver: str):
    """Build pymdptoolbox's model and solve (its check included); (seconds, V)."""
    start = time.perf_counter()
    transitions, rewards = peer_model(*arrays)
    if solver == "vi":
        problem = pmt_mdp.ValueIteration(transitions, rewards, GAMMA, epsilon=TOL["float64"],
                                         max_iter=100_000)
    else:
        problem = pmt_mdp.PolicyIteration(transitions, rewards, GAMMA)
    problem.run()
    return time.perf_counter() - start, np.asarray(problem.V)


class _Bypass:
    """Skip pymdptoolbox's O(S^2) input check and its iteration bound (per-sweep only)."""

    def __init__(self, skip_check: bool):
        self.skip_check = skip_check

    def __enter__(self):
        self.saved = (pmt_mdp._util.check, pmt_mdp.ValueIteration._boundIter)
        if self.skip_check:
            pmt_mdp._util.check = lambda *args, **kwargs: None
        pmt_mdp.ValueIteration._boundIter = lambda self, epsilon: None

    def __exit__(self, *exc):
        pmt_mdp._util.check, pmt_mdp.ValueIteration._boundIter = self.saved


def peer_sweeper(arrays, sweeps: int):
    """A callable running exactly ``sweeps`` sweeps of pymdptoolbox's value iteration."""
    transitions, rewards = peer_model(*arrays)
    with _Bypass(skip_check=arrays[0].shape[0] > PEER_END_TO_END_MAX_S):
        problem = pmt_mdp.ValueIteration(transitions, rewards, GAMMA, epsilon=1.0)
    problem.max_iter, problem.thresh = sweeps, -1.0  # no early stop: exactly `sweeps`

    def run():
        problem.iter, problem.V = 0, np.zeros(problem.S)
        problem.run()
        return np.asarray(problem.V)

    return run


def main() -> None:
    args = common.parser("planning", __doc__.splitlines()[0]).parse_args()
    sizes = [10**3] if args.quick else [10**3, 10**4, 10**5, 10**6]
    sweeps = 10 if args.quick else 100
    batch_size, batch_states = 16, (10**3 if args.quick else 10**5)
    have_peer = pmt_mdp is not None
    print(f"device: {common.device_info()['device']} ({jax.default_backend()}); "
          f"pymdptoolbox: {'yes' if have_peer else 'not installed'}")

    end_to_end, per_sweep = [], []
    for num_states in sizes:
        arrays = random_arrays(num_states)
        exact = None
        peer_vi = peer_pi = None
        if have_peer and num_states <= PEER_END_TO_END_MAX_S:
            peer_vi, _ = peer_end_to_end(arrays, "vi")
            peer_pi, exact = peer_end_to_end(arrays, "pi")
        peer_run = peer_sweeper(arrays, sweeps) if have_peer else None
        for dtype in DTYPES:
            cold, result = jaxrl_end_to_end(arrays, dtype)
            warm = min(jaxrl_end_to_end(arrays, dtype)[0] for _ in range(2))
            error = None if exact is None else float(np.abs(result.values - exact).max())
            peer_best = min(t for t in (peer_vi, peer_pi) if t) if peer_vi else None
            end_to_end.append({
                "states": num_states, "dtype": dtype, "jaxrl_cold_s": cold,
                "jaxrl_warm_s": warm, "sweeps": int(result.iterations),
                "pymdptoolbox_vi_s": peer_vi, "pymdptoolbox_pi_s": peer_pi,
                "speedup_cold": peer_best / cold if peer_best else None,
                "max_abs_v_error": error,
                "v_agrees": None if error is None else error <= AGREE[dtype],
            })

            mdp = TabularMDP.create(*arrays, dtype=DTYPES[dtype])
            fixed = jax.jit(lambda m: value_iteration(m, GAMMA, tol=None, max_sweeps=sweeps))
            contenders = {"jaxrl": lambda mdp=mdp, fixed=fixed: fixed(mdp)}
            if peer_run is not None:
                contenders["peer"] = peer_run
            best = common.timeit_interleaved(contenders, repeats=3 if args.quick else 5)
            values = np.asarray(fixed(mdp).values)
            diff = None if peer_run is None else float(np.abs(values - peer_run()).max())
            peer_s = best.get("peer")
            per_sweep.append({
                "states": num_states, "dtype": dtype, "jaxrl_ms": 1e3 * best["jaxrl"] / sweeps,
                "pymdptoolbox_ms": None if peer_s is None else 1e3 * peer_s / sweeps,
                "speedup": None if peer_s is None else peer_s / best["jaxrl"],
                "peer_check_bypassed": num_states > PEER_END_TO_END_MAX_S,
                "max_abs_v_diff": diff,
                "v_agrees": None if diff is None else diff <= AGREE[dtype],
            })

    # 16 discounts: one vmapped call against 16 calls, float32, fixed sweeps.
    mdp = TabularMDP.create(*random_arrays(batch_states), dtype=jnp.float32)
    gammas = jnp.linspace(0.8, 0.99, batch_size, dtype=jnp.float32)
    one = jax.jit(lambda m, g: value_iteration(m, g, tol=None, max_sweeps=sweeps).values)
    many = jax.jit(jax.vmap(one, in_axes=(None, 0)))
    best = common.timeit_interleaved(
        {"loop": lambda: [one(mdp, g) for g in gammas], "vmap": lambda: many(mdp, gammas)},
        repeats=3,
    )
    loop_s, vmap_s = best["loop"], best["vmap"]
    same = bool(np.allclose(np.stack([one(mdp, g) for g in gammas]), many(mdp, gammas),
                            rtol=1e-6))
    batch = {"states": batch_states, "gammas": batch_size, "sweeps": sweeps,
             "separate_calls_s": loop_s, "one_vmapped_call_s": vmap_s,
             "speedup": loop_s / vmap_s, "same_values": same}

    def opt(x, fmt="{:.3g}"):
        return "-" if x is None else fmt.format(x)

    print("\nEnd to end (build + validate + solve to tolerance), seconds")
    print(common.format_table(
        ["S", "dtype", "jaxrl cold", "jaxrl warm", "sweeps", "pmt VI", "pmt PI",
         "speed-up", "max|V-V*|"],
        [[r["states"], r["dtype"], opt(r["jaxrl_cold_s"]), opt(r["jaxrl_warm_s"]),
          r["sweeps"], opt(r["pymdptoolbox_vi_s"]), opt(r["pymdptoolbox_pi_s"]),
          opt(r["speedup_cold"], "{:.3g}x"), opt(r["max_abs_v_error"], "{:.1e}")]
         for r in end_to_end]))
    print(f"\nPer sweep (exactly {sweeps} sweeps from V = 0), milliseconds per sweep")
    print(common.format_table(
        ["S", "dtype", "jaxrl", "pymdptoolbox (f64)", "speed-up", "check bypassed",
         "max|dV|"],
        [[r["states"], r["dtype"], opt(r["jaxrl_ms"]), opt(r["pymdptoolbox_ms"]),
          opt(r["speedup"], "{:.2f}x"), "yes" if r["peer_check_bypassed"] else "no",
          opt(r["max_abs_v_diff"], "{:.1e}")] for r in per_sweep]))
    print(f"\n{batch_size} discounts at S = {batch_states}: "
          f"16 calls {batch['separate_calls_s']:.3f} s, "
          f"one vmapped call {batch['one_vmapped_call_s']:.3f} s "
          f"({batch['speedup']:.1f}x; same values: {same})")

    def find(rows, **match):
        return next((r for r in rows if all(r[k] == v for k, v in match.items())), None)

    e2e = find(end_to_end, states=10**4, dtype="float32")
    sweep = find(per_sweep, states=10**5, dtype="float32")
    million = find(end_to_end, states=10**6, dtype="float32")
    goals = {} if args.quick else {
        "end_to_end_1e4_20x": None if not e2e or e2e["speedup_cold"] is None
        else e2e["speedup_cold"] >= 20,
        "per_sweep_1e5_2x": None if not sweep or sweep["speedup"] is None
        else sweep["speedup"] >= 2,
        "solves_1e6": None if not million else bool(million["sweeps"] > 0),
        "vmap_16_gammas_4x": batch["speedup"] >= 4,
    }
    verdicts = [f"{k}: {'-' if v is None else ('met' if v else 'MISSED')}"
                for k, v in goals.items()]
    print("\nGoals:", ", ".join(verdicts) if verdicts else "(not judged in --quick mode)")
    common.write_json(args.out, "planning", {
        "config": {"actions": A, "successors": K, "gamma": GAMMA, "tol": TOL,
                   "sweeps": sweeps},
        "end_to_end": end_to_end, "per_sweep": per_sweep, "batch_gammas": batch,
        "goals": goals,
    }, args.quick)


if __name__ == "__main__":
    main()
