"""The driver: a seed in a batch equals the seed alone, sweeps equal loops, the hook,
seeds split over devices."""

import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np

from jaxrl import driver
from jaxrl.deep import dqn
from jaxrl.sweep import sweep

SMALL = dqn.DQNConfig(total_steps=1_200, num_envs=4, buffer_size=500, batch_size=32,
                      learning_starts=200, hidden_sizes=(16,), eval_every=400,
                      eval_episodes=3, exploration_steps=600, activation="relu",
                      dueling=False)


def _array(x):
    if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        x = jax.random.key_data(x)
    return np.asarray(x)


def _same(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(_array(x), _array(y))


def _close(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-6)


def test_seed_in_a_batch_equals_the_seed_alone():
    """Bit-identical between batches of any size >= 2; against the seed alone (no batch
    axis, or ``train`` with no chunks), the greedy episodes are bit-identical and the
    parameters agree to float rounding: XLA's algebraic simplifier rewrites Adam's and
    the global-norm clip's scalar arithmetic differently when there is no batch axis (with
    ``XLA_FLAGS=--xla_disable_hlo_passes=algsimp`` they are bit-identical too)."""
    keys = jax.random.split(jax.random.key(3), 3)
    batch = dqn.run(SMALL, keys)
    pair = dqn.run(SMALL, keys[1:])
    _same(jax.tree.map(lambda x: x[1], batch.curve), jax.tree.map(lambda x: x[0], pair.curve))
    _same(jax.tree.map(lambda x: x[1], batch.state), jax.tree.map(lambda x: x[0], pair.state))
    alone = dqn.run(SMALL, keys[1:2])
    _same(jax.tree.map(lambda x: x[1], batch.curve.eval_return),
          jax.tree.map(lambda x: x[0], alone.curve.eval_return))
    _close(jax.tree.map(lambda x: x[1], batch.state.params),
           jax.tree.map(lambda x: x[0], alone.state.params))
    # the pure function, one seed, no vmap, no chunks: the same episodes
    state, curve = dqn.train(SMALL, keys[1])
    _same(curve.eval_return, jax.tree.map(lambda x: x[0], alone.curve.eval_return))
    _close(state.params, jax.tree.map(lambda x: x[0], alone.state.params))


def test_vmap_over_keys_equals_run():
    keys = jax.random.split(jax.random.key(4), 2)
    _, curves = jax.vmap(lambda k: dqn.train(SMALL, k))(keys)
    result = dqn.run(SMALL, keys)
    _same(curves.eval_return, result.curve.eval_return)
    _close(curves, result.curve)


def test_vmap_over_learning_rate_equals_a_loop():
    rates = [1e-3, 3e-3, 1e-2]
    configs = sweep(SMALL, learning_rate=rates)
    keys = jax.random.split(jax.random.key(5), 3)
    states, curves = jax.vmap(dqn.train)(configs, keys)
    swept = dqn.run(configs, keys, stacked_config=True)
    # the chunked driver compiles differently: the same runs up to float rounding (the
    # parameters agree to it), which can flip a near-tie greedy action in an evaluation
    # episode, and then that episode's return
    for x, y in zip(jax.tree.leaves(states.params), jax.tree.leaves(swept.state.params),
                    strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-3, atol=1e-4)
    same = np.asarray(curves.eval_return) == np.asarray(swept.curve.eval_return)
    assert same.mean() >= 0.9, same
    for i, rate in enumerate(rates):
        state, curve = dqn.train(SMALL.replace(learning_rate=rate), keys[i])
        pick = lambda tree, i=i: jax.tree.map(lambda x: x[i], tree)  # noqa: E731
        _same(curve.eval_return, pick(curves.eval_return))
        _close(state.params, pick(states.params))
    # the swept values really differ
    assert not np.array_equal(np.asarray(curves.train["loss"][0]),
                              np.asarray(curves.train["loss"][2]))


def test_seeds_in_groups_train_as_all_at_once(monkeypatch):
    """On a CPU a device trains its seeds (or a sweep's configs) at most
    ``groups.CPU_GROUP`` at a time: the same runs as all at once."""
    from jaxrl.driver import groups

    assert groups.group_size(8, 8) is None and groups.group_size(7, 3) is None
    assert groups.group_size(12, 8) == 6 and groups.group_size(4, 2) == 2
    keys = jax.random.split(jax.random.key(6), 4)
    configs = sweep(SMALL, learning_rate=[1e-3, 3e-3, 1e-2, 3e-2])
    one = jax.devices()[:1]
    whole = dqn.run(SMALL, keys, devices=one)
    swept = dqn.run(configs, keys, stacked_config=True, devices=one)
    monkeypatch.setattr(groups, "CPU_GROUP", 2)  # two groups of two
    for a, b in ((whole, dqn.run(SMALL, keys, devices=one)),
                 (swept, dqn.run(configs, keys, stacked_config=True, devices=one))):
        _same(a.curve.eval_return, b.curve.eval_return)
        _close(a.state.params, b.state.params)
        _same(a.state.step, b.state.step)


def test_curve_shapes_and_hook_between_chunks():
    seen = []
    result = dqn.run(SMALL, jax.random.split(jax.random.key(0), 2), hook=seen.append)
    schedule = dqn.make(SMALL).schedule
    assert schedule == driver.Schedule(calls_per_chunk=100, num_chunks=3, steps_per_call=4)
    assert [p.chunk for p in seen] == [0, 1, 2, 3]
    assert [p.env_steps for p in seen] == [0, 400, 800, 1200]
    assert seen[-1].eval_return.shape == (2,)
    assert set(seen[-1].metrics) >= {"loss", "episodes", "return_sum", "updates"}
    curve = result.curve
    assert curve.eval_return.shape == (2, 4, 3)
    np.testing.assert_array_equal(curve.env_steps[0], [0, 400, 800, 1200])
    assert curve.train["episodes"].shape == (2, 3)
    assert curve.final_return.shape == (2,)
    assert result.env_steps == 1200 and result.compile_s > 0 and result.wall_s > 0
    # the hook saw the same numbers that come back
    np.testing.assert_allclose(seen[-1].eval_return, np.asarray(curve.final_return), rtol=1e-6)


SHARDED = '''
import jax, numpy as np
from jaxrl.devices import use_cpu_cores
assert use_cpu_cores(2)            # before JAX starts its CPU backend: two devices
assert jax.device_count() == 2
assert not use_cpu_cores(4)        # too late now, and the flag is there: left alone
from jaxrl import driver
from jaxrl.deep import dqn
from jaxrl.sweep import sweep
from test_train import SMALL, _close, _same

assert driver.seed_mesh(1) is None                       # 1 seed: one device
assert driver.seed_mesh(3).devices.size == driver.seed_mesh(4).devices.size == 2
keys = jax.random.split(jax.random.key(5), 4)
one = dqn.run(SMALL, keys, devices=jax.devices()[:1])
two = dqn.run(SMALL, keys)
# 3 seeds on 2 devices: padded to 4, the padding dropped from every output; a seed is
# the same in any batch of two or more on one device, so one's first 3 are the reference
snaps = []
three = dqn.run(SMALL, keys[:3], checkpoint=lambda s: snaps.append(s.to_host()))
assert three.devices == 2 and three.state.step.shape == (3,)
assert three.curve.eval_return.shape[0] == 3 and snaps[0]["leaf_00000"].shape[0] == 3
first3 = jax.tree.map(lambda x: x[:3], (one.curve.eval_return, one.state.params))
_same(first3[0], three.curve.eval_return)
_close(first3[1], three.state.params)
resumed = dqn.run(SMALL, keys[:3], resume=snaps[0])      # from a 3-seed checkpoint
_same(resumed.state.params, three.state.params)
_same(resumed.curve.eval_return, three.curve.eval_return)
assert len(two.state.params["params"]["Dense_0"]["kernel"].sharding.device_set) == 2
assert (one.devices, two.devices) == (1, 2)
assert one.state.step.shape == two.state.step.shape == (4,)
_same(one.curve.eval_return, two.curve.eval_return)      # the same greedy episodes
_close(one.state.params, two.state.params)               # the same θ, to float rounding
configs = sweep(SMALL, learning_rate=[1e-3, 3e-3, 1e-2, 3e-2])
one = dqn.run(configs, keys, stacked_config=True, devices=jax.devices()[:1])
two = dqn.run(configs, keys, stacked_config=True)
_same(one.curve.eval_return, two.curve.eval_return)
_close(one.state.params, two.state.params)
print("ok")
'''


def test_seeds_split_over_devices_train_as_on_one():
    """With two CPU devices (:func:`jaxrl.devices.use_cpu_cores`), :func:`run` splits the
    seeds (and a sweep's configs) over them and gets the same runs as on one device:
    the same greedy episodes, parameters equal to float rounding (the partitioned
    program is simplified a little differently by XLA, as for a seed alone)."""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent)
    proc = subprocess.run([sys.executable, "-c", SHARDED], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-3000:]


FOUR_DEVICES = '''
import jax
from jaxrl.devices import use_cpu_cores
assert use_cpu_cores(4) and jax.device_count() == 4
from jaxrl import driver
from jaxrl.deep import dqn
from test_train import SMALL, _close, _same

keys = jax.random.split(jax.random.key(7), 6)   # 6 seeds padded to 8 over 4 devices
one = dqn.run(SMALL, keys, devices=jax.devices()[:1])
four = dqn.run(SMALL, keys)
assert four.devices == 4 and four.state.step.shape == (6,)
assert driver.seed_mesh(3).devices.size == 3     # 3 seeds: 3 of the 4 devices
_same(one.curve.eval_return, four.curve.eval_return)
_close(one.state.params, four.state.params)
# two seeds a device of tabular Q-learning: its scoring's exact policy evaluation (a
# LAPACK solve) once deadlocked XLA's CPU thread pool when batched
from jaxrl.presets import preset
from jaxrl.tabular import qlearning
q = preset("qlearning", "DiscretePendulum")[0].replace(episodes=20, eval_every_episodes=10)
qkeys = jax.random.split(jax.random.key(3), 8)
alone, spread = qlearning.run(q, qkeys, devices=jax.devices()[:1]), qlearning.run(q, qkeys)
assert spread.devices == 4
_close(alone.curve.evaluation, spread.curve.evaluation)
_same(alone.state.q, spread.state.q)
print("ok")
'''


def test_seeds_over_four_devices_any_count():
    """Four CPU devices: 6 seeds are padded to 8 (the padding dropped), as on one device
    (episodes equal, parameters to float rounding); 3 seeds would use 3 devices; tabular
    Q-learning with two seeds a device finishes (a hang once) with the same numbers."""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent)
    proc = subprocess.run([sys.executable, "-c", FOUR_DEVICES], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-3000:]
