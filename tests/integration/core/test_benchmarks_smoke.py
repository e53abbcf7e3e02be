"""``python -m benchmarks --smoke --profile``: every benchmark still runs (tiny sizes, against a
real anvil) and writes its JSON, Markdown table, plots and flame graphs, each case beside its
baseline and each target beside its floor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


def test_smoke_run_writes_json_markdown_and_plots_for_every_suite(tmp_path):
    subprocess.run([sys.executable, "-m", "benchmarks", "--smoke", "--profile", "--out", str(tmp_path)], cwd=ROOT, check=True,
                   capture_output=True, text=True, timeout=300)
    (data_file,) = tmp_path.glob("*-smoke.json")
    data = json.loads(data_file.read_text())
    suites = {r["suite"] for r in data["rows"]}
    assert suites >= {"canonical", "keccak", "merkle", "verify", "local", "startup", "hashing", "anchoring", "gas", "scale"}
    assert all(r["value"] > 0 for r in data["rows"])
    compared = [r for r in data["rows"] if r["baseline_value"] is not None]
    assert compared and all(r["ratio"] and r["ratio"] > 0 for r in compared)
    assert data["machine"]["cores"] and all(isinstance(r["load"], float) for r in data["rows"])
    table = data_file.with_suffix(".md").read_text()
    assert "| suite | case | bctrace | baseline | ratio |" in table and "naive sequential" in table
    for plot in ("records-per-second", "gas-per-record", "verify-time"):
        assert (tmp_path / f"{data_file.stem}-{plot}.png").read_bytes().startswith(b"\x89PNG")
    # every target beside its floor, measured in the same run
    floors = {r["suite"] for r in data["rows"] if (r["baseline"] or "").startswith("floor:") or r["case"].startswith("floor:")}
    assert floors >= {"verify", "local", "anchoring", "hashing"}
    assert "floor: canonical + storage steps" in table and "floor: bound 2 / (2/S + 1/B)" in table
    # EAS's published contracts deployed and attesting on the same anvil
    eas = [r for r in data["rows"] if r["suite"] == "gas" and (r["baseline"] or "").startswith("EAS")]
    assert {r["baseline"] for r in eas} >= {"EAS attest, one tx per record", "EAS multiAttest, 20 records"}
    assert all(r["baseline_value"] > 100_000 for r in eas)  # an attestation stores a record: far above a 32-byte anchor
    assert "EAS multiAttest (one attestation per record)" in data["series"]["gas-per-record"]["lines"]
    # py-spy flame graphs kept beside the table and linked from it
    for workload in ("record", "flush", "verify", "help"):
        svg = tmp_path / f"{data_file.stem}-flame-{workload}.svg"
        assert svg.read_text().lstrip().startswith("<?xml") and f"]({svg.name})" in table


SCRIPTS = sorted(p.name for p in (ROOT / "benchmarks").glob("bench_*.py") if p.name != "bench_chain.py")


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_standalone_benchmark_script_still_imports(script):
    """The scripts outside ``python -m benchmarks`` import shared helpers; a removed helper once
    broke three of them unnoticed. Loading each as a module (not as ``__main__``) runs its
    imports and nothing heavy."""
    load = ("import importlib.util, sys; sys.path.insert(0, '.'); "
            f"spec = importlib.util.spec_from_file_location('bench', {script!r}); "
            "spec.loader.exec_module(importlib.util.module_from_spec(spec))")
    done = subprocess.run([sys.executable, "-c", load], cwd=ROOT / "benchmarks", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
