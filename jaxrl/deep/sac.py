"""SAC, the maximum-entropy successor of DDPG: Haarnoja et al., "Soft Actor-Critic
Algorithms and Applications" (arXiv 1812.05905, Algorithm 1, with the learned
temperature); for discrete actions, Christodoulou, "Soft Actor-Critic for Discrete Action
Settings" (arXiv 1910.07207).

::

    Initialise critics θ_1, θ_2, actor φ, temperature α                     init
    Initialise targets θ̄_i <- θ_i and an empty replay memory D             init
    For each iteration / environment step:                                  train_step
        a_t ~ π_φ(a_t | s_t)                                                select_action
        s_{t+1} ~ p(s_{t+1} | s_t, a_t)                                     (the environment)
        D <- D ∪ {(s_t, a_t, r(s_t, a_t), s_{t+1})}                         store
        For each gradient step:                                             learn
            a minibatch from D                                              sample
            θ_i <- θ_i - λ_Q ∇ J_Q(θ_i) for i ∈ {1, 2}                      update_critics
            φ <- φ - λ_π ∇ J_π(φ)                                           update_actor
            α <- α - λ ∇ J(α)                                               update_temperature
            θ̄_i <- τ θ_i + (1 - τ) θ̄_i                                      update_targets

The equations are :mod:`jaxrl.targets`' (the paper's numbers):
``J_Q = E[(Q_i(s, a) - y)² / 2]`` with the soft target ``y = r + γ V̄(s')``,
``V̄(s') = E_{a'~π}[min_i Q̄_i(s', a') - α log π(a'|s')]`` (eq. 2-3, the two critics'
minimum as in TD3); ``J_π = E[α log π(ã|s) - min_i Q_i(s, ã)]`` (eq. 7);
``J(α) = E[-α (log π(a|s) + H̄)]`` (eq. 18), α kept positive as ``exp(log α)``.

**Continuous actions** (a ``Box``): the actor is the squashed Gaussian
``ã = tanh(μ_φ(s) + σ_φ(s) ε)`` (:func:`jaxrl.deep.policies.squashed_sample`, the
log-density with the change of variables of the paper's appendix C), reparameterised
for ``∇J_π``, scaled from ``(-1, 1)`` to the action bounds; the entropy, and ``H̄``
(default ``-dim(A)``), are those of the squashed action in ``(-1, 1)^d`` whatever the
bounds. **Discrete actions**: a softmax policy and critics ``Q(s, ·)`` over all actions,
so every expectation over ``a ~ π`` above is computed exactly, ``Σ_a π(a|s) (...)``
(Christodoulou's eq. 10-12), ``H̄`` by default ``0.98 log |A|``.

As in DDPG, the environment contract (:class:`jaxrl.envs.wrappers.AutoReset`) gives the
true final observation: ``y`` bootstraps from it on truncation (a time limit) and not at
all past termination. ``learn_alpha=False`` keeps α at ``config.alpha``. Greedy
evaluation acts on the mean, ``tanh(μ(s))`` (or ``argmax_a π(a|s)``)::

    state, curve = sac.train(SACConfig(), jax.random.key(0))
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct
from jax.scipy.special import ndtri

from jaxrl import driver
from jaxrl.deep import policies, replay
from jaxrl.deep.ddpg_setup import action_bounds
from jaxrl.deep.networks import input_size, preprocess, scale_action
from jaxrl.deep.sac_setup import (
    SACConfig,
    SACSetup,
    SoftActor,
    check_values,
    exp_alpha,
    make,
    max_entropy,
    optimizer,
    per_critic,
    target_entropy,
    uniform_action,
)
from jaxrl.envs.wrappers import Transition
from jaxrl.targets import (
    sac_actor_loss,
    soft_q_target,
    soft_value,
    taken_action_value,
    temperature_loss,
)


class SACState(struct.PyTreeNode):
    """The agent: φ, θ (a leading axis of ``num_critics``), θ̄, log α, their optimiser
    states, D, the environments, the acting noise ``ε_t`` (``[num_envs, dim(A)]``; for
    ``noise_correlation > 0``), the step counter, key."""

    actor_params: Any
    critic_params: Any
    critic_target: Any
    log_alpha: jax.Array
    actor_opt: Any
    critic_opt: Any
    alpha_opt: Any
    memory: replay.ReplayMemory
    env_state: Any
    noise: jax.Array
    step: jax.Array
    key: jax.Array


def _obs(setup: SACSetup, obs: Any) -> jax.Array:
    return preprocess(obs, setup.env.observation_space(setup.env_params))


def policy_head(setup: SACSetup, config: SACConfig, actor_params, obs):
    """The actor's output for a batch of raw observations: ``(logits, _)`` or
    ``(μ(s), log σ(s))``, ``log σ`` clipped to ``[log_std_min, log_std_max]``."""
    head, log_std = setup.actor.apply(actor_params, _obs(setup, obs))
    return head, jnp.clip(log_std, config.log_std_min, config.log_std_max)


def _to_env(setup: SACSetup, unit_action: jax.Array) -> jax.Array:
    """A squashed action in ``(-1, 1)^d`` scaled to the bounds, shaped like the Box."""
    low, high = action_bounds(setup.env, setup.env_params)
    action = scale_action(unit_action, low.reshape(-1), high.reshape(-1))
    return action.reshape(*action.shape[:-1], *low.shape)


def action_distribution(setup: SACSetup, config: SACConfig, actor_params, obs, uniform):
    """``(a, log π(a|s), π(·|s))`` per row, from the row's uniform draws in ``(0, 1)``
    (``uniform``, ``[batch, actor.action_dim]``, :func:`jaxrl.deep.policies.open_uniform`):
    an action of the squashed Gaussian (``ε = Φ⁻¹(u)``, in the environment's units) with
    its log-density and ``None`` (continuous); or, discrete, an action sampled by the
    Gumbel-max trick (``argmax_a l_a - log(-log u_a)``, as ``jax.random.categorical``)
    and ``log π(·|s)``, ``π(·|s)`` over all the actions (the exact expectations'
    weights)."""
    head, log_std = policy_head(setup, config, actor_params, obs)
    if setup.discrete:
        log_probs = jax.nn.log_softmax(head)
        action = jnp.argmax(head - jnp.log(-jnp.log(uniform)), axis=-1).astype(jnp.int32)
        return action, log_probs, jnp.exp(log_probs)
    unit_action, log_prob = policies.squashed_sample(ndtri(uniform), head, log_std)
    return _to_env(setup, unit_action), log_prob, None


def q_values(setup: SACSetup, critic_params, obs, action=None) -> jax.Array:
    """Every critic's values (the leading axis of ``critic_params``): ``Q_k(s, a)``,
    ``[num_critics, batch]``, or, discrete with ``action=None``, ``Q_k(s, ·)``,
    ``[num_critics, batch, actions]`` (with an action: the taken action's)."""
    x = _obs(setup, obs)
    if setup.discrete:
        q = jax.vmap(setup.critic.apply)(critic_params, per_critic(critic_params, x))
        return q if action is None else taken_action_value(q, action[None])
    a = jnp.reshape(action, (*x.shape[:-1], -1)).astype(jnp.float32)
    return jax.vmap(setup.critic.apply)(critic_params, per_critic(critic_params, x),
                                        per_critic(critic_params, a))


def init(setup: SACSetup, config: SACConfig, key: jax.Array) -> SACState:
    """φ, θ at random, θ̄ = θ, ``log α = log config.alpha``, an empty D, ``num_envs``
    reset environments."""
    env, env_params = setup.env, setup.env_params
    key_actor, key_critic, key_env, key = jax.random.split(key, 4)
    x = jnp.zeros((1, input_size(env.observation_space(env_params))), jnp.float32)
    actor_params = setup.actor.init(key_actor, x)
    critic_keys = jax.random.split(key_critic, config.num_critics)
    if setup.discrete:
        critic_params = jax.vmap(setup.critic.init, in_axes=(0, None))(critic_keys, x)
        example_action = jnp.zeros((), jnp.int32)
    else:
        low, _ = action_bounds(env, env_params)
        a = jnp.zeros((1, low.size), jnp.float32)
        critic_params = jax.vmap(setup.critic.init, in_axes=(0, None, None))(critic_keys, x, a)
        example_action = jnp.zeros(low.shape, jnp.float32)
    obs, env_state = env.batch_reset(key_env, env_params, config.num_envs)
    key_noise, key = jax.random.split(key)
    noise = jax.random.normal(key_noise, (config.num_envs, setup.actor.action_dim))
    log_alpha = jnp.log(jnp.asarray(config.alpha, jnp.float32))
    opt = optimizer(setup, config)
    return SACState(
        actor_params=actor_params, critic_params=critic_params, critic_target=critic_params,
        log_alpha=log_alpha, actor_opt=opt.init(actor_params), critic_opt=opt.init(critic_params),
        alpha_opt=opt.init(log_alpha),
        memory=replay.init_transitions(obs, example_action, config.buffer_size),
        env_state=env_state, noise=noise, step=jnp.zeros((), jnp.int32), key=key)


# -- the algorithm box's lines ----------------------------------------------------------


def select_action(setup: SACSetup, config: SACConfig, state: SACState, words):
    """``a_t ~ π_φ(· | s_t)`` in each environment, the noise it used, and the noise a new
    episode starts from: ``(a_t, ε_t, ε')``, from random words ``[3, num_envs,
    actor.action_dim]`` (:func:`draw_words`). Continuous: ``a_t = tanh(μ + σ ε_t)`` with
    ``ε_t = ρ ε_{t-1} + √(1 - ρ²) w_t``, ``w_t ~ N(0, I)``: each ``ε_t`` is ``N(0, I)``
    as the paper's, and with ``ρ = noise_correlation > 0`` successive ones are correlated
    (an Ornstein–Uhlenbeck sequence; colored noise, Eberhard et al. 2023), which moves a
    car up a hill where white noise shakes it in place. Uniformly random before
    ``learning_starts`` with ``random_warmup``."""
    uniform = policies.open_uniform(words)
    obs = state.env_state.obs
    if setup.discrete:
        action, _, _ = action_distribution(setup, config, state.actor_params, obs, uniform[0])
        noise = fresh = state.noise
    else:
        rho = config.noise_correlation
        noise = rho * state.noise + jnp.sqrt(1.0 - jnp.square(rho)) * ndtri(uniform[0])
        head, log_std = policy_head(setup, config, state.actor_params, obs)
        action = _to_env(setup, jnp.tanh(head + jnp.exp(log_std) * noise))
        fresh = ndtri(uniform[2])
    if config.random_warmup:
        action = jnp.where(state.step < config.learning_starts,
                           uniform_action(setup, uniform[1]), action)
    return action, noise, fresh


#: Store the transitions in D (the ring buffer of :mod:`jaxrl.deep.replay`).
store = replay.store
#: Sample a minibatch uniformly from D, one item per random word.
sample = replay.sample_from_bits


def alpha_of(state: SACState) -> jax.Array:
    """The temperature ``α = exp(log α)``."""
    return exp_alpha(state.log_alpha)


def critic_target(setup: SACSetup, config: SACConfig, state: SACState, batch: Transition,
                  uniform) -> jax.Array:
    """``y = r + γ (1 - terminated) V̄(s')`` (:func:`jaxrl.targets.soft_q_target`), the soft
    value of the next observation from the target critics and the current policy
    (:func:`jaxrl.targets.soft_value`: one sampled ``a'``, or exact over the actions)."""
    action, log_prob, probs = action_distribution(setup, config, state.actor_params,
                                                  batch.next_obs, uniform)
    q_next = q_values(setup, state.critic_target, batch.next_obs,
                      None if setup.discrete else action)
    value_next = soft_value(q_next, log_prob, alpha_of(state), probs)
    return jax.lax.stop_gradient(soft_q_target(batch.reward, batch.terminated, value_next,
                                               config.gamma))


def critic_loss(setup: SACSetup, critic_params, batch: Transition, y) -> jax.Array:
    """``J_Q = Σ_i mean_j (Q_i(s_j, a_j) - y_j)² / 2``, the critics' regressions."""
    q = q_values(setup, critic_params, batch.obs, batch.action)
    return jnp.sum(jnp.mean(0.5 * jnp.square(q - y[None]), axis=-1))


def update_critics(setup: SACSetup, config: SACConfig, state: SACState, batch: Transition,
                   uniform):
    """One gradient step on θ towards :func:`critic_target` (``a'`` from the uniform
    draws ``uniform``, :func:`action_distribution`): ``(params, opt, loss)``."""
    y = critic_target(setup, config, state, batch, uniform)
    loss, grads = jax.value_and_grad(critic_loss, argnums=1)(setup, state.critic_params,
                                                              batch, y)
    updates, opt = optimizer(setup, config).update(grads, state.critic_opt,
                                                    state.critic_params)
    return optax.apply_updates(state.critic_params, updates), opt, loss


def actor_loss(setup: SACSetup, config: SACConfig, actor_params, critic_params, alpha, obs,
               uniform):
    """``J_π = mean_s E_{a~π}[α log π(a|s) - min_i Q_i(s, a)]`` (:func:`jaxrl.targets.
    sac_actor_loss`), with ``(log π, π)`` as aux for the temperature's step."""
    action, log_prob, probs = action_distribution(setup, config, actor_params, obs, uniform)
    q = q_values(setup, critic_params, obs, None if setup.discrete else action)
    return sac_actor_loss(q, log_prob, alpha, probs), (log_prob, probs)


def update_actor(setup: SACSetup, config: SACConfig, state: SACState, batch: Transition,
                 uniform):
    """One gradient step on φ (the reparameterised or exact gradient of ``J_π``, the
    critics as they are after their step): ``(params, opt, loss, (log π, π))``."""
    (loss, policy), grads = jax.value_and_grad(actor_loss, argnums=2, has_aux=True)(
        setup, config, state.actor_params, state.critic_params, alpha_of(state), batch.obs,
        uniform)
    updates, opt = optimizer(setup, config).update(grads, state.actor_opt, state.actor_params)
    return optax.apply_updates(state.actor_params, updates), opt, loss, policy


def update_temperature(setup: SACSetup, config: SACConfig, state: SACState, log_prob,
                       probs):
    """One gradient step on ``log α`` for ``J(α)`` (:func:`jaxrl.targets.temperature_loss`)
    at the actor step's ``log π``: ``(log α, opt)``; unchanged when α is fixed."""
    if not config.learn_alpha:
        return state.log_alpha, state.alpha_opt
    size = setup.actor.action_dim
    goal = target_entropy(config, setup.discrete, size)
    grad = jax.grad(lambda la: temperature_loss(exp_alpha(la), log_prob, goal, probs))(
        state.log_alpha)
    updates, opt = optimizer(setup, config).update(grad, state.alpha_opt, state.log_alpha)
    return optax.apply_updates(state.log_alpha, updates), opt


def update_targets(config: SACConfig, state: SACState) -> Any:
    """``θ̄_i <- τ θ_i + (1 - τ) θ̄_i`` (``optax.incremental_update``)."""
    return optax.incremental_update(state.critic_params, state.critic_target, config.tau)


def entropy(log_prob: jax.Array, probs: jax.Array | None) -> jax.Array:
    """The policy's mean entropy ``-E[log π]`` over the minibatch (exact for discrete)."""
    if probs is None:
        return -jnp.mean(log_prob)
    return -jnp.mean(jnp.sum(probs * log_prob, axis=-1))


def learn(setup: SACSetup, config: SACConfig, state: SACState, words) -> tuple[SACState, dict]:
    """One gradient step of the algorithm box: sample; the critics; the actor; α; the
    targets. ``words``: ``[batch_size, 1 + 2 · actor.action_dim]`` random words
    (:func:`draw_words`), per minibatch row one for the sample and the uniform draws of
    ``a'`` and ``ã``."""
    width = setup.actor.action_dim
    batch = sample(state.memory, words[:, 0])
    uniform = policies.open_uniform(words[:, 1:])
    critic_params, critic_opt, c_loss = update_critics(setup, config, state, batch,
                                                       uniform[:, :width])
    state = state.replace(critic_params=critic_params, critic_opt=critic_opt)
    actor_params, actor_opt, a_loss, (log_prob, probs) = update_actor(setup, config, state,
                                                                      batch, uniform[:, width:])
    state = state.replace(actor_params=actor_params, actor_opt=actor_opt)
    log_alpha, alpha_opt = update_temperature(setup, config, state, log_prob, probs)
    state = state.replace(log_alpha=log_alpha, alpha_opt=alpha_opt)
    state = state.replace(critic_target=update_targets(config, state))
    return state, {"critic_loss": c_loss, "actor_loss": a_loss, "alpha": alpha_of(state),
                   "entropy": entropy(log_prob, probs)}


def draw_words(setup: SACSetup, config: SACConfig, key) -> tuple[jax.Array, jax.Array]:
    """A step's random numbers as ``uint32`` words from one ``jax.random.bits`` call:
    ``[3, num_envs, actor.action_dim]`` for :func:`select_action`, ``[updates_per_step,
    batch_size, 1 + 2 · actor.action_dim]`` for :func:`learn` (made uniform by
    :func:`jaxrl.deep.policies.open_uniform`, slots by
    :func:`jaxrl.deep.replay.sample_from_bits`). On the CPU each ``jax.random`` call is a
    threefry hash that XLA runs as a while loop of five rounds inside the step's loop.
    Drawing once, where ``split``, ``randint``, ``normal`` and ``uniform`` made ten
    calls, made one seed's step on rejax's Pendulum config 4-8 % faster (2-core CPU,
    interleaved rounds in one process; ``benchmarks/sac.py`` times whole runs)."""
    width = setup.actor.action_dim
    acting = (3, config.num_envs, width)
    learning = (config.updates_per_step, config.batch_size, 1 + 2 * width)
    words = jax.random.bits(key, (math.prod(acting) + math.prod(learning),))
    return (words[:math.prod(acting)].reshape(acting),
            words[math.prod(acting):].reshape(learning))


def train_step(setup: SACSetup, config: SACConfig, state: SACState):
    """One step of the ``num_envs`` environments (select, execute, store), then
    ``updates_per_step`` gradient steps (:func:`learn`) once ``learning_starts`` steps
    are stored. The metrics are sums (a chunk's means: divide by ``updates``)."""
    key, key_env, key_draw = jax.random.split(state.key, 3)
    acting, learning_words = draw_words(setup, config, key_draw)
    actions, noise, fresh = select_action(setup, config, state, acting)
    env_state, transitions = setup.env.batch_step(key_env, state.env_state, actions,
                                                  setup.env_params)
    noise = jnp.where(transitions.done[:, None], fresh, noise)  # a new episode's sequence
    state = state.replace(memory=store(state.memory, transitions), env_state=env_state,
                          noise=noise, step=state.step + config.num_envs, key=key)

    def learning(state):
        if config.updates_per_step == 1:
            return learn(setup, config, state, learning_words[0])
        state, metrics = jax.lax.scan(lambda s, w: learn(setup, config, s, w), state,
                                      learning_words)
        return state, jax.tree.map(lambda m: jnp.sum(m, 0), metrics)

    def waiting(state):
        zero = jnp.zeros((), jnp.float32)
        return state, {"critic_loss": zero, "actor_loss": zero, "alpha": zero, "entropy": zero}

    active = state.step >= config.learning_starts
    state, metrics = jax.lax.cond(active, learning, waiting, state)
    return state, {**metrics, "updates": active.astype(jnp.int32) * config.updates_per_step,
                   **env_state.stats.step_totals()}


def greedy_action(setup: SACSetup, config: SACConfig, state: SACState, obs) -> jax.Array:
    """The policy's mode for a batch of observations: ``tanh(μ(s))`` scaled to the bounds,
    or ``argmax_a π(a|s)``."""
    head, _ = policy_head(setup, config, state.actor_params, obs)
    if setup.discrete:
        return jnp.argmax(head, axis=-1).astype(jnp.int32)
    return _to_env(setup, jnp.tanh(head))


ALGORITHM = driver.Algorithm(make=make, init=init, train_step=train_step,
                             greedy_action=greedy_action)


def train(config: SACConfig, key: jax.Array, env: Any = None, env_params: Any = None):
    """Train one seed: ``(SACState, Curve)``; jitted, ``jax.vmap`` it over keys/configs."""
    return driver.train(ALGORITHM, config, key, env, env_params)


def run(config: SACConfig, keys: jax.Array, **kwargs) -> driver.RunResult:
    """Train many seeds in compiled chunks (:func:`jaxrl.driver.run`)."""
    return driver.run(ALGORITHM, config, keys, **kwargs)


__all__ = [
    "ALGORITHM", "SACConfig", "SACSetup", "SACState", "SoftActor", "action_distribution",
    "actor_loss", "alpha_of", "check_values", "critic_loss", "critic_target", "draw_words",
    "entropy",
    "greedy_action", "init", "learn", "make", "max_entropy", "policy_head", "q_values",
    "run", "sample", "select_action", "store", "target_entropy", "train", "train_step",
    "update_actor", "update_critics", "update_targets", "update_temperature",
]
