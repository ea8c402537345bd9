"""A run folder's ``checkpoints/`` through orbax: one manager for a whole run
(:class:`Checkpoints`), and the newest checkpoint that reads (:func:`read_newest`),
passing over damaged ones without deleting anything and without orbax's or TensorStore's
log lines. :mod:`jaxrl.runs` gives both to the rest of the package."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxrl.driver import Snapshot, hosts


def manager(directory: Path, create: bool = False) -> Any:
    """An orbax ``CheckpointManager`` of ``directory`` (the two newest kept, saved
    synchronously)."""
    import orbax.checkpoint as ocp

    return ocp.CheckpointManager(
        Path(directory).absolute(),
        options=ocp.CheckpointManagerOptions(max_to_keep=2, create=create,
                                             enable_async_checkpointing=False),
        item_handlers=ocp.StandardCheckpointHandler())


class Checkpoints:
    """The checkpoints a run writes, through one orbax manager opened at the first save
    and closed by :meth:`close` (or the end of a ``with`` block): a manager per save paid
    its opening every chunk."""

    def __init__(self, directory: Path):
        self.directory, self._manager = Path(directory), None

    def __enter__(self) -> Checkpoints:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def save(self, snapshot: Snapshot) -> None:
        """Save ``snapshot`` as checkpoint ``snapshot.chunk`` (orbax writes it to a
        temporary folder and renames it when complete: a save cut short never replaces
        the last good checkpoint; the two newest are kept). In a run over several
        processes every process calls it with its own snapshot
        (:func:`jaxrl.driver.hosts.to_global`)."""
        import orbax.checkpoint as ocp

        host = snapshot.to_host()
        if jax.process_count() > 1:  # one row per process, each written by its process
            host = hosts.to_global(host)
        if self._manager is None:
            self._manager = manager(self.directory, create=True)
            self._move_aside(snapshot.chunk)
        self._manager.save(snapshot.chunk, args=ocp.args.StandardSave(host))
        self._manager.wait_until_finished()

    def _move_aside(self, chunk: int) -> None:
        """Checkpoints numbered ``chunk`` or later, already there when a run starts
        saving, are unreadable ones its resume passed over: orbax would skip saving over
        them (and keep them as the newest), so they go to ``N.damaged-<time>``, kept."""
        later = [s for s in self._manager.all_steps() if s >= chunk]
        if not later:
            return
        if jax.process_index() == 0:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            for step in sorted(later):
                path = self.directory / str(step)
                aside = path.with_name(f"{step}.damaged-{stamp}")
                path.rename(aside)
                print(f"jaxrl: note: {self.directory.name}/{step} (unreadable) moved aside "
                      f"to {self.directory.name}/{aside.name}; chunk {step} is saved anew",
                      file=sys.stderr, flush=True)
        if jax.process_count() > 1:
            from jax.experimental import multihost_utils

            multihost_utils.sync_global_devices("jaxrl: damaged checkpoints moved aside")
        self._manager.reload()

    def close(self) -> None:
        """Close the manager (a later :meth:`save` opens another)."""
        if self._manager is not None:
            self._manager.close()
            self._manager = None


def read_newest(directory: Path) -> tuple[dict[str, np.ndarray] | None, int, list[str]]:
    """``(arrays, step, passed)``: the newest checkpoint that reads, its step, and a
    ``"<dir>/N is unreadable (<reason>)"`` for each newer one passed over (nothing is
    deleted); ``arrays`` is ``None`` when there is no checkpoint or none reads. In a run
    over several processes each reads its own row (a checkpoint unreadable in one process
    is passed over in all); read by one process, a run of ``P`` processes gives every
    leaf with a leading axis of ``P``."""
    import orbax.checkpoint as ocp

    directory, passed = Path(directory), []
    with _quiet():
        mine = manager(directory)
        try:
            for step in sorted(mine.all_steps(), reverse=True):
                try:
                    target = hosts.restore_target(mine.item_metadata(step))
                    host, error = hosts.local_rows_of(
                        mine.restore(step, args=ocp.args.StandardRestore(target))), None
                except Exception as caught:  # orbax/tensorstore raise many kinds
                    host, error = None, caught
                    _drop_closed_loop_errors()
                    _drop_unretrieved_read_errors()
                if jax.process_count() > 1 and hosts.any_process(error is not None):
                    error = error or RuntimeError("unreadable in another process")
                if error is None:
                    return host, step, passed
                passed.append(f"{directory.name}/{step} is unreadable "
                              f"({reason(directory / str(step), error)})")
        finally:
            mine.close()
    return None, -1, passed


def reason(path: Path, error: BaseException) -> str:
    """Why the checkpoint at ``path`` did not read, short: a missing metadata file, or
    the innermost cause of TensorStore's message (without its spec), or the error's first
    line."""
    for name in ("_CHECKPOINT_METADATA", "default/_METADATA"):
        try:
            json.loads((path / name).read_text())
        except FileNotFoundError:
            return f"{name} is missing"
        except (OSError, ValueError):
            return f"{name} is not valid JSON"
    text = str(error).split(" [tensorstore_spec=")[0]
    text = re.sub(r"\s*<bound method pybind11[^>]*>", "", text).strip()
    text = text.splitlines()[0] if text else ""
    if re.match(r"[A-Z_]+: ", text):  # TensorStore's status, then nested "...": causes
        status, rest = text.split(": ", 1)
        text = f"{status.lower().replace('_', ' ')}: {rest.rsplit(chr(34) + ': ', 1)[-1]}"
    else:
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No absl log lines from orbax while checkpoints are read: a damaged one is said in
    one line of ours."""
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _closed_loop(error: BaseException | None) -> bool:
    return isinstance(error, RuntimeError) and str(error) == "Event loop is closed"


def _drop_closed_loop_errors() -> None:
    """After a failed restore, TensorStore's reads still running call back into the
    event loop orbax has closed, each a ``RuntimeError('Event loop is closed')`` printed
    with its traceback, as an unraisable exception or (from TensorStore's thread, seen
    once in a loaded test run) through ``sys.excepthook``: drop those (only those), from
    now on."""
    previous = sys.unraisablehook
    if getattr(previous, "jaxrl_closed_loop", False):
        return

    def hook(unraisable: Any) -> None:
        if not _closed_loop(unraisable.exc_value):
            previous(unraisable)

    hook.jaxrl_closed_loop = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook
    previous_except = sys.excepthook

    def except_hook(kind: Any, error: BaseException, traceback: Any) -> None:
        if not _closed_loop(error):
            previous_except(kind, error, traceback)

    sys.excepthook = except_hook


class _UnretrievedReadErrors(logging.Filter):
    """asyncio's "Task exception was never retrieved" for a TensorStore read of a damaged
    checkpoint (orbax leaves the other reads' tasks unawaited once one fails): already
    said in one line of ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        error = record.exc_info[1] if record.exc_info else None
        return not (text.startswith("Task exception was never retrieved")
                    and "tensorstore_spec" in text + str(error))


def _drop_unretrieved_read_errors() -> None:
    """After a failed restore, drop asyncio's log lines of its unawaited TensorStore
    reads (only those), from now on."""
    logger = logging.getLogger("asyncio")
    if not any(isinstance(f, _UnretrievedReadErrors) for f in logger.filters):
        logger.addFilter(_UnretrievedReadErrors())
