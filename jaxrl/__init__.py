"""jaxrl: reinforcement learning in pure JAX, from Bellman's equation to DDPG.

The package follows the lecture "Introduction to Deep Reinforcement Learning"
(Righetti & Mansard): tabular planning (:mod:`jaxrl.tabular.planning`), tabular
Q-learning, Q-learning with a network, DQN and DDPG.
"""

from jaxrl.envs.registry import make, registered_envs
from jaxrl.mdp import TabularMDP
from jaxrl.tabular.planning import (
    PlanningResult,
    policy_evaluation,
    policy_iteration,
    value_iteration,
)

__version__ = "0.1.0"

__all__ = [
    "PlanningResult",
    "TabularMDP",
    "make",
    "policy_evaluation",
    "policy_iteration",
    "registered_envs",
    "value_iteration",
]
