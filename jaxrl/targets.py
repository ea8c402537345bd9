"""The lecture's equations as array-level functions, below every learner (rlax's style).

Each takes arrays (and a discount), never a config or a network, so tabular Q-learning,
naive NN-Q, DQN and DDPG compute their targets with the same few lines. Rewards, not
costs: the lecture's ``C_t + γ min_A Q`` is ``r_t + γ max_A Q`` with ``r = -C``.
``terminated`` stops the bootstrap (an episode that ended has no future); a time limit
(``truncated``) still bootstraps, from the true final observation that the environment
contract (:class:`jaxrl.envs.wrappers.AutoReset`) gives as ``next_obs``.

=============================  ==============================================================
function                       equation (slide)
=============================  ==============================================================
:func:`q_learning_target`      ``r + γ max_a Q(S', a)``  ("Q-learning with a table")
:func:`double_q_target`        ``r + γ Q̂(S', argmax_a Q(S', a))``  (van Hasselt et al. 2016)
:func:`taken_action_value`     ``Q(S, A)`` of the action taken
:func:`td_loss`                ``mean_j ℓ(Q(S_j, A_j; θ) - y_j)``  ("Deep Q-network (DQN)")
:func:`ddpg_critic_target`     ``r + γ min_k Q′_k(S', π′(S'))``  ("DDPG"; TD3 for ``k = 2``)
:func:`q_learning_update`      ``Q(S, A) <- (1 - α) Q(S, A) + α y``  ("Q-learning with a table")
:func:`lambda_returns`         ``G^λ_t = r_t + γ [(1 - λ) v_{t+1} + λ G^λ_{t+1}]`` (Sutton & Barto
                               12.1): Monte-Carlo returns at λ = 1 (REINFORCE), Q(λ) (PQN)
:func:`gae_advantages`         ``A_t = G^λ_t - V(S_t)``, GAE(λ) (Schulman et al. 2016)
:func:`policy_gradient_loss`   ``-mean_t log π(A_t|S_t) (G_t - b(S_t))`` (Williams 1992)
:func:`clipped_surrogate_loss` ``-mean min(ρ A, clip(ρ, 1 ± ε) A)`` (PPO, Schulman et al. 2017)
:func:`clipped_value_loss`     ``mean max((V - G)², (V_old + clip(V - V_old, ±ε) - G)²) / 2``
:func:`soft_value`             ``V(S) = E_{A~π}[min_k Q_k(S, A) - α log π(A|S)]`` (SAC, Haarnoja
                               et al. 2018; exact over a discrete π, Christodoulou 2019)
:func:`soft_q_target`          ``r + γ V̄(S')``, the soft Q target (SAC, 1812.05905 eq. 2-3)
:func:`sac_actor_loss`         ``E[α log π(A|S) - min_k Q_k(S, A)]`` (1812.05905 eq. 7)
:func:`temperature_loss`       ``E[-α (log π(A|S) + H̄)]`` (1812.05905 eq. 18)
=============================  ==============================================================

The rollout functions take time-major arrays ``[T, ...]`` (``T`` steps of a rollout,
any batch axes after it) and treat the rollout's end as a cut: the return there is the
value of the last next observation, as on a truncation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

#: ``td_loss`` kinds: ``(y - q)²`` (the course's), half of it (optax's ``l2_loss``), Huber.
TD_LOSSES = ("squared", "l2", "huber")


def _bootstrap(reward: jax.Array, terminated: jax.Array, value_next: jax.Array, gamma):
    """``r + γ (1 - terminated) V(S')``: no bootstrap past termination."""
    return reward + gamma * jnp.where(terminated, 0.0, value_next)


def q_learning_target(reward: jax.Array, terminated: jax.Array, q_next: jax.Array,
                      gamma) -> jax.Array:
    """The Q-learning target ``r + γ max_a Q(S', a)``, ``0`` bootstrap past termination.

    The lecture's ``C_t(S_t, A_t) + γ min_A Q(S_{t+1}, A)`` in reward form. ``q_next``:
    ``[..., A]``, the values at the next observation (the table's row, or a network's
    output, from the same or a target network).

    Examples:
      ``1 + 0.5 max(2, 4) = 3``; past termination the reward alone:

      >>> import jax.numpy as jnp
      >>> from jaxrl.targets import q_learning_target
      >>> q_next = jnp.array([[2.0, 4.0], [2.0, 4.0]])
      >>> q_learning_target(jnp.ones(2), jnp.array([False, True]), q_next, 0.5).tolist()
      [3.0, 1.0]
    """
    return _bootstrap(reward, terminated, jnp.max(q_next, axis=-1), gamma)


def double_q_target(reward: jax.Array, terminated: jax.Array, q_next_target: jax.Array,
                    q_next_online: jax.Array, gamma) -> jax.Array:
    """Double Q-learning's target ``r + γ Q̂(S', argmax_a Q(S', a))``.

    The online values pick the action, the target network's values it (van Hasselt,
    Guez & Silver 2016), which removes the max's upward bias.

    Examples:
      The online ``[1, 3]`` picks action 1, the target's value there is 2 (not its max 4):

      >>> import jax.numpy as jnp
      >>> from jaxrl.targets import double_q_target
      >>> q_target, q_online = jnp.array([4.0, 2.0]), jnp.array([1.0, 3.0])
      >>> float(double_q_target(jnp.array(0.0), jnp.array(False), q_target, q_online, 0.5))
      1.0
    """
    best = jnp.argmax(q_next_online, axis=-1)
    return _bootstrap(reward, terminated, taken_action_value(q_next_target, best), gamma)


def taken_action_value(q: jax.Array, action: jax.Array) -> jax.Array:
    """``Q(S, A)``: the value of the action taken, ``q[..., action]`` per row.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxrl.targets import taken_action_value
      >>> taken_action_value(jnp.array([[1.0, 2.0], [3.0, 4.0]]), jnp.array([1, 0])).tolist()
      [2.0, 3.0]
    """
    return jnp.take_along_axis(q, action[..., None], axis=-1)[..., 0]


def td_loss(q_taken: jax.Array, target: jax.Array, kind: str = "l2") -> jax.Array:
    """The TD loss ``mean_j ℓ(Q(S_j, A_j; θ) - y_j)`` of the DQN slide.

    ``kind``: ``"squared"`` (``(y - q)²``, the slide's and the course's), ``"l2"`` (half
    of it, ``optax.l2_loss``) or ``"huber"`` (``optax.huber_loss``, δ = 1). The target
    should carry no gradient (``jax.lax.stop_gradient``).

    Examples:
      Errors ``-1`` and ``2``: ``(1 + 4) / 2``, half of it, Huber's ``(0.5 + 1.5) / 2``:

      >>> import jax.numpy as jnp
      >>> from jaxrl.targets import td_loss
      >>> q_taken, target = jnp.array([1.0, 3.0]), jnp.array([2.0, 1.0])
      >>> [float(td_loss(q_taken, target, kind)) for kind in ("squared", "l2", "huber")]
      [2.5, 1.25, 1.0]
    """
    if kind == "huber":
        return jnp.mean(optax.huber_loss(q_taken, target, delta=1.0))
    half = jnp.mean(optax.l2_loss(q_taken, target))
    return 2.0 * half if kind == "squared" else half


def ddpg_critic_target(reward: jax.Array, terminated: jax.Array, q_next: jax.Array,
                       gamma) -> jax.Array:
    """DDPG's critic target ``y_i = r_i + γ min_k Q′_k(s_{i+1}, ã_{i+1})``.

    ``q_next``: ``[num_critics, batch]``, the target critics at the next observation and
    the target action. One critic is the slide's ``r + γ Q′(s′, π′(s′))``; two are TD3's
    clipped double-Q (Fujimoto et al. 2018).

    Examples:
      Two critics, two transitions: ``1 + 0.5 min(3, 2)`` and ``1 + 0.5 min(1, 5)``:

      >>> import jax.numpy as jnp
      >>> from jaxrl.targets import ddpg_critic_target
      >>> q_next = jnp.array([[3.0, 1.0], [2.0, 5.0]])  # [critics, batch]
      >>> ddpg_critic_target(jnp.ones(2), jnp.zeros(2, bool), q_next, 0.5).tolist()
      [2.0, 1.5]
    """
    return _bootstrap(reward, terminated, jnp.min(q_next, axis=0), gamma)


def q_learning_update(q_taken: jax.Array, target: jax.Array, learning_rate) -> jax.Array:
    """The table's step ``α (y - Q(S, A))``: ``Q(S, A) + step`` is
    ``(1 - α) Q(S, A) + α y``, the slide's update.

    Examples:
      ``Q = 2``, ``y = 4``, ``α = 0.25``: ``2 + 0.5 = 0.75 * 2 + 0.25 * 4``:

      >>> import jax.numpy as jnp
      >>> from jaxrl.targets import q_learning_update
      >>> float(q_learning_update(jnp.array(2.0), jnp.array(4.0), 0.25))
      0.5
    """
    return learning_rate * (target - q_taken)


def lambda_returns(reward: jax.Array, terminated: jax.Array, truncated: jax.Array,
                   value_next: jax.Array, gamma, lambda_) -> jax.Array:
    """The λ-returns of a rollout, ``[T, ...]`` arrays, time first, computed backwards:

    ::

        G_t = r_t + γ (1 - terminated_t) [v_{t+1} + λ c_t (G_{t+1} - v_{t+1})]

    where ``v_{t+1}`` is the value of ``next_obs_t`` (the true final observation on an
    episode's last step, :class:`jaxrl.envs.wrappers.Transition`) and ``c_t = 0`` when
    the episode ended at ``t`` or ``t`` is the rollout's last step: no return is carried
    across an episode boundary, a truncated episode is bootstrapped from ``v`` of its
    final observation, a terminated one is not bootstrapped at all. λ = 1 gives the
    Monte-Carlo return ``Σ_k γ^k r_{t+k}`` up to the episode's end (REINFORCE, Williams
    1992); λ = 0 the one-step target ``r + γ v``. With ``v_{t+1} = max_a Q(S_{t+1}, a)``
    it is Peng's Q(λ) target of PQN (Gallici et al. 2025); with ``v = V`` GAE's
    (:func:`gae_advantages`).

    Examples:
      Three steps of reward 1, ``γ = 0.5``, the rollout cut after the last, whose next
      observation is worth 4: ``G_2 = 1 + 0.5 * 4``, ``G_1 = 1 + 0.5 G_2``, ...

      >>> import jax.numpy as jnp
      >>> from jaxrl.targets import lambda_returns
      >>> reward, no = jnp.ones(3), jnp.zeros(3, bool)
      >>> value_next = jnp.array([0.0, 0.0, 4.0])
      >>> lambda_returns(reward, no, no, value_next, 0.5, 1.0).tolist()  # λ = 1
      [2.25, 2.5, 3.0]
      >>> lambda_returns(reward, no, no, value_next, 0.5, 0.0).tolist()  # λ = 0: r + γ v
      [1.0, 1.0, 3.0]
    """
    done = jnp.logical_or(terminated, truncated)
    carries = 1.0 - done.astype(value_next.dtype)
    carries = carries.at[-1].set(0.0)  # the rollout's end: bootstrap from v, like a cut

    def backward(future, step):
        r, term, v, c = step
        ret = r + gamma * jnp.where(term, 0.0, v + lambda_ * c * (future - v))
        return ret, ret

    _, returns = jax.lax.scan(backward, jnp.zeros_like(value_next[-1]),
                              (reward, terminated, value_next, carries), reverse=True)
    return returns


def gae_advantages(reward: jax.Array, terminated: jax.Array, truncated: jax.Array,
                   value: jax.Array, value_next: jax.Array, gamma, lambda_):
    """GAE(λ) (Schulman et al. 2016): ``(advantages, returns)``, ``A_t = G^λ_t - V(S_t)``
    (:func:`lambda_returns` with ``v = V``); ``value``: ``V(S_t)``, ``value_next``:
    ``V(S'_t)`` of the true next observation. ``returns`` are the value targets.

    It equals Schulman et al.'s recursion ``A_t = δ_t + γ λ (1 - done_t) A_{t+1}`` (cut
    at the rollout's end), ``δ_t = r_t + γ (1 - terminated_t) V(S'_t) - V(S_t)``, only
    when ``value_next[t] == value[t + 1]`` on every step that goes on (neither done nor
    the rollout's last), as in a rollout, where ``S'_t = S_{t+1}`` there; else the two
    differ at such a step by ``γ λ (value[t + 1] - value_next[t])``, carried back by the
    recursion. On a done step the two values may differ (``S'_t`` the episode's final
    observation, ``S_{t+1}`` the next one's first): nothing is carried across it.

    Examples:
      :func:`lambda_returns`' rollout with ``V(S_t) = [1, 0, 0]``: ``A = G^λ - V``:

      >>> import jax.numpy as jnp
      >>> from jaxrl.targets import gae_advantages
      >>> reward, no = jnp.ones(3), jnp.zeros(3, bool)
      >>> value, value_next = jnp.array([1.0, 0.0, 0.0]), jnp.array([0.0, 0.0, 4.0])
      >>> advantages, returns = gae_advantages(reward, no, no, value, value_next, 0.5, 1.0)
      >>> advantages.tolist(), returns.tolist()
      ([1.25, 2.5, 3.0], [2.25, 2.5, 3.0])
    """
    returns = lambda_returns(reward, terminated, truncated, value_next, gamma, lambda_)
    return returns - value, returns


def policy_gradient_loss(log_prob: jax.Array, advantage: jax.Array) -> jax.Array:
    """REINFORCE's loss ``-mean_t log π(A_t | S_t; θ) (G_t - b(S_t))`` (Williams 1992),
    whose gradient is the policy-gradient estimate ``-E[∇θ log π (G - b)]``; the
    advantage carries no gradient.

    Examples:
      The loss ``-(-1 * 2 + -2 * 1) / 2``; its gradient ``-A_t / T``:

      >>> import jax, jax.numpy as jnp
      >>> from jaxrl.targets import policy_gradient_loss
      >>> log_prob, advantage = jnp.array([-1.0, -2.0]), jnp.array([2.0, 1.0])
      >>> float(policy_gradient_loss(log_prob, advantage))
      2.0
      >>> jax.grad(policy_gradient_loss)(log_prob, advantage).tolist()
      [-1.0, -0.5]
    """
    return -jnp.mean(log_prob * jax.lax.stop_gradient(advantage))


def clipped_surrogate_loss(log_ratio: jax.Array, advantage: jax.Array, clip) -> jax.Array:
    """PPO's clipped objective, as a loss: ``-mean min(ρ A, clip(ρ, 1 - ε, 1 + ε) A)``
    with ``ρ = π(A|S; θ) / π_old(A|S)`` = ``exp(log_ratio)`` (Schulman et al. 2017, eq. 7).
    Its gradient is zero where the clip is active (``ρ A`` beyond ``(1 ± ε) A``).

    Examples:
      ``ρ = 2`` and ``1/2`` with ``A = 1``, ``ε = 0.2``: ``-(min(2, 1.2) + min(0.5, 0.8)) / 2``:

      >>> import jax.numpy as jnp
      >>> from jaxrl.targets import clipped_surrogate_loss
      >>> log_ratio = jnp.log(jnp.array([2.0, 0.5]))
      >>> round(float(clipped_surrogate_loss(log_ratio, jnp.ones(2), 0.2)), 4)
      -0.85
    """
    ratio = jnp.exp(log_ratio)
    unclipped = ratio * advantage
    clipped = jnp.clip(ratio, 1.0 - clip, 1.0 + clip) * advantage
    return -jnp.mean(jnp.minimum(unclipped, clipped))


def clipped_value_loss(value: jax.Array, value_old: jax.Array, target: jax.Array,
                       clip) -> jax.Array:
    """The value loss ``mean max((V - G)², (V_old + clip(V - V_old, ±ε) - G)²) / 2`` (PPO's
    implementation, Engstrom et al. 2020); ``clip = inf`` is the plain ``(V - G)² / 2``.

    Examples:
      ``V = 3``, ``V_old = 1``, ``G = 4``: the clipped ``(1 + 0.5 - 4)² / 2`` is the larger:

      >>> import jax.numpy as jnp
      >>> from jaxrl.targets import clipped_value_loss
      >>> value, value_old, target = jnp.array(3.0), jnp.array(1.0), jnp.array(4.0)
      >>> float(clipped_value_loss(value, value_old, target, 0.5))
      3.125
      >>> float(clipped_value_loss(value, value_old, target, jnp.inf))  # (3 - 4)² / 2
      0.5
    """
    clipped = value_old + jnp.clip(value - value_old, -clip, clip)
    return 0.5 * jnp.mean(jnp.maximum(jnp.square(value - target),
                                      jnp.square(clipped - target)))


# -- SAC (Haarnoja et al., "Soft Actor-Critic Algorithms and Applications", arXiv 1812.05905;
# discrete actions: Christodoulou, "Soft Actor-Critic for Discrete Action Settings",
# arXiv 1910.07207). ``probs`` given: a discrete π, the expectation over actions exact;
# ``probs=None``: continuous, the arrays hold one sampled action per row.


def _expectation(x: jax.Array, probs: jax.Array | None) -> jax.Array:
    """``Σ_a π(a|s) x[..., a]`` for a discrete π, ``x`` itself for a sampled action."""
    return x if probs is None else jnp.sum(probs * x, axis=-1)


def soft_value(q: jax.Array, log_prob: jax.Array, alpha, probs: jax.Array | None = None):
    """The soft state value ``V(s) = E_{a~π}[min_k Q_k(s, a) - α log π(a|s)]``.

    ``q``: ``[num_critics, batch]`` at one sampled action per row (continuous, a one-sample
    estimate), or ``[num_critics, batch, actions]`` with ``probs``/``log_prob``
    ``[batch, actions]`` (discrete: the expectation computed exactly). The minimum over
    the critics is SAC's clipped double-Q. One critic, α → 0: ``E_π[Q]``; a discrete π
    that is the softmax of ``Q/α``: ``α log Σ_a exp(Q(s, a)/α)``.

    Examples:
      Two critics, one sampled action per row, ``α = 0.5``: ``min_k Q - α log π``; then a
      uniform discrete π over ``Q = [1, 3]``, exactly ``2 + α log 2``:

      >>> import jax.numpy as jnp
      >>> from jaxrl.targets import soft_value
      >>> q = jnp.array([[3.0, 1.0], [2.0, 4.0]])  # [critics, batch]
      >>> soft_value(q, jnp.array([-1.0, -2.0]), 0.5).tolist()
      [2.5, 2.0]
      >>> probs = jnp.array([[0.5, 0.5]])  # [batch, actions]; q: [critics, batch, actions]
      >>> round(float(soft_value(jnp.array([[[1.0, 3.0]]]), jnp.log(probs), 0.5, probs)[0]), 4)
      2.3466
    """
    return _expectation(jnp.min(q, axis=0) - alpha * log_prob, probs)


def soft_q_target(reward: jax.Array, terminated: jax.Array, value_next: jax.Array,
                  gamma) -> jax.Array:
    """The soft Q target ``y = r + γ (1 - terminated) V̄(s')``, ``V̄`` the target critics'
    :func:`soft_value` at the next observation (the true final one on truncation; no
    bootstrap past termination).

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxrl.targets import soft_q_target
      >>> soft_q_target(jnp.ones(2), jnp.array([False, True]), jnp.full(2, 2.0), 0.5).tolist()
      [2.0, 1.0]
    """
    return _bootstrap(reward, terminated, value_next, gamma)


def sac_actor_loss(q: jax.Array, log_prob: jax.Array, alpha,
                   probs: jax.Array | None = None) -> jax.Array:
    """The policy's loss ``J_π = mean_s E_{a~π}[α log π(a|s) - min_k Q_k(s, a)]``, which
    is ``-mean_s`` :func:`soft_value`: the policy ascends the soft value. Continuous: ``a``
    reparameterised (``tanh(μ + σ ε)``), so the gradient flows through ``q`` and
    ``log_prob``; discrete: exact over the actions, through ``probs`` and ``log_prob``.

    Examples:
      :func:`soft_value`'s first example, ``-(2.5 + 2) / 2``:

      >>> import jax.numpy as jnp
      >>> from jaxrl.targets import sac_actor_loss
      >>> q = jnp.array([[3.0, 1.0], [2.0, 4.0]])  # [critics, batch]
      >>> float(sac_actor_loss(q, jnp.array([-1.0, -2.0]), 0.5))
      -2.25
    """
    return -jnp.mean(soft_value(q, log_prob, alpha, probs))


def temperature_loss(alpha: jax.Array, log_prob: jax.Array, target_entropy,
                     probs: jax.Array | None = None) -> jax.Array:
    """``J(α) = mean_s E_{a~π}[-α (log π(a|s) + H̄)]``, the policy fixed (no gradient).

    Its gradient ``dJ/dα = H(π) - H̄`` (``H = -E log π``): α rises while the policy's
    entropy is below the target ``H̄`` and falls while above it.

    Examples:
      ``log π = [-1, -3]`` (``H = 2``), ``H̄ = 1``: ``J = -0.5 (0 - 2) / 2``, ``dJ/dα = H - H̄``:

      >>> import jax, jax.numpy as jnp
      >>> from jaxrl.targets import temperature_loss
      >>> alpha, log_prob = jnp.array(0.5), jnp.array([-1.0, -3.0])
      >>> float(temperature_loss(alpha, log_prob, 1.0))
      0.5
      >>> float(jax.grad(temperature_loss)(alpha, log_prob, 1.0))
      1.0
    """
    log_prob = jax.lax.stop_gradient(log_prob)
    probs = None if probs is None else jax.lax.stop_gradient(probs)
    return jnp.mean(_expectation(-alpha * (log_prob + target_entropy), probs))
