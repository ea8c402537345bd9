"""Learning with networks: the lecture's naive NN Q-learning, then DQN.

* :mod:`jaxrl.deep.networks`: flax modules (the Q-network; room for DDPG's actor and
  critic);
* :mod:`jaxrl.deep.replay`: the replay memory ``D``, a ring-buffer pytree;
* :mod:`jaxrl.deep.exploration`: ε-greedy with a linear schedule, the course's
  ``disturb``;
* :mod:`jaxrl.deep.nnq`: the table replaced by a network, no replay, no target;
* :mod:`jaxrl.deep.dqn`: DQN (replay memory + target network), double-DQN by a switch.

Both learners run through the generic driver :mod:`jaxrl.train`.
"""
