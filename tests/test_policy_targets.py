"""The policy-gradient equations against hand computations: λ-returns and GAE over a
rollout with a termination, a truncation and the rollout's end; the clipped surrogate's
gradient; the value loss; the softmax's and the Gaussian's log π and entropy; the
running observation statistics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrl.deep import policies
from jaxrl.targets import (
    clipped_surrogate_loss,
    clipped_value_loss,
    gae_advantages,
    lambda_returns,
)

GAMMA = 0.9
# t:          0     1 (terminated)  2     3 (truncated)  4 (the rollout's end)
REWARD = np.array([1.0, 2.0, -1.0, 0.5, 3.0], np.float32)
TERMINATED = np.array([False, True, False, False, False])
TRUNCATED = np.array([False, False, False, True, False])
VALUE = np.array([0.3, 0.7, -0.2, 0.4, 1.1], np.float32)        # V(S_t)
VALUE_NEXT = np.array([0.7, 5.0, 0.4, 2.0, -1.5], np.float32)   # V(S'_t)


def _by_hand(lam):
    """G_t written out: no bootstrap past the termination at 1, a bootstrap from V(S'_3)
    at the truncation and from V(S'_4) at the rollout's end."""
    r, v, g = REWARD, VALUE_NEXT, GAMMA
    g4 = r[4] + g * v[4]
    g3 = r[3] + g * v[3]
    g2 = r[2] + g * ((1 - lam) * v[2] + lam * g3)
    g1 = r[1]
    g0 = r[0] + g * ((1 - lam) * v[0] + lam * g1)
    return np.array([g0, g1, g2, g3, g4])


@pytest.mark.parametrize("lam", [0.0, 0.95, 1.0])
def test_lambda_returns_by_hand(lam):
    returns = lambda_returns(REWARD, TERMINATED, TRUNCATED, VALUE_NEXT, GAMMA, lam)
    np.testing.assert_allclose(returns, _by_hand(lam), rtol=1e-6)
    if lam == 1.0:  # Monte Carlo within the episode: r_2 + γ r_3 + γ² V(S'_3)
        np.testing.assert_allclose(returns[2], -1.0 + GAMMA * 0.5 + GAMMA**2 * 2.0, rtol=1e-6)
    if lam == 0.0:  # one-step targets r + γ (1 - terminated) V(S')
        np.testing.assert_allclose(returns, REWARD + GAMMA * (~TERMINATED) * VALUE_NEXT,
                                   rtol=1e-6)


def _delta_recursion(value_next, lam):
    """Schulman et al.'s form: A_t = δ_t + γ λ (1 - done_t) A_{t+1}, cut at the end."""
    delta = REWARD + GAMMA * (~TERMINATED) * value_next - VALUE
    done = TERMINATED | TRUNCATED
    expected, future = np.zeros(5), 0.0
    for t in reversed(range(5)):
        carry = 0.0 if (done[t] or t == 4) else 1.0
        future = delta[t] + GAMMA * lam * carry * future
        expected[t] = future
    return expected


@pytest.mark.parametrize("lam", [0.0, 0.95, 1.0])
def test_gae_by_hand_and_by_the_delta_recursion(lam):
    """The recursion holds where ``value_next[t] == value[t + 1]`` on the steps that go
    on (0 and 2 here), as in a rollout; on the done steps (1, 3) they differ freely."""
    assert VALUE_NEXT[0] == VALUE[1] and VALUE_NEXT[2] == VALUE[3]
    assert VALUE_NEXT[1] != VALUE[2] and VALUE_NEXT[3] != VALUE[4]
    advantage, returns = gae_advantages(REWARD, TERMINATED, TRUNCATED, VALUE, VALUE_NEXT,
                                        GAMMA, lam)
    np.testing.assert_allclose(returns, _by_hand(lam), rtol=1e-6)
    np.testing.assert_allclose(advantage, _by_hand(lam) - VALUE, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(advantage, _delta_recursion(VALUE_NEXT, lam), rtol=1e-5,
                               atol=1e-6)


def test_gae_differs_from_the_recursion_where_value_next_is_not_the_next_value():
    """``value_next[2] != value[3]`` on a step that goes on: the two differ there by
    ``γ λ (value[3] - value_next[2])`` (step 1 is a termination: nothing carried back)."""
    lam, value_next = 0.95, VALUE_NEXT.copy()
    value_next[2] = 1.4
    advantage, _ = gae_advantages(REWARD, TERMINATED, TRUNCATED, VALUE, value_next,
                                  GAMMA, lam)
    gap = np.asarray(advantage) - _delta_recursion(value_next, lam)
    np.testing.assert_allclose(gap, [0, 0, GAMMA * lam * (VALUE[3] - 1.4), 0, 0],
                               atol=1e-6)


@pytest.mark.parametrize("lam", [0.0, 0.95, 1.0])
def test_returns_with_a_batch_axis_equal_each_column(lam):
    """``[T, N]`` arrays: each environment's column is its own rollout."""
    flip = slice(None, None, -1)
    columns = [(REWARD, TERMINATED, TRUNCATED, VALUE, VALUE_NEXT),
               (REWARD[flip], TRUNCATED, TERMINATED, VALUE[flip], VALUE_NEXT * 2)]
    stacked = [np.stack(parts, axis=1) for parts in zip(*columns, strict=True)]
    advantage, returns = gae_advantages(*stacked, GAMMA, lam)
    assert returns.shape == (5, 2)
    for n, column in enumerate(columns):
        a, g = gae_advantages(*column, GAMMA, lam)
        np.testing.assert_allclose(returns[:, n], g, rtol=1e-6)
        np.testing.assert_allclose(advantage[:, n], a, rtol=1e-6)


def test_clipped_surrogate_gradient_is_zero_where_the_clip_is_active():
    eps = 0.2
    # ratio:        1.5 (A > 0)  0.5 (A < 0)  1.05 (A > 0)  0.9 (A < 0)  1.5 (A < 0)  0.5 (A > 0)
    ratio = jnp.array([1.5, 0.5, 1.05, 0.9, 1.5, 0.5])
    advantage = jnp.array([1.0, -1.0, 2.0, -3.0, -1.0, 1.0])
    grad = jax.grad(clipped_surrogate_loss)(jnp.log(ratio), advantage, eps)
    np.testing.assert_array_equal(grad[:2], 0.0)  # the clip is active: no gradient
    # Inside the clip, and beyond it on the pessimistic side: -ρ A / n.
    np.testing.assert_allclose(grad[2:], -ratio[2:] * advantage[2:] / 6, rtol=1e-6)
    assert np.all(grad[2:] != 0)
    loss = clipped_surrogate_loss(jnp.log(ratio), advantage, eps)
    expected = -np.mean(np.minimum(ratio * advantage,
                                   np.clip(ratio, 1 - eps, 1 + eps) * advantage))
    np.testing.assert_allclose(loss, expected, rtol=1e-6)


def test_clipped_value_loss():
    value = jnp.array([1.0, 2.0, -1.0])
    value_old = jnp.array([0.0, 2.5, -1.0])
    target = jnp.array([3.0, 2.0, 0.5])
    plain = 0.5 * np.mean(np.square(value - target))
    np.testing.assert_allclose(clipped_value_loss(value, value_old, target, jnp.inf), plain,
                               rtol=1e-6)
    # clip 0.2: V_old + clip(V - V_old) = [0.2, 2.3, -1.0]; the max of both errors.
    clipped = np.array([0.2, 2.3, -1.0])
    expected = 0.5 * np.mean(np.maximum(np.square(value - target),
                                        np.square(clipped - target)))
    np.testing.assert_allclose(clipped_value_loss(value, value_old, target, 0.2), expected,
                               rtol=1e-6)


def test_softmax_log_prob_and_entropy():
    logits = np.array([[1.0, -0.5, 2.0], [0.0, 0.0, 0.0]], np.float32)
    action = np.array([2, 1])
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(policies.log_prob(True, logits, None, action),
                               np.log(p[[0, 1], action]), rtol=1e-6)
    np.testing.assert_allclose(policies.entropy(True, logits, None),
                               -np.sum(p * np.log(p), -1), rtol=1e-6)
    np.testing.assert_allclose(policies.entropy(True, logits, None)[1], np.log(3), rtol=1e-6)
    np.testing.assert_array_equal(policies.mode(True, logits), [2, 0])


def test_gaussian_log_prob_and_entropy():
    mean = np.array([[0.5, -1.0], [2.0, 0.0]], np.float32)
    log_std = np.array([0.3, -0.7], np.float32)
    action = np.array([[0.0, -1.5], [2.5, 1.0]], np.float32)
    std = np.exp(log_std)
    density = np.exp(-0.5 * ((action - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))
    np.testing.assert_allclose(policies.log_prob(False, mean, log_std, action),
                               np.log(density).sum(-1), rtol=1e-5)
    entropy = np.sum(0.5 * np.log(2 * np.pi * np.e * std**2))
    np.testing.assert_allclose(policies.entropy(False, mean, log_std), [entropy] * 2,
                               rtol=1e-5)
    np.testing.assert_array_equal(policies.mode(False, mean), mean)


def test_gaussian_samples_have_the_policy_moments():
    mean = jnp.full((20_000, 1), 1.5)
    log_std = jnp.array([np.log(0.5)], jnp.float32)
    a = policies.sample(False, jax.random.key(0), mean, log_std)
    np.testing.assert_allclose([a.mean(), a.std()], [1.5, 0.5], atol=0.02)


def test_running_stats_equal_the_moments_of_all_data():
    rng = np.random.default_rng(0)
    parts = [rng.normal(3.0, 2.0, (n, 3)).astype(np.float32) for n in (50, 7, 200)]
    stats = policies.RunningStats.zeros(3)
    for part in parts:
        stats = stats.update(jnp.asarray(part))
    data = np.concatenate(parts)
    np.testing.assert_allclose(stats.mean, data.mean(0), rtol=1e-4)
    np.testing.assert_allclose(stats.var, data.var(0), rtol=1e-4)
    np.testing.assert_allclose(stats.count, len(data), rtol=1e-6)
    z = stats.normalize(jnp.asarray(data))
    np.testing.assert_allclose([z.mean(), z.std()], [0.0, 1.0], atol=1e-3)


@pytest.mark.parametrize("shape", [(4, 64), (64, 64), (64, 2), (11, 16)])
def test_orthogonal_init_is_flax_one_qr_at_a_time(shape):
    """policies.orthogonal draws flax's orthogonal matrix, bit for bit, alone and under
    vmap (where it runs one QR after another: XLA's batched CPU QR deadlocked its thread
    pool on two cores)."""
    import flax.linen as nn

    key = jax.random.key(5)
    w = policies.orthogonal(1.5)(key, shape)
    np.testing.assert_array_equal(w, nn.initializers.orthogonal(1.5)(key, shape))
    small = min(shape)
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(gram, 2.25 * np.eye(small), atol=1e-5)
    keys = jax.random.split(key, 3)
    batched = jax.jit(jax.vmap(lambda k: policies.orthogonal(1.5)(k, shape)))(keys)
    for k, b in zip(keys, batched, strict=True):
        np.testing.assert_array_equal(b, nn.initializers.orthogonal(1.5)(k, shape))
    text = jax.jit(jax.vmap(lambda k: policies.orthogonal(1.5)(k, shape))).lower(keys).as_text()
    assert "while" in text  # a loop over the batch, not one batched QR
