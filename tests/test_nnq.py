"""Naive NN Q-learning: the one-hot linear network is the Q-table; the course's deeptable."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrl.deep import nnq
from jaxrl.envs.wrappers import Transition


def test_one_hot_linear_sgd_step_is_a_table_update():
    """SGD lr on (y - q)² with Q(x) = onehot(x)·W moves W[x, u] by 2·lr·(y - W[x, u])."""
    config = nnq.deeptable_config()
    setup = nnq.make(config)
    state = nnq.init(setup, config, jax.random.key(0))
    w = np.asarray(state.params["params"]["Dense_0"]["kernel"])
    assert w.shape == (380, 9) and w.min() >= 0 and w.max() <= 0.01
    batch = Transition(obs=jnp.array([7]), action=jnp.array([3]), reward=jnp.array([1.0]),
                       next_obs=jnp.array([11]), terminated=jnp.array([False]),
                       truncated=jnp.array([False]))
    params, _, _ = nnq.update_q(setup, config, state, batch)
    new = np.asarray(params["params"]["Dense_0"]["kernel"])
    target = 1.0 + 0.99 * w[11].max()
    expected = w.copy()
    expected[7, 3] += 2 * 0.1 * (target - w[7, 3])
    np.testing.assert_allclose(new, expected, rtol=1e-6, atol=1e-8)


def test_target_stops_at_termination():
    config = nnq.deeptable_config()
    setup = nnq.make(config)
    state = nnq.init(setup, config, jax.random.key(0))
    batch = Transition(obs=jnp.array([7]), action=jnp.array([3]), reward=jnp.array([1.0]),
                       next_obs=jnp.array([190]), terminated=jnp.array([True]),
                       truncated=jnp.array([False]))
    w = np.asarray(state.params["params"]["Dense_0"]["kernel"])
    params, _, _ = nnq.update_q(setup, config, state, batch)
    new = np.asarray(params["params"]["Dense_0"]["kernel"])
    assert new[7, 3] == pytest.approx(w[7, 3] + 0.2 * (1.0 - w[7, 3]), rel=1e-6)


def test_deeptable_runs_and_scores():
    success, greedy = jax.vmap(lambda k: nnq.deeptable(k, episodes=100))(
        jax.random.split(jax.random.key(0), 2))
    assert success.shape == (2,) and greedy.shape == (2,)
    assert np.all((0 <= np.asarray(success)) & (np.asarray(success) <= 1))
    assert np.all((0 <= np.asarray(greedy)) & (np.asarray(greedy) <= 1))


def test_nnq_cartpole_runs_through_the_driver():
    config = nnq.NNQConfig(total_steps=4_000, num_envs=4, eval_every=2_000, eval_episodes=4)
    result = nnq.run(config, jax.random.split(jax.random.key(0), 2))
    assert result.curve.eval_return.shape == (2, 3, 4)
    assert np.isfinite(np.asarray(result.curve.train["loss"])).all()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"env": "Pendulum-v1"}, "DDPG"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"gamma": 2.0}, r"gamma \(γ\) must be in \[0, 1\]"),
        ({"exploration": "boltzmann"}, "exploration must be one of"),
    ],
)
def test_bad_input_raises_clear_error(changes, message):
    with pytest.raises(ValueError, match=message):
        nnq.train(nnq.NNQConfig(**changes), jax.random.key(0))
