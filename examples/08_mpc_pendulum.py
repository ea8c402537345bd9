"""Slide "Model-based reinforcement learning" with a network: sample the world, learn a
model, then do optimal control.

The course's pendulum with [cos q, sin q, v] observations and a torque in ±2: 2 000
steps of random torques, a (32, 32) MLP fitted to (s, a) -> (Δs, r) on them (and refitted
every 250 steps), then 1 000 steps where the model-predictive controller acts: at each
step the cross-entropy method searches 30-step torque sequences on the model, the first
torque is applied, and the search starts again from the next state (the ``mpc`` preset).
Beside it, the same controller on the exact model (no data needed). Four seeds each;
evaluates every 500 steps of data (four greedy episodes of 100 steps, the first from
hanging at rest), prints the greedy return and how many seeds swing up and hold from
hanging, and draws both curves (figure ``mpc_pendulum``).

    python examples/08_mpc_pendulum.py      (JAXRL_EXAMPLES_QUICK=1: a short run)
"""

import os

import jax
import numpy as np
from _figures import curves

from jaxrl.deep import mpc
from jaxrl.presets import preset

quick = os.environ.get("JAXRL_EXAMPLES_QUICK") == "1"
config, what = preset("mpc", "Pendulum")
config = config.replace(eval_every=500)
if quick:
    config = config.replace(total_steps=400, random_steps=200, refit_every=200, fit_steps=100,
                            eval_every=200, eval_episodes=2, horizon=10, samples=20, elites=4,
                            iterations=2)
print(what)
keys = jax.random.split(jax.random.key(0), 4)
returns = {}
for name, c in (("learned model", config), ("exact model", config.replace(model="exact"))):
    result = mpc.run(c, keys)
    steps = np.asarray(result.curve.env_steps)[0]
    returns[f"MPC, {name}"] = (steps, np.asarray(result.curve.eval_return).mean(2))
    held = np.asarray(result.curve.evaluation["swing_up"])[:, -1]
    print(f"MPC, {name:13}: greedy return every {steps[1]} steps "
          + " ".join(f"{r:6.1f}" for r in returns[f"MPC, {name}"][1].mean(0))
          + f"; swings up and holds from hanging: {int(held.sum())} of {len(held)} seeds")
curves("mpc_pendulum", "Course pendulum: MPC (CEM) on a learned and on the exact model",
       returns, xlabel="environment steps of data per seed (2 000 random, then planned)")
