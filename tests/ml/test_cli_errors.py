"""The ``bctrace ml`` commands fail with one line and the documented exit code, and leave no
half-recorded run behind."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bctrace.ml.wrap import _load_metrics, parse_input


def invoke(*args: str) -> tuple[int, str, str]:
    from bctrace.cli import main

    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BCTRACE_CONFIG", raising=False)
    (tmp_path / "x.py").write_text("")  # the script exists: each case is about another mistake
    return tmp_path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "missing.csv", "--", sys.executable, "x.py"], "error: path missing.csv does not exist"),
        (["--", "no-such-program-xyz"], "error: command not found: no-such-program-xyz"),
        (["--declare", "licence=MIT", "--", sys.executable, "x.py"], "error: unknown declaration 'licence'"),
        (["--leakage", "temporal_leakage=maybe", "--", sys.executable, "x.py"], "state must be one of checked, not-applicable, unknown"),
        (["--param", "novalue", "--", sys.executable, "x.py"], "error: --param 'novalue' must be KEY=VALUE"),
    ],
)
def test_run_usage_errors(folder: Path, args: list[str], message: str) -> None:
    code, _, err = invoke("ml", "run", *args)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (folder / ".bctrace" / "runs").exists()  # nothing recorded


def test_reproduce_and_report_errors(folder: Path) -> None:
    (folder / "x.json").write_text("{}")
    code, _, err = invoke("ml", "report", "x.json")
    assert code == 2 and "neither a run folder nor a .bctrace.json file" in err
    (folder / "empty").mkdir()
    code, _, err = invoke("ml", "reproduce", "empty")
    assert code == 2 and "no ML run bundles" in err
    code, _, err = invoke("ml", "reproduce", "empty", "--tolerance", "-1")
    assert code == 2 and "tolerances must not be negative" in err


def test_parse_input_and_metrics_file(tmp_path: Path) -> None:
    assert parse_input("data/train.csv") == ("data/train.csv", "train")
    assert parse_input("data/test.csv:test") == ("data/test.csv", "test")
    assert parse_input("s3:bucket/x.csv:validation") == ("s3:bucket/x.csv", "validation")
    assert parse_input("C:weird") == ("C:weird", "train")
    p = tmp_path / "m.json"
    p.write_text(json.dumps({"acc": 0.9, "test": {"loss": 0.1, "f1": {"macro": 0.5}}}))
    assert _load_metrics(p) == {"acc": 0.9, "test.loss": 0.1, "test.f1.macro": 0.5}
    p.write_text("[1, 2]")
    from bctrace.errors import UsageError

    with pytest.raises(UsageError, match="must hold a JSON object"):
        _load_metrics(p)


def test_ml_commands_use_the_global_config(tmp_path, monkeypatch):
    """`bctrace --config FILE ml ...` anchors where FILE says, like every other command."""
    import sys

    from click.testing import CliRunner

    from bctrace.cli import main

    project = tmp_path / "p"
    project.mkdir()
    (project / "cfg.toml").write_text('[chains.mine]\nbackend = "local"\npath = "elsewhere"\n')
    (project / "train.py").write_text("print('trained')\n")
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["--config", "cfg.toml", "ml", "run", "--", sys.executable, "train.py"])
    assert result.exit_code == 0, result.output
    assert (project / "elsewhere" / "ledger.jsonl").is_file()
    assert not (project / ".bctrace" / "ledger.jsonl").exists()
