"""Slides "Q-learning with a neural network" and "Deep Q-network (DQN)".

The naive version replaces the table by a network trained on the current transition,
with a target from the same parameters; DQN adds a replay memory and a target network
(Mnih et al. 2015). Both on CartPole-v1, 4 seeds each: the naive one collapses, DQN
balances the pole (500 is the most an episode can give).

    python examples/04_nnq_vs_dqn.py      (JAXRL_EXAMPLES_QUICK=1: a short run)
"""

import os

import jax
import numpy as np

from jaxrl.deep import dqn, nnq

quick = os.environ.get("JAXRL_EXAMPLES_QUICK") == "1"
steps = 2_000 if quick else 100_000
keys = jax.random.split(jax.random.key(0), 4)
naive = nnq.run(nnq.NNQConfig(total_steps=steps, num_envs=10, eval_every=steps // 4,
                              eval_episodes=4), keys)
deep = dqn.run(dqn.DQNConfig(total_steps=steps, eval_every=steps // 4,
                             learning_starts=min(5_000, steps // 2),
                             exploration_steps=min(30_000, steps * 3 // 10),
                             eval_episodes=4), keys)
for name, result in (("naive NN-Q", naive), ("DQN", deep)):
    curve = np.asarray(result.curve.eval_return).mean((0, 2))
    print(f"{name:10}: greedy return over training " + " ".join(f"{r:6.1f}" for r in curve))
