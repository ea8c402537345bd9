"""The hot loop never leaves XLA: the compiled chunk of every learner, as :func:`run`
builds it (``vmap`` over seeds, ``jit`` with the carry donated), holds no host callback,
and its carry's buffers are donated."""

import re

import jax
import pytest

from jaxrl.deep import ddpg, dqn, nnq, ppo, pqn, reinforce, sac
from jaxrl.driver.seeds import _batched
from jaxrl.tabular import qlearning

LEARNERS = {
    "qlearning": (qlearning.ALGORITHM, qlearning.QLearningConfig(
        env="Maze", episodes=20, max_steps=20, eval_every_episodes=10)),
    "nnq": (nnq.ALGORITHM, nnq.NNQConfig(total_steps=400, eval_every=200, num_envs=2,
                                         hidden_sizes=(8,), eval_episodes=2)),
    "dqn": (dqn.ALGORITHM, dqn.DQNConfig(total_steps=400, eval_every=200, num_envs=2,
                                         buffer_size=200, batch_size=8, learning_starts=100,
                                         hidden_sizes=(8,), eval_episodes=2)),
    "ddpg": (ddpg.ALGORITHM, ddpg.DDPGConfig(total_steps=200, eval_every=100,
                                             buffer_size=200, batch_size=8,
                                             learning_starts=50, hidden_sizes=(8,),
                                             eval_episodes=2)),
    "td3": (ddpg.ALGORITHM, ddpg.td3_config(total_steps=200, eval_every=100,
                                            buffer_size=200, batch_size=8,
                                            learning_starts=50, hidden_sizes=(8,),
                                            eval_episodes=2)),
    "pqn": (pqn.ALGORITHM, pqn.PQNConfig(total_steps=256, eval_every=128, num_envs=4,
                                         num_steps=16, num_minibatches=2, hidden_sizes=(8,),
                                         eval_episodes=2)),
    "reinforce": (reinforce.ALGORITHM, reinforce.ReinforceConfig(
        total_steps=256, eval_every=128, num_envs=4, num_steps=16, hidden_sizes=(8,),
        eval_episodes=2)),
    "ppo": (ppo.ALGORITHM, ppo.PPOConfig(total_steps=256, eval_every=128, num_envs=4,
                                         num_steps=16, num_minibatches=2, hidden_sizes=(8,),
                                         normalize_observations=True, eval_episodes=2)),
    "ppo-gaussian": (ppo.ALGORITHM, ppo.PPOConfig(
        env="Pendulum-v1", total_steps=256, eval_every=128, num_envs=4, num_steps=16,
        num_minibatches=2, hidden_sizes=(8,), eval_episodes=2)),
    "sac": (sac.ALGORITHM, sac.SACConfig(total_steps=200, eval_every=100, buffer_size=200,
                                         batch_size=8, learning_starts=50, hidden_sizes=(8,),
                                         eval_episodes=2)),
    "sac-discrete": (sac.ALGORITHM, sac.SACConfig(
        env="CartPole-v1", total_steps=200, eval_every=100, buffer_size=200, batch_size=8,
        learning_starts=50, hidden_sizes=(8,), eval_episodes=2)),
}
CALLBACK = re.compile(r"callback|infeed|outfeed|send|recv", re.IGNORECASE)


def _chunk_text(algo, config) -> str:
    setup = algo.make(config)
    keys = jax.random.split(jax.random.key(0), 2)
    start, chunk, _ = _batched(algo, setup, config, keys, None)
    carry = jax.eval_shape(start, config, keys)[0]
    return jax.jit(chunk, donate_argnums=(1,)).lower(config, carry).as_text()


def test_the_check_sees_a_callback():
    def noisy(x):
        jax.debug.print("{}", x)
        return x + 1

    assert CALLBACK.search(jax.jit(noisy).lower(1.0).as_text())


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_a_compiled_chunk_has_no_host_callback_and_donates_its_carry(name):
    algo, config = LEARNERS[name]
    text = _chunk_text(algo, config)
    found = CALLBACK.search(text)
    assert found is None, text[max(0, found.start() - 300): found.end() + 300]
    assert re.search(r"jax\.buffer_donor|tf\.aliasing_output", text)
