"""Slide "Q-learning with a neural network", made stable without replay memory or target
network: PQN (Gallici et al., ICLR 2025).

Naive NN-Q (example 05) learns online on the transitions it has just made, and
collapses. PQN keeps that online learning, but over 32 parallel environments, with
Q(λ) targets computed backwards over 64-step rollouts and a LayerNorm in each hidden
layer; the same PQN without LayerNorm is the ablation. All three on CartPole-v1,
300 k steps, 4 seeds each; prints the mean greedy return every 30 k steps (500 is the
most an episode can give) and draws the three curves (figure ``pqn_cartpole``).

    python examples/09_pqn_cartpole.py      (JAXRL_EXAMPLES_QUICK=1: a short run)
"""

import os

import jax
import numpy as np
from _figures import curves

from jaxrl.deep import nnq, pqn
from jaxrl.presets import preset

quick = os.environ.get("JAXRL_EXAMPLES_QUICK") == "1"
budget = dict(total_steps=300_000, eval_every=30_000)
naive = preset("nnq", "CartPole-v1")[0].replace(**budget)
stable = pqn.PQNConfig(**budget)
if quick:
    budget = dict(total_steps=4_096, eval_every=2_048, eval_episodes=2)
    naive = naive.replace(**budget, exploration_steps=1_000)
    stable = stable.replace(**budget, num_envs=8, num_steps=16, num_minibatches=2,
                            update_epochs=1, exploration_steps=1_000)
learners = {"naive NN-Q": (nnq, naive), "PQN (LayerNorm)": (pqn, stable),
            "PQN without LayerNorm": (pqn, stable.replace(layer_norm=False))}
keys = jax.random.split(jax.random.key(0), 4)
returns = {}
for name, (module, config) in learners.items():
    result = module.run(config, keys)
    returns[name] = (result.curve.env_steps[0], np.asarray(result.curve.eval_return).mean(2))
    print(f"{name:21}: " + " ".join(f"{r:5.1f}" for r in returns[name][1].mean(0)))
curves("pqn_cartpole", "CartPole-v1: online Q-learning with a network, naive and PQN",
       returns)
