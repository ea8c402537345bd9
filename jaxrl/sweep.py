"""Hyper-parameter sweeps in one call: stack configs so that ``jax.vmap`` runs them all."""

from __future__ import annotations

from typing import Any, TypeVar

import jax
import jax.numpy as jnp

Config = TypeVar("Config")


def sweep(config: Config, **values: Any) -> Config:
    """A stacked config: each named field takes its values, every other leaf is repeated.

    ``jax.vmap(lambda c: train(c, key))(sweep(config, learning_rate=[0.1, 0.5]))`` trains
    one run per value. Several fields must have the same number of values (they move
    together, a zip, not a grid). Only pytree leaves of the config (numbers such as
    learning rates, γ, ε) can be swept; static fields (sizes, names) cannot.
    """
    if not values:
        raise ValueError("name at least one field to sweep")
    stacked = {name: jnp.asarray(v) for name, v in values.items()}
    sizes = {name: v.shape[0] if v.ndim else None for name, v in stacked.items()}
    if None in sizes.values() or len(set(sizes.values())) != 1:
        raise ValueError(f"each swept field needs a list of values of one length, got {sizes}")
    static = {f for f in getattr(config, "__dataclass_fields__", {})
              if not config.__dataclass_fields__[f].metadata.get("pytree_node", True)}
    for name in stacked:
        if name not in getattr(config, "__dataclass_fields__", {}):
            raise ValueError(f"{type(config).__name__} has no field {name!r}")
        if name in static:
            raise ValueError(f"{name!r} is a static field (a size or a name): it cannot be swept")
    (size,) = set(sizes.values())
    base = jax.tree.map(lambda leaf: jnp.broadcast_to(jnp.asarray(leaf), (size,)), config)
    return base.replace(**stacked)
