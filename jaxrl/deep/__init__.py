"""Learning with networks: naive NN Q-learning and PQN, DQN, DDPG (and TD3 by switches),
learned-model MPC, then the policy gradients (REINFORCE, PPO) and SAC.

* :mod:`jaxrl.deep.networks`: flax modules: the Q-network, DDPG's actor and critic;
* :mod:`jaxrl.deep.replay`: the replay memory ``D``, a ring-buffer pytree;
* :mod:`jaxrl.deep.exploration`: ε-greedy with a linear schedule, the course's
  ``disturb``, Gaussian and Ornstein–Uhlenbeck noise;
* :mod:`jaxrl.deep.rollout`: on-policy rollouts of many environments (PQN, REINFORCE, PPO);
* :mod:`jaxrl.deep.nnq`: the table replaced by a network, no replay, no target;
* :mod:`jaxrl.deep.pqn`: the same online Q-learning made stable: parallel environments,
  Q(λ) targets, LayerNorm (Gallici et al. 2025);
* :mod:`jaxrl.deep.dqn`: DQN (replay memory + target network), double-DQN by a switch;
* :mod:`jaxrl.deep.ddpg`: DDPG (actor + critic, soft targets), TD3 by switches;
* :mod:`jaxrl.deep.mpc`: a learned dynamics model and model-predictive control;
* :mod:`jaxrl.deep.policies`: softmax and Gaussian policies with a value head;
* :mod:`jaxrl.deep.reinforce`: Monte-Carlo policy gradient with a learned baseline;
* :mod:`jaxrl.deep.ppo`: PPO (clipped surrogate, GAE(λ), minibatch epochs);
* :mod:`jaxrl.deep.sac`: SAC, DDPG's maximum-entropy successor (the squashed Gaussian
  or, for discrete actions, a softmax policy; twin critics; the learned temperature).

All run through the generic driver :mod:`jaxrl.driver`.
"""
