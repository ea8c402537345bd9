"""Where the command line writes: every output path checked before any work (loading,
compiling, training, rendering), so a bad one is one line ``jaxrl: error: ...``, exit
status 2, and nothing written. No JAX here.

A folder that can be written is probed, not guessed: ``os.access`` answers yes to root
for any folder (``/proc`` included), so the check creates a file or folder there and
removes it at once (a probe named ``.jaxrl-probe-*``; nothing is left behind).
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from jaxrl.cli.errors import UsageError


def check_output_file(flag: str, path: Path | str, suffixes: Sequence[str]) -> Path:
    """The file ``flag`` names, checked: its extension one of ``suffixes`` (as
    ``".gif"``, case-insensitive), not a folder, in an existing folder that can be
    written (missing folders are not created); else a :class:`UsageError` line."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{flag} {path}: is a folder; give a file name, as "
                         f"{path / ('episode' + suffixes[0])}")
    suffix = path.suffix.lower()
    if suffix not in {s.lower() for s in suffixes}:
        what = f"unsupported format {suffix!r}" if suffix else "no file extension"
        raise UsageError(f"{flag} {path}: {what} (supported: {', '.join(suffixes)})")
    parent = path.parent
    if not parent.exists():
        raise UsageError(f"{flag} {path}: no folder {parent} (create it first)")
    if not parent.is_dir():
        raise UsageError(f"{flag} {path}: {parent} is not a folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{flag} {path}: exists and cannot be overwritten")
    _probe(flag, path, parent, folder=False)
    return path


def check_output_folder(flag: str, path: Path | str, parents: bool = True) -> Path:
    """The folder ``flag`` names, checked: an existing folder, or one that can be made
    (``parents``: missing folders above it too, else its parent must exist), in a place
    that can be written; else a :class:`UsageError` line. Whether an existing folder may
    be used (empty, a run of the same kind) is the caller's to say."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path}: exists and is not a folder")
    base = path
    while not base.exists() and base != base.parent:
        base = base.parent
    if base != path and not parents and base != path.parent:
        raise UsageError(f"{flag} {path}: no folder {path.parent} (create it first)")
    if not base.is_dir():
        raise UsageError(f"{flag} {path}: {base} is not a folder")
    _probe(flag, path, base, folder=True)
    return path


def _probe(flag: str, path: Path, where: Path, folder: bool) -> None:
    """Create and remove a file (``folder``: a folder) in ``where``; a :class:`UsageError`
    line if that fails."""
    if not os.access(where, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: cannot write in {where}")
    try:
        if folder:
            os.rmdir(tempfile.mkdtemp(prefix=".jaxrl-probe-", dir=where))
        else:
            handle, name = tempfile.mkstemp(prefix=".jaxrl-probe-", dir=where)
            os.close(handle)
            os.unlink(name)
    except OSError as error:
        reason = "" if error.errno == errno.ENOENT else \
            f" ({error.strerror or type(error).__name__})"
        raise UsageError(f"{flag} {path}: cannot write in {where}{reason}") from None
