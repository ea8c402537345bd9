"""Learning with networks: naive NN Q-learning, DQN, then DDPG (and TD3 by switches).

* :mod:`jaxrl.deep.networks`: flax modules: the Q-network, DDPG's actor and critic;
* :mod:`jaxrl.deep.replay`: the replay memory ``D``, a ring-buffer pytree;
* :mod:`jaxrl.deep.exploration`: ε-greedy with a linear schedule, the course's
  ``disturb``, Gaussian and Ornstein–Uhlenbeck noise;
* :mod:`jaxrl.deep.nnq`: the table replaced by a network, no replay, no target;
* :mod:`jaxrl.deep.dqn`: DQN (replay memory + target network), double-DQN by a switch;
* :mod:`jaxrl.deep.ddpg`: DDPG (actor + critic, soft targets), TD3 by switches.

All run through the generic driver :mod:`jaxrl.driver`.
"""
