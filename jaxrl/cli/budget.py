"""A run's budget fitted to its learner: whole ``train_step`` calls, cut into chunks of
one evaluation interval each, and the fields that hold a learner back at the start of a
run capped to a short budget. Every change is a note the command line prints."""

from __future__ import annotations

import math
from typing import Any

from jaxrl.cli import fields
from jaxrl.cli.errors import UsageError

#: Fields that hold a learner back at the start of a run, and the share of a short
#: budget each may take, in tenths: ``learning_starts`` (no gradient step before it),
#: ``random_steps`` (MPC's random actions before it plans), ``exploration_steps``
#: (ε's decay). A preset's value that does not fit is capped, with a note.
STARTS = (("learning_starts", 5), ("random_steps", 5), ("exploration_steps", 3))


def chunking(budget: int, per_call: int, every: int) -> tuple[int, int]:
    """``(total, interval)``: a budget of ``budget`` steps in whole calls of ``per_call``
    steps, cut into chunks of one evaluation interval each, that interval as near the
    ``every`` asked as whole calls allow (``0``: one chunk). A chunk length (in calls)
    within 1.5x of the interval asked that divides the budget's calls keeps the budget
    exact (the nearest the interval, if several); if none does, the budget's calls are
    cut into the nearest number of chunks to it, rounded up to whole chunks (fewer added
    calls than chunks). The interval is within 1.5x of the one asked, at least one call
    and at most the whole budget."""
    calls = max(1, math.ceil(budget / per_call))
    want = every / per_call if every > 0 else calls
    if want >= calls:
        return calls * per_call, calls * per_call
    low, high = max(1, math.ceil(want / 1.5)), max(1, math.floor(want * 1.5))
    exact = [c for c in range(low, min(high, low + 100_000) + 1) if calls % c == 0]
    if exact:
        chunk = min(exact, key=lambda c: abs(math.log(c / want)))
    else:
        chunk = math.ceil(calls / max(1, round(calls / want)))
    return math.ceil(calls / chunk) * chunk * per_call, chunk * per_call


def shorten(config: Any, asked: set[str], per_call: int) -> tuple[Any, list[str]]:
    """Fit a config's step counts to its budget, saying what changed: the budget to whole
    ``train_step`` calls of ``per_call`` environment steps (the learner's
    ``Schedule.steps_per_call``) cut into chunks of one evaluation interval
    (:func:`chunking`: every chunk the same length, near the interval asked), then the
    fields of :data:`STARTS` that were not asked for and would not fit the budget. A
    budget below one call is refused (one line naming the call's size)."""
    notes: list[str] = []
    changes: dict[str, Any] = {}
    budget = getattr(config, "total_steps", None)
    if budget is not None:
        if budget < per_call:
            raise UsageError(
                f"total_steps {budget} is less than one train_step call of {per_call} "
                f"environment steps per seed{_call_size(config)}: ask for at least "
                f"{per_call} steps, or make the call smaller")
        budget_name, interval, unit = "total_steps", "eval_every", "environment steps"
    else:
        budget, per_call = config.episodes, 1
        budget_name, interval, unit = "episodes", "eval_every_episodes", "episodes"
    every = getattr(config, interval)
    total, chunk = chunking(budget, per_call, every)
    if total != budget:
        changes[budget_name] = total
        why = (f"whole calls of {per_call} {unit}" if per_call > 1 else "whole chunks")
        notes.append(f"{budget_name} {budget} -> {total} ({why}, {total // chunk} "
                     f"chunk(s) of {chunk // per_call} call(s): every chunk the same)")
    if chunk != (every or budget):
        changes[interval] = chunk
        notes.append(f"{interval} {every} -> {chunk} (the evaluation interval in whole "
                     f"calls of {per_call} {unit}, every chunk the same, none past the "
                     "budget)" if per_call > 1 else f"{interval} {every} -> {chunk} "
                     "(every chunk the same, none past the budget)")
    if budget_name == "total_steps":
        for name, share in STARTS:
            value, cap = getattr(config, name, None), max(1, total * share // 10)
            if value is not None and name not in asked and value > cap:
                changes[name] = cap
                notes.append(f"{name} {value} -> {cap} (it must fit in total_steps "
                             f"{total}; set --{name} to choose)")
    return fields.replace(config, **changes), notes


def _call_size(config: Any) -> str:
    """`` (num_envs 8 x num_steps 128)``: what makes a call's size, where the config has
    more than one environment or a rollout."""
    parts = [f"{name} {getattr(config, name)}" for name in ("num_envs", "num_steps")
             if getattr(config, name, 1) > 1]
    return f" ({' x '.join(parts)})" if parts else ""
