"""The learners by name, and the configs jaxrl ships for (algorithm, environment) pairs.

``jaxrl train ALGO --env ENV`` starts from :func:`preset` ``(ALGO, ENV)``; the
benchmarks measure the same configs. A pair with no preset starts from the algorithm's
defaults with ``env`` replaced (``preset`` says so).

Importing this module imports no learner: :func:`algorithm` does, on demand.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class Learner:
    """A learner by name: its module (``ALGORITHM``, ``run``, the config class), the
    config class's name, the config's defaults (``defaults`` names a function of the
    module that returns them, else the class's own), and the field that is its budget."""

    module: str
    config: str
    help: str
    budget: str = "total_steps"
    defaults: str | None = None

    def load(self) -> ModuleType:
        """The learner's module."""
        return importlib.import_module(self.module)

    def default_config(self) -> Any:
        """The config with the learner's defaults."""
        module = self.load()
        return getattr(module, self.defaults or self.config)()


LEARNERS: dict[str, Learner] = {
    "qlearning": Learner("jaxrl.tabular.qlearning", "QLearningConfig",
                         "tabular Q-learning (the course's pendulum practical)",
                         budget="episodes"),
    "mbrl": Learner("jaxrl.tabular.model_based", "ModelBasedConfig",
                    "tabular model-based RL: count model + value iteration"),
    "nnq": Learner("jaxrl.deep.nnq", "NNQConfig", "naive Q-learning with a network"),
    "pqn": Learner("jaxrl.deep.pqn", "PQNConfig",
                   "PQN: NN-Q made stable (parallel envs, Q(lambda), LayerNorm; no replay)"),
    "dqn": Learner("jaxrl.deep.dqn", "DQNConfig", "DQN: replay memory + target network"),
    "ddpg": Learner("jaxrl.deep.ddpg", "DDPGConfig", "DDPG: actor + critic, continuous actions"),
    "mpc": Learner("jaxrl.deep.mpc", "MPCConfig",
                   "model-based RL: a learned dynamics model + MPC (cross-entropy method)"),
    "td3": Learner("jaxrl.deep.ddpg", "DDPGConfig",
                   "TD3: DDPG with twin critics, policy delay and target smoothing",
                   defaults="td3_config"),
    "reinforce": Learner("jaxrl.deep.reinforce", "ReinforceConfig",
                         "REINFORCE: Monte-Carlo policy gradient with a learned baseline"),
    "ppo": Learner("jaxrl.deep.ppo", "PPOConfig",
                   "PPO: clipped surrogate, GAE(lambda), minibatch epochs"),
    "sac": Learner("jaxrl.deep.sac", "SACConfig",
                   "SAC: soft actor-critic, learned temperature (continuous or discrete actions)"),
}


def _course_hybrid(dqn: ModuleType) -> Any:
    # The course's DQN practical on HybridPendulum: (32, 32) ReLU, Adam 1e-3, MSE,
    # soft τ = 0.01 every step, replay 10k, batch 64; greedy on θ (no average).
    return dqn.DQNConfig(
        env="HybridPendulum", total_steps=60_000, num_envs=1, buffer_size=10_000,
        learning_starts=64, batch_size=64, updates_per_step=1, target_update_every=1,
        tau=0.01, exploration_steps=30_000, epsilon_end=0.05, hidden_sizes=(32, 32),
        activation="relu", dueling=False, double=False, loss="l2", learning_rate=1e-3,
        learning_rate_end=None, eval_every=10_000, eval_episodes=16, average_step=1.0,
    )


def _minatar_pqn(pqn: ModuleType, env: str) -> Any:
    # purejaxql's PQN settings for the MinAtar games, on a (256, 256) MLP.
    return pqn.PQNConfig(env=env, num_envs=128, num_steps=32, num_minibatches=32,
                         update_epochs=2, hidden_sizes=(256, 256), learning_rate=5e-4,
                         q_lambda=0.65, reward_scale=1.0, epsilon_end=0.05,
                         exploration_steps=200_000, total_steps=2_000_000,
                         eval_every=200_000)


def _course_ddpg(ddpg: ModuleType) -> Any:
    # DDPGConfig() with two changes found on tuning seeds (keys 1000 and 2000, 8 each,
    # 100k steps): exploration σ 0.2 instead of 0.1, both step sizes decaying to 1e-5.
    # Holding upright within 0.1 rad: 4 of 8 tuning seeds with DDPGConfig(), 12 of 16
    # with these (README, "DDPG on the course's pendulum").
    return ddpg.DDPGConfig(
        env="Pendulum", env_options=(("sincos", True),), total_steps=100_000,
        exploration_noise=0.2, actor_learning_rate_end=1e-5, critic_learning_rate_end=1e-5,
    )


def _course_sac(sac: ModuleType) -> Any:
    # SACConfig() on the DDPG practical's pendulum and budget (100k steps, D holds them all).
    return sac.SACConfig(env="Pendulum", env_options=(("sincos", True),), total_steps=100_000,
                         buffer_size=100_000, eval_every=10_000)


def _mountain_car_sac(sac: ModuleType) -> Any:
    # 999-step episodes, reward 100 at the flag less the actions' squares. White acting
    # noise shakes the car in place and the policy settles on doing nothing (mean -0.004
    # over 16 seeds at 50k steps); noise correlated over ~50 steps (ρ 0.98) drives it up
    # the hill (mean 94.7, 8 tuning seeds, key 0).
    return sac.SACConfig(env="MountainCarContinuous-v0", total_steps=50_000,
                         buffer_size=50_000, learning_starts=5_000, batch_size=256,
                         noise_correlation=0.98, eval_every=10_000)


def _cartpole_sac(sac: ModuleType) -> Any:
    # Close to rejax's cartpole.yaml `sac:` (5 envs, 2 updates per step, batch 256,
    # τ 0.05, H̄ = 0.7 log 2, tanh), 50k steps.
    return sac.SACConfig(env="CartPole-v1", total_steps=50_000, num_envs=5,
                         buffer_size=10_000, batch_size=256, updates_per_step=2,
                         activation="tanh", tau=0.05, target_entropy=0.7 * 0.6931471805599453,
                         eval_every=10_000)


#: ``(algorithm, environment) -> (what it is, the config from the learner's module)``.
PRESETS: dict[tuple[str, str], tuple[str, Any]] = {
    ("qlearning", "DiscretePendulum"): (
        "the course practical: α 0.85, γ 0.99, noisy argmax, 500 episodes of 50 steps",
        lambda m: m.QLearningConfig(eval_every_episodes=50)),
    ("qlearning", "Maze"): (
        "the lecture's maze, ε-greedy 0.1, 200 episodes of 20 steps",
        lambda m: m.QLearningConfig(env="Maze", episodes=200, max_steps=20,
                                    exploration="epsilon_greedy", eval_every_episodes=20)),
    ("mbrl", "DiscretePendulum"): (
        "novelty exploration, one successor slot (deterministic), 5k steps",
        lambda m: m.ModelBasedConfig(total_steps=5_000, eval_every=100,
                                     exploration="novelty", epsilon=0.0, successors=1,
                                     plan_sweeps=50)),
    ("mbrl", "Maze"): (
        "the lecture's maze from random starts, R-max (rmax 1), 500 steps",
        lambda m: m.ModelBasedConfig(env="Maze", env_options=(("start_state", -1),),
                                     total_steps=500, eval_every=50, gamma=0.9, rmax=1.0,
                                     epsilon=0.0)),
    ("mbrl", "FrozenLake-misc"): (
        "slippery 4x4, R-max (m = 20 tries), 20k steps",
        lambda m: m.ModelBasedConfig(env="FrozenLake-misc", total_steps=20_000,
                                     num_envs=4, eval_every=2_000, successors=3,
                                     rmax=1.0, known_after=20, epsilon=0.0, gamma=0.95)),
    ("nnq", "CartPole-v1"): (
        "naive Q-learning, 10 envs, 100k steps (the benchmark's)",
        lambda m: m.NNQConfig(total_steps=100_000, num_envs=10, eval_every=10_000)),
    ("nnq", "DiscretePendulum"): (
        "the course's deeptable practical: one-hot linear Q, SGD 0.1",
        lambda m: m.deeptable_config()),
    ("dqn", "CartPole-v1"): (
        "DQNConfig(): tuned on CartPole-v1, 100k steps", lambda m: m.DQNConfig()),
    ("dqn", "Acrobot-v1"): (
        "DQNConfig() on Acrobot-v1, 100k steps", lambda m: m.DQNConfig(env="Acrobot-v1")),
    ("dqn", "HybridPendulum"): (
        "the course's DQN practical: (32, 32) ReLU, soft τ 0.01, 60k steps", _course_hybrid),
    ("ddpg", "Pendulum-v1"): (
        "DDPGConfig(): tuned on Pendulum-v1, 20k steps", lambda m: m.DDPGConfig()),
    ("ddpg", "Pendulum"): (
        "the course's DDPG practical: [cos q, sin q, v], σ 0.2, 100k steps", _course_ddpg),
    ("mpc", "Pendulum"): (
        "MPCConfig(): [cos q, sin q, v], 2k random + 1k planned steps, CEM over 30 steps",
        lambda m: m.MPCConfig()),
    ("td3", "Pendulum-v1"): (
        "td3_config(): DDPG's defaults with TD3's switches, 20k steps",
        lambda m: m.td3_config()),
    ("pqn", "CartPole-v1"): (
        "PQNConfig(): tuned on CartPole-v1, 32 envs x 64 steps, 300k steps",
        lambda m: m.PQNConfig()),
    ("pqn", "Acrobot-v1"): (
        "4 epochs, Adam 1e-3, ε to 0.05 over 30k steps, 300k steps",
        lambda m: m.PQNConfig(env="Acrobot-v1", update_epochs=4, learning_rate=1e-3,
                              epsilon_end=0.05, exploration_steps=30_000)),
    **{("pqn", f"{game}-MinAtar"): (
        "purejaxql's MinAtar settings (128 envs x 32 steps, λ 0.65, lr 5e-4) on an MLP, 2M steps",
        lambda m, game=game: _minatar_pqn(m, f"{game}-MinAtar"))
       for game in ("Breakout", "SpaceInvaders", "Asterix", "Freeway")},
    ("pqn", "HybridPendulum"): (
        "the course's hybrid pendulum: 16 envs x 32 steps, γ 0.95, λ 0.9, Adam 1e-3, 300k steps",
        lambda m: m.PQNConfig(env="HybridPendulum", num_envs=16, num_steps=32,
                              num_minibatches=8, update_epochs=4, learning_rate=1e-3,
                              gamma=0.95, q_lambda=0.9, epsilon_end=0.05,
                              exploration_steps=60_000, eval_every=50_000)),
    ("reinforce", "CartPole-v1"): (
        "ReinforceConfig(): tuned on CartPole-v1, 4 envs x 500 steps, 300k steps",
        lambda m: m.ReinforceConfig()),
    ("reinforce", "Acrobot-v1"): (
        "normalised advantages, entropy 0.01, Adam 3e-3 without decay, 300k steps",
        lambda m: m.ReinforceConfig(env="Acrobot-v1", normalize_advantages=True,
                                    ent_coef=0.01, learning_rate=3e-3,
                                    learning_rate_end=None)),
    ("reinforce", "Pendulum-v1"): (
        "pendulum_config(): a Gaussian policy (REINFORCE does not solve it)",
        lambda m: m.pendulum_config()),
    ("reinforce", "Pendulum"): (
        "the course's pendulum, [cos q, sin q, v], 2 envs x 100 steps, γ 0.95, 500k steps",
        lambda m: m.ReinforceConfig(env="Pendulum", env_options=(("sincos", True),),
                                    total_steps=500_000, num_envs=2, num_steps=100,
                                    eval_every=50_000, normalize_advantages=True,
                                    gamma=0.95, learning_rate=3e-3,
                                    learning_rate_end=None)),
    ("ppo", "CartPole-v1"): (
        "PPOConfig(): PureJaxRL's CartPole config, 500k steps", lambda m: m.PPOConfig()),
    ("ppo", "Pendulum-v1"): (
        "pendulum_config(): Gaussian policy, 16 envs x 128 steps, normalised observations, "
        "1M steps", lambda m: m.pendulum_config()),
    ("ppo", "Acrobot-v1"): (
        "PPOConfig() on Acrobot-v1, 500k steps", lambda m: m.PPOConfig(env="Acrobot-v1")),
    ("ppo", "Pendulum"): (
        "the course's pendulum, [cos q, sin q, v]: pendulum_config() with γ 0.99, 500k steps",
        lambda m: m.pendulum_config().replace(env="Pendulum", env_options=(("sincos", True),),
                                              total_steps=500_000, eval_every=50_000,
                                              gamma=0.99)),
    ("sac", "Pendulum-v1"): (
        "SACConfig(): tuned on Pendulum-v1, 20k steps", lambda m: m.SACConfig()),
    ("sac", "Pendulum"): (
        "the course's pendulum, [cos q, sin q, v]: SACConfig(), 100k steps", _course_sac),
    ("sac", "MountainCarContinuous-v0"): (
        "SACConfig() with acting noise correlated over ~50 steps (ρ 0.98), 50k steps",
        _mountain_car_sac),
    ("sac", "CartPole-v1"): (
        "discrete SAC: 5 envs, 2 updates per step, H̄ 0.7 log 2, τ 0.05, 50k steps",
        _cartpole_sac),
    ("sac", "HybridPendulum"): (
        "discrete SAC on the course's hybrid pendulum (9 torques), 100k steps",
        lambda m: m.SACConfig(env="HybridPendulum", total_steps=100_000,
                              buffer_size=100_000, eval_every=10_000)),
}


def default_env(algo: str) -> str:
    """The environment of ``algo``'s first preset."""
    return next(env for a, env in PRESETS if a == algo)


def preset(algo: str, env: str | None = None) -> tuple[Any, str]:
    """``(config, what it is)`` for ``algo`` on ``env`` (default: its first preset):
    the preset where jaxrl ships one, else the learner's defaults with ``env`` replaced."""
    learner = LEARNERS[algo]
    env = env or default_env(algo)
    if (algo, env) in PRESETS:
        text, build = PRESETS[algo, env]
        return build(learner.load()), f"preset {algo}/{env}: {text}"
    config = learner.default_config()
    dropped = ""
    if config.env_options:  # options of the defaults' environment, not of this one
        dropped = f", without {config.env}'s env_options"
        config = config.replace(env_options=())
    return config.replace(env=env), (
        f"no preset for {algo} on {env}: {learner.config} defaults (tuned for "
        f"{default_env(algo)}) with env={env}{dropped}")
