"""Slide "Q-learning with a table": Q(S,A) <- (1-α) Q(S,A) + α (C + γ min_A' Q(S',A')).

The course's practical: the pendulum discretised into 380 states and 9 torques, α 0.85,
γ 0.99, noisy-argmax exploration, 500 episodes of 50 steps. Eight seeds in one vmapped
call; evaluates every 25 episodes and prints, every 100, max |Q - Q*| against planning's
optimum and the share of states from which the greedy policy swings the pendulum up;
draws that share (figure ``tabular_q_pendulum``).

    python examples/04_tabular_q_pendulum.py      (JAXRL_EXAMPLES_QUICK=1: a short run)
"""

import os

import jax
import numpy as np
from _figures import one_curve

from jaxrl.tabular.qlearning import QLearningConfig, train

quick = os.environ.get("JAXRL_EXAMPLES_QUICK") == "1"
episodes = 50 if quick else 500
config = QLearningConfig(episodes=episodes, eval_every_episodes=episodes // 20)
keys = jax.random.split(jax.random.key(0), 8)
state, metrics = jax.jit(jax.vmap(lambda k: train(config, k)))(keys)
for episode, error, success in zip(np.asarray(metrics.eval_episode)[0, ::4],
                                   np.asarray(metrics.q_error).mean(0)[::4],
                                   np.asarray(metrics.greedy_success).mean(0)[::4], strict=True):
    print(f"episode {int(episode):4d}: max |Q - Q*| {error:6.2f}, "
          f"greedy policy swings up from {100 * success:5.1f}% of the states")

one_curve("tabular_q_pendulum", "Tabular Q-learning on DiscretePendulum (8 seeds)",
          np.asarray(metrics.eval_episode)[0], 100 * np.asarray(metrics.greedy_success),
          "states the greedy policy swings up from (%)", xlabel="episodes (50 steps each)")
