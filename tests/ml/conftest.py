"""Fixtures for the ML-core tests: a temp project holding a copy of the examples, and a runner
for the real ``bctrace`` command (a subprocess, as a user runs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BIN = Path(sys.executable).parent


@pytest.fixture
def ml_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (no config: the local ledger inside it) with the example scripts and
    their data; the current directory for the test."""
    folder = tmp_path / "mlproj"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("__pycache__", ".bctrace", "*.joblib", "*.pt", "metrics.json"))
    monkeypatch.chdir(folder)
    monkeypatch.delenv("BCTRACE_CONFIG", raising=False)
    return folder


BctraceCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def bctrace_cli(ml_project: Path) -> BctraceCli:
    """Run ``bctrace ARGS`` in the project; returns the completed process (text output)."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.pop("PYTHONHASHSEED", None)
        return subprocess.run([str(BIN / "bctrace"), *args], cwd=ml_project, env=env, capture_output=True, text=True, timeout=300)

    return run


@pytest.fixture
def bctrace_bin() -> Path:
    """The installed ``bctrace`` command of this interpreter's environment."""
    return BIN / "bctrace"
