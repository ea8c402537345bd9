"""Slide "Model-based reinforcement learning": sample the world, learn a model, then do
optimal control.

Between planning (the model known) and Q-learning (no model at all): the pendulum of
the practical, 380 states and 9 torques, its model unknown. Count the transitions seen,
``P̂(s'|s, a) = N(s, a, s') / N(s, a)``, and plan on ``P̂`` with value iteration, the
planner of examples 01-02; explore by the novelty rule (a pair never tried is worth,
once, the estimated chance that it arrives somewhere new). Eight seeds; prints, every
500 steps, how much of the model has been seen, how far its plan is from the true
optimum and the share of states from which the greedy plan swings the pendulum up
(Q-learning, example 04, needs about 11 k steps to reach 99 %). Draws that share against
the steps beside tabular Q-learning's on 300 episodes of 50 steps, the same eight seeds
(figure ``model_based_vs_q_learning``).

    python examples/03_model_based_pendulum.py      (JAXRL_EXAMPLES_QUICK=1: a short run)
"""

import os

import jax
import numpy as np
from _figures import curves

from jaxrl import presets
from jaxrl.tabular import qlearning
from jaxrl.tabular.model_based import run

quick = os.environ.get("JAXRL_EXAMPLES_QUICK") == "1"
config, what = presets.preset("mbrl", "DiscretePendulum")  # novelty rule, 5 k steps
config = config.replace(total_steps=1_000 if quick else 5_000, eval_every=500)
print(what)
keys = jax.random.split(jax.random.key(0), 8)
result = run(config, keys)
evaluation = result.curve.evaluation
mean = {name: np.asarray(values).mean(0) for name, values in evaluation.items()}
for i, steps in enumerate(np.asarray(result.curve.env_steps[0])):
    print(f"{int(steps):5d} steps: model seen {100 * mean['coverage'][i]:5.1f}% "
          f"(max |P̂ - P| {float(evaluation['model_error'][:, i].max()):.0f}), "
          f"max |Q - Q*| {mean['q_error'][i]:5.2f}, greedy plan swings up from "
          f"{100 * mean['greedy_success'][i]:5.1f}% of the states")

q_config = qlearning.QLearningConfig(episodes=20 if quick else 300, eval_every_episodes=10)
_, q = jax.jit(jax.vmap(lambda k: qlearning.train(q_config, k)))(keys)
grid = np.arange(0, 12_001, 500)  # Q-learning's episodes end at the goal: its seeds'
q_steps, q_success = np.asarray(q.env_steps), np.asarray(q.greedy_success)  # steps differ
q_success = np.stack([np.interp(grid, q_steps[i], q_success[i]) for i in range(len(keys))])
curves("model_based_vs_q_learning", "DiscretePendulum: a learned model, or none (8 seeds)",
       {"model-based (novelty rule)": (result.curve.env_steps[0],
                                       evaluation["greedy_success"]),
        "tabular Q-learning": (grid, q_success)}, metric="swing-up share")
