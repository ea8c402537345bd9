"""Slide "Deep deterministic policy gradient (DDPG)": an actor π(s; θ) and a critic
Q(s, a; w), the critic on the target y = r + γ Q'(s', π'(s')), the actor up the critic's
gradient ∇_a Q(s, a) ∇_θ π(s), soft-updated targets, exploration noise (Lillicrap 2016).

The course's pendulum with [cos q, sin q, v] observations and a torque in ±2, 100-step
episodes (the practical's budget: 100 k steps), 4 seeds; then TD3 (Fujimoto 2018), the
same with three switches: twin critics (the smaller target), a delayed actor, noise on
the target action. Prints each one's greedy return per seed from random starts (an
episode hanging still, u = 0, gives -49.4) and draws both learning curves (figure
``ddpg_td3_pendulum``).

    python examples/06_ddpg_pendulum.py      (JAXRL_EXAMPLES_QUICK=1: a short run)
"""

import os

import jax
import numpy as np
from _figures import curves

from jaxrl.deep import ddpg
from jaxrl.presets import preset

quick = os.environ.get("JAXRL_EXAMPLES_QUICK") == "1"
config, what = preset("ddpg", "Pendulum")
if quick:
    config = config.replace(total_steps=600, learning_starts=200, eval_every=300,
                            eval_episodes=2, hidden_sizes=(16, 16))
print(what)
configs = {"DDPG": config,
           "TD3": config.replace(num_critics=2, policy_delay=2, target_noise=0.2,
                                 target_noise_clip=0.5)}  # ddpg_setup.td3_config's switches
returns = {}
for name, c in configs.items():
    result = ddpg.run(c, jax.random.split(jax.random.key(0), 4))
    returns[name] = (result.curve.env_steps[0], np.asarray(result.curve.eval_return).mean(2))
    final = np.asarray(result.curve.final_return)
    print(f"{name:4}: greedy return per seed: " + " ".join(f"{r:.1f}" for r in final))
curves("ddpg_td3_pendulum", "Course pendulum: DDPG and TD3 (4 seeds each)", returns)
