"""The audit's bisection and comparison logic on their own (no process is started): which pins
are tried, in which order, and what is reported as the minimal set."""

from __future__ import annotations

from typing import Any

from bctrace.ml.audit import AuditResult, _bisect, _differences, _merge
from bctrace.ml.sources import SOURCES, relevance


class FakeRunner:
    """Runs agree exactly when the pins include one of ``needed`` (a list of sets)."""

    def __init__(self, needed: list[set[str]]) -> None:
        self.needed = needed
        self.tried: list[tuple[str, ...]] = []

    def agree(self, pins: list[str], runs: int, say: Any) -> bool:
        self.tried.append(tuple(sorted(pins)))
        return any(n <= set(pins) for n in self.needed)


def bisect(needed: list[set[str]], ids: list[str]) -> tuple[AuditResult, dict[str, str], FakeRunner]:
    result = AuditResult("r", "0x", [], 2, True, 0, "not-reproducible", ["model m"], [], [])
    statuses: dict[str, str] = {}
    runner = FakeRunner(needed)
    _bisect(runner, [s for s in SOURCES if s.id in ids], 2, statuses, result, None)  # type: ignore[arg-type]
    return result, statuses, runner


def test_one_cause_is_found_by_pinning_each_source_alone() -> None:
    result, statuses, runner = bisect([{"numpy"}], ["python-random", "numpy", "threads"])
    assert result.minimal == ["numpy"] and not result.any_one and result.together is True
    assert statuses["numpy"].startswith("CAUSE") and not statuses["threads"].startswith("CAUSE")
    assert runner.tried[0] == ("numpy", "python-random", "threads")  # all together first


def test_two_causes_needed_together_are_found_by_dropping_pins() -> None:
    result, statuses, _ = bisect([{"numpy", "threads"}], ["python-random", "numpy", "pythonhashseed", "threads"])
    assert result.minimal == ["numpy", "threads"]
    assert statuses["numpy"] == "CAUSE together with threads"


def test_alternatives_and_unexplained() -> None:
    result, _, _ = bisect([{"torch"}, {"dataloader-workers"}], ["torch", "dataloader-workers"])
    assert result.minimal == ["torch", "dataloader-workers"] and result.any_one
    result, statuses, _ = bisect([], ["torch", "numpy"])
    assert result.verdict == "unexplained" and result.together is False and not result.minimal


def test_differences_and_merged_usage() -> None:
    a = {"exit_code": 0, "models": {"m": "0x1"}, "outputs": {}, "metrics": {"acc": 0.9, "loss": [1, 0.5]}, "predictions": {}}
    b = {**a, "models": {"m": "0x2"}, "metrics": {"acc": 0.9, "loss": [1, 0.4]}}
    assert _differences([a, a]) == []
    assert _differences([a, b]) == ["model m", "metric loss"]
    merged = _merge([{"random_used": False, "listings": ["a.py:1: x"]}, {"random_used": True, "listings": ["a.py:1: x", "b.py:2: y"]}])
    assert merged == {"loaded": True, "random_used": True, "listings": ["a.py:1: x", "b.py:2: y"]}


def test_relevance_says_why_a_source_is_not_pinned() -> None:
    by_id = {s.id: s for s in SOURCES}
    usage = {"torch_loaded": True, "cuda": False, "threads_above_one": True}
    assert relevance(by_id["cudnn-benchmark"], usage, {}, hook_loaded=True) == "used, but not testable here: no CUDA device"
    assert relevance(by_id["threads"], usage, {"OMP_NUM_THREADS": "4"}, hook_loaded=True) == "pinned already (OMP_NUM_THREADS=4)"
    assert relevance(by_id["threads"], usage, {}, hook_loaded=True) is None
    assert relevance(by_id["numpy"], usage, {}, hook_loaded=True) == "not used"
    assert relevance(by_id["pythonhashseed"], {}, {}, hook_loaded=False) is None
    assert relevance(by_id["numpy"], {}, {}, hook_loaded=False) == "not observable: the start-up hook did not load"
