"""Argument types and outputs shared by the ``jaxrl`` command and its subcommands."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer ``>= minimum``, else one clear line."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"  # argparse names the type in its errors
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def write_summary(out: Path | None, summary: dict[str, Any]) -> None:
    """Write ``out/summary.json`` (numbers as JSON floats) and say where; nothing when
    ``out`` is ``None``."""
    if out is None:
        return
    out.mkdir(parents=True, exist_ok=True)
    path = out / "summary.json"
    path.write_text(json.dumps(summary, indent=2, default=float) + "\n")
    print(f"wrote {path}")
