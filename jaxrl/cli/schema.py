"""A learner's config fields read from its source, without importing it.

Importing a learner imports JAX, which takes seconds; the command line checks a field's
name and parses its value before that (a typo is one line at once), and lists the fields
with the config's own docstring in ``--help``. The config class is found in the
learner's module (or the module it imports it from) with :mod:`ast`: each annotated
field, its type (evaluated over the few builtin names the configs use) and its line of
the docstring's ``Attributes:`` section. ``tests/test_cli_fast.py`` checks that this
equals what the imported class says, for every learner.
"""

from __future__ import annotations

import ast
import functools
import re
import textwrap
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]  # the jaxrl package
#: The names a config's annotations use.
NAMES = {"int": int, "float": float, "bool": bool, "str": str, "tuple": tuple,
         "Any": Any, "None": None}


@dataclass(frozen=True)
class Field:
    """A config field: its name, annotated type (``None`` if it could not be read from
    the source: checked once the class is imported), its docstring text, and whether it
    is static (``struct.field(pytree_node=False)``: a size, name or switch, not a leaf
    that a sweep varies inside one program)."""

    name: str
    kind: Any
    help: str
    static: bool = False


def _module_file(module: str) -> Path:
    return ROOT.joinpath(*module.split(".")[1:]).with_suffix(".py")


def _class(module: str, name: str) -> ast.ClassDef:
    """The ``class name`` of ``module``'s source, following ``from X import name``."""
    tree = ast.parse(_module_file(module).read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                "jaxrl") and any(a.name == name for a in node.names):
            return _class(node.module, name)
    raise LookupError(f"no class {name} in {module}")


def _kind(annotation: ast.expr) -> Any:
    try:
        return eval(ast.unparse(annotation), {"__builtins__": {}}, dict(NAMES))  # noqa: S307
    except Exception:  # a name the configs do not use today: checked after import
        return None


def attribute_docs(doc: str) -> dict[str, str]:
    """``{field: text}`` from a Google-style docstring's ``Attributes:`` section (a line
    ``a, b: text`` documents both)."""
    lines = textwrap.dedent("\n".join(doc.splitlines()[1:])).splitlines()
    out: dict[str, str] = {}
    inside, names, indent = False, [], 0
    for line in lines:
        if line.strip() == "Attributes:":
            inside = True
            continue
        if not inside:
            continue
        if line.strip() and not line.startswith(" "):
            break  # the section ended
        stripped = line.strip()
        here = len(line) - len(line.lstrip())
        if stripped and (not names or here <= indent) and ":" in stripped:
            head, text = stripped.split(":", 1)
            names, indent = [n.strip() for n in head.split(",")], here
            for n in names:
                out[n] = text.strip()
        elif stripped and names:
            for n in names:
                out[n] += " " + stripped
    return out


@functools.cache
def fields(module: str, config: str) -> dict[str, Field]:
    """``{name: Field}`` of the config class ``config`` of the learner's ``module``, in
    the class's order."""
    node = _class(module, config)
    docs = attribute_docs(ast.get_docstring(node, clean=False) or "")
    out = {}
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            name = item.target.id
            out[name] = Field(name, _kind(item.annotation), docs.get(name, ""),
                              _static(item.value))
    return out


def _static(value: ast.expr | None) -> bool:
    """``struct.field(pytree_node=False, ...)``: a static field."""
    return isinstance(value, ast.Call) and any(
        k.arg == "pytree_node" and isinstance(k.value, ast.Constant) and k.value.value is False
        for k in value.keywords)


def kinds(module: str, config: str) -> dict[str, Any]:
    """``{name: type}``, as :func:`jaxrl.cli.fields.field_types` gives it for the class."""
    return {name: f.kind for name, f in fields(module, config).items()}


def plain(text: str) -> str:
    """A docstring's text for a terminal: ````x```` as x, ``:func:`a.b.c``` as c."""
    text = re.sub(r":\w+:`~?(?:[\w.]*\.)?([\w]+)`", r"\1", text)
    return text.replace("``", "")


def metavar(kind: Any) -> str:
    """What a field's flag takes, from its type: ``N``, ``X``, ``BOOL``, ``NAME``..."""
    options = [k for k in typing.get_args(kind) if k is not type(None)]
    if typing.get_origin(kind) in (typing.Union, types.UnionType) and options:
        return metavar(options[0]) + "|none"
    if typing.get_origin(kind) is tuple:
        args = typing.get_args(kind)
        return "K=V,..." if args and typing.get_origin(args[0]) is tuple else "N,N,..."
    return {int: "N", float: "X", bool: "BOOL", str: "NAME"}.get(kind, "V")
