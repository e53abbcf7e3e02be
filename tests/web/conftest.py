"""Fixtures of the web tests: ``bctrace serve`` as a real process on a random loopback port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

BCTRACE = Path(sys.executable).with_name("bctrace")
URL_LINE = re.compile(r"bctrace serve: (http://\S+/)")


def start_serve(cwd: Path, *args: str, timeout: float = 30.0) -> tuple[subprocess.Popen[str], str]:
    """Start ``bctrace serve --port 0`` in ``cwd`` and return the process and its base URL
    (read from the line it prints once it listens)."""
    proc = subprocess.Popen([str(BCTRACE), "serve", "--port", "0", *args], cwd=cwd, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    lines = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        match = URL_LINE.search(line)
        if match:
            return proc, match.group(1)
    proc.kill()
    raise AssertionError(f"bctrace serve did not start: {''.join(lines)}")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start ``bctrace serve`` in a folder (default: an empty temporary one); stopped by PID."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, cwd: Path | None = None) -> str:
        proc, url = start_serve(cwd or tmp_path, *args)
        started.append(proc)
        return url

    yield start
    for proc in started:
        stop(proc)
