"""The anchoring service as real processes, for tests and benchmarks: ``ServiceProcess`` (the
service on a random loopback port, stopped by PID), tokens, polling, and a producer that posts
records over HTTP and fetches their bundles (``python tests/serviceproc.py produce ...``)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

SERVICE = [str(Path(sys.executable).with_name("bctrace")), "serve"]
"""``bctrace serve`` of the interpreter running the tests."""


class ServiceProcess:
    """``bctrace serve``'s service in a child process, in ``project`` (its bctrace.toml)."""

    def __init__(self, project: Path, db: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.project, self.db, self.args = project, db, args
        self.env = {**os.environ, **(env or {})}
        self.log = project / f"service-{uuid.uuid4().hex[:6]}.log"
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, timeout: float = 60) -> ServiceProcess:
        self.proc = subprocess.Popen([*SERVICE, "--port", "0", "--db", self.db, *self.args], cwd=self.project, env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()

        def tee() -> None:  # stderr to the log file; the "bctrace serve: URL" line to the queue
            with self.log.open("a") as log:
                for line in self.proc.stderr:  # type: ignore[union-attr]
                    log.write(line)
                    log.flush()
                    if line.startswith("bctrace serve: http"):
                        lines.put(line)

        threading.Thread(target=tee, daemon=True).start()
        try:
            first = lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise RuntimeError(f"the service did not start: {self.log.read_text()[-2000:]}") from None
        self.url = first.split()[2].rstrip("/")
        return self

    def stop(self, timeout: float = 60) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def status(self, token: str) -> dict[str, Any]:
        return httpx.get(f"{self.url}/v1/status", headers=auth(token), timeout=30).json()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_token(project: Path, db: str | None, name: str, *scopes: str) -> str:
    from bctrace.service.tokens import TokenStore

    store = TokenStore(project / ".bctrace", db)
    try:
        return store.create(name, list(scopes) or ["record", "read"])
    finally:
        store.close()


def wait_for(predicate: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def produce(url: str, token: str, name: str, count: int, batch: int, out: Path) -> None:
    """Post ``count`` records in posts of ``batch`` (one trace per producer), write one JSON
    line per accepted record to ``out``, and the latencies of the posts to ``out.latency``."""
    latencies: list[float] = []
    with httpx.Client(base_url=url, headers=auth(token), timeout=120) as client, out.open("w") as fh:
        sent = 0
        while sent < count:
            n = min(batch, count - sent)
            body = {"records": [{"kind": "step", "trace": f"producer-{name}", "body": {"producer": name, "i": sent + i}} for i in range(n)]}
            started = time.perf_counter()
            response = client.post("/v1/records", json=body)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 201:
                raise SystemExit(f"POST /v1/records: {response.status_code} {response.text}")
            for rec in response.json()["records"]:
                fh.write(json.dumps(rec) + "\n")
            sent += n
    out.with_suffix(".latency").write_text(json.dumps(latencies))


def fetch_bundles(url: str, token: str, digests: list[str], folder: Path, timeout: float = 300) -> None:
    """Poll each digest's bundle until it is anchored and write it to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, headers=auth(token), timeout=120) as client:
        for digest in digests:
            while True:
                response = client.get(f"/v1/bundles/{digest}")
                if response.status_code == 200:
                    (folder / f"{digest}.bctrace.json").write_text(response.text)
                    break
                if response.status_code == 429:  # a polite client waits as told
                    time.sleep(float(response.headers.get("retry-after", "1")))
                    continue
                if response.status_code != 202 or time.monotonic() > deadline:
                    raise SystemExit(f"GET /v1/bundles/{digest}: {response.status_code} {response.text}")
                time.sleep(0.2)


if __name__ == "__main__":
    if sys.argv[1] == "produce":
        produce(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), Path(sys.argv[7]))
    elif sys.argv[1] == "fetch":
        out = Path(sys.argv[4])
        fetch_bundles(sys.argv[2], sys.argv[3], [json.loads(line)["digest"] for line in out.read_text().splitlines()], Path(sys.argv[5]))
