"""Bad input on the command line: one line, exit status 2, nothing written."""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Iterable


class UsageError(ValueError):
    """Bad input: ``jaxrl`` prints ``jaxrl: error: <message>`` and exits with 2."""


def closest(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean X?"`` for the closest of ``choices`` (case-insensitive), or
    ``""``."""
    choices = list(choices)
    lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.5)
    return f"; did you mean {lower[close[0]]}?" if close else ""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are a :class:`UsageError` (one line, no usage
    dump), so every bad input reads the same."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")
