"""``bctrace ml audit`` on real tiny scikit-learn and torch scripts, each nondeterministic through
exactly one known source: the audit must name that source, and only it, as the minimal pin; a
fully seeded script audits as reproducible (exit 0). GPU-only sources (cuDNN benchmark,
CUBLAS_WORKSPACE_CONFIG) cannot run on this CPU machine: they are reported as not testable."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from bctrace.api import ProofBundle

SCRIPTS = Path(__file__).resolve().parent / "nondeterministic"

pytestmark = pytest.mark.slow


@pytest.fixture
def scripts(ml_project: Path) -> Path:
    for f in SCRIPTS.glob("*.py"):
        shutil.copy(f, ml_project / f.name)
    shards = ml_project / "shards"
    shards.mkdir()
    rng = np.random.RandomState(3)
    for i in range(4):  # 4 shards, created in this order; a listing may give any order
        X = rng.rand(50, 20)
        np.savetxt(shards / f"part-{i}.csv", np.column_stack([X, (X[:, 0] > 0.5).astype(int)]), delimiter=",")
    return ml_project


def audit(cli, script: str, *extra: str) -> tuple[int, dict]:
    what = ["--model", "model.pt"] if script.startswith(("torch", "loader")) else ["--model", "model.joblib", "--metrics", "metrics.json"]
    if script == "thread_count.py":
        what = ["--metrics", "metrics.json"]
    res = cli("ml", "audit", "--json", *what, *extra, "--", sys.executable, script)
    assert res.returncode in (0, 1), res.stdout + res.stderr
    return res.returncode, json.loads(res.stdout)


CASES = {
    "python_random.py": "python-random",
    "numpy_global.py": "numpy",
    "sklearn_own_seed.py": "sklearn-random-state",
    "hash_seed.py": "pythonhashseed",
    "thread_count.py": "threads",
    "listing_order.py": "file-listing",
    "torch_unseeded.py": "torch",
    "torch_uninitialised.py": "torch-deterministic",
    "loader_workers.py": "dataloader-workers",
}


@pytest.mark.parametrize("script", sorted(CASES))
def test_audit_names_the_one_source_that_makes_a_script_nondeterministic(script: str, scripts: Path, bctrace_cli) -> None:
    code, result = audit(bctrace_cli, script)
    expected = CASES[script]
    assert code == 1, result
    assert result["verdict"] == "not-reproducible" and result["differences"]
    assert result["together"] is True
    assert result["minimal"] == [expected], result
    causes = [s["id"] for s in result["sources"] if s["status"].startswith("CAUSE")]
    assert causes == [expected], result["sources"]
    assert result["fix"], result
    gpu = {s["id"]: s["status"] for s in result["sources"] if s["id"] in ("cudnn-benchmark", "cublas-workspace")}
    if script.startswith(("torch", "loader")):
        assert set(gpu.values()) == {"used, but not testable here: no CUDA device"}
    # the audit is an anchored ml-audit record in the run's folder, naming the run
    bundle = ProofBundle.read(result["audit_bundle"])
    assert bundle.record["kind"] == "ml-audit" and bundle.anchors
    assert bundle.record["body"]["run"]["run_id"] == Path(result["audit_bundle"]).parent.name
    assert bundle.record["body"]["minimal"] == [expected]
    if script == "listing_order.py":  # the listing is named where it happens
        (listing,) = [s for s in result["sources"] if s["id"] == "file-listing"]
        assert listing["where"] == ["listing_order.py:10: parts = [np.loadtxt(os.path.join(folder, name), delimiter=\",\") for name in os.listdir(folder)]  # no sort"]
        assert result["fix"][0].startswith("sort the listing at listing_order.py:10: ")


@pytest.mark.parametrize(("script", "what"), [
    ("fully_seeded.py", ["--model", "model.joblib", "--metrics", "metrics.json"]),
    ("torch_train.py", ["--model", "model.pt", "--metrics", "metrics.json", "--seed", "3"]),
])
def test_a_fully_seeded_script_audits_as_reproducible(script: str, what: list[str], scripts: Path, bctrace_cli) -> None:
    res = bctrace_cli("ml", "audit", *what, "--", sys.executable, script)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("REPRODUCIBLE: 2 runs gave the same model, metrics, outputs and predictions")
    audit_bundle = Path(res.stdout.split("audit recorded: ")[1].split()[0])
    # ml report of the run shows its audit (verified like the run's own bundles)
    report = bctrace_cli("ml", "report", str(audit_bundle.parent), "--no-plot")
    assert report.returncode == 0, report.stderr
    assert "Audit (2 runs of " in report.stdout and "  REPRODUCIBLE: 2 runs" in report.stdout


def test_audit_usage_errors(scripts: Path, bctrace_cli) -> None:
    res = bctrace_cli("ml", "audit", "--", sys.executable, "python_random.py")
    assert res.returncode == 2 and res.stderr.strip() == "error: nothing to compare: give --model, --output or --metrics (what the command writes)"
    res = bctrace_cli("ml", "audit", "--runs", "1", "--metrics", "m.json", "--", sys.executable, "python_random.py")
    assert res.returncode == 2 and "--runs must be at least 2" in res.stderr
