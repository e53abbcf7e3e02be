"""Fixtures for the framework integrations: a tracer on the default local ledger in a temp
project, and a helper that anchors a run and verifies every step's bundle."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bctrace import Tracer


@pytest.fixture(autouse=True)
def _keep_pythonhashseed() -> Iterator[None]:
    """``seed_everything`` exports PYTHONHASHSEED for child processes; keep it out of other tests."""
    before = os.environ.get("PYTHONHASHSEED")
    yield
    if before is None:
        os.environ.pop("PYTHONHASHSEED", None)
    else:
        os.environ["PYTHONHASHSEED"] = before


@pytest.fixture
def tracer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tracer]:
    monkeypatch.chdir(tmp_path)
    with Tracer.from_config(cwd=tmp_path) as t:
        yield t


@pytest.fixture
def anchor_and_verify(tracer: Tracer) -> Callable[[Any], list[Any]]:
    """Flush, then verify each step's bundle on the ledger and the unbroken trace; returns the
    bundles. The run's steps must be the whole trace (start ... end)."""

    def check(run: Any) -> list[Any]:
        assert run.status is not None, "the run has not ended"
        tracer.flush()
        bundles = [tracer.bundle(r.digest) for r in run.recorded]
        for bundle in bundles:
            assert tracer.verify(bundle).ok
        tracer.verify_trace(bundles)
        assert [b.record["body"]["step"] for b in bundles][::len(bundles) - 1] == ["start", "end"]
        assert {b.record["trace"] for b in bundles} == {run.trace_id}
        return bundles

    return check


@pytest.fixture
def opened_runs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Runs that an integration opens by itself (it does not hand them back), for inspection."""
    from bctrace.ml.integrations import _binding

    opened: list[Any] = []
    real = _binding.start_run

    def spy(*args: Any, **kwargs: Any) -> Any:
        opened.append(real(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(_binding, "start_run", spy)
    return opened
