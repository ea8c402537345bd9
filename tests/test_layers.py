"""The package's layering: an earlier step of the lecture never imports a later one, and
no module under ``jaxrl/`` reaches 400 lines (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "jaxrl"

#: The lecture's chain, in order; a module's rank is that of its longest matching prefix.
RANKS = {
    # below every learner: the model, the equations, the environments, the driver
    "jaxrl.mdp": 0, "jaxrl.targets": 0, "jaxrl.checks": 0,
    "jaxrl.sweep": 0, "jaxrl.stats": 0, "jaxrl.devices": 0, "jaxrl.envs": 0, "jaxrl.driver": 0,
    "jaxrl.tabular.bellman": 1, "jaxrl.tabular.planning": 1,  # value and policy iteration
    "jaxrl.tabular.scoring": 1,         # a table's distance to planning's optimum
    "jaxrl.tabular.qlearning": 2,       # Q-learning with a table
    "jaxrl.tabular.model_based": 2,     # sample the world, learn a model, plan on it
    "jaxrl.tabular.exploration": 2,     # its exploring plans (R-max, novelty)
    "jaxrl.deep.networks": 3, "jaxrl.deep.replay": 3, "jaxrl.deep.exploration": 3,
    "jaxrl.deep.nnq": 3,                # the table replaced by a network
    "jaxrl.deep.rollout": 3,            # on-policy rollouts (PQN, REINFORCE, PPO)
    "jaxrl.deep.pqn": 3,                # NN-Q made stable: parallel envs, Q(λ), LayerNorm
    "jaxrl.deep.dqn": 4,                # replay memory + target network
    "jaxrl.deep.ddpg": 5, "jaxrl.deep.ddpg_setup": 5,  # actor + critic
    # model-based RL with a learned network model, then optimal control (MPC)
    "jaxrl.deep.dynamics": 6, "jaxrl.deep.mpc": 6, "jaxrl.deep.mpc_setup": 6,
    # learn the policy directly: REINFORCE, then PPO (the last slide)
    "jaxrl.deep.policies": 7, "jaxrl.deep.reinforce": 7, "jaxrl.deep.ppo": 7,
    # the maximum-entropy successor of DDPG, with a stochastic policy: SAC
    "jaxrl.deep.sac": 8, "jaxrl.deep.sac_setup": 8,
    # the command line and the package's front door sit on top of everything
    "jaxrl.presets": 9, "jaxrl.runs": 9,  # the learners by name; run folders, load
    "jaxrl.cli": 9, "jaxrl.maze_tables": 9, "jaxrl": 9, "jaxrl.tabular": 9, "jaxrl.deep": 9,
}


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _rank(module: str) -> int:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in RANKS:
            return RANKS[prefix]
    raise AssertionError(f"{module} has no place in the layering: add it to RANKS")


def _imports(path: Path) -> set[str]:
    """Every ``jaxrl`` module the file imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("jaxrl")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jaxrl"):
            for alias in node.names:  # `from jaxrl.deep import dqn` names a module
                sub = f"{node.module}.{alias.name}"
                where = PACKAGE.parent / Path(*sub.split("."))
                is_module = where.with_suffix(".py").exists() or (where / "__init__.py").exists()
                found.add(sub if is_module else node.module)
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_no_earlier_step_imports_a_later_one(path):
    me = _name(path)
    later = {m for m in _imports(path) if _rank(m) > _rank(me)}
    assert not later, f"{me} (step {_rank(me)}) imports later steps: {sorted(later)}"


def test_envs_do_not_import_the_learners():
    for path in (PACKAGE / "envs").glob("*.py"):
        bad = {m for m in _imports(path)
               if m.startswith(("jaxrl.tabular", "jaxrl.deep", "jaxrl.driver"))}
        assert not bad, f"{_name(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_modules_stay_under_400_lines(path):
    assert len(path.read_text().splitlines()) < 400, _name(path)


def _import_graph() -> dict[str, set[str]]:
    """Every ``jaxrl`` module and the ``jaxrl`` modules it imports (see ``_imports``)."""
    names = {_name(path) for path in MODULES}
    return {_name(path): {m for m in _imports(path) if m in names} for path in MODULES}


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    """The modules ``start`` imports through any chain of imports (itself if in a cycle)."""
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return seen


def _cycles(graph: dict[str, set[str]], limit: int = 50) -> list[list[str]]:
    """The elementary cycles of ``graph``, each from its smallest module, at most ``limit``
    (searched within the modules that import each other, so an acyclic graph costs no
    more than its reachability)."""
    reach = {node: _reach(graph, node) for node in graph}
    found: list[list[str]] = []
    for start in sorted(n for n in graph if n in reach[n]):
        same = {n for n in reach[start] if start in reach[n]}  # start's strong component
        stack = [(start, [start])]
        while stack and len(found) < limit:
            node, chain = stack.pop()
            for succ in sorted(graph[node] & same, reverse=True):
                if succ == start:
                    found.append([*chain, start])
                elif succ > start and succ not in chain:
                    stack.append((succ, [*chain, succ]))
    return found


def test_cycles_are_found_as_chains():
    graph = {"a": {"b"}, "b": {"c", "a"}, "c": {"a"}, "d": {"d"}, "e": {"a"}}
    assert _cycles(graph) == [["a", "b", "a"], ["a", "b", "c", "a"], ["d", "d"]]


def test_no_import_cycle():
    """No module of ``jaxrl`` imports itself through a chain of imports (each reported as
    ``a -> b -> ... -> a``).

    The rule tested: an edge is an ``import`` statement in a module's source, at its top
    or inside a function (a lazy import closes a cycle too, only later, when it runs).
    ``import a.b.c`` is an edge to ``a.b.c``; ``from a.b import c`` is one to the module
    ``a.b.c`` when there is such a file, else to ``a.b`` (``c`` is then a name defined in
    the package's ``__init__.py``). What Python imports implicitly is no edge: before
    ``a.b.c`` runs, Python has run (or is running) ``a/__init__.py`` and
    ``a/b/__init__.py``, so a submodule never waits on its parents, and a package's
    ``__init__`` that imports its own submodules (the usual pattern) is no cycle. It is
    one when such a submodule, or a module it imports, names the package itself by an
    import statement: ``from jaxrl import x`` for an ``x`` of ``jaxrl/__init__.py``.
    Imports through ``importlib`` (``jaxrl``'s lazy names, the environment registry)
    are no import statements and are not followed.
    """
    cycles = _cycles(_import_graph())
    chains = "\n".join(" -> ".join(cycle) for cycle in cycles)
    assert not cycles, f"import cycles among jaxrl's modules:\n{chains}"
