"""A Solana JSON-RPC node for tests: the real Solana runtime (``solders.litesvm.LiteSVM``, which
ships the SPL Memo program) behind a small HTTP server on 127.0.0.1 and a random port.

It answers the methods the ``solana`` backend uses, the way a validator's RPC does, so the
backend's real HTTP path runs. LiteSVM executes and checks every transaction (signatures,
blockhash, fees, the Memo program); what a validator adds on top is played here, plainly:

- blocks: every accepted transaction is its own slot (the clock is advanced and a new blockhash
  made after it), and ``blockTime`` is the wall clock;
- history: the server keeps the index a validator's RPC keeps (transactions by signature, and
  signatures by account with their memo, formatted ``[len] text`` as the real RPC does);
- the genesis hash is random per node; ``getFeeForMessage`` charges 5000 lamports per required
  signature, LiteSVM's fee.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from solders.hash import Hash
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata

MEMO = Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")
LAMPORTS_PER_SIGNATURE = 5000


@dataclass
class Landed:
    slot: int
    block_time: int
    raw: bytes
    err: Any
    memo: str | None


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class LiteSvmNode:
    """One in-process cluster and its RPC server; :meth:`stop` shuts the server down."""

    svm: LiteSVM = field(default_factory=LiteSVM)
    genesis_hash: str = field(default_factory=lambda: str(Hash(os.urandom(32))))
    landed: dict[str, Landed] = field(default_factory=dict)
    by_account: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def fund(self, pubkey: Pubkey, lamports: int = 10 * 10**9) -> None:
        with self.lock:
            self.svm.airdrop(pubkey, lamports)

    def funded_keypair(self) -> Keypair:
        keypair = Keypair()
        self.fund(keypair.pubkey())
        return keypair

    def start(self) -> LiteSvmNode:
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                try:
                    answer = {"jsonrpc": "2.0", "id": request["id"], "result": node.handle(request["method"], request.get("params", []))}
                except RpcError as err:
                    answer = {"jsonrpc": "2.0", "id": request["id"], "error": {"code": err.code, "message": str(err)}}
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # -- the RPC methods -------------------------------------------------------------------------

    def handle(self, method: str, params: list[Any]) -> Any:
        with self.lock:
            slot = self.svm.get_clock().slot
            context = {"slot": slot}
            if method == "getGenesisHash":
                return self.genesis_hash
            if method == "getSlot":
                return slot
            if method == "getLatestBlockhash":
                return {"context": context, "value": {"blockhash": str(self.svm.latest_blockhash()), "lastValidBlockHeight": slot + 150}}
            if method == "sendTransaction":
                return self._send(base64.b64decode(params[0]))
            if method == "getSignatureStatuses":
                statuses = [self._status(s) for s in params[0]]
                return {"context": context, "value": statuses}
            if method == "getTransaction":
                return self._transaction(params[0])
            if method == "getSignaturesForAddress":
                return self._signatures(params[0], params[1] if len(params) > 1 else {})
            if method == "getFeeForMessage":
                message = Message.from_bytes(base64.b64decode(params[0]))
                return {"context": context, "value": LAMPORTS_PER_SIGNATURE * message.header.num_required_signatures}
            if method == "getBlockTime":
                return next((t.block_time for t in self.landed.values() if t.slot == params[0]), None)
        raise RpcError(-32601, f"Method not found: {method}")

    def _send(self, raw: bytes) -> str:
        tx = VersionedTransaction.from_bytes(raw)
        signature = str(tx.signatures[0])
        result = self.svm.send_transaction(tx)
        if isinstance(result, FailedTransactionMetadata):
            raise RpcError(-32002, f"Transaction simulation failed: {result.err}")
        slot = self.svm.get_clock().slot
        message = tx.message
        keys = message.account_keys
        memos = [bytes(ix.data).decode(errors="replace") for ix in message.instructions if keys[ix.program_id_index] == MEMO]
        memo = "; ".join(f"[{len(m)}] {m}" for m in memos) or None
        self.landed[signature] = Landed(slot, int(time.time()), raw, None, memo)
        for key in keys:
            self.by_account.setdefault(str(key), []).insert(0, signature)
        # the next block: a new slot, clock time and blockhash, as a validator would produce
        clock = self.svm.get_clock()
        self.svm.warp_to_slot(slot + 1)
        clock = self.svm.get_clock()
        clock.unix_timestamp = int(time.time())
        self.svm.set_clock(clock)
        self.svm.expire_blockhash()
        return signature

    def _status(self, signature: str) -> dict[str, Any] | None:
        landed = self.landed.get(signature)
        if landed is None:
            return None
        return {"slot": landed.slot, "confirmations": None, "err": landed.err, "confirmationStatus": "finalized"}

    def _transaction(self, signature: str) -> dict[str, Any] | None:
        landed = self.landed.get(signature)
        if landed is None:
            return None
        return {
            "slot": landed.slot,
            "blockTime": landed.block_time,
            "transaction": [base64.b64encode(landed.raw).decode(), "base64"],
            "meta": {"err": landed.err, "fee": LAMPORTS_PER_SIGNATURE},
            "version": "legacy",
        }

    def _signatures(self, address: str, options: dict[str, Any]) -> list[dict[str, Any]]:
        signatures = self.by_account.get(address, [])
        if options.get("before") in signatures:
            signatures = signatures[signatures.index(options["before"]) + 1:]
        out = []
        for signature in signatures[: options.get("limit", 1000)]:
            landed = self.landed[signature]
            out.append({"signature": signature, "slot": landed.slot, "err": landed.err, "memo": landed.memo,
                        "blockTime": landed.block_time, "confirmationStatus": "finalized"})
        return out
