"""Start and stop local anvil nodes (Foundry's EVM node, installed from npm).

Used by ``bctrace devnet`` and by the test fixtures (also for L2 and permissioned-network tests,
hence the free-form ``extra_args``). Why this way:

- ``--host 127.0.0.1 --port 0``: the OS picks a free port (no races between parallel tests) and
  nothing listens beyond loopback; the port is read from anvil's ``Listening on`` line.
- ``--accounts 0``: anvil otherwise prints the private keys of its dev accounts into its log
  (``--quiet`` would also hide the ``Listening on`` line). Tests and ``bctrace devnet`` give a
  fresh random account a balance with :meth:`AnvilNode.fund` instead, so no key is ever logged.
- output goes to a file, not a pipe, so a chatty node can never block on a full pipe.
- stopped by PID (terminate, then kill), never by name.

Only the standard library is used here: JSON-RPC over urllib for the few ``anvil_*`` calls.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bctrace.errors import AnvilError

FREE_GAS_ARGS: tuple[str, ...] = ("--gas-price", "0", "--base-fee", "0", "--disable-min-priority-fee")
"""A private-network style chain where gas costs nothing (configure ``gas_price = 0``)."""

_LISTENING = re.compile(r"Listening on (\S+):(\d+)")


def find_anvil(start: Path | None = None) -> Path:
    """The anvil binary: ``$BCTRACE_ANVIL``, else ``node_modules/@foundry-rs/anvil-*/bin/anvil`` in
    the current folder, this package's folders or their parents, else ``anvil`` on PATH."""
    env = os.environ.get("BCTRACE_ANVIL")
    if env:
        return Path(env)
    roots = [(start or Path.cwd()).resolve(), Path(__file__).resolve()]
    for root in roots:
        for folder in (root, *root.parents):
            hits = sorted((folder / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil"))
            if hits:
                return hits[0]
    which = shutil.which("anvil")
    if which:
        return Path(which)
    raise AnvilError("anvil not found: `npm install @foundry-rs/anvil-linux-amd64` (or set BCTRACE_ANVIL)")


@dataclass
class AnvilNode:
    """A running anvil process on loopback."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    chain_id: int
    log_path: Path
    args: tuple[str, ...] = field(default=())

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def rpc(self, method: str, params: Sequence[Any] = (), *, timeout: float = 10.0) -> Any:
        """One JSON-RPC call (for ``anvil_*``/``evm_*`` helpers; use web3 for the rest)."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
        req = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            reply = json.loads(resp.read())
        if "error" in reply:
            raise AnvilError(f"anvil {method}: {reply['error'].get('message', reply['error'])}")
        return reply.get("result")

    def fund(self, address: str, wei: int = 10**20) -> None:
        """Set an account's balance (default 100 ether)."""
        self.rpc("anvil_setBalance", [address, hex(wei)])

    def mine(self, blocks: int = 1) -> None:
        self.rpc("anvil_mine", [hex(blocks)])

    def set_automine(self, on: bool) -> None:
        self.rpc("evm_setAutomine", [on])

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the process by PID: SIGTERM, then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)

    def __enter__(self) -> AnvilNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_anvil(
    chain_id: int = 31337,
    *,
    free_gas: bool = False,
    mining: bool = True,
    extra_args: Sequence[str] = (),
    log_dir: Path | None = None,
    binary: Path | None = None,
    startup_timeout: float = 20.0,
) -> AnvilNode:
    """Start anvil on ``127.0.0.1`` and a free port and wait until it answers.

    :param free_gas: add :data:`FREE_GAS_ARGS` (gas price and base fee 0).
    :param mining: ``False`` starts with ``--no-mining``: transactions wait in the pool until
        :meth:`AnvilNode.mine` (to test receipt timeouts).
    :param extra_args: more anvil flags, e.g. ``("--block-time", "2")`` or ``("--hardfork", "london")``.
    """
    exe = binary or find_anvil()
    args = ["--host", "127.0.0.1", "--port", "0", "--chain-id", str(chain_id), "--accounts", "0"]
    if free_gas:
        args += FREE_GAS_ARGS
    if not mining:
        args.append("--no-mining")
    args += list(extra_args)
    folder = log_dir or Path(tempfile.mkdtemp(prefix="bctrace-anvil-"))
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"anvil-{chain_id}-{os.getpid()}-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(exe), *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    node: AnvilNode | None = None
    deadline = time.monotonic() + startup_timeout
    try:
        while time.monotonic() < deadline:
            match = _LISTENING.search(log_path.read_text(errors="replace"))
            if match:
                node = AnvilNode(process, match.group(1), int(match.group(2)), chain_id, log_path, tuple(args))
                if int(node.rpc("eth_chainId"), 16) != chain_id:
                    raise AnvilError(f"anvil on port {node.port} reports another chain id")
                return node
            if process.poll() is not None:
                raise AnvilError(f"anvil exited with code {process.returncode}: {log_path.read_text(errors='replace')[-500:].strip()}")
            time.sleep(0.05)
        raise AnvilError(f"anvil did not start listening within {startup_timeout:g} s (log: {log_path})")
    except BaseException:
        if process.poll() is None:
            process.kill()
            process.wait()
        raise
