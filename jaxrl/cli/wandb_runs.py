"""Weights & Biases, an optional extra (``pip install "jaxrl[wandb]"``): each seed of a
vmapped run logged as its own W&B run, the seeds of a run (or of a sweep's config) one
group. Written from the rows of ``metrics.csv`` between chunks, on process 0, as the
TensorBoard events are (:mod:`jaxrl.cli.boards`): a seed's history is its rows of
``metrics.csv``, at the chunk's environment steps per seed (episodes, for a learner
whose budget counts them); the config, and ``seed``, are the run's config; the final
headline value and the plot are in its summary once it ends.

``wandb.json`` in the folder keeps the runs' ids and settings and the last step logged:
``--resume`` goes on with the same W&B runs (W&B's ``resume="allow"``) and logs the
rows after that step only (W&B's history only grows; a resume is bit-identical, so a
chunk trained again gives the rows already logged).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import uuid
from pathlib import Path
from typing import Any

from jaxrl.cli import report
from jaxrl.cli.errors import UsageError

#: The file of a run folder (or a sweep's config folder) that holds the W&B runs' ids.
FILE = "wandb.json"
MODES = ("online", "offline")
INSTALL = 'pip install "jaxrl[wandb]"'


def missing() -> str | None:
    """A line saying how to install the extra, if ``wandb`` does not import."""
    if importlib.util.find_spec("wandb") is None:
        return f"--wandb needs the wandb extra: {INSTALL}"
    return None


def settings(project: str, group: str | None, mode: str) -> dict[str, Any]:
    """What ``wandb.json`` starts from: project, group (``None``: the folder's name),
    mode."""
    return {"project": project, "group": group, "mode": mode}


def check_options(args: argparse.Namespace) -> None:
    """The W&B options: the extra installed, a mode W&B has, no group without a project
    (a resumed run or sweep goes on with the W&B runs its ``wandb.json`` names)."""
    if args.wandb is None:
        if args.wandb_group is not None or args.wandb_mode != "online":
            raise UsageError("--wandb-group and --wandb-mode go with --wandb PROJECT")
        return
    if not args.wandb.strip() or "/" in args.wandb:
        raise UsageError(f"--wandb {args.wandb!r}: expected a W&B project name")
    if args.wandb_mode not in MODES:
        raise UsageError(f"--wandb-mode {args.wandb_mode}: expected one of "
                         f"{', '.join(MODES)}")
    if (line := missing()) is not None:
        raise UsageError(line)


def logs(args: argparse.Namespace) -> dict[str, Any]:
    """Where the command line asks a run to be logged besides its folder's files:
    ``tensorboard`` (on unless ``--no-tensorboard``) and ``wandb`` (the W&B settings;
    ``None``: no W&B, unless the resumed folder logs to W&B already)."""
    return {"tensorboard": not args.no_tensorboard,
            "wandb": None if args.wandb is None else settings(
                args.wandb, args.wandb_group, args.wandb_mode)}


class WandbRuns:
    """The W&B runs of one folder's seeds: :meth:`add` one chunk's rows, :meth:`end` with
    the final values and the plot, :meth:`close`."""

    def __init__(self, folder: Path, config: dict[str, Any], seeds: int,
                 start: dict[str, Any] | None = None) -> None:
        import wandb

        self.folder = Path(folder)
        path = self.folder / FILE
        if path.exists():
            self.state = json.loads(path.read_text())
        else:
            assert start is not None, "a new folder's W&B runs need their settings"
            token = uuid.uuid4().hex[:8]
            self.state = {**start, "group": start["group"] or self.folder.name,
                          "ids": [f"{token}-s{s}" for s in range(seeds)], "last_step": -1}
        self._save()
        options = wandb.Settings(console="off", silent=True, x_disable_stats=True,
                                 x_save_requirements=False, disable_git=True)
        self.runs = [wandb.init(
            project=self.state["project"], group=self.state["group"], id=run_id,
            name=f"{self.folder.name}/seed_{s}", config={**config, "seed": s, "seeds": seeds},
            dir=str(self.folder), mode=self.state["mode"], resume="allow",
            reinit="create_new", settings=options)
            for s, run_id in enumerate(self.state["ids"])]

    def _save(self) -> None:
        tmp = self.folder / (FILE + ".tmp")
        tmp.write_text(json.dumps(self.state, indent=1))
        tmp.replace(self.folder / FILE)

    def add(self, rows: list[dict[str, Any]]) -> None:
        """One chunk's rows (one per seed), each to its seed's run, unless logged before."""
        step = report.step_of(rows[0])
        if step <= self.state["last_step"]:
            return
        for row, run in zip(rows, self.runs, strict=True):
            run.log({k: v for k, v in report.measured(row)}, step=step)
        self.state["last_step"] = step
        self._save()

    def end(self, png: Path, finals: list[float], label: str) -> None:
        """The run ended: each seed's final headline value in its summary, the plot."""
        import wandb

        for run, value in zip(self.runs, finals, strict=True):
            run.summary[f"final {label}"] = value
            run.summary["learning_curve"] = wandb.Image(str(png))

    def close(self) -> None:
        """Finish every seed's run (the W&B service sends or stores what is left)."""
        for run in self.runs:
            run.finish()

    def __enter__(self) -> WandbRuns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
