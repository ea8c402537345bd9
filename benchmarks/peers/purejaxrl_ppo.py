"""Peer benchmark: PureJaxRL's PPO on its own configs (one JSON line).

Run in the peers' venv (``benchmarks/peers/setup.sh``), never in jaxrl's::

    .venv-rejax/bin/python benchmarks/peers/purejaxrl_ppo.py --preset ppo_cartpole \
        --num-seeds 1 --reps 3 [--total-timesteps 50000]

PureJaxRL (github.com/luchris429/purejaxrl) is a set of scripts, not a package. Its files
``purejaxrl/{ppo.py,ppo_continuous_action.py,wrappers.py}`` are exported by setup.sh into an
untracked folder (env ``PUREJAXRL_DIR``, default ``.peers/purejaxrl`` in the repository root);
this script imports ``make_train`` from there and never copies PureJaxRL code.

Presets (the config dicts are read with ``ast`` from the ``if __name__ == "__main__":`` block
of PureJaxRL's own file, so they are exactly its numbers):

* ``ppo_cartpole``: ppo.py's config (CartPole-v1, 4 envs x 128 steps, 5e5 steps).
* ``ppo_pendulum``: ppo_continuous_action.py's config (written for Brax "hopper": 2048 envs x
  10 steps, 5e7 steps, observation and reward normalisation) with ``ENV_NAME`` Pendulum-v1.

Changes made at run time, in this process only (PureJaxRL's files are untouched):

* ``DEBUG`` is set to False (True prints every finished episode from a host callback).
* ``TOTAL_TIMESTEPS`` is made an int (5e5 -> 500000), so ``NUM_UPDATES`` is an int scan length.
* gymnax >= 1.0 returns six values from ``step`` (obs, state, reward, terminated, truncated,
  info); PureJaxRL unpacks five. ppo.py's module-global ``gymnax`` is replaced by a namespace
  whose ``make`` wraps the env so that ``step`` returns (obs, state, reward, terminated |
  truncated, info) -- gymnax 0.0.x's ``done`` -- with the three info keys gymnax 1.0 added
  (terminated, truncated, final_observation) removed, as in 0.0.x.
* ppo_continuous_action.py builds its env with wrappers.BraxGymnaxWrapper(ENV_NAME).
  That name is replaced in the module by ``GymnaxAsBrax``: the same interface (``params``
  ignored, action space Box(-1, 1), five-value step, empty info) over gymnax's Pendulum-v1,
  with the action mapped affinely from [-1, 1] onto the env's [low, high] ([-2, 2] torque),
  since PureJaxRL's ClipAction clips to [-1, 1] (Brax's action range). Episodes end at
  gymnax's 200-step limit; like the Brax wrapper, done = terminated | truncated.
* wrappers.py imports brax and navix at the top; if they are not installed, empty stand-in
  modules are put in ``sys.modules`` so that it imports (their classes are never used).
* The scripts' ``orthogonal`` initialiser (flax's) is wrapped so that under ``vmap`` it
  draws its QRs one at a time (``jax.custom_batching.sequential_vmap``), the same numbers:
  batched over seeds, XLA's CPU ran the LAPACK QRs on its thread pool and ``jit(vmap(train))``
  of 16 seeds deadlocked on a 2-core machine (jaxrl's own initialiser does the same). It
  runs once, at initialisation, outside the training loop.

Measurement (as ../shared/peers/rejax_bench.py): ``fn = jax.jit(jax.vmap(train))`` over
``--num-seeds`` keys split from ``--seed``; lower and compile timed apart; then ``--reps``
runs of the compiled function (block_until_ready), median and all times; env steps/s =
seeds * total_timesteps / median (``env_steps_per_s_done`` uses the steps actually done,
NUM_UPDATES * NUM_STEPS * NUM_ENVS). Returns come from PureJaxRL's own metrics, i.e.
TRAINING-episode returns of the stochastic policy (no greedy evaluation exists in PureJaxRL):
``final_return_*``: per seed, ``returned_episode_returns`` at the last step of training
averaged over envs (the last value of the curve PureJaxRL plots:
``metrics["returned_episode_returns"].mean(-1).reshape(-1)``, examples/walkthrough.ipynb);
``last_update_episode_return_*``: per seed, the mean return of the episodes that finished
during the last update (null if none did).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRESETS = {
    "ppo_cartpole": dict(file="ppo.py", overrides={}),
    "ppo_pendulum": dict(file="ppo_continuous_action.py", overrides={"ENV_NAME": "Pendulum-v1"}),
}
GYMNAX_1_INFO_KEYS = ("terminated", "truncated", "final_observation")


def main_block_config(path: Path) -> dict:
    """The dict literal assigned to ``config`` inside ``if __name__ == "__main__":``."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            for stmt in node.body:
                if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                        and getattr(stmt.targets[0], "id", None) == "config"):
                    return ast.literal_eval(stmt.value)
    raise SystemExit(f"no `config = {{...}}` in the __main__ block of {path}")


class FiveValueStep:
    """gymnax >= 1.0 env seen through gymnax 0.0.x's five-value ``step``."""

    def __init__(self, env):
        self._env = env

    def __getattr__(self, name):
        if name.startswith("__") or name == "_env":
            raise AttributeError(name)
        return getattr(self._env, name)

    def reset(self, key, params=None):
        return self._env.reset(key, params)

    def step(self, key, state, action, params=None):
        import jax.numpy as jnp

        obs, state, reward, terminated, truncated, info = self._env.step(
            key, state, action, params
        )
        info = {k: v for k, v in info.items() if k not in GYMNAX_1_INFO_KEYS}
        return obs, state, reward, jnp.logical_or(terminated, truncated), info


def gymnax_five_value_namespace():
    """Stand-in for the ``gymnax`` module inside ppo.py: ``make`` returns FiveValueStep envs."""
    import gymnax

    def make(name, **kwargs):
        env, params = gymnax.make(name, **kwargs)
        return FiveValueStep(env), params

    return types.SimpleNamespace(make=make)


class GymnaxAsBrax:
    """BraxGymnaxWrapper's interface over a continuous gymnax env (see module docstring)."""

    def __init__(self, env_name, backend=None):
        import gymnax

        self._env, self._params = gymnax.make(env_name)
        space = self._env.action_space(self._params)
        self._low, self._high = space.low, space.high
        self.action_size = int(space.shape[0])
        self.observation_size = self._env.observation_space(self._params).shape

    def reset(self, key, params=None):
        return self._env.reset(key, self._params)

    def step(self, key, state, action, params=None):
        import jax.numpy as jnp

        action = self._low + (action + 1.0) * 0.5 * (self._high - self._low)
        obs, state, reward, terminated, truncated, _ = self._env.step(
            key, state, action, self._params
        )
        return obs, state, reward, jnp.logical_or(terminated, truncated), {}

    def observation_space(self, params):
        return self._env.observation_space(self._params)

    def action_space(self, params):
        from gymnax.environments import spaces

        return spaces.Box(low=-1.0, high=1.0, shape=(self.action_size,))


def stub_missing(names):
    """Put empty modules in sys.modules for imports wrappers.py needs but never uses."""
    stubbed = []
    for name in names:
        try:
            importlib.import_module(name.split(".")[0])
            continue
        except ImportError:
            pass
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            sub = ".".join(parts[:i])
            if sub not in sys.modules:
                sys.modules[sub] = types.ModuleType(sub)
                if i > 1:
                    setattr(sys.modules[".".join(parts[:i - 1])], parts[i - 1], sys.modules[sub])
        stubbed.append(name)
    training = sys.modules.get("brax.envs.wrappers.training")
    if "brax.envs.wrappers.training" in stubbed and training is not None:
        training.EpisodeWrapper = training.AutoResetWrapper = None
    return stubbed


def one_qr_at_a_time(orthogonal):
    """flax's ``orthogonal(scale)`` drawing one matrix at a time under ``vmap``."""
    import jax
    import jax.numpy as jnp

    def make(scale=1.0, *args, **kwargs):
        base = orthogonal(scale, *args, **kwargs)

        def init(key, shape, dtype=jnp.float32):
            typed = jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
            impl = jax.random.key_impl(key) if typed else None

            def draw(data):
                k = jax.random.wrap_key_data(data, impl=impl) if typed else data
                return base(k, shape, dtype)

            return jax.custom_batching.sequential_vmap(draw)(
                jax.random.key_data(key) if typed else key)

        return init

    return make


def load_module(pjx_dir: Path, filename: str):
    """Import one PureJaxRL script by path (its ``from wrappers import`` finds pjx_dir)."""
    path = pjx_dir / filename
    if not path.is_file():
        raise SystemExit(f"{path} missing: run benchmarks/peers/setup.sh (or set PUREJAXRL_DIR)")
    sys.path.insert(0, str(pjx_dir))
    spec = importlib.util.spec_from_file_location(f"purejaxrl_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", required=True, choices=sorted(PRESETS))
    p.add_argument("--num-seeds", type=int, default=1, help="jit(vmap(train)) over this many")
    p.add_argument("--reps", type=int, default=3, help="timed runs of the compiled train")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--total-timesteps", type=int, default=None,
                   help="override the config's TOTAL_TIMESTEPS (e.g. for a quick run)")
    p.add_argument("--tag", default="")
    args = p.parse_args()

    pjx_dir = Path(os.environ.get("PUREJAXRL_DIR", ROOT / ".peers/purejaxrl"))
    if not pjx_dir.is_absolute():
        pjx_dir = ROOT / pjx_dir
    preset = PRESETS[args.preset]
    config = main_block_config(pjx_dir / preset["file"])
    config.update(preset["overrides"], DEBUG=False)
    config["TOTAL_TIMESTEPS"] = int(config["TOTAL_TIMESTEPS"])
    if args.total_timesteps is not None:
        config["TOTAL_TIMESTEPS"] = args.total_timesteps
    config_given = dict(config)

    stubbed = stub_missing(["brax.envs.wrappers.training", "navix"])
    import jax
    import jax.numpy as jnp

    module = load_module(pjx_dir, preset["file"])
    if hasattr(module, "BraxGymnaxWrapper"):
        module.BraxGymnaxWrapper = GymnaxAsBrax
    if hasattr(module, "gymnax"):
        module.gymnax = gymnax_five_value_namespace()
    if hasattr(module, "orthogonal"):
        module.orthogonal = one_qr_at_a_time(module.orthogonal)
    train = module.make_train(config)  # adds NUM_UPDATES, MINIBATCH_SIZE to config

    n = args.num_seeds
    keys = jax.random.split(jax.random.PRNGKey(args.seed), n)
    fn = jax.jit(jax.vmap(train))
    t0 = time.perf_counter()
    lowered = fn.lower(keys)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    t2 = time.perf_counter()
    run_times, out = [], None
    for _ in range(args.reps):
        start = time.perf_counter()
        out = compiled(keys)
        jax.block_until_ready(out)
        run_times.append(time.perf_counter() - start)

    metrics = out["metrics"]  # leaves [seeds, NUM_UPDATES, NUM_STEPS, NUM_ENVS]
    rets = metrics["returned_episode_returns"]
    final = rets[:, -1, -1, :].mean(axis=-1)
    done_last = metrics["returned_episode"][:, -1].astype(jnp.float32)
    last_upd = (rets[:, -1] * done_last).sum(axis=(1, 2)) / done_last.sum(axis=(1, 2))
    steps_done = config["NUM_UPDATES"] * config["NUM_STEPS"] * config["NUM_ENVS"]
    med = statistics.median(run_times)
    tt = config["TOTAL_TIMESTEPS"]
    source = (pjx_dir / "SOURCE").read_text().strip() if (pjx_dir / "SOURCE").exists() else None

    def r2(v):  # JSON has no NaN: null
        v = float(v)
        return None if v != v else round(v, 2)

    def stats(x, prefix):
        return {f"{prefix}_mean": r2(jnp.nanmean(x)), f"{prefix}_min": r2(jnp.nanmin(x)),
                f"{prefix}_max": r2(jnp.nanmax(x)), f"{prefix}_per_seed": [r2(v) for v in x]}

    rec = dict(
        bench="purejaxrl",
        runner="benchmarks/peers/purejaxrl_ppo.py",
        preset=args.preset,
        tag=args.tag,
        algo="ppo",
        env=config["ENV_NAME"],
        num_seeds=n,
        vmapped=True,
        total_timesteps=tt,
        env_steps_done_per_seed=int(steps_done),
        lower_s=round(t1 - t0, 3),
        compile_s=round(t2 - t1, 3),
        lower_plus_compile_s=round(t2 - t0, 3),
        run_s_all=[round(x, 3) for x in run_times],
        run_s_median=round(med, 3),
        env_steps_per_s=round(n * tt / med, 1),
        env_steps_per_s_done=round(n * steps_done / med, 1),
        returns_are="training-episode returns of the sampling policy (PureJaxRL LogWrapper "
                    "returned_episode_returns), not a greedy evaluation",
        **stats(final, "final_return"),
        **stats(last_upd, "last_update_episode_return"),
        config=config_given,
        derived=dict(NUM_UPDATES=int(config["NUM_UPDATES"]),
                     MINIBATCH_SIZE=int(config["MINIBATCH_SIZE"])),
        config_source=f"{source} purejaxrl/{preset['file']} __main__ config",
        adapted=dict(gymnax_five_value_step=True, debug_off=True,
                     brax_wrapper_replaced=hasattr(module, "BraxGymnaxWrapper"),
                     stubbed_modules=stubbed),
        versions=dict(python=platform.python_version(), jax=jax.__version__,
                      **{d: _dist_version(d) for d in ("gymnax", "flax", "optax", "distrax")}),
        backend=jax.default_backend(),
        device=str(jax.devices()[0].device_kind),
        cpu_count=os.cpu_count(),
        xla_flags=os.environ.get("XLA_FLAGS", ""),
    )
    print(json.dumps(rec), flush=True)
    return 0


def _dist_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # noqa: BLE001
        return None


if __name__ == "__main__":
    sys.exit(main())
