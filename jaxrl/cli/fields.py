"""A config's fields from text: one parser per field type, read off the config class.

Every hyper-parameter of a learner is a field of its frozen config; the command line
sets it by name (``--learning_rate 1e-3``, ``--set learning_rate=1e-3``, or a TOML/JSON
file of ``field = value``), and each value is parsed by the field's annotated type.
A bad value is a :class:`ConfigError`: one line naming the field, what it got and what
is valid.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from jaxrl.cli.errors import UsageError

#: The largest budget or size the learners' int32 counters hold.
INT_LIMIT = 2**31 - 1
#: Float fields where ``inf`` means "none" (no gradient clip, no value-loss clip).
INF_FIELDS = ("max_grad_norm", "vf_clip")


class ConfigError(UsageError):
    """A bad config value, field name or file: its message is one line."""


def field_types(config_class: type) -> dict[str, Any]:
    """``{field: annotated type}`` of a config class."""
    hints = typing.get_type_hints(config_class)
    return {f.name: hints[f.name] for f in dataclasses.fields(config_class)}


def check_name(config_class: type, name: str) -> str:
    """``name`` if it is a field of the config, else a :class:`ConfigError` with the
    closest names."""
    return check_in(config_class.__name__, list(field_types(config_class)), name)


def check_in(class_name: str, names: list[str], name: str) -> str:
    """``name`` if it is one of the fields ``names`` of the config class ``class_name``
    (the command line has them from the config's source before importing it), else a
    :class:`ConfigError` with the closest names."""
    if name in names:
        return name
    close = difflib.get_close_matches(name, names, n=3)
    hint = f"; did you mean {' or '.join(close)}?" if close else \
        f" (fields: {', '.join(names)})"
    raise ConfigError(f"{class_name} has no field {name!r}{hint}")


def parse(name: str, kind: Any, value: Any, default: Any = None) -> Any:
    """``value`` (text, or a JSON/TOML value) as the field's type ``kind``."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        options = [k for k in typing.get_args(kind) if k is not type(None)]
        if isinstance(value, str) and value.strip().lower() in ("none", "null", ""):
            return None
        if value is None:
            return None
        return parse(name, options[0], value, default)
    if kind is bool:
        return _bool(name, value)
    if kind is int:
        return _int(name, value)
    if kind is float:
        return _float(name, value, allow_inf=name in INF_FIELDS)
    if kind is str:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{name}: expected a name, got {value!r}")
        return value
    if typing.get_origin(kind) is tuple:
        return _tuple(name, kind, value)
    raise ConfigError(f"{name}: cannot be set from the command line")  # pragma: no cover


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ConfigError(f"{name}: expected true or false, got {value!r}")


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    if isinstance(value, int):
        number = value
    else:
        try:
            as_float = float(str(value).replace("_", ""))
        except ValueError:
            raise ConfigError(f"{name}: expected an integer, got {value!r}") from None
        if not math.isfinite(as_float) or as_float != int(as_float):
            raise ConfigError(f"{name}: expected an integer, got {value!r}")
        number = int(as_float)
    if abs(number) > INT_LIMIT:
        raise ConfigError(f"{name}: {number} is more than the int32 counters hold "
                          f"({INT_LIMIT})")
    return number


def _float(name: str, value: Any, allow_inf: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected a number, got {value!r}") from None
    if math.isnan(number) or (math.isinf(number) and not allow_inf):
        raise ConfigError(f"{name}: must be a finite number, got {value!r}")
    return number


def _tuple(name: str, kind: Any, value: Any) -> tuple:
    args = typing.get_args(kind)
    if args and typing.get_origin(args[0]) is tuple:  # env_options: ((field, value), ...)
        return _options(name, value)
    if isinstance(value, str):
        text = value.strip()
        if text in ("()", "none"):
            return ()
        if not text:
            raise ConfigError(f"{name}: expected comma-separated integers like 64,64 "
                              "('()' for none), got ''")
        value = [part for part in text.strip("()[]").split(",") if part.strip()]
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{name}: expected a list like 64,64, got {value!r}")
    items = tuple(_int(name, v) for v in value)
    if any(v <= 0 for v in items):
        raise ConfigError(f"{name}: sizes must be positive, got {value!r}")
    return items


def _options(name: str, value: Any) -> tuple[tuple[str, Any], ...]:
    """``a=1,b=true`` (or a JSON object / list of pairs) as ``(("a", 1), ("b", True))``."""
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list | tuple):
        pairs = [tuple(p) for p in value]
    else:
        pairs = []
        for part in (p for p in str(value).split(",") if p.strip()):
            if "=" not in part:
                raise ConfigError(f"{name}: expected field=value pairs, got {part!r}")
            key, text = part.split("=", 1)
            try:
                pairs.append((key.strip(), json.loads(text.strip())))
            except json.JSONDecodeError:
                pairs.append((key.strip(), text.strip()))
    if any(len(p) != 2 or not isinstance(p[0], str) for p in pairs):
        raise ConfigError(f"{name}: expected field=value pairs, got {value!r}")
    return tuple((k, v) for k, v in pairs)


def apply(config: Any, changes: dict[str, Any]) -> Any:
    """``config`` with each ``{field: value}`` parsed and replaced."""
    kinds = field_types(type(config))
    parsed = {}
    for name, value in changes.items():
        check_name(type(config), name)
        parsed[name] = parse(name, kinds[name], value, getattr(config, name))
    return replace(config, **parsed)


def replace(config: Any, **changes: Any) -> Any:
    """``config.replace(**changes)``, the config's own check of its values (one
    ``ValueError`` line) as a :class:`ConfigError`."""
    try:
        return config.replace(**changes)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def read_file(path: Path) -> dict[str, Any]:
    """``{field: value}`` from a ``.toml`` or ``.json`` file (a flat table; an
    ``[config]`` table or ``"config"`` object of a run's ``config.json`` is read too)."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"--config {path}: cannot read it ({error.strerror})") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        kind = "TOML" if path.suffix == ".toml" else "JSON"
        raise ConfigError(f"--config {path}: not valid {kind} ({error})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"--config {path}: expected a table of field = value")
    return dict(data.get("config", data))


def to_json(config: Any) -> dict[str, Any]:
    """The config's fields as JSON values (tuples as lists, numbers as Python's)."""
    out = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if hasattr(value, "tolist"):
            value = value.tolist()
        out[f.name] = value
    return out
