"""Fixtures shared by every test folder: an isolated project folder and a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO / "node_modules"


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up the developer's own bctrace config."""
    monkeypatch.delenv("BCTRACE_CONFIG", raising=False)


@pytest.fixture(autouse=True)
def _mock_chain() -> Iterator[None]:
    """The ``mock`` backend (a test double) exists only inside the test suite: registered on
    the process's plugin manager for each test, and unregistered after it."""
    import mock_chain
    from bctrace.testing import registered_plugin

    with registered_plugin(mock_chain, name="tests.mock_chain"):
        yield


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh project folder, made the current directory (no config: the local ledger)."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    yield folder


class Cli:
    """Runs ``bctrace`` in-process and returns click's result (exit code, stdout, stderr)."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str | os.PathLike[str], input: str | None = None) -> Result:
        from bctrace.cli import main

        return self.runner.invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture
def cli() -> Cli:
    return Cli()


ALLOWED_SKIP_IN_CI = ("docker",)
"""Skip reasons CI accepts: only what no machine of ours can run (there is no Docker engine)."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:  # type: ignore[type-arg]
    """With BCTRACE_NO_SKIPS=1 (set by scripts/test, hence CI), a skipped test fails instead,
    unless it needs Docker: a missing npm package or Python extra must not pass silently."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("BCTRACE_NO_SKIPS") != "1" or not report.skipped:
        return
    reason = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
    if any(word in reason.lower() for word in ALLOWED_SKIP_IN_CI):
        return
    report.outcome = "failed"
    report.longrepr = f"skipped in CI, where everything must run (BCTRACE_NO_SKIPS=1): {reason}"
