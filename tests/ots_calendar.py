"""A local OpenTimestamps calendar and a local Bitcoin block-header source, on 127.0.0.1 and a
random port each, for tests (the public calendars and Bitcoin cannot be reached from here).

The calendar does what an OpenTimestamps calendar server does, with the ``opentimestamps``
library's own operations: ``POST /digest`` appends a random nonce, hashes (sha256) and answers
the timestamp so far with a ``PendingAttestation`` naming the calendar's URL; :meth:`mine`
aggregates every waiting commitment (``make_merkle_tree``), puts the tip in a Bitcoin
transaction's ``OP_RETURN``, builds a block around it (python-bitcoinlib serialization, merkle
root by Bitcoin's own algorithm) and makes the path to a ``BitcoinBlockHeaderAttestation``
(``make_timestamp_from_block``); ``GET /timestamp/HEX`` then answers the full timestamp of a
commitment, and 404 with a reason before that, as the real server does.

The header source answers the Esplora endpoints the backend uses (``/block-height/H``,
``/block/HASH/header``, ``/blocks/tip/height``), and Bitcoin Core's JSON-RPC methods for headers
(``getblockhash``, ``getblockheader HASH false``, ``getblockcount`` on ``POST /``, with basic
auth), from the blocks mined here; each header is a real
80-byte Bitcoin header with regtest proof of work (what is not real: the chain is ours, not
Bitcoin's, and has no transactions other than the calendar's).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bitcoin.core import CBlock, CMutableTransaction, COutPoint, CTxIn, CTxOut, lx
from bitcoin.core.script import OP_RETURN, CScript
from opentimestamps.bitcoin import make_timestamp_from_block
from opentimestamps.core.notary import PendingAttestation
from opentimestamps.core.op import OpAppend, OpSHA256
from opentimestamps.core.serialize import BytesSerializationContext
from opentimestamps.core.timestamp import Timestamp, make_merkle_tree

REGTEST_BITS = 0x207FFFFF


def _serialize(stamp: Timestamp) -> bytes:
    ctx = BytesSerializationContext()
    stamp.serialize(ctx)
    return ctx.getbytes()


class _Server:
    """One HTTP server on loopback in a thread; subclasses answer ``handle(method, path, body)``."""

    def start(self) -> Any:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = owner.handle(method, self.path, body, self.headers)
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._answer("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._answer("POST")

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def handle(self, method: str, path: str, body: bytes, headers: Any = None) -> tuple[int, bytes]:  # pragma: no cover
        raise NotImplementedError


@dataclass
class LocalBitcoin(_Server):
    """Blocks with real headers; an Esplora-style header API over them."""

    blocks: list[CBlock] = field(default_factory=list)
    base_height: int = 840_000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_block(self, txs: list[Any]) -> tuple[CBlock, int]:
        with self.lock:
            prev = self.blocks[-1].GetHash() if self.blocks else b"\0" * 32
            height = self.base_height + len(self.blocks)
            coinbase = CMutableTransaction([CTxIn(COutPoint(), CScript([height.to_bytes(4, "little")]))],
                                           [CTxOut(0, CScript([OP_RETURN, os.urandom(8)]))])
            vtx = [coinbase, *txs]
            draft = CBlock(nVersion=0x20000000, hashPrevBlock=prev, nTime=int(time.time()), nBits=REGTEST_BITS, vtx=vtx)
            merkle_root = draft.calc_merkle_root()
            nonce = 0
            while True:  # regtest proof of work: about two tries
                block = CBlock(nVersion=0x20000000, hashPrevBlock=prev, hashMerkleRoot=merkle_root, nTime=draft.nTime,
                               nBits=REGTEST_BITS, nNonce=nonce, vtx=vtx)
                if int.from_bytes(block.GetHash(), "little") < 0x7FFFFF << (8 * (0x20 - 3)):
                    break
                nonce += 1
            self.blocks.append(block)
            return block, height

    rpc_auth: str | None = None
    """``user:password`` the JSON-RPC (Bitcoin Core's methods, ``POST /``) requires."""

    def handle(self, method: str, path: str, body: bytes, headers: Any = None) -> tuple[int, bytes]:
        if method == "POST" and path == "/":
            return self._rpc(body, headers)
        parts = path.strip("/").split("/")
        if parts == ["blocks", "tip", "height"]:
            return 200, str(self.base_height + len(self.blocks) - 1).encode()
        if len(parts) == 2 and parts[0] == "block-height" and parts[1].isdigit():
            index = int(parts[1]) - self.base_height
            if 0 <= index < len(self.blocks):
                return 200, self.blocks[index].GetHash()[::-1].hex().encode()
            return 404, b"Block not found"
        if len(parts) == 3 and parts[0] == "block" and parts[2] == "header":
            for block in self.blocks:
                if block.GetHash()[::-1].hex() == parts[1]:
                    return 200, block.get_header().serialize().hex().encode()
            return 404, b"Block not found"
        return 404, b"not found"


    def _rpc(self, body: bytes, headers: Any) -> tuple[int, bytes]:
        """``getblockhash``, ``getblockheader HASH false``, ``getblockcount``, as bitcoind answers."""
        import base64
        import json

        expected = "Basic " + base64.b64encode((self.rpc_auth or "").encode()).decode()
        if self.rpc_auth and (headers is None or headers.get("Authorization") != expected):
            return 401, b""
        call = json.loads(body)
        method, params = call["method"], call.get("params", [])
        result: Any = None
        error = None
        if method == "getblockcount":
            result = self.base_height + len(self.blocks) - 1
        elif method == "getblockhash":
            index = params[0] - self.base_height
            if 0 <= index < len(self.blocks):
                result = self.blocks[index].GetHash()[::-1].hex()
            else:
                error = {"code": -8, "message": "Block height out of range"}
        elif method == "getblockheader":
            found = [b for b in self.blocks if b.GetHash()[::-1].hex() == params[0]]
            result = found[0].get_header().serialize().hex() if found else None
            error = None if found else {"code": -5, "message": "Block not found"}
        else:
            error = {"code": -32601, "message": "Method not found"}
        return (500 if error else 200), json.dumps({"result": result, "error": error, "id": call.get("id")}).encode()


@dataclass
class LocalCalendar(_Server):
    """An OpenTimestamps calendar committing into :class:`LocalBitcoin` blocks."""

    bitcoin: LocalBitcoin = field(default_factory=LocalBitcoin)
    waiting: list[Timestamp] = field(default_factory=list)
    done: dict[bytes, Timestamp] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refuse: bool = False
    """Answer every request with HTTP 503 (a calendar that is down)."""

    def handle(self, method: str, path: str, body: bytes, headers: Any = None) -> tuple[int, bytes]:
        if self.refuse:
            return 503, b"calendar down"
        if method == "POST" and path == "/digest":
            if not 1 <= len(body) <= 64:
                return 400, b"digest too long"
            stamp = Timestamp(body)
            commitment = stamp.ops.add(OpAppend(os.urandom(16))).ops.add(OpSHA256())
            commitment.attestations.add(PendingAttestation(self.url))
            with self.lock:
                self.waiting.append(Timestamp(commitment.msg))
            return 200, _serialize(stamp)
        if method == "GET" and path.startswith("/timestamp/"):
            try:
                commitment = bytes.fromhex(path.removeprefix("/timestamp/"))
            except ValueError:
                return 400, b"bad commitment"
            with self.lock:
                if commitment in self.done:
                    return 200, _serialize(self.done[commitment])
                if any(w.msg == commitment for w in self.waiting):
                    return 404, b"Pending confirmation in Bitcoin blockchain"
            return 404, b"Not found"
        return 404, b"not found"

    def mine(self) -> int | None:
        """Commit every waiting commitment into one new block; its height (None if nothing waited)."""
        with self.lock:
            waiting, self.waiting = self.waiting, []
            if not waiting:
                return None
            tip = make_merkle_tree(list(waiting))
            tx = CMutableTransaction([CTxIn(COutPoint(lx("11" * 32), 0))], [CTxOut(0, CScript([OP_RETURN, tip.msg]))])
            block, height = self.bitcoin.add_block([tx])
            to_block = make_timestamp_from_block(tip.msg, block, height)
            assert to_block is not None
            tip.merge(to_block)
            for leaf in waiting:
                self.done[leaf.msg] = leaf
            return height
