"""A CPU device's seeds trained a group at a time: the seeds' working set in the caches."""

from __future__ import annotations

import jax

from jaxrl.driver.loop import _chunk

#: On a CPU, a device trains its seeds this many at a time at most (:func:`in_groups`).
CPU_GROUP = 8


def group_size(seeds: int, most: int) -> int | None:
    """``None`` (all at once) for at most ``most`` seeds, else the largest divisor of
    ``seeds`` from 2 to ``most`` (``None`` if there is none): never a group of one, so
    a seed is in a batch of two or more, as in a plain ``vmap``."""
    sizes = [d for d in range(2, most + 1) if seeds % d == 0] if seeds > most else []
    return max(sizes) if sizes else None


def in_groups(chunk, algo, setup, axis, carry_axes, most):
    """``chunk`` (the vmap over a device's seeds) run on groups of at most ``most``
    seeds one after the other (``lax.map`` with a ``batch_size``), the shared leaves
    closed over. On a CPU, a group's parameters, optimiser states and batches stay in
    the caches through its whole chunk, where all seeds at once stream every seed's
    through memory at every step: 256 DQN seeds on 2 cores cost 0.13-0.18 s per seed in
    groups of 8 and 0.25 s all at once (benchmarks/scaling.py). A GPU runs all of them at once."""
    def grouped(config, carry):
        leaves, treedef = jax.tree.flatten(carry)
        axes = jax.tree.leaves(jax.tree.map(  # per leaf of the carry: batched or shared
            lambda a, x: jax.tree.map(lambda _: a is not None, x), carry_axes, carry,
            is_leaf=lambda a: a is None))
        batched = [x for x, a in zip(leaves, axes, strict=True) if a]
        size = group_size(batched[0].shape[0], most)
        if size is None:
            return chunk(config, carry)

        def one(xs):
            cfg, mine = xs if axis is not None else (config, xs)
            it = iter(mine)
            whole = treedef.unflatten([next(it) if a else x
                                       for x, a in zip(leaves, axes, strict=True)])
            new, out = _chunk(algo, setup, cfg, whole)
            new = treedef.flatten_up_to(new)
            return ([x for x, a in zip(new, axes, strict=True) if a],
                    [x for x, a in zip(new, axes, strict=True) if not a], out)

        mine, same, out = jax.lax.map(one, (config, batched) if axis is not None else batched,
                                      batch_size=size)
        same, mine = iter([x[0] for x in same]), iter(mine)
        return treedef.unflatten([next(mine) if a else next(same)
                                  for a in axes]), out

    return grouped
