"""PPO, REINFORCE and PQN (the policy-gradient slide and NN-Q made stable): learning and
speed, with PureJaxRL's PPO and rejax's PPO and PQN side by side in the same run.

* learning: final greedy return (``eval_episodes`` greedy episodes per seed; mean, min,
  max over 16 seeds, key 0) of PPO's presets on CartPole-v1 (500k steps) and
  Pendulum-v1 (1M steps), REINFORCE's on CartPole-v1, PQN's on CartPole-v1 (with its
  wall time next to DQN's default preset, trained in the same run) and on the course's
  HybridPendulum.
  Goals: PPO CartPole mean >= 490, Pendulum-v1 mean >= -200; PQN CartPole mean >= 490,
  every seed >= 450, in less wall time than DQN.
* speed: env steps/s (compile apart, one final evaluation only, since the peers evaluate
  nothing during training) on each peer's own config, run by jaxrl with the same
  numbers (envs, rollout, epochs, minibatches, network): PureJaxRL's CartPole PPO and
  its continuous PPO on Pendulum-v1 (205k steps; ``benchmarks/peers/purejaxrl_ppo.py``), rejax's PPO
  on CartPole-v1 and Pendulum-v1 and its PQN on CartPole-v1
  (``benchmarks/peers/rejax_onpolicy.py``), at 1 and 16 seeds. The peers run in their
  own venv (``.venv-rejax``, ``benchmarks/peers/README.md``), each in a fresh process
  after jaxrl's run; without it their columns are skipped with a note.
  Each race runs ``--reps`` interleaved rounds (jaxrl; for PPO jaxrl with
  ``bootstrap_truncation=False``, the peers' work; the peer) and compares medians.
  Goals: PPO >= 1.5x PureJaxRL's env steps/s on its CartPole config at 1 and 16 seeds;
  at one seed >= 1.0x every peer (as configured, and doing the same work); at 16 seeds
  ahead of every peer.
* minatar: PQN's presets on the four MinAtar games of gymnax (Breakout, SpaceInvaders,
  Asterix, Freeway; purejaxql's settings on an MLP, 2M steps), 16 seeds: final greedy
  return and wall time. No goal; the figures the README quotes.
* profile: where one seed's time goes on PureJaxRL's CartPole config: milliseconds per
  iteration (one rollout and its updates) of the whole ``train_step`` (with and without
  ``bootstrap_truncation``) and of each of its parts compiled alone (the rollout, which
  keeps log pi_old and V(S_t) of its acting pass; ``next_values``, the critic over the
  true next observations, or with ``bootstrap_truncation=False`` over the observations
  after the rollout only; the epochs' shuffles, the gradient steps, the optimiser
  steps), the V/log pi pass over ``[S_t, S'_t]`` that an iteration made before (for the
  before/after), and the gradient steps again with (16, 16) hidden layers instead of
  (64, 64): what the dense layers' arithmetic costs.

    .venv/bin/python benchmarks/ppo.py                  # full run
    .venv/bin/python benchmarks/ppo.py --quick          # smoke run, seconds
    .venv/bin/python benchmarks/ppo.py --parts speed    # some sections only
    .venv/bin/python benchmarks/ppo.py --parts profile  # one seed's time, by part
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from jaxrl.devices import use_cpu_cores  # noqa: E402

use_cpu_cores()  # one XLA device per core: seeds split over them (before gymnax starts JAX)

import common  # noqa: E402

from jaxrl.deep import dqn, policies, ppo, pqn, reinforce, rollout  # noqa: E402
from jaxrl.presets import preset  # noqa: E402

PARTS = ("learning", "speed", "profile", "minatar")
PEER_TIMEOUT = 1800  # seconds: a peer that hangs is reported, not waited on
SEEDS = 16
PEERS = Path(__file__).resolve().parent / "peers"
PEER_PYTHON = Path(os.environ.get("REJAX_PYTHON", common.ROOT / ".venv-rejax" / "bin" / "python"))

#: PureJaxRL's CartPole PPO (the ``__main__`` config of its ``purejaxrl/ppo.py``) in
#: jaxrl's terms: the step size anneals linearly to 0 over the run.
PUREJAXRL_CARTPOLE = ppo.PPOConfig(
    env="CartPole-v1", total_steps=500_000, num_envs=4, num_steps=128, update_epochs=4,
    num_minibatches=4, hidden_sizes=(64, 64), activation="tanh", learning_rate=2.5e-4,
    learning_rate_end=0.0, gamma=0.99, gae_lambda=0.95, clip_eps=0.2, ent_coef=0.01,
    vf_coef=0.5, vf_clip=0.2, max_grad_norm=0.5, normalize_observations=False,
)
#: PureJaxRL's continuous PPO (``ppo_continuous_action.py``, sized for Brax: 2048 envs x
#: 10 steps, (256, 256) tanh, 4 epochs of 32 minibatches, Adam 3e-4) on Pendulum-v1, for
#: 10 iterations (204,800 steps) instead of its 50M: a speed race. PureJaxRL also
#: normalises rewards; jaxrl does not.
PUREJAXRL_PENDULUM = ppo.PPOConfig(
    env="Pendulum-v1", total_steps=204_800, num_envs=2048, num_steps=10, update_epochs=4,
    num_minibatches=32, hidden_sizes=(256, 256), activation="tanh", learning_rate=3e-4,
    learning_rate_end=None, gamma=0.99, gae_lambda=0.95, clip_eps=0.2, ent_coef=0.0,
    vf_coef=0.5, vf_clip=0.2, max_grad_norm=0.5, normalize_observations=True,
)
#: rejax's configs/gymnax/cartpole.yaml ``ppo:`` (its max_grad_norm clips each element,
#: jaxrl's the global norm).
REJAX_PPO_CARTPOLE = ppo.PPOConfig(
    env="CartPole-v1", total_steps=100_000, num_envs=5, num_steps=100, update_epochs=5,
    num_minibatches=5, hidden_sizes=(64, 64), activation="tanh", learning_rate=7.5e-4,
    learning_rate_end=None, gamma=0.99, gae_lambda=0.95, clip_eps=0.2, ent_coef=0.01,
    vf_coef=0.5, vf_clip=0.2, max_grad_norm=0.5,
)
#: rejax's configs/gymnax/pendulum.yaml ``ppo:``. rejax trains 750k steps on it (its
#: evaluation interval is shorter than one 10k-step iteration, and each evaluation
#: runs a whole iteration), so jaxrl trains the 750k it does.
REJAX_PPO_PENDULUM = ppo.PPOConfig(
    env="Pendulum-v1", total_steps=750_000, num_envs=100, num_steps=100, update_epochs=10,
    num_minibatches=10, hidden_sizes=(64, 64), activation="swish", learning_rate=1e-3,
    learning_rate_end=None, gamma=0.995, gae_lambda=0.95, clip_eps=0.2, ent_coef=0.0,
    vf_coef=0.5, vf_clip=0.2, max_grad_norm=10.0, normalize_observations=True,
)
#: rejax's configs/gymnax/cartpole.yaml ``pqn:`` ((64, 64) ReLU with LayerNorm) with its
#: optimizer, Adam (rejax/algos/pqn.py; jaxrl's PQN defaults to purejaxql's RAdam).
REJAX_PQN_CARTPOLE = pqn.PQNConfig(
    env="CartPole-v1", total_steps=524_288, num_envs=16, num_steps=128, num_minibatches=16,
    update_epochs=5, hidden_sizes=(64, 64), activation="relu", layer_norm=True,
    exploration_steps=262_144, learning_rate=3e-4, learning_rate_end=None, gamma=0.99,
    q_lambda=0.9, reward_scale=1.0, epsilon_start=1.0, epsilon_end=0.05, max_grad_norm=10.0,
    optimizer="adam",
)

#: (name, jaxrl module, jaxrl config, peer script, peer preset, the peer's options).
RACES: list[tuple[str, object, object, str, str, tuple[str, ...]]] = [
    ("PPO, PureJaxRL's CartPole config", ppo, PUREJAXRL_CARTPOLE, "purejaxrl_ppo.py",
     "ppo_cartpole", ()),
    ("PPO, PureJaxRL's continuous config, Pendulum-v1", ppo, PUREJAXRL_PENDULUM,
     "purejaxrl_ppo.py", "ppo_pendulum", ("--total-timesteps", "204800")),
    ("PPO, rejax's CartPole config", ppo, REJAX_PPO_CARTPOLE, "rejax_onpolicy.py",
     "ppo_cartpole", ("--eval", "final-only")),
    ("PPO, rejax's Pendulum-v1 config", ppo, REJAX_PPO_PENDULUM, "rejax_onpolicy.py",
     "ppo_pendulum", ("--eval", "final-only")),
    ("PQN, rejax's CartPole config", pqn, REJAX_PQN_CARTPOLE, "rejax_onpolicy.py",
     "pqn_cartpole", ("--eval", "final-only")),
]


def learn(name: str, module, config, seeds: int) -> dict:
    """Train ``seeds`` seeds (key 0): final greedy return and times, said in one line."""
    result = module.run(config, jax.random.split(jax.random.key(0), seeds))
    r = common.stats(result.curve.final_return)
    print(f"  {name} {config.env}: {r['mean']:.1f} (min {r['min']:.1f}, max {r['max']:.1f}), "
          f"{result.wall_s:.1f} s", flush=True)
    return {"name": name, "env": config.env, "total_steps": config.total_steps,
            "final_return": r, "compile_s": result.compile_s, "wall_s": result.wall_s}


def learning(quick: bool) -> dict:
    """The presets' learning figures (and DQN's wall time beside PQN's)."""
    seeds = 2 if quick else SEEDS
    runs = [("PPO", ppo, "ppo", "CartPole-v1"), ("PPO", ppo, "ppo", "Pendulum-v1"),
            ("REINFORCE", reinforce, "reinforce", "CartPole-v1"),
            ("PQN", pqn, "pqn", "CartPole-v1"), ("PQN", pqn, "pqn", "HybridPendulum"),
            ("DQN", dqn, "dqn", "CartPole-v1")]
    out = []
    for name, module, algo, env in runs[:-1] if quick else runs:  # --quick: no DQN
        config = preset(algo, env)[0]
        if quick:
            per_call = config.num_envs * getattr(config, "num_steps", 1)
            config = config.replace(total_steps=2 * per_call, eval_every=2 * per_call,
                                    eval_episodes=2)
        out.append(learn(name, module, config, seeds))
    return {"seeds": seeds, "runs": out}


MINATAR = ("Breakout", "SpaceInvaders", "Asterix", "Freeway")


def minatar(quick: bool) -> dict:
    """PQN's MinAtar presets, 16 seeds (key 0); --quick: one game, a few rollouts."""
    seeds, out = (2 if quick else SEEDS), []
    for game in MINATAR[:1] if quick else MINATAR:
        config = preset("pqn", f"{game}-MinAtar")[0]
        if quick:
            config = config.replace(num_envs=8, num_minibatches=2, total_steps=512,
                                    eval_every=512, eval_episodes=1)
        out.append(learn("PQN", pqn, config, seeds))
    return {"seeds": seeds, "runs": out}


def peer(script: str, preset_name: str, seeds: int, options: tuple[str, ...]) -> dict | None:
    """A peer's run in its own venv and process (one JSON line), or None without it.
    Its rate is of the env steps it did (rejax may do more than its budget says)."""
    path = PEERS / script
    if not PEER_PYTHON.exists() or not path.exists():
        return None
    cmd = [str(PEER_PYTHON), str(path), "--preset", preset_name, "--num-seeds", str(seeds),
           "--reps", "1", *options]
    rec = common.peer_record(cmd, PEER_TIMEOUT, common.ROOT)
    if "error" in rec:
        return rec
    return {"compile_s": rec["lower_plus_compile_s"], "run_s": rec["run_s_median"],
            "steps_per_s": rec.get("env_steps_per_s_done", rec["env_steps_per_s"]),
            "steps_per_seed": rec.get("env_steps_done_per_seed"),
            "final_return": {"mean": rec["final_return_mean"], "min": rec["final_return_min"],
                             "max": rec["final_return_max"]}}


def ours(module, config, seeds: int) -> dict:
    """jaxrl on ``config`` with one final evaluation: compile and run time, env steps/s."""
    config = config.replace(eval_every=config.total_steps)
    result = module.run(config, jax.random.split(jax.random.key(0), seeds))
    return {"compile_s": result.compile_s, "run_s": result.wall_s,
            "steps_per_s": seeds * result.env_steps / result.wall_s,
            "final_return": common.stats(result.curve.final_return)}


def speed(quick: bool, reps: int, races: str | None = None) -> list[dict]:
    """Each race at 1 and 16 seeds, in ``reps`` rounds of jaxrl then the peer (in its own
    process): the rounds interleave, so a drift of the machine's speed falls on both
    sides; each side's median round is compared. ``races``: comma-separated words, only
    the races whose name holds one of them."""
    records = []
    chosen = [r for r in RACES if races is None or
              any(w.strip() and w.strip() in r[0] for w in races.split(","))]
    for name, module, config, script, preset_name, options in chosen[:1] if quick else chosen:
        if quick:
            steps = 2 * config.num_envs * config.num_steps
            config = config.replace(total_steps=steps, eval_episodes=2)
        for n in (1,) if quick else (1, SEEDS):
            # the peer's work: a truncation ended like a termination (the peers'
            # convention)
            same = config.replace(bootstrap_truncation=False) \
                if module in (ppo, pqn) else None
            mine_runs, same_runs, peer_runs = [], [], []
            for _ in range(1 if quick else reps):
                mine_runs.append(ours(module, config, n))
                if same is not None:
                    same_runs.append(ours(module, same, n))
                peer_runs.append(None if quick else peer(script, preset_name, n, options))
            mine = common.median_run(mine_runs)
            same_work = common.median_run(same_runs) if same_runs else None
            failed = [r for r in peer_runs if not isinstance(r, dict) or "error" in r]
            theirs = failed[0] if failed else common.median_run(peer_runs)
            ok = not failed
            peer_name = ("PureJaxRL " if script.startswith("purejaxrl") else "rejax ") + \
                name.split(",")[0]
            records.append({"race": name, "peer_name": peer_name, "seeds": n,
                            "total_steps": config.total_steps, "rounds": len(mine_runs),
                            "jaxrl": mine, "jaxrl_same_work": same_work, "peer": theirs,
                            "speedup": mine["steps_per_s"] / theirs["steps_per_s"] if ok
                            else None,
                            "speedup_same_work": same_work["steps_per_s"]
                            / theirs["steps_per_s"] if ok and same_work else None})
            print(f"  {name}, {n} seed(s): jaxrl {mine['steps_per_s']:.0f} steps/s"
                  + (f" ({same_work['steps_per_s']:.0f} doing the peer's work)"
                     if same_work else "")
                  + (f", peer {theirs['steps_per_s']:.0f}" if ok else ""), flush=True)
    return records


def _per_iteration(body, carry, iterations: int, reps: int = 3) -> float:
    """Milliseconds per call of ``body(carry) -> carry``, run ``iterations`` times in
    one compiled ``lax.scan`` (compile apart, best of ``reps``)."""
    run = jax.jit(lambda c: jax.lax.scan(lambda c, _: (body(c), None), c, None,
                                         iterations)[0])
    jax.block_until_ready(run(carry))
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        jax.block_until_ready(run(carry))
        best = min(best, time.perf_counter() - start)
    return 1e3 * best / iterations


def parts_ms(config, iterations: int, names=None) -> dict:
    """One seed of PPO on ``config``: ms per iteration of ``train_step`` and of each of
    its parts compiled alone, and of the V/log π pass over ``[S_t, S'_t]`` that an
    iteration made before it took ``log π_old`` and ``V(S_t)`` from its acting pass. The
    shuffles (row orders and gathers), and the row orders alone drawn both ways:
    :func:`jaxrl.deep.rollout.shuffled_order` and ``jax.random.permutation``, which the
    epochs drew before."""
    setup = ppo.make(config)
    state = ppo.init(setup, config, jax.random.key(0))
    _, ro = ppo.collect_rollout(setup, config, state, jax.random.key(1))
    tr, stats = ro.transitions, state.obs_stats
    action, log_prob, value = ro.extras
    obs_after = ro.transitions.next_obs[-1]
    _, value_next = ppo.next_values(setup, config, state.params, stats, tr, value, obs_after)
    advantage, target = ppo.advantages(config, tr, value, value_next)
    data = rollout.flatten_time(ppo.Batch(
        x=ppo.features(setup, config, stats, tr.obs), action=action,
        log_prob=log_prob, value=value, advantage=advantage, target=target))
    size = data.x.shape[0] // config.num_minibatches
    batch = jax.tree.map(lambda x: x[:size], data)
    grads_per_iteration = config.update_epochs * config.num_minibatches
    opt = ppo.optimizer(setup, config)
    nudge = 1e-30  # each call depends on the last, so none is computed once

    def rolls(s):
        key, key_rollout = jax.random.split(s.key)
        env_state, _ = ppo.collect_rollout(setup, config, s, key_rollout)
        return s.replace(env_state=env_state, key=key)

    def next_values(params, bootstrap_truncation=True):
        v = ppo.next_values(setup, config.replace(bootstrap_truncation=bootstrap_truncation),
                            params, stats, tr, value, obs_after)[1]
        return jax.tree.map(lambda p: p + nudge * v.sum(), params)

    def former_pass(params):  # log π_old(A_t|S_t), V(S_t), V(S'_t) in one [2, T, N] call
        obs = jnp.stack([tr.obs, tr.next_obs])
        head, log_std, v = setup.network.apply(params, ppo.features(setup, config,
                                                                    stats, obs))
        lp = policies.log_prob(setup.network.discrete, head[0], log_std, action)
        return jax.tree.map(lambda p: p + nudge * (v.sum() + lp.sum()), params)

    def shuffles(key):
        for _ in range(config.update_epochs):
            key, key_now = jax.random.split(key)
            b = rollout.minibatches(key_now, data, config.num_minibatches)
            key = jax.random.fold_in(key, (b.x.sum() > 0).astype(int))
        return key

    def orders(key, draw=rollout.shuffled_order):  # the epochs' row orders alone
        for _ in range(config.update_epochs):
            key, key_now = jax.random.split(key)
            key = jax.random.fold_in(key, draw(key_now, data.x.shape[0])[0])
        return key

    def gradients(params):
        for _ in range(grads_per_iteration):
            g, _ = jax.grad(ppo.loss_fn, argnums=2, has_aux=True)(setup, config,
                                                                  params, batch)
            params = jax.tree.map(lambda p, q: p - nudge * q, params, g)
        return params

    def optimizer_steps(c):
        params, opt_state = c
        for _ in range(grads_per_iteration):
            updates, opt_state = opt.update(params, opt_state, params)
            params = jax.tree.map(lambda p, u: p + nudge * u, params, updates)
        return params, opt_state

    timed = {
        "train_step": (lambda s: ppo.train_step(setup, config, s)[0], state),
        "train_step_truncation_as_termination": (lambda s: ppo.train_step(
            setup, config.replace(bootstrap_truncation=False), s)[0], state),
        "rollout": (rolls, state), "next_values": (next_values, state.params),
        "next_values_truncation_as_termination": (
            lambda p: next_values(p, bootstrap_truncation=False), state.params),
        "shuffles": (shuffles, jax.random.key(2)),
        "shuffle_orders": (orders, jax.random.key(2)),
        "shuffle_orders_jax_permutation": (
            lambda k: orders(k, jax.random.permutation), jax.random.key(2)),
        "gradient_steps": (gradients, state.params),
        "optimizer_steps": (optimizer_steps, (state.params, state.opt_state)),
        "former_evaluation_pass": (former_pass, state.params)}
    return {name: _per_iteration(body, carry, iterations)
            for name, (body, carry) in timed.items() if names is None or name in names}


#: What the profile times of rejax's Pendulum config (an iteration is 25 times
#: PureJaxRL's CartPole one: the parts that matter, fewer iterations).
PENDULUM_PARTS = ["train_step", "rollout", "shuffles", "shuffle_orders",
                  "shuffle_orders_jax_permutation", "gradient_steps", "optimizer_steps"]


def _print_parts(ms: dict) -> None:
    """A profile's parts: ms per iteration and share of ``train_step``."""
    print(common.format_table(["part", "ms", "share of train_step"],
                              [[k, v, f"{v / ms['train_step']:.0%}"] for k, v in ms.items()]))


def profile(quick: bool) -> dict:
    """One seed of PureJaxRL's CartPole and rejax's Pendulum-v1 PPO configs and of rejax's
    CartPole PQN config, their parts timed alone (ms/iteration)."""
    iterations = 4 if quick else 200
    config = PUREJAXRL_CARTPOLE
    out = {"config": "PureJaxRL's CartPole PPO, one seed", "iterations": iterations,
           "ms_per_iteration": parts_ms(config, iterations),
           "gradient_steps_16x16_ms": parts_ms(config.replace(hidden_sizes=(16, 16)),
                                               iterations, ["gradient_steps"]
                                               )["gradient_steps"]}
    ms = out["ms_per_iteration"]
    print("\nOne seed, ms per iteration (a rollout of 4 x 128 steps and 16 gradient steps;"
          " the former evaluation pass is not part of train_step)")
    _print_parts(ms)
    print(f"gradient steps with (16, 16) hidden layers: {out['gradient_steps_16x16_ms']:.3f}"
          " ms")
    config = REJAX_PPO_PENDULUM
    out["rejax_pendulum"] = {
        "config": "rejax's Pendulum-v1 PPO, one seed", "iterations": max(iterations // 10, 2),
        "ms_per_iteration": parts_ms(config, max(iterations // 10, 2), PENDULUM_PARTS)}
    ms = out["rejax_pendulum"]["ms_per_iteration"]
    print(f"\nrejax's Pendulum-v1 config, one seed, ms per iteration (a rollout of "
          f"{config.num_envs} x {config.num_steps} steps and "
          f"{config.update_epochs * config.num_minibatches} gradient steps)")
    _print_parts(ms)
    config = REJAX_PQN_CARTPOLE
    out["pqn"] = {"config": "rejax's CartPole PQN, one seed",
                  "ms_per_iteration": pqn_parts_ms(config, iterations)}
    ms = out["pqn"]["ms_per_iteration"]
    print(f"\nPQN, one seed, ms per iteration (a rollout of {config.num_envs} x "
          f"{config.num_steps} steps, {config.update_epochs * config.num_minibatches} "
          "gradient steps; Adam as rejax; peer work: a truncation ended like a termination)")
    _print_parts(ms)
    return out


def pqn_parts_ms(config, iterations: int) -> dict:
    """One seed of PQN on ``config``: ms per iteration of ``train_step`` (as configured
    and doing the peer's work), of its rollout, of its targets both ways, and of its
    ``learn`` (the epochs of minibatch steps) with Adam (rejax's) and with RAdam (jaxrl's
    default)."""
    setup = pqn.make(config)
    state = pqn.init(setup, config, jax.random.key(0))
    act = lambda obs, k: pqn.select_action(setup, config, state.params, state.step, obs, k)  # noqa: E731
    env_state, ro = rollout.collect(setup.env, setup.env_params, state.env_state, act,
                                    jax.random.key(1), config.num_steps)
    tr, nudge = ro.transitions, 1e-30
    targets = pqn.q_lambda_targets(setup, config, state.params, tr, ro.extras, env_state.obs)

    def rolls(s):
        key, key_rollout = jax.random.split(s.key)
        a = lambda obs, k: pqn.select_action(setup, config, s.params, s.step, obs, k)  # noqa: E731
        es, _ = rollout.collect(setup.env, setup.env_params, s.env_state, a, key_rollout,
                                config.num_steps)
        return s.replace(env_state=es, key=key)

    def target_pass(params, bootstrap_truncation=True):
        g = pqn.q_lambda_targets(setup, config.replace(
            bootstrap_truncation=bootstrap_truncation), params, tr, ro.extras, env_state.obs)
        return jax.tree.map(lambda p: p + nudge * g.sum(), params)

    def learning(c, optimizer):
        params, opt_state, key = c
        key, key_now = jax.random.split(key)
        params, opt_state, _ = pqn.learn(setup, config.replace(optimizer=optimizer), params,
                                         opt_state, tr, targets, key_now)
        return params, opt_state, key

    same = config.replace(bootstrap_truncation=False)
    radam_state = pqn.init(setup, config.replace(optimizer="radam"), jax.random.key(0))
    timed = {
        "train_step": (lambda s: pqn.train_step(setup, config, s)[0], state),
        "train_step_peer_work": (lambda s: pqn.train_step(setup, same, s)[0], state),
        "rollout": (rolls, state),
        "targets": (target_pass, state.params),
        "targets_truncation_as_termination": (
            lambda p: target_pass(p, bootstrap_truncation=False), state.params),
        "learn_adam": (lambda c: learning(c, "adam"),
                       (state.params, state.opt_state, jax.random.key(2))),
        "learn_radam": (lambda c: learning(c, "radam"),
                        (radam_state.params, radam_state.opt_state, jax.random.key(2)))}
    return {name: _per_iteration(body, carry, iterations)
            for name, (body, carry) in timed.items()}


def goals(results: dict) -> dict:
    """The issue's goals, judged on this run (None: not measured)."""
    runs = {(r["name"], r["env"]): r for r in results.get("learning", {}).get("runs", [])}
    full = results.get("learning", {}).get("seeds") == SEEDS

    def mean(key):
        return runs[key]["final_return"]["mean"] if full and key in runs else None

    pqn_run, dqn_run = runs.get(("PQN", "CartPole-v1")), runs.get(("DQN", "CartPole-v1"))
    pqn_ok = None
    if full and pqn_run and dqn_run:
        r = pqn_run["final_return"]
        pqn_ok = r["mean"] >= 490 and r["min"] >= 450 and pqn_run["wall_s"] < dqn_run["wall_s"]
    races = [r for r in results.get("speed", []) if r["speedup"]]
    ups = [r["speedup"] for r in races if r["race"].startswith("PPO, PureJaxRL's CartPole")]
    full_race = len(races) == 2 * len(RACES)

    def every(seeds, key, floor):
        if not full_race:
            return None
        return all((r[key] or r["speedup"]) >= floor for r in races if r["seeds"] == seeds)

    cartpole, pendulum = mean(("PPO", "CartPole-v1")), mean(("PPO", "Pendulum-v1"))
    return {
        "ppo_cartpole_500k_mean_ge_490": None if cartpole is None else cartpole >= 490,
        "ppo_pendulum_1m_mean_ge_-200": None if pendulum is None else pendulum >= -200,
        "pqn_cartpole_ge_490_all_ge_450_faster_than_dqn": pqn_ok,
        "ppo_ge_1.5x_purejaxrl_at_1_and_16_seeds": (all(u >= 1.5 for u in ups)
                                                    if len(ups) == 2 else None),
        "one_seed_ge_1.0x_every_peer": every(1, "speedup", 1.0),
        "one_seed_same_work_ge_1.0x_every_peer": every(1, "speedup_same_work", 1.0),
        "16_seeds_lead_every_peer": every(SEEDS, "speedup", 1.0),
    }


def main() -> int:
    p = common.parser("ppo", __doc__.splitlines()[0])
    common.add_parts(p, PARTS)
    p.add_argument("--reps", type=int, default=3,
                   help="speed: rounds of jaxrl then the peer, medians compared (default 3)")
    p.add_argument("--races", default=None, metavar="WORDS",
                   help="speed: only the races whose name holds one of these comma-separated"
                   " words; with --keep the other races' records are kept from --out")
    args = p.parse_args()
    parts, results = common.chosen_parts(p, args, PARTS)
    print(f"device: {common.device_info()}")
    if "learning" in parts:
        results["learning"] = learning(args.quick)
        print("\nFinal greedy return over seeds (key 0), presets")
        print(common.format_table(
            ["algo", "env", "steps", "mean", "min", "max", "wall s"],
            [[r["name"], r["env"], r["total_steps"], *(r["final_return"][k] for k in
                                                        ("mean", "min", "max")), r["wall_s"]]
             for r in results["learning"]["runs"]]))
    if "speed" in parts:
        results["speed"] = speed(args.quick, args.reps, args.races)
        if args.races and args.keep and args.out.exists():  # the races not rerun, kept
            new = {(r["race"], r["seeds"]) for r in results["speed"]}
            kept = [r for r in json.loads(args.out.read_text()).get("speed", [])
                    if (r["race"], r["seeds"]) not in new]
            results["speed"] = sorted(kept + results["speed"], key=lambda r: (
                [x[0] for x in RACES].index(r["race"]), r["seeds"]))
        print("\nEnv steps/s on the peers' configs (one final evaluation, compile apart)")
        print(common.format_table(
            ["race", "seeds", "rounds", "jaxrl steps/s", "peer steps/s", "speed-up",
             "same work: jaxrl steps/s", "speed-up"],
            [[r["race"], r["seeds"], r["rounds"], r["jaxrl"]["steps_per_s"],
              r["peer"]["steps_per_s"] if r["speedup"] else "(peer skipped)",
              r["speedup"] or "",
              r["jaxrl_same_work"]["steps_per_s"] if r["jaxrl_same_work"] else "",
              r["speedup_same_work"] or ""] for r in results["speed"]]))
        print("same work: bootstrap_truncation=False (a truncation ends the return like a"
              " termination, as the peers do); each side's median over the race's"
              " interleaved rounds")
        if not PEER_PYTHON.exists():
            print(f"note: {PEER_PYTHON} not found: peer columns skipped "
                  "(benchmarks/peers/README.md)")
    if "profile" in parts:
        results["profile"] = profile(args.quick)
    if "minatar" in parts:
        results["minatar"] = minatar(args.quick)
    results["goals"] = goals(results)
    print("\nGoals:")
    for name, met in results["goals"].items():
        print(f"  {name}: {'met' if met else 'missed' if met is not None else 'not measured'}")
    results["elapsed"] = time.strftime("%H:%M:%S")
    common.write_json(args.out, "ppo", results, args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
