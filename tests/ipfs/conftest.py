"""A real js-ipfs node per test session (random loopback ports, fresh repo, stopped by PID), and
small loopback HTTP servers that play a misbehaving node: one that never answers, one that
returns other bytes or another CID."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx
import pytest

from bctrace import Tracer
from bctrace_backends.ipfs.jsipfs import JsIpfsNode, find_cli


@pytest.fixture(scope="session")
def ipfs_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if find_cli(Path(__file__).parent) is None or shutil.which("node") is None:
        pytest.fail("js-ipfs (npm ipfs@0.66.1) and node are needed: run `npm install` in the repository (scripts/test does)")
    node = JsIpfsNode(tmp_path_factory.mktemp("jsipfs"))
    api = node.start()
    try:
        yield api
    finally:
        node.stop()


def node_cid(api: str, data: bytes | BinaryIO, chunk_size: int, *, only_hash: bool = True) -> str:
    """The CID the node gives ``data`` under Kubo's add flags."""
    params = {"cid-version": "1", "raw-leaves": "true", "chunker": f"size-{chunk_size}", "cid-base": "base32",
              "only-hash": "true" if only_hash else "false", "pin": "false"}
    response = httpx.post(f"{api}/api/v0/add", params=params, files={"file": ("f", data)}, timeout=300)
    response.raise_for_status()
    return response.json()["Hash"]


def node_folder_cid(api: str, folder: Path, chunk_size: int = 262144) -> str:
    """The CID the node gives ``folder`` under ``ipfs add -r`` (hidden files included), sent as a
    multipart directory upload the way the Kubo CLI sends one."""
    parts: list[tuple[str, tuple[str, bytes, str]]] = []
    for path in sorted([folder, *folder.rglob("*")]):
        name = quote(path.relative_to(folder.parent).as_posix(), safe="")
        if path.is_dir() and not path.is_symlink():
            parts.append(("file", (name, b"", "application/x-directory")))
        elif path.is_file() and not path.is_symlink():
            parts.append(("file", (name, path.read_bytes(), "application/octet-stream")))
    params = {"cid-version": "1", "raw-leaves": "true", "chunker": f"size-{chunk_size}", "cid-base": "base32", "only-hash": "true"}
    response = httpx.post(f"{api}/api/v0/add", params=params, files=parts, timeout=120)
    response.raise_for_status()
    results = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    return next(r["Hash"] for r in results if r["Name"] == folder.name)


def write_config(folder: Path, api: str, **store: Any) -> Path:
    lines = ['state_dir = ".bctrace"', "[chains.local]", 'backend = "local"', "[stores.ipfs]", 'backend = "ipfs"', f'api = "{api}"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in store.items()]  # JSON scalars are TOML scalars
    path = folder / "bctrace.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def make_tracer(tmp_path: Path) -> Iterator[Callable[..., Tracer]]:
    made: list[Tracer] = []

    def make(api: str, **store: Any) -> Tracer:
        tracer = Tracer.from_config(write_config(tmp_path, api, **store))
        made.append(tracer)
        return tracer

    yield make
    for tracer in made:
        tracer.close()


class FakeNode:
    """A loopback HTTP server whose handler a test supplies; records the requests it saw."""

    def __init__(self, handle: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                outer.requests.append((self.path, dict(self.headers)))
                handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_node() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler], None]], FakeNode]]:
    nodes: list[FakeNode] = []

    def make(handle: Callable[[BaseHTTPRequestHandler], None]) -> FakeNode:
        nodes.append(FakeNode(handle))
        return nodes[-1]

    yield make
    for node in nodes:
        node.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
