"""Model-based RL: sample the world, learn a model, then do optimal control (the
lecture's slide; system identification [Schaal & Atkeson, 1994], planning on a learned
model [Levine & Koltun, 2013]), as model-predictive control on a learned dynamics model
[Nagabandi et al., 2018; Chua et al., 2018 (PETS)].

::

    Initialise the model f and the replay memory D                       init
    Collect random_steps steps with uniform random actions into D        collect
    Then, and every refit_every steps after: fit f to D                  fit_model
        (Δs, r) = f(s, a) by Adam on minibatches (an MLP), or the ridge
        regression of (Δs, r) on fixed features in closed form (linear)
    At every step t, from s_t:                                           select_action
        plan a_{t:t+H} maximising Σ_k r̂(ŝ_k, a_k), ŝ_{k+1} = ŝ_k + Δŝ_k,    plan (CEM)
            the model rolled out over the horizon H (lax.scan)           model_returns
        execute the first action a_t (+ Gaussian exploration noise),
        store (s_t, a_t, r_t, s_{t+1}) in D, shift the plan one step     collect

**The planner**, the cross-entropy method (CEM; Rubinstein 1999, PETS's optimiser):
``iterations`` times, draw ``samples`` action sequences ``a ~ clip(μ + σ ε)``, score
each by its model return, refit ``(μ, σ)`` to the ``elites`` best (smoothed by
``momentum``: ``μ <- m μ + (1 - m) mean(elites)``); the first action of the final ``μ``
is executed. ``μ`` starts from the previous step's plan shifted by one step (a warm
start, the last step at the action range's centre), ``σ`` from ``init_std`` (a fraction
of the half-range); the current ``μ`` is always one of the samples. With
``planner="mppi"`` [Williams et al., 2017] ``μ <- Σ_i w_i a_i``, ``w = softmax(R /
temperature)``, and ``σ`` stays. ``model="exact"`` plans on the environment's own
step (the course pendulum's model): the optimal-control baseline.

Everything runs inside XLA through :mod:`jaxrl.driver`: the random phase and the refits
are ``lax.cond`` s on the step counter, shared by the seeds (unbatched in :func:`run`),
so a seed plans only once ``random_steps`` are done and fits only then and every
``refit_every`` steps after. Planning is most of a run's time (the random phase costs
next to nothing): ``samples x iterations x horizon`` model steps per environment step
(9 000 by default), in training and in each evaluation episode::

    state, curve = mpc.train(MPCConfig(), jax.random.key(0))
    result = mpc.run(MPCConfig(), jax.random.split(jax.random.key(0), 16))

The evaluation (:func:`evaluate`) runs the planner without noise, the first episode
from hanging at rest (the course pendulum's ``q = π``, ``v = 0``), and measures the
model's one-step error on fresh transitions of the true environment.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from jaxrl import driver
from jaxrl.deep import dynamics, replay
from jaxrl.deep.ddpg_setup import action_bounds, action_dim
from jaxrl.deep.mpc_setup import (
    PLANNERS,
    MPCConfig,
    MPCSetup,
    check_values,
    is_pendulum,
    make,
)
from jaxrl.deep.networks import input_size


class MPCState(struct.PyTreeNode):
    """The agent: the model and its optimiser state, D, the environments, each
    environment's current plan ``μ`` (``[num_envs, horizon, *action]``), the step
    counter (shared by the seeds), the number of fits, the key."""

    model: Any
    opt_state: Any
    memory: replay.ReplayMemory
    env_state: Any
    plan: jax.Array
    step: jax.Array
    fits: jax.Array
    key: jax.Array


def model_optimizer(config: MPCConfig) -> optax.GradientTransformation:
    """Adam at ``learning_rate`` for the MLP model."""
    return optax.adam(config.learning_rate)


def _dims(setup: MPCSetup) -> tuple[int, int]:
    obs = input_size(setup.env.observation_space(setup.env_params))
    return obs + action_dim(setup.env, setup.env_params), obs + 1


def centre_plan(setup: MPCSetup, config: MPCConfig, lead: tuple[int, ...] = ()) -> jax.Array:
    """The plan at the centre of the action range: ``[*lead, horizon, *action]``."""
    low, high = action_bounds(setup.env, setup.env_params)
    return jnp.broadcast_to((low + high) / 2, (*lead, config.horizon, *low.shape))


def init(setup: MPCSetup, config: MPCConfig, key: jax.Array) -> MPCState:
    """An untrained model, an empty D, ``num_envs`` reset environments, centred plans."""
    env, env_params = setup.env, setup.env_params
    key_model, key_env, key = jax.random.split(key, 3)
    model = dynamics.init_model(config.model, setup.network, *_dims(setup), key_model)
    opt_state = model_optimizer(config).init(model["net"]) if config.model == "mlp" else ()
    obs, env_state = env.batch_reset(key_env, env_params, config.num_envs)
    low, _ = action_bounds(env, env_params)
    zero = jnp.zeros((), jnp.int32)
    return MPCState(
        model=model, opt_state=opt_state,
        memory=replay.init_transitions(obs, jnp.zeros(low.shape, jnp.float32),
                                       config.buffer_size),
        env_state=env_state, plan=centre_plan(setup, config, (config.num_envs,)),
        step=zero, fits=zero, key=key)


def normal(key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """``N(0, 1)`` draws of ``shape``, drawn flat and reshaped: XLA:CPU compiles a
    multi-dimensional threefry draw up to 5x slower (measured: 2.3 s against 0.4 s)."""
    size = 1
    for dim in shape:
        size *= dim
    return jax.random.normal(key, (size,)).reshape(shape)


def uniform(key: jax.Array, shape: tuple[int, ...], low: Any, high: Any) -> jax.Array:
    """``U(low, high)`` draws of ``shape``, drawn flat as :func:`normal`."""
    size = 1
    for dim in shape:
        size *= dim
    return low + (high - low) * jax.random.uniform(key, (size,)).reshape(shape)


# -- optimal control on the model -------------------------------------------------------


def model_step(setup: MPCSetup, config: MPCConfig, model: Any, obs: jax.Array,
               action: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(ŝ', r̂)`` for a batch of ``(s, a)``: the learned model, or the exact one."""
    if config.model == "exact":
        return dynamics.exact_step(setup.env_params, obs, action)
    return dynamics.learned_step(config.model, setup.network, model, obs, action,
                                 config.reward_scale)


def model_returns(setup: MPCSetup, config: MPCConfig, model: Any, obs: jax.Array,
                  actions: jax.Array) -> jax.Array:
    """``R_i = Σ_{k<H} r̂(ŝ_k, a_{i,k})``, ``ŝ_0 = s``, ``ŝ_{k+1}`` the model's: the
    return of each of the ``[N, H, *action]`` sequences, rolled out in ``lax.scan``."""
    start = jnp.broadcast_to(obs, (actions.shape[0], *obs.shape))

    def step(s, a):
        s, r = model_step(setup, config, model, s, a)
        return s, r

    _, rewards = jax.lax.scan(step, start, jnp.swapaxes(actions, 0, 1))
    return jnp.sum(rewards, 0)


def plan(setup: MPCSetup, config: MPCConfig, model: Any, obs: jax.Array, mean: jax.Array,
         key: jax.Array) -> jax.Array:
    """The planned action sequence ``μ`` (``[H, *action]``) from one observation, by
    CEM (or MPPI), warm-started at ``mean``."""
    low, high = action_bounds(setup.env, setup.env_params)
    sigma = jnp.broadcast_to(config.init_std * (high - low) / 2, mean.shape)

    def iteration(carry, key):
        mu, sigma = carry
        eps = normal(key, (config.samples, *mu.shape))
        actions = jnp.clip(mu + sigma * eps, low, high).at[0].set(mu)
        returns = model_returns(setup, config, model, obs, actions)
        if config.planner == "mppi":
            w = jax.nn.softmax((returns - jnp.max(returns)) / config.temperature)
            return (jnp.tensordot(w, actions, 1), sigma), None
        _, best = jax.lax.top_k(returns, config.elites)
        elites = actions[best]
        m = config.momentum
        return (m * mu + (1 - m) * jnp.mean(elites, 0),
                m * sigma + (1 - m) * jnp.std(elites, 0)), None

    (mu, _), _ = jax.lax.scan(iteration, (mean, sigma),
                              jax.random.split(key, config.iterations))
    return mu


def shift(setup: MPCSetup, config: MPCConfig, mu: jax.Array) -> jax.Array:
    """The warm start of the next step: ``μ_{1:H}``, then the action range's centre."""
    centre = centre_plan(setup, config, mu.shape[:-2])
    return jnp.concatenate([mu[..., 1:, :], centre[..., :1, :]], -2)


def mpc_actions(setup: MPCSetup, config: MPCConfig, model: Any, obs: jax.Array,
                plans: jax.Array, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Re-plan in each of a batch of observations: ``(first actions, plans)``."""
    keys = jax.random.split(key, obs.shape[0])
    mu = jax.vmap(lambda o, m, k: plan(setup, config, model, o, m, k))(obs, plans, keys)
    return mu[:, 0], mu


def select_action(setup: MPCSetup, config: MPCConfig, state: MPCState,
                  key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``a_t = clip(μ_0 + σ_explore ε, low, high)`` (σ a fraction of the half-range) in
    each environment; before ``random_steps`` uniform in ``[low, high]`` (no planning,
    a ``lax.cond``): ``(a_t, plans)``."""
    low, high = action_bounds(setup.env, setup.env_params)
    key_plan, key_noise = jax.random.split(key)
    shape = (config.num_envs, *low.shape)

    def random(state):
        return uniform(key_noise, shape, low, high), state.plan

    def planned(state):
        action, plans = mpc_actions(setup, config, state.model, state.env_state.obs,
                                    state.plan, key_plan)
        noise = config.exploration_noise * (high - low) / 2 * normal(key_noise, shape)
        return jnp.clip(action + noise, low, high), plans

    return jax.lax.cond(state.step < config.random_steps, random, planned, state)


# -- system identification --------------------------------------------------------------


def fit_model(setup: MPCSetup, config: MPCConfig, state: MPCState,
              key: jax.Array) -> tuple[MPCState, jax.Array]:
    """Fit the model to D: ``fit_steps`` Adam steps (MLP) or the closed-form ridge
    regression (linear): ``(state, loss)``."""
    if config.model == "linear":
        model, error = dynamics.fit_linear(state.memory, config.ridge, config.reward_scale)
        return state.replace(model=model, fits=state.fits + 1), error
    model, opt_state, loss = dynamics.fit_mlp(
        setup.network, model_optimizer(config), state.model, state.opt_state, state.memory,
        key, config.fit_steps, config.batch_size, config.reward_scale)
    return state.replace(model=model, opt_state=opt_state, fits=state.fits + 1), loss


def _crossed(before: jax.Array, after: jax.Array, every: int) -> jax.Array:
    """A multiple of ``every`` was reached in ``(before, after]``."""
    return after // every > before // every


def collect(setup: MPCSetup, config: MPCConfig, state: MPCState,
            key: jax.Array) -> MPCState:
    """One step of the ``num_envs`` environments with :func:`select_action`; the
    transitions stored in D, the plans shifted (centred where an episode ended)."""
    key_act, key_env = jax.random.split(key)
    actions, plans = select_action(setup, config, state, key_act)
    env_state, transitions = setup.env.batch_step(key_env, state.env_state, actions,
                                                  setup.env_params)
    done = transitions.done.reshape(-1, *([1] * (plans.ndim - 1)))
    plans = jnp.where(done, centre_plan(setup, config, (config.num_envs,)),
                      shift(setup, config, plans))
    return state.replace(memory=replay.store(state.memory, transitions),
                         env_state=env_state, plan=plans,
                         step=state.step + config.num_envs)


def train_step(setup: MPCSetup, config: MPCConfig, state: MPCState):
    """:func:`collect` one step, then :func:`fit_model` at the end of the random phase
    (``random_steps`` reached) and at every multiple of ``refit_every`` steps after it."""
    key, key_collect, key_fit = jax.random.split(state.key, 3)
    before = state.step
    state = collect(setup, config, state, key_collect).replace(key=key)
    planning = state.step >= config.random_steps
    refit = (_crossed(before, state.step, config.refit_every) & planning) | (
        planning & (before < config.random_steps))
    zero = jnp.zeros((), jnp.float32)
    if config.model == "exact":  # nothing to fit
        refit, loss = jnp.zeros((), bool), zero
    else:
        state, loss = jax.lax.cond(refit, lambda s: fit_model(setup, config, s, key_fit),
                                   lambda s: (s, zero), state)
    return state, {"fit_loss": loss, "fits": refit.astype(jnp.int32),
                   **state.env_state.stats.step_totals()}


# -- evaluation -------------------------------------------------------------------------


def evaluate(setup: MPCSetup, config: MPCConfig, state: MPCState,
             key: jax.Array) -> dict[str, jax.Array]:
    """``eval_episodes`` episodes of the planner without noise (all the environment's
    ``max_steps_in_episode`` steps), and the model's one-step errors.

    Returns ``{"return", "length": [episodes]}`` (the greedy-episode semantics of
    :attr:`jaxrl.driver.Curve.final_return`), and on the course pendulum, where episode
    0 starts hanging at rest (``q = π``, ``v = 0``; the others from resets),
    ``"hold": [episodes]`` (``|q| < 0.1`` over the last 20 steps) and ``"swing_up"``
    (episode 0's hold). ``"model_error"``: the root mean squared error of ``ŝ'`` over
    the observation's components on ``probe_transitions`` fresh transitions of the true
    environment (reset states, uniform actions; none of them in D); ``"path_error"``:
    the same along the evaluation episodes; ``"reward_error"``: ``r̂``'s on the fresh
    transitions.
    """
    env, env_params = setup.env.env, setup.env_params
    episodes, steps = config.eval_episodes, setup.episode_steps
    key_reset, key_plan, key_probe = jax.random.split(key, 3)
    reset = jax.vmap(env.reset_env, in_axes=(0, None))
    _, env_state = reset(jax.random.split(key_reset, episodes), env_params)
    pendulum = is_pendulum(setup.env)
    if pendulum:
        env_state = env_state.replace(q=env_state.q.at[0].set(jnp.pi),
                                      v=env_state.v.at[0].set(0.0))
    observe = jax.vmap(lambda s: env.get_obs(s, env_params))
    step_env = jax.vmap(env.step_env, in_axes=(0, 0, 0, None))

    def step(carry, key):
        env_state, plans, active = carry
        key_mpc, key_env = jax.random.split(key)
        obs = observe(env_state)
        action, mu = mpc_actions(setup, config, state.model, obs, plans, key_mpc)
        predicted, _ = model_step(setup, config, state.model, obs, action)
        next_obs, env_state, reward, done, _ = step_env(jax.random.split(key_env, episodes),
                                                        env_state, action, env_params)
        error = jnp.sum(jnp.square(predicted - next_obs), -1)
        out = (jnp.where(active, reward, 0.0), active, jnp.where(active, error, 0.0),
               getattr(env_state, "q", reward))
        return (env_state, shift(setup, config, mu), active & ~done), out

    carry = (env_state, centre_plan(setup, config, (episodes,)), jnp.ones(episodes, bool))
    _, (rewards, active, errors, q) = jax.lax.scan(step, carry,
                                                   jax.random.split(key_plan, steps))
    obs_dim = _dims(setup)[1] - 1
    out = {"return": jnp.sum(rewards, 0), "length": jnp.sum(active, 0, dtype=jnp.int32),
           "path_error": jnp.sqrt(jnp.sum(errors) / (jnp.sum(active) * obs_dim)),
           **probe_errors(setup, config, state.model, key_probe)}
    if pendulum:
        hold = jnp.all(jnp.abs(q[-min(20, steps):]) < 0.1, 0)
        out |= {"hold": hold, "swing_up": hold[0]}
    return out


def probe_errors(setup: MPCSetup, config: MPCConfig, model: Any,
                 key: jax.Array) -> dict[str, jax.Array]:
    """``{"model_error", "reward_error"}``: root mean squared one-step errors of ``ŝ'``
    (over the observation's components) and ``r̂`` on ``probe_transitions`` fresh
    transitions of the true environment from its reset states, uniform actions."""
    env, env_params, n = setup.env.env, setup.env_params, config.probe_transitions
    low, high = action_bounds(setup.env, env_params)
    key_reset, key_action, key_step = jax.random.split(key, 3)
    obs, env_state = jax.vmap(env.reset_env, in_axes=(0, None))(
        jax.random.split(key_reset, n), env_params)
    action = uniform(key_action, (n, *low.shape), low, high)
    next_obs, _, reward, _, _ = jax.vmap(env.step_env, in_axes=(0, 0, 0, None))(
        jax.random.split(key_step, n), env_state, action, env_params)
    predicted, r = model_step(setup, config, model, obs, action)
    return {"model_error": jnp.sqrt(jnp.mean(jnp.square(predicted - next_obs))),
            "reward_error": jnp.sqrt(jnp.mean(jnp.square(r - reward)))}


def greedy_action(setup: MPCSetup, config: MPCConfig, state: MPCState,
                  obs: jax.Array) -> jax.Array:
    """The trained agent's policy for a batch of observations, as ``jaxrl eval`` and
    ``jaxrl render`` call it: the planner without noise from the centred plan (a
    function of the observation alone, so no warm start), its key fixed by the state's."""
    plans = centre_plan(setup, config, (obs.shape[0],))
    return mpc_actions(setup, config, state.model, obs, plans,
                       jax.random.fold_in(state.key, 0))[0]


ALGORITHM = driver.Algorithm(make=make, init=init, train_step=train_step,
                             greedy_action=greedy_action, evaluate=evaluate)


def train(config: MPCConfig, key: jax.Array, env: Any = None, env_params: Any = None):
    """Train one seed: ``(MPCState, Curve)``; jitted, ``jax.vmap`` it over keys/configs."""
    return driver.train(ALGORITHM, config, key, env, env_params)


def run(config: MPCConfig, keys: jax.Array, **kwargs) -> driver.RunResult:
    """Train many seeds in compiled chunks (:func:`jaxrl.driver.run`)."""
    return driver.run(ALGORITHM, config, keys, **kwargs)


__all__ = [
    "ALGORITHM", "PLANNERS", "MPCConfig", "MPCSetup", "MPCState", "centre_plan",
    "check_values", "collect", "evaluate", "fit_model", "greedy_action", "init", "make",
    "model_optimizer",
    "model_returns", "model_step", "mpc_actions", "plan", "probe_errors", "run",
    "select_action", "shift", "train", "train_step",
]
