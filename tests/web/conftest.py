"""Fixtures of the web tests: ``bctrace serve`` as a real process on a random loopback port, a
live anvil chain with files anchored on it, and Debian's Chromium driven by Playwright (one
browser for the session; each test gets a fresh context)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# -- a live chain, a project anchored on it, and one browser for the whole session -------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"]


@dataclass
class AnchoredProject:
    """A project folder whose files were stamped on a live anvil chain (registry deployed)."""

    folder: Path
    node: Any
    chain_id: int
    contract: str
    author: str
    """The address whose key signed the records (EIP-191)."""

    def bundle(self, name: str) -> dict[str, Any]:
        return json.loads((self.folder / f"{name}.bctrace.json").read_text())


def _signer_env() -> tuple[str, str]:
    from eth_account import Account

    account = Account.create()
    env = f"BCTRACE_WEB_KEY_{uuid.uuid4().hex[:8].upper()}"
    os.environ[env] = account.key.to_0x_hex()
    return env, account.address


def deployed_chain(chain_id: int, env: str, address: str) -> tuple[Any, str]:
    """An anvil node on a random loopback port with a TraceRegistry deployed."""
    from bctrace_backends.evm.anvil import start_anvil
    from bctrace_backends.evm.client import EvmClient
    from bctrace_backends.evm.config import EvmConfig
    from bctrace_backends.evm.deploy import deploy_registry

    node = start_anvil(chain_id)
    node.fund(address)
    client = EvmClient(f"anvil-{chain_id}", EvmConfig.model_validate({"rpc_url": node.url, "chain_id": chain_id, "key": f"env:{env}"}))
    try:
        return node, deploy_registry(client).address
    finally:
        client.close()


def chain_table(node: Any, chain_id: int, contract: str, env: str) -> str:
    return (f'backend = "evm"\nrpc_url = "{node.url}"\nchain_id = {chain_id}\ncontract = "{contract}"\n'
            f'key = "env:{env}"\ntimeout = 20\npoll_interval = 0.05\n')


def run_cli(folder: Path, *args: str) -> str:
    result = subprocess.run([str(BCTRACE), *args], cwd=folder, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def anchored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnchoredProject]:
    """paper.txt and notes.txt stamped and signed in one batch on a live anvil chain (chain id 31337)."""
    env, address = _signer_env()
    node, contract = deployed_chain(31337, env, address)
    folder = tmp_path_factory.mktemp("anchored")
    (folder / "bctrace.toml").write_text(f'default_chains = ["anvil"]\n[signer]\nkey = "env:{env}"\n[chains.anvil]\n' + chain_table(node, 31337, contract, env))
    (folder / "paper.txt").write_text("a claim worth timestamping\n")
    (folder / "notes.txt").write_text("notes taken the same day\n")
    run_cli(folder, "stamp", "--sign", "paper.txt", "notes.txt")
    try:
        yield AnchoredProject(folder, node, 31337, contract, address)
    finally:
        node.stop()
        os.environ.pop(env, None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never a downloaded browser): one per session."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is needed: apt-get install -y chromium (scripts/test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("BCTRACE_TEST_ARTIFACTS", tempfile.gettempdir())) / "bctrace-web-screenshots"


class VerifierPage:
    """The verifier page in a fresh browser context: give files, wait for the verdict."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def open(self, url: str) -> VerifierPage:
        self.page.goto(url)
        return self

    def load(self, url: str, timeout_ms: float = 30_000) -> Any:
        """Open a URL whose page checks bundles by itself (``?bundle=``) and return the verdict."""
        self.page.goto(url)
        verdict = self.page.locator("[data-testid=verdict]")
        self.page.locator('[data-testid=verdict][data-run="1"]').wait_for(timeout=timeout_ms)
        return verdict

    def check(self, *files: Path, timeout_ms: float = 30_000) -> Any:
        """Give files to the page's file input and return the verdict element once it is final."""
        verdict = self.page.locator("[data-testid=verdict]")
        run = int(verdict.get_attribute("data-run") or 0) + 1
        self.page.set_input_files("input#files", [str(f) for f in files])
        self.page.locator(f'[data-testid=verdict][data-run="{run}"]').wait_for(timeout=timeout_ms)
        return verdict

    def status(self) -> str:
        return str(self.page.locator("[data-testid=verdict]").get_attribute("data-status"))

    def text(self) -> str:
        return str(self.page.locator("body").inner_text())

    def serious_violations(self) -> list[str]:
        """axe-core's serious and critical accessibility violations on the page as it is now."""
        self.page.evaluate(AXE.read_text())  # through the DevTools protocol: pages whose CSP forbids scripts are checked too
        found = self.page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
                                   ".filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id + ': ' + v.help))")
        return list(found)

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def verifier(browser: Any) -> Iterator[VerifierPage]:
    context = browser.new_context()
    try:
        yield VerifierPage(context.new_page())
    finally:
        context.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``bctrace serve`` on a random loopback port, for the module's browser tests."""
    proc, url = start_serve(tmp_path_factory.mktemp("serve"))
    try:
        yield url
    finally:
        stop(proc)
