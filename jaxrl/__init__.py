"""jaxrl: reinforcement learning in pure JAX, from Bellman's equation to DDPG.

The package follows the lecture "Introduction to Deep Reinforcement Learning"
(Righetti & Mansard): tabular planning (:mod:`jaxrl.tabular.planning`), tabular
Q-learning, Q-learning with a network, DQN and DDPG. The names below are imported on
first use, so that ``import jaxrl`` (and ``jaxrl --help``) does not start JAX.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_NAMES = {
    "make": "jaxrl.envs.registry", "registered_envs": "jaxrl.envs.registry",
    "TabularMDP": "jaxrl.mdp", "PlanningResult": "jaxrl.tabular.planning",
    "policy_evaluation": "jaxrl.tabular.planning", "policy_iteration": "jaxrl.tabular.planning",
    "value_iteration": "jaxrl.tabular.planning", "load": "jaxrl.runs",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'jaxrl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_NAMES])
