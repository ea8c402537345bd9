"""Every benchmark script runs in --quick mode through ``benchmarks/run_all.py``, so that
none of them rots and the merged JSON and RESULTS.md are built from real output."""

import json
import subprocess
import sys
import tarfile
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import gpu  # noqa: E402
import report  # noqa: E402
import run_all  # noqa: E402

FAKE_GPU = {"backend": "gpu", "device": "Fake GPU", "device_count": 1, "cpu_count": 2,
            "jax": "0"}
#: A benchmark script that starts no JAX: it writes DQN's speed JSON (its rejax figure only
#: when given a peer), after ``--sleep`` seconds.
FAKE_SCRIPT = f"""
import argparse, json, os, time
p = argparse.ArgumentParser()
p.add_argument("--out")
p.add_argument("--quick", action="store_true")
p.add_argument("--sleep", type=float, default=0.0)
args = p.parse_args()
time.sleep(args.sleep)
peer = None if os.environ.get("REJAX_PYTHON") == {gpu.NO_PEER!r} else {{"env_steps_per_s": 100.0}}
speed = {{"1": {{"jaxrl": {{"env_steps_per_s": 300.0}}, "rejax": peer}}}}
json.dump({{"device": {FAKE_GPU!r}, "speed": speed}}, open(args.out, "w"))
"""


def test_run_all_quick(tmp_path: Path) -> None:
    md = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--quick", "--out-dir", str(tmp_path),
         "--results-md", str(md)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    names = run_all.benchmarks()
    assert {"planning", "tabular_q", "envs", "dqn", "dqn_sweep", "ddpg", "scaling"} <= set(names)
    for name in names:
        results = json.loads((tmp_path / f"{name}.json").read_text())
        assert results["quick"] is True, name
        assert results["device"]["backend"], name
    merged_files = [p for p in tmp_path.glob("*.json") if p.stem not in names]
    assert len(merged_files) == 1, merged_files
    merged = json.loads(merged_files[0].read_text())
    assert merged_files[0].stem == merged["device_slug"]
    assert sorted(merged["benchmarks"]) == sorted(names)
    assert all(r["status"] == "ok" and r["results"] for r in merged["benchmarks"].values())
    assert (tmp_path / "scaling.png").exists()
    text = md.read_text()
    for name in names:
        assert f"## {report.title(name)}" in text, name
    assert "## Peer ratios" in text
    assert "## Goals" in text
    assert merged["device_slug"] in text
    # the README's GPU table from the same scripts' quick JSON: every figure has a status
    figures = report.gpu_figures(merged)
    assert {f["step"] for f in figures} == set(report.GPU_STEPS)
    measured = {f["figure"] for f in figures if f["status"] == "measured"}
    assert {"DQN, 1 seed", "TD3, 1 seed, 128 greedy episodes every 100 steps",
            "DDPG, Pendulum-v1, 16 seeds", "DQN, 1 to 1 024 seeds",
            "DDPG, 1 to 1 024 seeds"} <= measured
    assert all(f["status"] in ("measured", "not in this run") for f in figures)


def test_run_all_gpu_quick(tmp_path: Path) -> None:
    """``run_all.py --gpu --quick`` on this CPU (one step: the others are the quick test's
    scripts): the JSON names the device, each figure and its status; the README table is
    rewritten between its markers and nothing else."""
    readme = tmp_path / "README.md"
    readme.write_text(f"# jaxrl\n\n{report.GPU_START}\nold table\n{report.GPU_END}\n\nafter\n")
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--gpu", "--quick", "--only", "dqn",
         "--out-dir", str(tmp_path), "--readme", str(readme)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    merged = json.loads(next(tmp_path.glob("cpu-*.json")).read_text())
    assert merged["benchmark"] == "run_all --gpu" and merged["device"]["backend"] == "cpu"
    assert merged["benchmarks"]["dqn"]["status"] == "ok"
    assert (tmp_path / merged["device_slug"] / "dqn.json").exists()
    status = {f["figure"]: f["status"] for f in merged["figures"]}
    assert status["DQN, 1 seed"] == "measured"
    assert status["DQN, 16 seeds"] == "not in this run"
    assert status["TD3, 16 seeds, one final evaluation"] == "not run: not in --only"
    text = readme.read_text()
    assert text.startswith("# jaxrl\n\n" + report.GPU_START) and text.endswith(
        report.GPU_END + "\n\nafter\n")
    assert "old table" not in text and "| DQN, 1 seed |" in text and "**Quick run**" in text


def test_gpu_plan_fits() -> None:
    """Where every step takes its estimate, after 15 s of set-up: the required steps all run
    within the 9 minutes, DQN's and TD3's with rejax, PPO's without its peers."""
    elapsed, peers = 15.0, {}
    for i, step in enumerate(gpu.PLAN):
        runs, peers[step.name] = gpu.choose(step, list(gpu.PLAN[i + 1:]), elapsed,
                                            gpu.BUDGET_S, True, False)
        assert runs or not step.required, step.name
        if runs:
            elapsed += step.estimate_s + (step.peers_s if peers[step.name] == "run" else 0)
    assert elapsed <= gpu.BUDGET_S
    assert peers["dqn"] == peers["ddpg"] == "run"
    assert peers["ppo"] == "skipped: time budget" and peers["scaling"] == "none"


def test_run_all_gpu_budget(tmp_path: Path, monkeypatch) -> None:
    """The budget: a step whose estimate fits runs (its peers skipped when they do not fit),
    one that does not fit is not run, one still running at the end is stopped; each says
    so in the JSON and the table. Without a GPU and --quick nothing runs."""
    script = tmp_path / "fake.py"
    script.write_text(FAKE_SCRIPT)
    readme = tmp_path / "README.md"
    readme.write_text(f"{report.GPU_START}\n{report.GPU_END}\n")
    monkeypatch.setattr(gpu, "probe_device", lambda: {**FAKE_GPU, "backend": "cpu"})
    assert gpu.main(["--out-dir", str(tmp_path), "--readme", str(readme)]) == gpu.NO_GPU
    assert not list(tmp_path.glob("*.json"))
    monkeypatch.setattr(gpu, "probe_device", lambda: FAKE_GPU)
    monkeypatch.setattr(gpu, "PLAN", (
        gpu.Step("dqn", str(script), (), 1, 1),
        gpu.Step("ddpg", str(script), (), 1000, 1),
        gpu.Step("scaling", str(script), ("--sleep", "60"), 1)))
    monkeypatch.setenv("REJAX_PYTHON", sys.executable)  # a peer "installed"
    monkeypatch.setenv("REJAX_BENCH", str(script))
    code = run_all.main(["--gpu", "--out-dir", str(tmp_path), "--readme", str(readme),
                         "--budget-s", "3", "--bundle", str(tmp_path / "gpu.tar")])
    assert code == 1
    merged = json.loads((tmp_path / "fake-gpu.json").read_text())
    assert merged["device"]["device"] == "Fake GPU" and merged["budget_s"] == 3
    steps = merged["benchmarks"]
    assert steps["dqn"]["status"] == "ok" and steps["dqn"]["peers"] == "skipped: time budget"
    assert steps["ddpg"]["status"] == "not run: time budget"
    assert steps["scaling"]["status"].startswith("stopped: time budget")
    assert merged["wall_s"] < 30
    status = {f["figure"]: (f["status"], f["peer"]) for f in merged["figures"]}
    assert status["DQN, 1 seed"] == ("measured", "skipped: time budget")
    assert status["TD3, 1 seed, one final evaluation"][0] == "not run: time budget"
    assert status["DQN, 1 to 1 024 seeds"][0].startswith("stopped: time budget")
    assert status["PQN, 16 seeds, rejax's CartPole config"][0] == "not rerun"
    text = readme.read_text()
    assert "**fake-gpu**" in text and "| DQN, 1 seed |" in text and "| 300 |" in text
    with tarfile.open(tmp_path / "gpu.tar") as tar:
        names = tar.getnames()
    assert any(n.endswith("fake-gpu.json") for n in names)
    assert any(n.endswith("fake-gpu/dqn.json") for n in names)


def test_run_all_reports_a_failure(tmp_path: Path, monkeypatch) -> None:
    """A benchmark that fails is reported as failed, the others still run, exit 1."""
    monkeypatch.setattr(run_all, "benchmarks", lambda: ["missing_script", "also_missing"])
    code = run_all.main(["--quick", "--out-dir", str(tmp_path),
                         "--results-md", str(tmp_path / "RESULTS.md")])
    assert code == 1
    merged = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert [r["status"].startswith("failed") for r in merged["benchmarks"].values()] == [
        True, True]
    text = (tmp_path / "RESULTS.md").read_text()
    assert text.count("**Failed**") == 2
    assert "## Peer ratios" in text and "## Goals" in text


def test_device_slug() -> None:
    from common import device_slug

    assert device_slug({"backend": "cpu", "device": "cpu", "cpu_count": 2,
                        "device_count": 2}) == "cpu-2cores"
    assert device_slug({"backend": "gpu", "device": "NVIDIA H200", "cpu_count": 16,
                        "device_count": 1}) == "nvidia-h200"
    assert device_slug({"backend": "gpu", "device": "NVIDIA H200", "cpu_count": 16,
                        "device_count": 4}) == "4x-nvidia-h200"


def test_results_md_is_the_json_rendered() -> None:
    """``benchmarks/RESULTS.md`` (the docs' benchmarks page includes it) is exactly what
    ``report.render`` makes of the suite's merged JSON: no figure in it is written by
    hand, and it cannot drift from the JSON (re-render: ``run_all.py --report-only``)."""
    merged = json.loads((BENCH / "results" / "suite" / "cpu-2cores.json").read_text())
    results_md = BENCH / "RESULTS.md"
    assert report.render(merged, results_md) + "\n" == results_md.read_text()


def test_sac_step_parts(monkeypatch) -> None:
    """The SAC race's split of a step: 64-wide minus 8-wide is the dense part, the 8-wide
    step the rest, for each side; the bound and the rest that 1.2x leaves follow."""
    import importlib.util
    import os
    # benchmarks/sac.py asks for a CPU device per core at import (use_cpu_cores): a device
    # count already named keeps it from changing this process's later tests
    monkeypatch.setenv("XLA_FLAGS", os.environ.get("XLA_FLAGS", "")
                       + " --xla_force_host_platform_device_count=1")
    spec = importlib.util.spec_from_file_location("bench_sac", BENCH / "sac.py")
    bench_sac = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_sac)
    # one seed: jaxrl 800 us per step (200 of it 8-wide), rejax 1000 (400 of it 8-wide)
    rec = {"jaxrl": {"steps_per_s": 1250.0}, "jaxrl_8_wide": {"steps_per_s": 5000.0},
           "peer": {"steps_per_s": 1000.0}, "peer_8_wide": {"steps_per_s": 2500.0}}
    parts = bench_sac.step_parts(rec, 1)
    assert parts["jaxrl_dense_us"] == 600.0 and parts["jaxrl_rest_us"] == 200.0
    assert parts["peer_dense_us"] == 600.0 and parts["peer_rest_us"] == 400.0
    assert parts["dense_share"] == 0.75 and parts["speedup"] == 1.25
    assert abs(parts["max_speedup_if_only_dense_layers"] - 1000 / 600) < 1e-12
    assert abs(parts["rest_us_for_1_2x"] - (1000 / 1.2 - 600)) < 1e-9
    # 16 seeds: the rates are over all seeds, the parts wall µs per step of the run
    sixteen = {k: {"steps_per_s": 16 * v["steps_per_s"]} for k, v in rec.items()}
    assert bench_sac.step_parts(sixteen, 16) == parts
    # no peer: jaxrl's split alone
    alone = bench_sac.step_parts({**rec, "peer": {"error": "not run"}}, 1)
    assert "speedup" not in alone and alone["jaxrl_dense_us"] == 600.0
