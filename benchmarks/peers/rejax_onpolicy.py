"""Peer benchmark: rejax's PPO, PQN and SAC on rejax's own gymnax configs (one JSON line).

Run in the peers' venv (``benchmarks/peers/setup.sh``), never in jaxrl's::

    .venv-rejax/bin/python benchmarks/peers/rejax_onpolicy.py --preset ppo_cartpole \
        --num-seeds 1 --reps 3 [--total-timesteps 20000]

Presets: ``ppo_cartpole``, ``ppo_pendulum``, ``pqn_cartpole``, ``sac_pendulum``, and
``sac_pendulum_8_wide`` (not rejax's: its SAC config with 8-wide hidden layers, for the
dense layers' share of a step) (``--help`` lists all options; the off-policy presets of
rejax_bench.py stay available).

This is a thin layer over ../shared/peers/rejax_bench.py (path from the environment variable
``REJAX_BENCH``; default ``../shared/peers/rejax_bench.py`` relative to the repository root):
it adds the presets below to that script's ``PRESETS`` and runs its ``main()`` unchanged, so the
gymnax >= 1.0 step adapter, the timing (compile apart via ``jax.jit(train).lower(key).compile()``,
median of ``--reps`` runs) and the evaluation (rejax's own callback: 128 episodes of the
policy's ``make_act`` every ``eval_freq`` steps, inside the timed run) are rejax_bench.py's.
Its JSON line is re-printed with three fields added:

* ``runner``: this file;
* ``env_steps_per_s_done``: seeds * env_steps_done_per_seed / median run time. rejax trains in
  whole blocks of ``ceil(eval_freq / (num_envs * num_steps))`` iterations per evaluation, so
  when ``eval_freq`` is smaller than one iteration the steps done exceed ``total_timesteps``
  (rejax's own ``ppo_pendulum`` config: 75 evaluations x 10 000 steps = 750 000 steps for
  ``total_timesteps`` 150 000). ``env_steps_per_s`` (from ``total_timesteps``) is kept as
  rejax_bench.py computes it; compare with ``env_steps_per_s_done``;
* ``config_source``: where the numbers come from.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG_SOURCE = (
    "github.com/keraJLi/rejax @ d7510951b7a89ca8463cb2a6d18e21750ec454ff "
    "configs/gymnax/{cartpole,pendulum}.yaml (identical at tag v0.1.3 = 4587115e; "
    "sac_pendulum: pendulum.yaml `sac:` at d751095)"
)

# Copied verbatim from rejax's repository (see CONFIG_SOURCE):
# configs/gymnax/cartpole.yaml `ppo:` and `pqn:`, configs/gymnax/pendulum.yaml `ppo:` and
# `sac:`.
ONPOLICY_PRESETS = {
    "ppo_cartpole": dict(
        algo="ppo",
        config=dict(
            env="CartPole-v1",
            agent_kwargs=dict(activation="tanh"),
            num_envs=5,
            num_steps=100,
            num_epochs=5,
            num_minibatches=5,
            learning_rate=0.00075,
            max_grad_norm=0.5,
            total_timesteps=100_000,
            eval_freq=1000,
            gamma=0.99,
            gae_lambda=0.95,
            clip_eps=0.2,
            ent_coef=0.01,
            vf_coef=0.5,
        ),
    ),
    "ppo_pendulum": dict(
        algo="ppo",
        config=dict(
            env="Pendulum-v1",
            agent_kwargs=dict(activation="swish"),
            num_envs=100,
            num_steps=100,
            num_epochs=10,
            num_minibatches=10,
            learning_rate=0.001,
            max_grad_norm=10,
            total_timesteps=150_000,
            eval_freq=2000,
            gamma=0.995,
            gae_lambda=0.95,
            clip_eps=0.2,
            ent_coef=0.0,
            vf_coef=0.5,
            normalize_observations=True,
        ),
    ),
    "pqn_cartpole": dict(
        algo="pqn",
        config=dict(
            env="CartPole-v1",
            num_envs=16,
            num_steps=128,
            num_minibatches=16,
            max_grad_norm=10,
            learning_rate=0.0003,
            num_epochs=5,
            total_timesteps=524288,
            eval_freq=16384,
            eps_start=1,
            eps_end=0.05,
            exploration_fraction=0.5,
            gamma=0.99,
            td_lambda=0.9,
            normalize_observations=False,
        ),
    ),
    "sac_pendulum": dict(
        algo="sac",
        config=dict(
            env="Pendulum-v1",
            agent_kwargs=dict(activation="swish"),
            num_envs=1,
            buffer_size=10_000,
            fill_buffer=256,
            batch_size=256,
            learning_rate=0.01,
            num_epochs=1,
            total_timesteps=10_000,
            eval_freq=100,
            gamma=0.99,
            polyak=0.98,
            target_entropy_ratio=None,
            normalize_observations=True,
        ),
    ),
}

# Not rejax's: its `sac:` Pendulum config with 8-wide hidden layers (rejax's own
# `hidden_layer_sizes` option), so that benchmarks/sac.py measures what the 64-wide dense
# layers cost in rejax's step as it does in jaxrl's.
ONPOLICY_PRESETS["sac_pendulum_8_wide"] = dict(
    algo="sac",
    config={**ONPOLICY_PRESETS["sac_pendulum"]["config"], "hidden_layer_sizes": (8, 8)},
)


def load_rejax_bench():
    """Import rejax_bench.py by path (env REJAX_BENCH) and return the module."""
    path = Path(os.environ.get("REJAX_BENCH", ROOT.parent / "shared/peers/rejax_bench.py"))
    if not path.is_file():
        raise SystemExit(f"rejax_bench.py not found at {path} (set REJAX_BENCH)")
    spec = importlib.util.spec_from_file_location("rejax_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    bench = load_rejax_bench()
    bench.PRESETS.update(ONPOLICY_PRESETS)
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(__doc__)
        return bench.main()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        bench.main()
    lines = [ln for ln in buf.getvalue().splitlines() if ln.startswith("{")]
    if not lines:
        sys.stderr.write(buf.getvalue())
        raise SystemExit("rejax_bench.main() printed no JSON line")
    rec = json.loads(lines[-1])
    med = rec["run_s_median"]
    rec["runner"] = "benchmarks/peers/rejax_onpolicy.py"
    rec["env_steps_per_s_done"] = round(
        rec["num_seeds"] * rec["env_steps_done_per_seed"] / med, 1
    ) if med > 0 else None
    rec["config_source"] = (
        CONFIG_SOURCE + (" with hidden_layer_sizes (8, 8)" if "8_wide" in rec["preset"]
                         else "")
        if rec["preset"] in ONPOLICY_PRESETS else "rejax_bench.py"
    )
    print(json.dumps(rec), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
