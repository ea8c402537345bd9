"""How tabular model-based RL (:mod:`jaxrl.tabular.model_based`) explores: the action it
takes, and the models of its exploring plans, optimistic about the pairs not yet known.

* **Uniform**: any action, whatever the model says.
* **R-max** [Brafman & Tennenholtz 2002] (``rmax``): an unknown pair leads to a fictitious
  state that pays ``rmax`` at every step forever, so it is worth ``rmax / (1 - γ)`` and the
  plan walks to the nearest one.
* **Novelty** (``exploration="novelty"``): a reward is found where the agent has never
  arrived, so an unknown pair pays, once, the chance that it arrives at a state no step
  has arrived at yet, estimated at its state ``s`` from the tries of unknown pairs there::

      p̂_new(s) = (n_new(s) + 2 ḡ) / (n(s) + 2),    ḡ = (Σ_s n_new(s) + 1) / (Σ_s n(s) + 2)

  (``n(s)``: the tries of pairs at ``s`` while they were unknown; ``n_new(s)``: those that
  arrived at a new state; the rate ``ḡ`` over all states is the prior, worth two tries).
  Its plan is discounted by ``novelty_gamma``, below γ, which weighs that chance against
  the walk to it, and keeps the model's real rewards: once the goal is known, walking
  into it (a reset, at a random state) competes with the walks to the chances. This rule
  is jaxrl's own; ``benchmarks/model_based.py`` measures it against R-max.

The action is ε-greedy on the exploring plan's ``Q̂`` (ties broken uniformly, so an empty
model's plan still explores), or uniform.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxrl.checks import check_choices
from jaxrl.mdp import TabularMDP

EXPLORATIONS = ("epsilon_greedy", "uniform", "novelty")


def check_exploration(exploration: str, rmax) -> None:
    """``ValueError`` (one line) for an unknown ``exploration``, or ``rmax`` with one
    that does not act on R-max's plan."""
    check_choices({"exploration": (exploration, EXPLORATIONS)})
    if rmax is not None and exploration != "epsilon_greedy":
        raise ValueError(f"rmax is R-max's plan, acted on ε-greedily: exploration must be "
                         f"'epsilon_greedy' with it, got {exploration!r}")


def optimistic_plans(exploration: str, rmax) -> bool:
    """Whether the exploring plan is R-max's or the novelty rule's (on ``S + 1`` states,
    :func:`optimistic`), not the certainty-equivalent plan itself."""
    return rmax is not None or exploration == "novelty"


def select_action(exploration: str, epsilon, q_row: jax.Array, key: jax.Array) -> jax.Array:
    """``A_t`` for one state: uniform, or ε-greedy on the exploring plan's ``q_row``
    (``"epsilon_greedy"`` and ``"novelty"``), a greedy tie broken uniformly."""
    key_coin, key_action, key_tie = jax.random.split(key, 3)
    uniform = jax.random.randint(key_action, (), 0, q_row.shape[-1], dtype=jnp.int32)
    if exploration == "uniform":
        return uniform
    best = q_row >= jnp.max(q_row)
    tie = jax.random.uniform(key_tie, q_row.shape)
    greedy = jnp.argmax(jnp.where(best, tie, -1.0)).astype(jnp.int32)
    return jnp.where(jax.random.uniform(key_coin) < epsilon, uniform, greedy)


def optimistic(mdp: TabularMDP, unknown: jax.Array, pay: jax.Array, forever: bool
               ) -> TabularMDP:
    """``mdp`` with one more, absorbing state ``S`` that every ``unknown[s, a]`` pair leads
    to, paying ``pay`` (broadcast to ``[S, A]``). With ``forever``, ``S`` pays ``pay`` (a
    number) at every step: R-max's fictitious state; else nothing: a one-time bonus."""
    num_states, num_actions, slots = mdp.next_states.shape
    stay = jnp.zeros(slots, mdp.probs.dtype).at[0].set(1.0)
    extra = jnp.full((1, num_actions, slots), num_states, jnp.int32)
    return TabularMDP(
        next_states=jnp.concatenate(
            [jnp.where(unknown[..., None], num_states, mdp.next_states), extra]),
        probs=jnp.concatenate([jnp.where(unknown[..., None], stay, mdp.probs),
                               jnp.broadcast_to(stay, extra.shape)]),
        rewards=jnp.concatenate([
            jnp.where(unknown, pay, mdp.rewards),
            jnp.full((1, num_actions), pay if forever else 0.0, mdp.rewards.dtype)]),
        terminal=jnp.concatenate([mdp.terminal, jnp.zeros(1, bool)]))


def novelty_bonus(novel: jax.Array) -> jax.Array:
    """``p̂_new(s)`` for every state from ``novel[s] = (n_new(s), n(s))`` (the module's
    equation), float32 ``[S]``."""
    novel = novel.astype(jnp.float32)
    rate = (novel[:, 0].sum() + 1.0) / (novel[:, 1].sum() + 2.0)
    return (novel[:, 0] + 2.0 * rate) / (novel[:, 1] + 2.0)


def note_arrival(novel: jax.Array, arrived: jax.Array, s: jax.Array, s_next: jax.Array,
                 unknown: jax.Array) -> tuple[jax.Array, jax.Array]:
    """One transition ``s → s_next`` counted for the novelty rule: ``n(s) += 1`` and
    ``n_new(s) += 1`` if ``s_next`` was never arrived at, when the pair was ``unknown``;
    ``s_next`` is arrived at."""
    new = jnp.stack([~arrived[s_next], True]).astype(novel.dtype)
    return novel.at[s].add(new * unknown.astype(novel.dtype)), arrived.at[s_next].set(True)
