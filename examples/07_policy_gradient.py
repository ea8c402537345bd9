"""The lecture's last slide: "learn directly the policy (use policy gradient)".

No value of actions to maximise: the policy π(a|s; θ) itself is the network, moved up
the gradient of its return. REINFORCE (Williams 1992) takes the slide's step
θ ← θ + α ∇θ log π(A_t|S_t) (G_t − b(S_t)) on Monte-Carlo returns G_t with a learned
baseline b; PPO (Schulman et al. 2017) reuses each rollout for several clipped steps.
Both on CartPole-v1, 4 seeds each, at their default budgets; prints the mean greedy
return over training (500 is the most an episode can give) and draws both curves
(figure ``reinforce_vs_ppo``).

    python examples/07_policy_gradient.py      (JAXRL_EXAMPLES_QUICK=1: a short run)
"""

import os

import jax
import numpy as np
from _figures import curves

from jaxrl.deep import ppo, reinforce

quick = os.environ.get("JAXRL_EXAMPLES_QUICK") == "1"
keys = jax.random.split(jax.random.key(0), 4)
configs = {"REINFORCE": reinforce.ReinforceConfig(), "PPO": ppo.PPOConfig()}
if quick:
    configs = {"REINFORCE": configs["REINFORCE"].replace(total_steps=4_000, eval_every=2_000,
                                                         eval_episodes=2),
               "PPO": configs["PPO"].replace(total_steps=4_096, eval_every=2_048,
                                             eval_episodes=2)}
returns = {}
for (name, config), module in zip(configs.items(), (reinforce, ppo), strict=True):
    result = module.run(config, keys)
    steps = np.asarray(result.curve.env_steps)[0]
    returns[name] = (steps, np.asarray(result.curve.eval_return).mean(2))
    curve = returns[name][1].mean(0)
    print(f"{name:9}: {config.total_steps} steps, greedy return every {steps[1]} steps: "
          + " ".join(f"{r:5.1f}" for r in curve))
curves("reinforce_vs_ppo", "CartPole-v1: policy gradients (4 seeds each)", returns)
