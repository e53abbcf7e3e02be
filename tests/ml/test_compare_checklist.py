"""Comparison of a re-run with a recorded run, and the checklist's score (pure logic)."""

from __future__ import annotations

from typing import Any

import pytest

from bctrace.ml.checklist import LEAKAGE_ITEMS, build_checklist
from bctrace.ml.compare import compare_runs


def view(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "inputs": [{"name": "train.csv", "role": "train", "sha256": "0x" + "1" * 64}],
        "outputs": [{"name": "pred.csv", "sha256": "0x" + "2" * 64}],
        "models": [{"name": "model", "sha256": "0x" + "3" * 64}],
        "metrics": {"acc": 0.9, "loss": 0.25, "label": "best"},
        "seed": 1, "params": {"lr": 0.1}, "status": "ok", "process": {"exit_code": 0},
        "environment": {"python": {"version": "3.11.7"}, "packages": {"numpy": "2.4.6", "torch": "2.13.0"}},
        "code": {"git": {"commit": "a" * 40}, "argv": ["python", "train.py"]},
        "randomness": {"torch": None},
    }
    base.update(over)
    return base


def fatal(diffs: list[Any]) -> list[str]:
    return [d.what for d in diffs if d.fatal]


def test_identical_runs_have_no_difference() -> None:
    assert compare_runs(view(), view()) == []


def test_hash_seed_param_status_differences_are_fatal_and_named() -> None:
    new = view(
        inputs=[{"name": "train.csv", "role": "train", "sha256": "0x" + "9" * 64}, {"name": "extra.csv", "role": "test", "sha256": "0x" + "8" * 64}],
        outputs=[], models=[{"name": "model", "sha256": "0x" + "7" * 64}], seed=2, params={"lr": 0.2}, process={"exit_code": 1},
    )
    got = fatal(compare_runs(view(), new))
    assert got == ["input extra.csv (test)", "input train.csv (train)", "output pred.csv", "model model", "seed", "params", "exit code"]


def test_changed_files_of_a_folder_input_are_named() -> None:
    old = view(inputs=[{"name": "data", "role": "train", "sha256": "0x" + "1" * 64, "manifest": {"a.csv": "0x1", "b.csv": "0x2", "c.csv": "0x3"}}])
    new = view(inputs=[{"name": "data", "role": "train", "sha256": "0x" + "2" * 64, "manifest": {"a.csv": "0x1", "b.csv": "0x9", "d.csv": "0x4"}}])
    (diff,) = compare_runs(old, new)
    assert diff.fatal and diff.what == "input data (train)"
    assert diff.detail.endswith("; b.csv changed, c.csv removed, d.csv added")


def test_metric_tolerances_absolute_and_relative() -> None:
    new = view(metrics={"acc": 0.91, "loss": 0.2500001, "label": "best"})
    assert fatal(compare_runs(view(), new)) == ["metric acc", "metric loss"]
    assert fatal(compare_runs(view(), new, abs_tol=1e-6)) == ["metric acc"]
    assert fatal(compare_runs(view(), new, abs_tol=0.02)) == []
    assert fatal(compare_runs(view(), new, rel_tol=0.02)) == []
    assert fatal(compare_runs(view(), new, rel_tol=1e-3)) == ["metric acc"]
    assert fatal(compare_runs(view(), view(metrics={"acc": 0.9, "loss": 0.25, "label": "other"}), abs_tol=1)) == ["metric label"]
    assert fatal(compare_runs(view(), view(metrics={"acc": 0.9}))) == ["metric label", "metric loss"]


def test_environment_and_code_differences_are_listed_not_fatal() -> None:
    new = view(
        environment={"python": {"version": "3.12.1"}, "packages": {"numpy": "2.5.0", "torch": "2.13.0", "rich": "15.0.0"}},
        code={"git": {"commit": "b" * 40}, "argv": ["python", "train.py", "--fast"]},
    )
    diffs = compare_runs(view(), new)
    assert fatal(diffs) == []
    listed = {d.what: d.detail for d in diffs}
    assert set(listed) == {"python", "git commit", "arguments", "packages"}
    assert listed["packages"] == "numpy 2.4.6 -> 2.5.0; rich - -> 15.0.0"


def full_run(**over: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "code": {"git": {"commit": "a" * 40}, "entry_point": {"sha256": "0x" + "1" * 64}},
        "environment": {"packages": {"numpy": "2"}, "lockfiles": [{"path": "uv.lock"}], "hardware": {"cpu_model": "x"}, "torch": None},
        "randomness": {"torch": None}, "seed": 1,
        "inputs": [{"role": "train"}, {"role": "test"}], "params": {"lr": 1}, "metrics": {"acc": 1}, "models": [{"sha256": "0x"}],
        "declarations": {"dataset_license": "MIT", "dataset_source": "doi:x", "split_method": "random", "n_runs": 5,
                         "leakage": {k: "checked" for k in LEAKAGE_ITEMS}},
    }
    run.update(over)
    return run


def test_checklist_complete_run_scores_one_and_torch_items_are_not_applicable_without_torch() -> None:
    c = build_checklist(full_run())
    assert c["score"] == 1.0 and c["satisfied"] == c["applicable"] == 24
    assert {i["id"]: i["status"] for i in c["items"]}["random.determinism"] == "n/a"


@pytest.mark.parametrize(
    ("over", "item", "status"),
    [
        ({"code": {}}, "code.commit", "missing"),
        ({"inputs": [{"role": "train"}]}, "data.held_out", "missing"),
        ({"declarations": {"leakage": {"temporal_leakage": "unknown"}}}, "leakage.temporal_leakage", "unknown"),
        ({"declarations": {}}, "declared.split_method", "undeclared"),
        ({"environment": {"torch": {"version": "2"}}, "randomness": {"torch": None}}, "random.determinism", "missing"),
    ],
)
def test_checklist_gaps_lower_the_score(over: dict[str, Any], item: str, status: str) -> None:
    c = build_checklist(full_run(**over))
    assert {i["id"]: i["status"] for i in c["items"]}[item] == status
    assert c["score"] < 1.0 and c["satisfied"] < c["applicable"]
