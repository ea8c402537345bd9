"""Every benchmark script runs in --quick mode through ``benchmarks/run_all.py``, so that
none of them rots and the merged JSON and RESULTS.md are built from real output."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import report  # noqa: E402
import run_all  # noqa: E402


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
