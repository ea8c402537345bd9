"""Every benchmark script runs in --quick mode, so that none of them rots."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = sorted(
    p for p in (Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py")
    if p.name != "common.py"
)


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.stem)
def test_benchmark_runs_quick(script: Path, tmp_path: Path) -> None:
    out = tmp_path / f"{script.stem}.json"
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["quick"] is True
    assert results["device"]["backend"]
