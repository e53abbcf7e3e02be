"""What a new user of the ML commands trips over in the first hour (issue 10): each a regression
test that failed before its fix."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from bctrace.ml.compare import compare_runs


def invoke(*args: str) -> tuple[int, str, str]:
    from bctrace.cli import main

    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_a_missing_script_is_one_line_and_records_nothing(project: Path) -> None:
    code, out, err = invoke("ml", "run", "--", sys.executable, "nosuch.py")
    assert code == 2
    assert err.strip().splitlines() == ["error: script nosuch.py does not exist"]
    assert not (project / ".bctrace" / "runs").exists()  # nothing recorded, nothing anchored


def test_a_missing_module_is_one_line_without_bctrace_frames(project: Path, bctrace_bin: Path) -> None:
    """Found only inside the training process: the run is recorded, marked failed, and the
    message is Python's own one line (no traceback through bctrace's launcher)."""
    res = subprocess.run([str(bctrace_bin), "ml", "run", "--", sys.executable, "-m", "no_such_module_xyz"], cwd=project, capture_output=True, text=True, timeout=120)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert lines[0] == f"{sys.executable}: No module named no_such_module_xyz"
    assert "Traceback" not in res.stderr and "bctrace/ml/child.py" not in res.stderr
    assert re.match(r"bctrace: run \w+ failed \(exit 1\)", lines[-1])


def test_a_script_error_shows_only_the_scripts_frames(project: Path, bctrace_bin: Path) -> None:
    (project / "boom.py").write_text("def train():\n    raise ValueError('bad learning rate')\n\ntrain()\n")
    res = subprocess.run([str(bctrace_bin), "ml", "run", "--", sys.executable, "boom.py"], cwd=project, capture_output=True, text=True, timeout=120)
    assert res.returncode == 1
    assert "ValueError: bad learning rate" in res.stderr and 'boom.py", line 2, in train' in res.stderr
    assert "runpy" not in res.stderr and "child.py" not in res.stderr


def test_a_bad_role_is_named_with_the_allowed_ones(project: Path) -> None:
    (project / "train.csv").write_text("a\n1\n")
    code, _, err = invoke("ml", "run", "--input", "train.csv:training", "--", sys.executable, "x.py")
    assert code == 2
    assert err.strip() == "error: --input train.csv:training: unknown role 'training' (allowed: train, validation, test, other)"


def test_thread_pools_listed_in_another_order_are_no_difference() -> None:
    pools = [{"user_api": "blas", "internal_api": "openblas", "num_threads": 2}, {"user_api": "openmp", "internal_api": "openmp", "num_threads": 2}]
    old = {"environment": {"threadpools": pools}}
    assert compare_runs(old, {"environment": {"threadpools": pools[::-1]}}) == []
    changed = compare_runs(old, {"environment": {"threadpools": [pools[0], {**pools[1], "num_threads": 1}]}})
    assert [d.what for d in changed] == ["thread pools"]


def test_the_readme_python_example_leaves_a_run_folder_that_ml_report_reads(project: Path) -> None:
    from bctrace import Tracer

    (project / "train.csv").write_text("a,b\n1,2\n")
    with Tracer.from_config() as tracer:
        with tracer.run("mnist-mlp", params={"lr": 0.01}, seed=42) as run:
            run.log_input("train.csv", role="train")
            run.log_metrics({"loss": 0.3}, step=1)
        tracer.flush()
    folder = project / ".bctrace" / "runs" / run.id
    assert sorted(p.name for p in folder.iterdir()) == ["000-start.bctrace.json", "001-end.bctrace.json"]
    code, out, err = invoke("ml", "report", str(folder), "--offline")
    assert code == 0, err
    assert "mnist-mlp" in out


def test_a_failed_run_is_recorded_as_failed_and_never_passes_for_a_result(project: Path, bctrace_bin: Path) -> None:
    """Decision (README): a command that starts and fails is recorded, with status ``failed``
    and its exit code, because a crashed training is part of the history; it never reads as a
    success: the summary says failed, and ``ml reproduce`` refuses it."""
    (project / "crash.py").write_text("import sys\nsys.exit(4)\n")
    res = subprocess.run([str(bctrace_bin), "ml", "run", "--", sys.executable, "crash.py"], cwd=project, capture_output=True, text=True, timeout=120)
    assert res.returncode == 4
    end = re.search(r"end bundle: (\S+)", res.stderr).group(1)
    assert re.search(r"run (\w+) failed \(exit 4\)", res.stderr)
    code, out, err = invoke("ml", "reproduce", end)
    assert code == 2 and "failed (exit 4): it has no result to reproduce" in err
    assert "REPRODUCED" not in out
