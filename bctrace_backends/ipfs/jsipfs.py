"""Start and stop a throwaway js-ipfs node (npm ``ipfs``) for tests and local trials.

js-ipfs serves the Kubo RPC API and runs fully offline, which makes it the real IPFS node that
can be installed on machines without network access (npm ``kubo`` downloads its binary at
install time). The node gets a fresh repo, the ``test`` profile, every listening address on a
random loopback port (API, gateway, swarm, gRPC), no bootstrap peers, MDNS and preload off. It
runs in its own process group and is stopped by its PID.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from bctrace.errors import JsIpfsError

_API_LINE = re.compile(r"(?:HTTP )?API listening on /ip4/127\.0\.0\.1/tcp/(\d+)/http")
_READY = "Daemon is ready"

CONFIG = {
    "Addresses": {
        "Swarm": ["/ip4/127.0.0.1/tcp/0"],
        "API": "/ip4/127.0.0.1/tcp/0",
        "Gateway": "/ip4/127.0.0.1/tcp/0",
        "RPC": "/ip4/127.0.0.1/tcp/0",
        "Announce": [],
        "NoAnnounce": [],
        "Delegates": [],
    },
    "Bootstrap": [],
    "Discovery": {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}},
}


def find_cli(start: Path | None = None) -> Path | None:
    """``node_modules/ipfs/src/cli.js`` in ``start`` or a parent (or ``$BCTRACE_JSIPFS_CLI``)."""
    env = os.environ.get("BCTRACE_JSIPFS_CLI")
    if env:
        return Path(env) if Path(env).is_file() else None
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        cli = folder / "node_modules" / "ipfs" / "src" / "cli.js"
        if cli.is_file():
            return cli
    return None


class JsIpfsNode:
    """One js-ipfs daemon with its own repo under ``workdir``; use as a context manager."""

    def __init__(self, workdir: Path, *, cli: Path | None = None, node: str | None = None) -> None:
        self.workdir = workdir
        self.cli = cli or find_cli(Path(__file__).parent) or find_cli()
        self.node = node or shutil.which("node")
        self.process: subprocess.Popen[bytes] | None = None
        self.api: str | None = None
        self.log = workdir / "jsipfs.log"

    def start(self, timeout: float = 90.0) -> str:
        """Start the daemon and return its RPC API base URL (``http://127.0.0.1:PORT``)."""
        if self.cli is None or self.node is None:
            raise JsIpfsError("js-ipfs is not installed (npm install ipfs@0.66.1) or node is not on PATH")
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "init-config.json"
        config.write_text(json.dumps(CONFIG))
        env = {**os.environ, "IPFS_PATH": str(self.workdir / "repo")}
        cmd = [self.node, str(self.cli), "daemon", "--offline", "--enable-preload=false",
               "--init-profile", "test", "--init-config", str(config)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            port = _API_LINE.search(text)
            if port and _READY in text:
                self.api = f"http://127.0.0.1:{port.group(1)}"
                return self.api
            if self.process.poll() is not None:
                raise JsIpfsError(f"js-ipfs exited with code {self.process.returncode}: {text[-2000:]}")
            time.sleep(0.1)
        self.stop()
        raise JsIpfsError(f"js-ipfs did not report its API within {timeout:g} s: {self.log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        """Stop the daemon's process group (SIGTERM, then SIGKILL after 10 s)."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def __enter__(self) -> JsIpfsNode:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
