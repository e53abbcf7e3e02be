"""End to end, as a user runs it: each example twice under ``bctrace ml run`` with the same seed,
then ``bctrace ml reproduce`` (exit 0), and after changing the seed or one row of the training
data (exit 1, naming what differs). Real scripts, real local ledger, real anchors."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bctrace.ml.compare import RunBundles, load_run

BctraceCli = Callable[..., Any]

pytestmark = pytest.mark.slow

EXAMPLES = {
    "sklearn": ("sklearn_train.py", "model.joblib", "sklearn-fitted-v1"),
    "torch": ("torch_train.py", "model.pt", "torch-state-dict-v1"),
}


def record(cli: BctraceCli, script: str, model: str, seed: int, *extra: str) -> tuple[RunBundles, Path]:
    res = cli(
        "ml", "run", "--seed", str(seed), "--input", "data/train.csv:train", "--input", "data/test.csv:test",
        "--model", model, "--metrics", "metrics.json", "--declare", "dataset_license=CC0-1.0", *extra, "--", sys.executable, script,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    m = re.search(r"end bundle: (\S+)", res.stderr)
    assert m, res.stderr
    end = Path(m.group(1))
    return load_run(end), end


def change_one_row(path: Path, row: int = 10) -> None:
    lines = path.read_text().splitlines(keepends=True)
    fields = lines[row].rstrip("\n").split(",")
    fields[-1] = "1" if fields[-1] == "0" else "0"  # flip one label
    lines[row] = ",".join(fields) + "\n"
    path.write_text("".join(lines))


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_example_is_reproduced_and_changes_are_named(example: str, ml_project: Path, bctrace_cli: BctraceCli) -> None:
    script, model, method = EXAMPLES[example]
    first, first_end = record(bctrace_cli, script, model, seed=7)
    second, _ = record(bctrace_cli, script, model, seed=7)

    # the same seed gives bit-identical learned parameters and metrics, in two separate runs
    assert first.run_id != second.run_id
    (m1,), (m2,) = first.end["models"], second.end["models"]
    assert m1["method"] == m2["method"] == method
    assert m1["sha256"] == m2["sha256"]
    assert first.end["metrics"] == second.end["metrics"] and first.end["metrics"]

    # reproduce: recorded command reused when none is given (sklearn), or given after --
    command = () if example == "sklearn" else ("--", sys.executable, script)
    res = bctrace_cli("ml", "reproduce", str(first_end), *command)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"REPRODUCED: run {first.run_id}" in res.stdout
    assert "verified" in res.stderr

    # another seed: not reproduced, and the seed and the model are named
    res = bctrace_cli("ml", "reproduce", str(first_end), "--seed", "8", "--", sys.executable, script)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "seed: 7 -> 8" in res.stdout
    assert f"model {model}: sha256 differs" in res.stdout
    assert "was not reproduced" in res.stderr

    # one row of the training data changed: the input is named (and the model differs)
    change_one_row(ml_project / "data" / "train.csv")
    res = bctrace_cli("ml", "reproduce", str(first_end), "--", sys.executable, script)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "input data/train.csv (train): sha256 differs" in res.stdout
    assert f"model {model}: sha256 differs" in res.stdout
    assert "input data/test.csv" not in res.stdout


def test_reproduce_refuses_a_tampered_run(ml_project: Path, bctrace_cli: BctraceCli) -> None:
    (ml_project / "noop.py").write_text("print('trained')\n")
    res = bctrace_cli("ml", "run", "--", sys.executable, "noop.py")
    end = Path(re.search(r"end bundle: (\S+)", res.stderr).group(1))
    assert bctrace_cli("ml", "report", str(end)).returncode == 0
    end.write_text(end.read_text().replace('"status": "ok"', '"status": "OK"', 1))
    res = bctrace_cli("ml", "reproduce", str(end))
    assert res.returncode == 1
    assert "record edited" in res.stderr or "digest" in res.stderr
    assert "REPRODUCED" not in res.stdout
    res = bctrace_cli("ml", "report", str(end))
    assert res.returncode == 1 and "record edited" in res.stderr


def test_metrics_tolerance(ml_project: Path, bctrace_cli: BctraceCli) -> None:
    """A different number of trees changes the model and (slightly) the metrics: the metric
    difference passes within a generous tolerance, the model difference never does."""
    run, end = record(bctrace_cli, "sklearn_train.py", "model.joblib", 3)
    res = bctrace_cli("ml", "reproduce", str(end), "--tolerance", "1.0", "--", sys.executable, "sklearn_train.py", "--n-estimators", "20")
    assert res.returncode == 1
    assert "metric " not in res.stdout
    assert "model model.joblib: sha256 differs" in res.stdout
    assert "arguments:" in res.stdout  # listed as a code difference, not a failure


def test_failing_command_is_recorded_with_its_exit_status(ml_project: Path, bctrace_cli: BctraceCli) -> None:
    (ml_project / "boom.py").write_text("import sys\nprint('training...')\nsys.exit(3)\n")
    res = bctrace_cli("ml", "run", "--", sys.executable, "boom.py")
    assert res.returncode == 3
    end = Path(re.search(r"end bundle: (\S+)", res.stderr).group(1))
    body = load_run(end).end
    assert body["status"] == "failed"
    assert body["process"]["exit_code"] == 3
    assert body["error"] == {"type": "_ExitStatus", "message": "command exited with status 3"}


def test_outputs_left_from_an_earlier_run_never_count_as_reproduced(ml_project: Path, bctrace_cli: BctraceCli, monkeypatch: pytest.MonkeyPatch) -> None:
    (ml_project / "train.py").write_text(
        "import json, os, sys\n"
        "if os.environ.get('SKIP') != '1':\n"
        "    open('out.bin', 'wb').write(b'weights')\n"
        "    json.dump({'acc': 1.0}, open('m.json', 'w'))\n"
    )
    res = bctrace_cli("ml", "run", "--output", "out.bin", "--metrics", "m.json", "--", sys.executable, "train.py")
    assert res.returncode == 0, res.stderr
    end = re.search(r"end bundle: (\S+)", res.stderr).group(1)
    assert bctrace_cli("ml", "reproduce", end).returncode == 0
    monkeypatch.setenv("SKIP", "1")  # the re-run writes nothing; the old files are still there
    res = bctrace_cli("ml", "reproduce", end)
    assert res.returncode == 1
    assert "output out.bin: not written by the re-run" in res.stdout
    assert "metric acc: missing in the re-run" in res.stdout
