"""One EVM key used by several processes at once, and an RPC endpoint that fails a quarter of
its requests: on a real anvil node, no error reaches the user and no transaction reverts."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bctrace import Tracer

pytestmark = pytest.mark.integration

FLUSHER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bctrace import Tracer
    with Tracer.from_config(cwd=Path(sys.argv[1])) as t:
        for i in range(200):
            t.record("step", {"writer": sys.argv[2], "i": i})
            if (i + 1) % 50 == 0:
                t.flush()
    """
)


def reverted_transactions(node) -> int:
    """Transactions on the whole chain whose receipt says they reverted (gas paid for nothing)."""
    reverted = 0
    for number in range(int(node.rpc("eth_blockNumber"), 16) + 1):
        block = node.rpc("eth_getBlockByNumber", [hex(number), False])
        for tx in block["transactions"]:
            if node.rpc("eth_getTransactionReceipt", [tx])["status"] != "0x1":
                reverted += 1
    return reverted


def test_four_processes_flushing_with_one_key_see_no_error_and_revert_nothing(evm_chain, write_config, tmp_path):
    """Before: 'nonce too low' and 'reverted' errors, and a dozen reverted anchors on chain."""
    write_config({"anvil": evm_chain.table()})
    procs = [subprocess.Popen([sys.executable, "-c", FLUSHER, str(tmp_path), w], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for w in "abcd"]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert outcomes == [(0, "")] * 4
    assert reverted_transactions(evm_chain.node) == 0
    with Tracer.from_config(cwd=tmp_path) as tracer:
        assert tracer.outbox.pending_count() == 0 and tracer.outbox.open_batches() == []
        batches = tracer.outbox._db.execute("SELECT id, root FROM batches").fetchall()
        for batch_id, root in batches:
            assert tracer.backend("anvil").lookup(root) is not None
        digests = [r[0] for r in tracer.outbox._db.execute("SELECT digest FROM records")]
        assert len(digests) == 800
        assert tracer.verify(tracer.bundle(digests[0])).ok and tracer.verify(tracer.bundle(digests[-1])).ok


class FaultyProxy:
    """A loopback HTTP proxy in front of a node that fails a share of requests, each in one of
    the ways real providers fail: 503 and 429 with Retry-After, 502, the connection dropped
    before the node sees the request, and dropped after the node answered (the request took
    effect, its answer was lost). Failures follow a seeded random sequence."""

    def __init__(self, upstream: str, share: float, seed: int = 25) -> None:
        self.upstream = upstream
        self.share = share
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.seen: dict[str, int] = {"ok": 0}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    fail = outer.random.random() < outer.share
                    how = outer.random.choice(["503", "429", "502", "drop-before", "drop-after"]) if fail else "ok"
                    outer.seen[how] = outer.seen.get(how, 0) + 1
                if how == "drop-before":
                    self.close_connection = True
                    return
                if how in ("503", "429", "502"):
                    self.send_response(int(how))
                    if how != "502":
                        self.send_header("Retry-After", "0" if how == "503" else "1")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                request = urllib.request.Request(outer.upstream, data=body, headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as response:
                    answer = response.read()
                if how == "drop-after":
                    self.close_connection = True
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def faulty_proxy(evm_chain) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(evm_chain.node.url, share=0.25)
    yield proxy
    proxy.close()


def test_a_1000_record_flush_through_a_proxy_failing_a_quarter_of_requests_completes_at_once(
        evm_chain, faulty_proxy, write_config, tmp_path):
    """Before: 9-12 flush attempts, or never finished."""
    config = write_config({"anvil": evm_chain.table(rpc_url=faulty_proxy.url, rpc_timeout=5)})
    with Tracer.from_config(config) as tracer:
        with tracer.batch():
            recs = [tracer.record("step", {"i": i}) for i in range(1000)]
        result = tracer.flush()
        assert result.records == 1000 and tracer.outbox.open_batches() == []
        for rec in (recs[0], recs[-1]):
            assert tracer.verify(tracer.bundle(rec.digest)).ok  # also through the proxy
    failed = sum(n for how, n in faulty_proxy.seen.items() if how != "ok")
    assert failed >= 3, faulty_proxy.seen  # the proxy did fail requests, of several kinds
    assert reverted_transactions(evm_chain.node) == 0
    assert int(evm_chain.node.rpc("eth_getTransactionCount", [evm_chain.signer.address, "latest"]), 16) == 2  # deploy + 1 anchor
    (tmp_path / "seen.json").write_text(json.dumps(faulty_proxy.seen))


def test_retry_after_is_honoured_and_bounded():
    import requests

    from bctrace_backends.evm import retry

    response = requests.Response()
    response.headers["Retry-After"] = "2"
    assert retry.backoff(0, response) == 2.0
    response.headers["Retry-After"] = "86400"
    assert retry.backoff(0, response) == retry.MAX_RETRY_AFTER
    response.headers["Retry-After"] = "Wed, 21 Oct 2015 07:28:00 GMT"  # in the past: at once
    assert retry.backoff(0, response) == 0.0
    assert all(0 <= retry.backoff(n) <= retry.BACKOFF_CAP for n in range(30))
