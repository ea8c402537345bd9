"""``jaxrl train ALGO``: a config from a preset and the command line, checked whole before
anything compiles or touches the disk, then trained seed by seed in compiled chunks into
a run folder (:mod:`jaxrl.runs`), checkpointed after each chunk; SIGINT/SIGTERM stop
after the chunk running, save, and say how to resume (``jaxrl train --resume DIR``)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jaxrl import presets
from jaxrl.cli import fields, paths, schema, wandb_runs
from jaxrl.cli.budget import shorten
from jaxrl.cli.errors import UsageError, closest

#: Options of ``jaxrl train`` that are not config fields.
COMMON = ("algo", "env", "seeds", "seed", "steps", "set", "config", "out", "resume",
          "no_progress", "no_tensorboard", "wandb", "wandb_group", "wandb_mode",
          "coordinator", "num_processes", "process_id", "distributed")


def add_common(parser: argparse.ArgumentParser, algo_given: bool = False,
               sweep: bool = False) -> None:
    """The options every ``jaxrl train ALGO`` has (field flags come from the config);
    ``algo_given``: the parser of one algorithm, whose help does not list ``ALGO``;
    ``sweep``: ``jaxrl sweep``'s (its folder, one process)."""
    add = parser.add_argument
    add("algo", nargs="?", metavar="ALGO", help=argparse.SUPPRESS if algo_given else
        f"one of {', '.join(presets.LEARNERS)}")
    add("--env", help="environment (default: the algorithm's first preset; `jaxrl list`)")
    add("--seeds", default="4", help="independent seeds, trained at once (default: 4)")
    add("--seed", default="0", help="base random seed: the seeds' keys are split from "
        "key(SEED) (default: 0)")
    add("--steps", help="the budget: environment steps per seed (qlearning: --episodes)")
    add("--set", action="append", default=[], metavar="FIELD=VALUE",
        help="set any config field (repeatable; the same field twice, or also as "
        "--FIELD, is refused)")
    add("--config", type=Path, help="a .toml or .json file of field = value (--set and "
        "--FIELD override it)")
    what = "sweep" if sweep else "run"
    add("--out", type=Path, help=f"the {what} folder (default: {what}s/ALGO-ENV-TIMESTAMP)")
    add("--resume", type=Path, metavar="DIR", help=f"go on with the {what} in DIR")
    add("--no-progress", action="store_true", help="no progress bar")
    add("--no-tensorboard", action="store_true",
        help=f"write no TensorBoard events into the {what} folder")
    add("--wandb", metavar="PROJECT", help="log each seed to Weights & Biases as its own "
        'run, in this project (the extra: pip install "jaxrl[wandb]")')
    add("--wandb-group", metavar="NAME", help=f"the W&B group (default: the {what} "
        "folder's name)")
    add("--wandb-mode", default="online", metavar="MODE", help="online (default) or "
        "offline (W&B's own folder in the run folder; `wandb sync` sends it later)")
    if sweep:  # one process, over this machine's devices
        return
    hosts = parser.add_argument_group(
        "many processes (jax.distributed: each trains its share of the seeds)")
    hosts.add_argument("--coordinator", metavar="HOST:PORT",
                       help="process 0's address, the same in every process")
    hosts.add_argument("--num-processes", metavar="P", help="how many processes")
    hosts.add_argument("--process-id", metavar="I", help="this process, 0 to P-1")
    hosts.add_argument("--distributed", action="store_true",
                       help="join the processes of the cluster JAX detects (SLURM, "
                       "Open MPI, Cloud TPU)")


def add_field_flags(parser: argparse.ArgumentParser, algo: str,
                    with_presets: bool = False) -> None:
    """A flag per config field, named as the field (``--learning_rate`` and
    ``--learning-rate``), its help the config's docstring; ``with_presets`` (for
    ``--help``: it imports the learner) adds the preset's value."""
    learner = presets.LEARNERS[algo]
    config = presets.preset(algo)[0] if with_presets else None
    group = parser.add_argument_group(
        f"{learner.config} fields (the default preset's values; `jaxrl list` names the "
        "others)" if with_presets else f"{learner.config} fields")
    for name, field in schema.fields(learner.module, learner.config).items():
        if name == "env":
            continue
        flags = [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else [])
        text = schema.plain(field.help).replace("%", "%%")
        if config is not None:
            text += f" (preset: {getattr(config, name)!r})"
        group.add_argument(*flags, dest=f"field:{name}", default=argparse.SUPPRESS,
                           metavar=schema.metavar(field.kind), help=text)


def start_processes(args: argparse.Namespace) -> bool:
    """Join the run's processes if the options ask for it (before JAX computes
    anything); whether they did. A bad option or a failed start is one line."""
    explicit = (args.coordinator, args.num_processes, args.process_id)
    if not args.distributed and all(v is None for v in explicit):
        return False
    if args.distributed and any(v is not None for v in explicit):
        raise UsageError("--distributed takes the processes from the cluster: give it "
                         "alone, or --coordinator, --num-processes and --process-id")
    if not args.distributed and any(v is None for v in explicit):
        raise UsageError("give --coordinator HOST:PORT, --num-processes P and --process-id "
                         "I together (or --distributed on a SLURM, Open MPI or TPU cluster)")
    kwargs = {}
    if not args.distributed:
        host, _, port = args.coordinator.rpartition(":")
        bracketed = host.startswith("[") and host.endswith("]")
        if not host or not port.isdigit() or not 0 < int(port) < 65536 or (
                ":" in host and not bracketed) or any(c.isspace() for c in host):
            raise UsageError(f"--coordinator {args.coordinator!r}: expected HOST:PORT "
                             "(an IPv6 address in brackets: [::1]:1234)")
        count = _count("--num-processes", args.num_processes, 1)
        index = _count("--process-id", args.process_id, 0)
        if index >= count:
            raise UsageError(f"--process-id must be below --num-processes {count}, got "
                             f"{index}")
        kwargs = dict(coordinator=args.coordinator, num_processes=count, process_id=index)
    from jaxrl.devices import start_processes

    try:
        start_processes(**kwargs)
    except Exception as error:  # JAX raises several kinds (RuntimeError, ValueError...)
        where = f" at {args.coordinator}" if args.coordinator else ""
        first = (str(error).strip().splitlines() or [""])[0][:200]
        raise UsageError(f"could not join the run's processes{where}: "
                         f"{type(error).__name__}: {first}") from None
    return True


@dataclass
class Plan:
    """A run, checked: what to train, where, and from which checkpoint."""

    algo: str
    config: Any
    info: dict[str, Any]
    folder: Path
    resume: dict[str, Any] | None
    notes: list[str]


@dataclass
class Request:
    """A ``jaxrl train`` command line checked as far as it can be without JAX: the
    options, the seeds, and the config changes asked for (``{field: value}``, the
    ``--config`` file's overridden by ``--set``, ``--FIELD``, ``--steps`` and ``--env``)."""

    args: argparse.Namespace
    seeds: int = 0
    seed: int = 0
    changes: dict[str, Any] | None = None


def precheck(args: argparse.Namespace) -> Request:
    """Check what needs no JAX (numbers, field names and values by the config's
    annotations, conflicting options, the output folder's place): a :class:`UsageError`
    line at once, before JAX is imported."""
    wandb_runs.check_options(args)
    if args.resume is not None:
        fresh = (args.algo, args.env, args.steps, args.config, args.out, args.wandb)
        if any(v is not None for v in fresh) or args.set or args.seeds != "4" or \
                args.seed != "0" or any(k.startswith("field:") for k in vars(args)):
            raise UsageError("--resume goes on with the run as it was configured: give "
                             "no other options than --no-progress and --no-tensorboard")
        folder = Path(args.resume)
        if wandb_runs.missing() and ((folder / wandb_runs.FILE).exists() or any(
                folder.glob(f"configs/*/{wandb_runs.FILE}"))):
            raise UsageError(f"--resume {folder}: it logs to W&B, which needs the wandb "
                             f"extra: {wandb_runs.INSTALL}")
        return Request(args)
    learner = presets.LEARNERS[args.algo]
    seeds = _count("--seeds", args.seeds, 1)
    seed = _count("--seed", args.seed, 0)
    kinds = schema.kinds(learner.module, learner.config)
    changes: dict[str, Any] = {}
    if args.config is not None:
        for name, value in fields.read_file(args.config).items():
            changes[fields.check_in(learner.config, list(kinds), name)] = value
            _parse(kinds, name, value)
    given: dict[str, tuple[str, Any]] = {}  # field -> (the option that set it, value)

    def ask(option: str, name: str, value: Any) -> None:
        name = fields.check_in(learner.config, list(kinds), name)
        parsed = _parse(kinds, name, value)
        if name in given and given[name][1] != parsed:
            raise UsageError(f"{given[name][0]} and {option} both set {name} "
                             f"({given[name][1]!r} and {parsed!r}): give it once")
        given[name] = (option, parsed)
        changes[name] = value

    for item in args.set:
        if "=" not in item:
            raise UsageError(f"--set {item!r}: expected FIELD=VALUE")
        name, value = item.split("=", 1)
        ask("--set", name.strip(), value)
    for key, value in vars(args).items():
        if key.startswith("field:"):
            ask(f"--{key.split(':', 1)[1]}", key.split(":", 1)[1], value)
    if args.steps is not None:
        if learner.budget != "total_steps":
            raise UsageError(f"{args.algo} counts its budget in {learner.budget}: use "
                             f"--{learner.budget} (episodes of max_steps steps)")
        ask("--steps", "total_steps", args.steps)
    if args.env is not None:
        ask("--env", "env", args.env)
    if args.out is not None:
        paths.check_output_folder("--out", args.out)
    return Request(args, seeds, seed, changes)


def _parse(kinds: dict[str, Any], name: str, value: Any) -> Any:
    """``value`` parsed as the field's annotated type (as the config will parse it)."""
    if kinds[name] is None:  # pragma: no cover - every config's types read today
        return value
    return fields.parse(name, kinds[name], value)


def plan(request: Request, argv: list[str]) -> Plan:
    """The checked run the command line asks for, or a :class:`UsageError`."""
    from jaxrl import runs

    args = request.args
    if args.resume is not None:
        try:
            info = runs.read_info(args.resume)
            config = runs.config_of(info)
            host = runs.latest_checkpoint(args.resume)
        except ValueError as error:
            raise UsageError(f"--resume {error}") from None
        paths.check_output_folder("--resume", args.resume)
        processes = _processes()
        if info.get("processes", 1) != processes:
            raise UsageError(f"--resume {args.resume}: the run was trained by "
                             f"{info.get('processes', 1)} process(es), this is {processes}: "
                             "resume it with as many (--num-processes)")
        return Plan(info["algo"], config, info, args.resume, host, [])

    algo, seeds, seed = args.algo, request.seeds, request.seed
    changes = dict(request.changes or {})
    env = changes.pop("env", None)
    config, preset_text = presets.preset(algo, env and _env(str(env)))
    learner = presets.LEARNERS[algo]
    config = fields.apply(config, changes)
    # environment steps per train_step call (tabular Q-learning counts episodes: 1)
    setup = check(algo, config) if learner.budget == "total_steps" else None
    config, notes = shorten(config, set(changes),
                            setup.schedule.steps_per_call if setup else 1)
    if setup is None or notes:  # every change shorten makes has its note
        setup = check(algo, config)
    _check_memory(algo, config, setup, seeds)
    folder = args.out or Path("runs") / f"{algo}-{config.env}-{_timestamp()}"
    check_new_folder(folder, algo)
    info = {"kind": runs.KIND, "algo": algo, "env": config.env, "seeds": seeds,
            "seed": seed, "preset": preset_text, "config": fields.to_json(config),
            "command": ["jaxrl", *argv], "processes": _processes()}
    return Plan(algo, config, info, folder, None, notes)


def _processes() -> int:
    import jax

    return jax.process_count()


def _timestamp() -> str:
    """Now, as the run folder's name has it: process 0's clock in every process."""
    import jax

    now = time.time()
    if jax.process_count() > 1:
        import numpy as np
        from jax.experimental import multihost_utils

        now = float(multihost_utils.broadcast_one_to_all(np.float64(now)))
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(now))


def _count(flag: str, text: str, minimum: int) -> int:
    try:
        value = fields.parse(flag, int, text)
    except fields.ConfigError as error:
        raise UsageError(str(error)) from None
    if value < minimum:
        raise UsageError(f"{flag} must be >= {minimum}, got {value}")
    return value


def _env(name: str) -> str:
    from jaxrl.envs.registry import registered_envs

    known = registered_envs()
    if name not in known:
        raise UsageError(f"unknown environment {name!r}{closest(name, known)} (jaxrl runs "
                         "its own and gymnax's environments, in JAX; Gymnasium's are not "
                         "among them); `jaxrl list` shows the presets")
    return name


def check(algo: str, config: Any) -> Any:
    """The learner's own check and setup (its one ``ValueError`` line as usage, and the
    environment's ``TypeError`` line for a parameter of the wrong type)."""
    try:
        return presets.LEARNERS[algo].load().ALGORITHM.make(config)
    except (ValueError, TypeError) as error:
        raise UsageError(str(error)) from None


def _check_memory(algo: str, config: Any, setup: Any, seeds: int,
                  what: str | None = None) -> None:
    """Refuse a run whose training state cannot fit in memory (from its shapes); ``what``
    names the ``seeds`` rows (a sweep's configs × seeds)."""
    import jax

    module = presets.LEARNERS[algo].load()
    shapes = jax.eval_shape(lambda k: module.ALGORITHM.init(setup, config, k),
                            jax.random.key(0))
    need = seeds * sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(shapes)
                       if hasattr(x.dtype, "itemsize"))
    device = jax.local_devices()[0]
    stats = device.memory_stats() if hasattr(device, "memory_stats") else None
    have = (stats or {}).get("bytes_limit") or \
        os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    if need > 0.8 * have:
        raise UsageError(f"the training state of {what or f'{seeds} seed(s)'} needs "
                         f"{need / 2**30:.1f} "
                         f"GiB (buffer_size, num_envs, network sizes), more than 80% of "
                         f"the {have / 2**30:.1f} GiB this device has")


def check_new_folder(folder: Path, algo: str) -> None:
    """``--out`` must be a new or empty folder, in a place that can be written."""
    if folder.exists():
        if not folder.is_dir():
            raise UsageError(f"--out {folder}: exists and is not a folder")
        if any(folder.iterdir()):
            from jaxrl import runs
            try:
                info = runs.read_info(folder)
            except ValueError:
                raise UsageError(f"--out {folder}: exists and is not a jaxrl run folder; "
                                 "choose a new or empty folder") from None
            what = "a run of the same algorithm" if info["algo"] == algo else \
                f"a run of {info['algo']}, not {algo}"
            raise UsageError(f"--out {folder}: holds {what}: `jaxrl train --resume "
                             f"{folder}` goes on with it; choose a new folder to start over")
    paths.check_output_folder("--out", folder)


class Stop:
    """SIGINT and SIGTERM while training: finish the chunk running, save, stop."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.reason: str | None = None

    def __enter__(self) -> Stop:
        self.previous = {s: signal.signal(s, self._handle)
                         for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc: Any) -> None:
        for s, handler in self.previous.items():
            signal.signal(s, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            print(f"\njaxrl: {signal.Signals(signum).name}: stopping after this chunk "
                  "(saving it)", file=sys.stderr, flush=True)
        self.signum = signum

    def __call__(self) -> bool:
        return self.signum is not None or self.reason is not None
