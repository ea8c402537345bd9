"""Slides "Q-learning with a neural network" and "Deep Q-network (DQN)".

The naive version replaces the table by a network trained on the current transition,
with a target from the same parameters; DQN adds a replay memory and a target network
(Mnih et al. 2015). Both on CartPole-v1, 4 seeds each: the naive one collapses, DQN
balances the pole (500 is the most an episode can give). Draws both learning curves
(figure ``nnq_vs_dqn``).

    python examples/05_nnq_vs_dqn.py      (JAXRL_EXAMPLES_QUICK=1: a short run)
"""

import os

import jax
import numpy as np
from _figures import curves

from jaxrl.deep import dqn, nnq

quick = os.environ.get("JAXRL_EXAMPLES_QUICK") == "1"
steps = 2_000 if quick else 100_000
keys = jax.random.split(jax.random.key(0), 4)
naive = nnq.run(nnq.NNQConfig(total_steps=steps, num_envs=10, eval_every=steps // 10,
                              eval_episodes=4), keys)
deep = dqn.run(dqn.DQNConfig(total_steps=steps, eval_every=steps // 10,
                             learning_starts=min(5_000, steps // 2),
                             exploration_steps=min(30_000, steps * 3 // 10),
                             eval_episodes=4), keys)
returns = {}
for name, result in (("naive NN-Q", naive), ("DQN", deep)):
    returns[name] = (result.curve.env_steps[0], np.asarray(result.curve.eval_return).mean(2))
    curve = returns[name][1].mean(0)
    print(f"{name:10}: greedy return over training " + " ".join(f"{r:5.1f}" for r in curve))
curves("nnq_vs_dqn", "CartPole-v1: Q-learning with a network, naive and DQN", returns)
