"""Configs check their values when they are made: on construction, on ``replace``, and
every value of a stacked (swept) config; traced and abstract values pass through."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrl import presets
from jaxrl.deep.ddpg import DDPGConfig
from jaxrl.deep.dqn import DQNConfig
from jaxrl.deep.mpc import MPCConfig
from jaxrl.deep.nnq import NNQConfig
from jaxrl.deep.ppo import PPOConfig
from jaxrl.deep.pqn import PQNConfig
from jaxrl.deep.reinforce import ReinforceConfig
from jaxrl.deep.sac import SACConfig
from jaxrl.devices import use_cpu_cores
from jaxrl.sweep import sweep
from jaxrl.tabular.model_based import ModelBasedConfig
from jaxrl.tabular.qlearning import QLearningConfig

BAD = [
    (DQNConfig, {"learning_rate": -1.0}, "learning_rate must be > 0, got -1.0"),
    (DQNConfig, {"gamma": 1.5}, "gamma (γ) must be in [0, 1], got 1.5"),
    (DQNConfig, {"batch_size": 200, "buffer_size": 100}, "larger than the replay memory"),
    (DQNConfig, {"loss": "l1"}, "loss must be one of"),
    (DQNConfig, {"max_grad_norm": float("nan")}, "max_grad_norm must be > 0, got nan"),
    (NNQConfig, {"epsilon_end": 2.0}, "epsilon_end must be in [0, 1], got 2.0"),
    (NNQConfig, {"kernel": "he"}, "kernel must be one of ('lecun', 'uniform001')"),
    (DQNConfig, {"hidden_sizes": (64, 0)}, "hidden_sizes must be positive integers, got (64, 0)"),
    (PPOConfig, {"conv_features": (-16,)}, "conv_features must be positive integers"),
    (NNQConfig, {"total_steps": 0}, "total_steps must be >= 1, got 0"),
    (DDPGConfig, {"tau": 0.0}, "tau must be in (0, 1]"),
    (DDPGConfig, {"exploration_noise": -0.1}, "exploration_noise must be >= 0 (a noise σ)"),
    (DDPGConfig, {"learning_starts": -1}, "learning_starts must be >= 0, got -1"),
    (QLearningConfig, {"learning_rate": 1.5}, "learning_rate (α) must be in (0, 1], got 1.5"),
    (QLearningConfig, {"episodes": 0}, "episodes must be >= 1, got 0"),
    (QLearningConfig, {"eval_every_episodes": -5}, "eval_every_episodes must be >= 0"),
    (ModelBasedConfig, {"total_steps": 0}, "total_steps must be >= 1, got 0"),
    (MPCConfig, {"horizon": 0}, "horizon must be >= 1, got 0"),
    (ModelBasedConfig, {"greedy_horizon": 0}, "greedy_horizon must be >= 1, got 0"),
    (ModelBasedConfig, {"rmax": float("inf")}, "rmax must be a finite number, got inf"),
    (ModelBasedConfig, {"exploration": "boltzmann"}, "exploration must be one of"),
    (PQNConfig, {"num_minibatches": 7}, "num_minibatches (7) must divide"),
    (PQNConfig, {"reward_scale": 0.0}, "reward_scale must be > 0, got 0.0"),
    (ReinforceConfig, {"num_steps": 0}, "num_steps must be >= 1, got 0"),
    (PPOConfig, {"num_minibatches": 3}, "num_minibatches (3) must divide"),
    (PPOConfig, {"clip_eps": 0.0}, "clip_eps must be > 0, got 0.0"),
    (SACConfig, {"alpha": 0.0}, "alpha must be > 0 (the temperature), got 0.0"),
    (SACConfig, {"tau": 1.5}, "tau must be in (0, 1]"),
    (SACConfig, {"log_std_min": 3.0}, "log_std_min (3.0) must be below log_std_max (2.0)"),
]


@pytest.mark.parametrize(("config_class", "values", "message"), BAD)
def test_a_bad_value_raises_when_the_config_is_made(config_class, values, message):
    with pytest.raises(ValueError) as made:
        config_class(**values)
    assert message in str(made.value) and "\n" not in str(made.value)
    with pytest.raises(ValueError) as replaced:
        config_class().replace(**values)
    assert str(replaced.value) == str(made.value)


@pytest.mark.parametrize("config_class", [DQNConfig, NNQConfig, DDPGConfig, QLearningConfig,
                                          ModelBasedConfig, MPCConfig, PQNConfig,
                                          ReinforceConfig, PPOConfig, SACConfig])
def test_the_defaults_are_valid(config_class):
    config = config_class()
    field = "gamma" if hasattr(config, "gamma") else "learning_rate"  # MPC: no discount
    assert getattr(config.replace(**{field: 0.5}), field) == 0.5


def test_every_swept_value_is_checked():
    config = DQNConfig(total_steps=2_000, learning_starts=500, eval_every=1_000)
    with pytest.raises(ValueError, match=r"learning_rate must be > 0, got -0.5"):
        sweep(config, learning_rate=[1e-3, 3e-3, -0.5])
    with pytest.raises(ValueError, match=r"tau must be in \(0, 1\].*, got 2.0"):
        sweep(DDPGConfig(), tau=[0.5, 2.0])
    # a stacked config made by hand, as jax.vmap of train takes one, is checked too
    with pytest.raises(ValueError, match=r"epsilon_end must be in \[0, 1\], got -1.0"):
        jax.tree.map(lambda *xs: jnp.stack(xs), config, config.replace(epsilon_end=0.1)
                     ).replace(epsilon_end=jnp.array([0.1, -1.0]))
    good = sweep(config, learning_rate=[1e-3, 3e-3])
    np.testing.assert_allclose(good.learning_rate, [1e-3, 3e-3])


def test_traced_and_abstract_configs_pass_through():
    config = sweep(DQNConfig(), learning_rate=[1e-3, 3e-3], gamma=[0.9, 0.99])
    # under jit and vmap the leaves are tracers; eval_shape's are ShapeDtypeStructs
    lr = jax.jit(jax.vmap(lambda c: c.learning_rate * c.gamma))(config)
    np.testing.assert_allclose(lr, [9e-4, 2.97e-3], rtol=1e-6)
    shapes = jax.eval_shape(lambda c: c, config)
    assert shapes.learning_rate.shape == (2,)
    assert jax.tree.map(lambda x: None, DQNConfig()).learning_rate is None


def test_use_cpu_cores_after_jax_started_says_so(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "")
    jax.devices()  # JAX's backends run
    with pytest.warns(RuntimeWarning, match="too late"):
        assert use_cpu_cores(2) is False
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=3")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a count the user gave is left alone, silently
        assert use_cpu_cores(2) is False


def test_a_value_that_is_no_number_is_one_line():
    with pytest.raises(ValueError, match=r"learning_rate must be a number, got '1e-3x'"):
        DQNConfig(learning_rate="1e-3x")
    with pytest.raises(ValueError, match=r"gamma \(γ\) must be a number"):
        NNQConfig(gamma="0.9x")


@pytest.mark.parametrize("name", sorted(f"{a}/{e}" for a, e in presets.PRESETS))
def test_every_preset_is_a_valid_run(name):
    """Each preset's config passes its checks and binds to its environment (``make``)."""
    algo, env = name.split("/")
    config, text = presets.preset(algo, env)
    assert config.env == env and text
    setup = presets.LEARNERS[algo].load().ALGORITHM.make(config)
    assert setup.schedule.calls >= 1
