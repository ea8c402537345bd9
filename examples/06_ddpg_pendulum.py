"""Slide "Deep deterministic policy gradient (DDPG)": an actor π(s; θ) and a critic
Q(s, a; w), the critic on the target y = r + γ Q'(s', π'(s')), the actor up the critic's
gradient ∇_a Q(s, a) ∇_θ π(s), soft-updated targets, exploration noise (Lillicrap 2016).

The course's pendulum with [cos q, sin q, v] observations and a torque in ±2, 100-step
episodes (the practical's budget: 100 k steps), 4 seeds; prints the greedy return from
random starts (an episode hanging still, u = 0, gives -49.4).

    python examples/05_ddpg_pendulum.py      (JAXRL_EXAMPLES_QUICK=1: a short run)
"""

import os

import jax
import numpy as np

from jaxrl.deep import ddpg
from jaxrl.presets import preset

quick = os.environ.get("JAXRL_EXAMPLES_QUICK") == "1"
config, what = preset("ddpg", "Pendulum")
if quick:
    config = config.replace(total_steps=600, learning_starts=200, eval_every=300,
                            eval_episodes=2, hidden_sizes=(16, 16))
print(what)
result = ddpg.run(config, jax.random.split(jax.random.key(0), 4))
final = np.asarray(result.curve.final_return)
print("greedy return per seed: " + " ".join(f"{r:.1f}" for r in final))
