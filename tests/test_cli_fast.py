"""What the command line checks before JAX starts, and how it cuts a budget into chunks.

A typo costs no JAX import: the options, the config's field names and values (typed from
the config's source, :mod:`jaxrl.cli.schema`, which must say what the imported class
says) and conflicting options are checked first. Every shipped preset, and budgets that
are a prime number of calls, train in chunks near the evaluation interval asked.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from jaxrl import presets
from jaxrl.cli import budget, fields, schema


def test_the_schema_is_the_config_class():
    for algo, learner in presets.LEARNERS.items():
        config_class = getattr(learner.load(), learner.config)
        assert schema.kinds(learner.module, learner.config) == \
            fields.field_types(config_class), algo
        docs = schema.fields(learner.module, learner.config)
        assert all(f.help for f in docs.values()), algo  # every field documented
        static = {f.name for f in dataclasses.fields(config_class)
                  if not f.metadata.get("pytree_node", True)}
        assert {n for n, f in docs.items() if f.static} == static, algo


FAST = [
    (["train", "dqn", "--seeds", "abc"], "--seeds: expected an integer"),
    (["train", "dqn", "--learning_rate", "fast"], "expected a number"),
    (["train", "ppo", "--set", "learning_rat=1e-3"], "did you mean learning_rate"),
    (["train", "dqn", "--set", "gamma=0.9", "--gamma", "0.5"], "both set gamma"),
    (["train", "qlearning", "--steps", "100"], "--episodes"),
    (["train", "dqn", "--hidden_sizes", "a,b"], "hidden_sizes"),
    (["train", "dqn", "--dueling", "maybe"], "true or false"),
    (["train", "dqn", "--frobnicate", "3"], "unrecognized arguments"),
    (["train", "dqm"], "did you mean dqn"),
    (["train"], "give an algorithm"),
    ([], "give a command"),
    (["eval", "RUN", "--seed", "1"], "--seed-index"),
]


def test_typos_are_one_line_before_jax_starts():
    """Each bad input in a fresh interpreter: one line, exit 2, and JAX never imported."""
    code = ("import sys\nfrom jaxrl import cli\n"
            "status = cli.main({argv!r})\n"
            "print(status, 'jax' in sys.modules)\n")
    for argv, message in FAST:
        done = subprocess.run([sys.executable, "-c", code.format(argv=argv)],
                              capture_output=True, text=True, timeout=60)
        assert done.stdout.splitlines()[-1] == "2 False", (argv, done.stdout, done.stderr)
        err = done.stderr.strip()
        assert len(err.splitlines()) == 1 and message in err, (argv, err)


def test_help_lists_every_field_with_its_docstring(capsys):
    from jaxrl import cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", "ppo", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "[ALGO]" not in out and "usage: jaxrl train ppo [options]" in out
    for name in schema.fields("jaxrl.deep.ppo", "PPOConfig"):
        if name != "env":
            assert f"--{name}" in out, name
    assert "ε of the clipped surrogate (> 0). (preset: 0.2)" in " ".join(out.split())
    assert "(preset: 500000)" in out  # total_steps of the default preset


def _setup(algo: str, config):
    from jaxrl.cli.train import check

    return check(algo, config)


def _chunks(algo: str, config) -> tuple[int, int, int]:
    """``(asked interval, interval trained, chunks)`` of a config fitted by shorten."""
    learner = presets.LEARNERS[algo]
    if learner.budget == "episodes":
        fitted, _ = budget.shorten(config, set(), 1)
        return (config.eval_every_episodes or config.episodes,
                fitted.eval_every_episodes, fitted.episodes // fitted.eval_every_episodes)
    per_call = _setup(algo, config).schedule.steps_per_call
    fitted, _ = budget.shorten(config, set(), per_call)
    schedule = _setup(algo, fitted).schedule
    assert schedule.calls * per_call == fitted.total_steps  # no step past the budget
    assert fitted.total_steps >= config.total_steps
    interval = schedule.calls_per_chunk * per_call
    return config.eval_every or config.total_steps, interval, schedule.num_chunks


@pytest.mark.parametrize(("algo", "env"), list(presets.PRESETS))
def test_every_preset_evaluates_near_its_interval(algo, env):
    config, _ = presets.preset(algo, env)
    asked, interval, chunks = _chunks(algo, config)
    total = getattr(config, "total_steps", None) or config.episodes
    if asked >= total:
        assert chunks == 1
    else:
        assert asked / 1.5 <= interval <= asked * 1.5, (asked, interval, chunks)


@pytest.mark.parametrize("calls", [977, 293, 163, 1009, 7919])
def test_a_prime_number_of_calls_keeps_the_interval(calls):
    config, _ = presets.preset("ppo", "CartPole-v1")  # 512 steps a call
    config = config.replace(total_steps=calls * 512 - 100)
    asked, interval, chunks = _chunks("ppo", config)
    assert asked / 1.5 <= interval <= asked * 1.5, (calls, interval, chunks)
    assert chunks * interval - calls * 512 < chunks * 512  # fewer calls added than chunks


def test_chunking_rule():
    assert budget.chunking(500_000, 512, 50_000) == (501_760, 50_176)  # 10 chunks
    assert budget.chunking(1_205, 10, 5_000) == (1_210, 1_210)  # one chunk: the budget
    assert budget.chunking(600, 10, 100) == (600, 100)  # exact, as asked
    assert budget.chunking(600, 10, 0) == (600, 600)
    assert budget.chunking(600, 10, 3) == (600, 10)  # at least one call


def test_fields_that_hold_back_a_short_run_are_capped():
    """learning_starts, MPC's random_steps and exploration_steps fit a short budget (a
    run that never plans or never learns is not what a short budget asks for)."""
    for algo, steps, names in (
            ("mpc", 1_000, {"random_steps": 500}),
            ("dqn", 1_000, {"learning_starts": 500, "exploration_steps": 300}),
            ("ddpg", 1_000, {"learning_starts": 500}),
            ("pqn", 10_000, {"exploration_steps": 3_072})):  # 5 calls of 2048 steps
        config, _ = presets.preset(algo)
        config = config.replace(total_steps=steps)
        per_call = _setup(algo, config).schedule.steps_per_call
        fitted, notes = budget.shorten(config, set(), per_call)
        for name, cap in names.items():
            assert getattr(fitted, name) <= cap, (algo, name, getattr(fitted, name))
            assert any(note.startswith(f"{name} ") for note in notes), (algo, notes)
        kept, _ = budget.shorten(config, set(names), per_call)  # asked for: kept
        assert all(getattr(kept, n) == getattr(config, n) for n in names)


def test_the_progress_bar_fits_80_columns_uncut():
    import io

    from rich.console import Console

    from jaxrl.cli import report

    assert [report.compact(n) for n in (512, 9_999, 10_000, 2_048_000, 3.5e9)] == [
        "512", "9999", "10k", "2.05M", "3.5G"]
    screen = io.StringIO()
    console = Console(file=screen, width=80, force_terminal=True, color_system=None)
    with report.Bar(2_048_000, 16, "steps", "greedy return", console=console) as bar:
        bar.update(0, None, first=True)
        bar.update(1_024_000, 123.4)
        bar.progress.refresh()
    last = [line for line in screen.getvalue().replace("\r", "\n").splitlines()
            if "training" in line][-1]
    assert "1.02M/2.05M steps" in last and "greedy return 123" in last
    assert "…" not in last


def test_every_command_takes_no_progress():
    """``--no-progress`` is an option of every command (a script passes it to all)."""
    from jaxrl.cli import COMMANDS, build_parser

    parser = build_parser()
    for name in COMMANDS:
        action = next(a for a in parser._subparsers._group_actions
                      if a.choices and name in a.choices)
        options = {s for a in action.choices[name]._actions for s in a.option_strings}
        assert "--no-progress" in options, name
