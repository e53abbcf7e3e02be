"""Two providers of one chain, one of them lying (a loopback proxy in front of the honest node
that rewrites answers): verify asks both, reports the disagreement, and fails under --policy all."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.integration


class LyingProxy:
    """Forwards JSON-RPC to ``upstream`` and rewrites one kind of answer."""

    def __init__(self, upstream: str, lie: str) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = urllib.request.Request(upstream, data=body, headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=10) as reply:
                    answer = json.loads(reply.read())
                asked = json.loads(body)
                answers = answer if isinstance(answer, list) else [answer]
                questions = asked if isinstance(asked, list) else [asked]
                for q, a in zip(questions, answers):
                    proxy.rewrite(q, a)
                out = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        self.lie = lie
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def rewrite(self, question: dict, answer: dict) -> None:
        result = answer.get("result")
        if self.lie == "eth_call" and question.get("method") == "eth_call" and isinstance(result, str) and len(result) == 2 + 3 * 64:
            # anchors(root) -> (timestamp, block, sender): back-date the anchor by a day
            timestamp = int(result[2:66], 16) - 86400
            answer["result"] = "0x" + f"{timestamp:064x}" + result[66:]
        if self.lie == "block_hash" and question.get("method") == "eth_getBlockByNumber" and isinstance(result, dict):
            result["hash"] = "0x" + "ab" * 32

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxies():
    made: list[LyingProxy] = []
    yield lambda upstream, lie: made.append(LyingProxy(upstream, lie)) or made[-1]
    for p in made:
        p.close()


@pytest.mark.parametrize("lie", ["eth_call", "block_hash"])
def test_one_lying_provider_is_a_dispute(lie, evm_chain_factory, write_config, project, cli, tmp_path, monkeypatch, proxies):
    chain = evm_chain_factory(1, name="eth")
    config = write_config({"eth": chain.table()}, path=project / "bctrace.toml")
    (project / "paper.txt").write_text("first!\n")
    assert cli("--config", config, "stamp", "paper.txt").exit_code == 0
    bundle = project / "paper.txt.bctrace.json"
    liar = proxies(chain.node.url, lie)
    monkeypatch.chdir(tmp_path)

    alone = cli("verify", bundle, "--rpc", f"1={liar.url}")
    assert alone.exit_code == 1  # the liar contradicts the bundle, or itself
    both = cli("verify", bundle, "--rpc", f"1={chain.node.url}", "--rpc", f"1={liar.url}", "--policy", "all", "--json")
    assert both.exit_code == 1, both.output
    (check,) = json.loads(both.stdout)["results"][0]["chains"]
    assert check["status"] == "disputed"
    assert [w["status"] for w in check["witnesses"]] in (["verified", "mismatch"], ["verified", "tampered"])
    assert ("timestamp" if lie == "eth_call" else "block_hash") in check["reason"]
    assert cli("verify", bundle, "--rpc", f"1={chain.node.url}", "--rpc", f"1={liar.url}", "--policy", "1").exit_code == 1
    # "any" trusts any one witness: the honest node alone is enough
    assert cli("verify", bundle, "--rpc", f"1={chain.node.url}", "--rpc", f"1={liar.url}", "--policy", "any").exit_code == 0
