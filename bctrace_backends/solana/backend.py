"""``SolanaBackend``: anchors a Merkle root as an SPL Memo ``bctrace:0x<root>`` signed by one key.

Solana keeps no index by memo, so a root is found in one of two ways (see README, "Solana"):

- with the bundle's receipt (:meth:`find_claimed`, what ``verify`` does): one ``getTransaction``
  of the claimed signature, then every claim is checked on what the chain returns: the
  transaction's signatures, that it succeeded, its memo, and that its fee payer and memo signer
  is the configured ``signer``;
- without one (:meth:`lookup`, what ``anchor`` does first, to stay idempotent after a crash): the
  signer's recent history (``getSignaturesForAddress``, up to ``lookup_limit`` signatures), whose
  entries carry their memo, then the same checks on the oldest match.

A receipt's ``tx`` is the 64-byte signature as 0x hex (the format's convention); the base58
form Solana tools show is in ``signature``. ``contract`` is the Memo program id, ``signer`` the
anchoring key, ``block`` the slot. ``chain_id`` is the first 6 bytes of the cluster's genesis hash
as an integer (Solana has no numeric chain id; 6 bytes stay exact in JavaScript).
"""

from __future__ import annotations

import base64
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import Transaction, VersionedTransaction

from bctrace.api import AnchorReceipt, BackendConfig, ChainBackend, from_0x, redact_url, to_0x
from bctrace.errors import AnchorFailed, AnchorMissing, ChainIdMismatch, ChainMisconfigured, ChainUnreachable

from .config import MEMO_PROGRAM, SolanaConfig
from .rpc import SolanaRpc

MEMO = Pubkey.from_string(MEMO_PROGRAM)
LAMPORTS_PER_SOL = 10**9
_SETTLED = {"confirmed": ("confirmed", "finalized"), "finalized": ("finalized",)}


def memo_text(root: bytes) -> str:
    """What the memo of an anchor says: ``bctrace:0x`` and the root's 64 hex digits."""
    return f"bctrace:{to_0x(root)}"


def chain_id_of(genesis_hash: str) -> int:
    return int.from_bytes(bytes(Hash.from_string(genesis_hash))[:6], "big")


def signature_of(receipt: AnchorReceipt) -> Signature:
    """The transaction signature a receipt names (``tx``: 64 bytes as 0x hex)."""
    return Signature.from_bytes(from_0x(receipt.tx, what="tx", length=64))


def format_lamports(lamports: int) -> str:
    text = format(Decimal(lamports) / LAMPORTS_PER_SOL, "f")
    return (text.rstrip("0").rstrip(".") if "." in text else text) + " SOL"


class SolanaBackend(ChainBackend):
    name = "solana"
    config_model = SolanaConfig
    config: SolanaConfig

    def __init__(self, chain: str, config: BackendConfig, *, state_dir: Path) -> None:
        super().__init__(chain, config, state_dir=state_dir)
        self.rpc = SolanaRpc(chain, self.config.url, timeout=self.config.rpc_timeout)
        self._genesis: str | None = None

    # -- identity -------------------------------------------------------------------------------

    @property
    def genesis_hash(self) -> str:
        """The cluster's genesis hash, read once and checked against the config."""
        if self._genesis is None:
            genesis = self.rpc.call("getGenesisHash")
            if not isinstance(genesis, str):
                raise ChainUnreachable(self.chain, "getGenesisHash answered no hash")
            if self.config.genesis_hash is not None and genesis != self.config.genesis_hash:
                raise ChainIdMismatch(f"chain {self.chain!r}: the node's genesis hash is {genesis}, config says {self.config.genesis_hash}")
            self._genesis = genesis
        return self._genesis

    @property
    def chain_id(self) -> int:
        return chain_id_of(self.genesis_hash)

    @property
    def configured_chain_id(self) -> int | None:
        return chain_id_of(self.config.genesis_hash) if self.config.genesis_hash else None

    def _keypair(self) -> Keypair:
        """The signing key, read from the environment now (never kept in the config or logged)."""
        if self.config.key is None:
            raise ChainMisconfigured(self.chain, 'no signing key: set key = "env:VAR" to anchor (verifying needs only signer)')
        var = self.config.key.removeprefix("env:")
        secret = os.environ.get(var, "").strip()
        if not secret:
            raise ChainMisconfigured(self.chain, f"environment variable {var} (the signing key) is not set")
        try:
            keypair = Keypair.from_json(secret) if secret.startswith("[") else Keypair.from_base58_string(secret)
        except BaseException as err:  # solders panics (a BaseException) on malformed input
            if isinstance(err, (KeyboardInterrupt, SystemExit)):
                raise
            raise ChainMisconfigured(
                self.chain, f"environment variable {var} does not hold a Solana secret key (base58, or the JSON array solana-keygen writes)"
            ) from None
        if self.config.signer is not None and str(keypair.pubkey()) != self.config.signer:
            raise ChainMisconfigured(self.chain, f"the key in {var} is for {keypair.pubkey()}, but signer is {self.config.signer}")
        return keypair

    @property
    def signer(self) -> Pubkey:
        """The public key every anchor of this chain must be signed by."""
        if self.config.signer is not None:
            return Pubkey.from_string(self.config.signer)
        return self._keypair().pubkey()

    # -- anchoring -------------------------------------------------------------------------------

    def anchor(self, root: bytes) -> AnchorReceipt:
        self.genesis_hash  # noqa: B018 - refuses a node of another cluster before anything is sent
        found = self.lookup(root)
        if found is not None:
            return found
        keypair = self._keypair()
        payer = keypair.pubkey()
        blockhash = Hash.from_string(self.rpc.value("getLatestBlockhash", {"commitment": self.config.commitment})["blockhash"])
        instruction = Instruction(MEMO, memo_text(root).encode(), [AccountMeta(payer, is_signer=True, is_writable=False)])
        tx = Transaction([keypair], Message.new_with_blockhash([instruction], payer, blockhash), blockhash)
        signature = tx.signatures[0]
        self.rpc.call("sendTransaction", base64.b64encode(bytes(tx)).decode(),
                      {"encoding": "base64", "preflightCommitment": self.config.commitment})
        self._wait_settled(signature)
        return self._read(root, signature, payer)

    def _wait_settled(self, signature: Signature) -> None:
        deadline = time.monotonic() + self.config.timeout
        while True:
            status = self.rpc.value("getSignatureStatuses", [str(signature)])[0]
            if status is not None:
                if status.get("err") is not None:
                    raise AnchorFailed(self.chain, f"transaction {signature} failed: {status['err']}")
                if status.get("confirmationStatus") in _SETTLED[self.config.commitment]:
                    return
            if time.monotonic() > deadline:
                raise AnchorFailed(
                    self.chain,
                    f"transaction {signature} not {self.config.commitment} within {self.config.timeout:g}s; it may still land "
                    "(the next flush looks the root up before sending again)",
                )
            time.sleep(self.config.poll_interval)

    # -- finding and checking anchors ------------------------------------------------------------

    def lookup(self, root: bytes) -> AnchorReceipt | None:
        signer = self.signer
        wanted = memo_text(root)
        matches: list[str] = []
        before: str | None = None
        scanned = 0
        while scanned < self.config.lookup_limit:
            limit = min(1000, self.config.lookup_limit - scanned)
            options: dict[str, Any] = {"limit": limit, "commitment": self.config.commitment}
            if before:
                options["before"] = before
            page = self.rpc.call("getSignaturesForAddress", str(signer), options) or []
            matches += [e["signature"] for e in page if e.get("err") is None and wanted in (e.get("memo") or "")]
            scanned += len(page)
            if len(page) < limit:
                break
            before = page[-1]["signature"]
        if not matches:
            return None
        return self._read(root, Signature.from_string(matches[-1]), signer)  # newest first: the last is the first anchor

    def find_claimed(self, root: bytes, claimed: AnchorReceipt | None) -> AnchorReceipt | None:
        if claimed is None or claimed.backend != self.name:
            return self.lookup(root)
        try:
            signature = signature_of(claimed)
        except ValueError:
            raise AnchorMissing(f"chain {self.chain!r}: the bundle's tx {claimed.tx:.140} is not a Solana signature (64 bytes as 0x hex)") from None
        return self._read(root, signature, self.signer)

    def _read(self, root: bytes, signature: Signature, signer: Pubkey) -> AnchorReceipt:
        """Read one transaction and check that it is a successful anchor of ``root`` by ``signer``."""
        result = self.rpc.call(
            "getTransaction", str(signature),
            {"encoding": "base64", "commitment": self.config.commitment, "maxSupportedTransactionVersion": 0},
        )
        where = f"chain {self.chain!r}: transaction {signature}"
        if result is None:
            raise AnchorMissing(f"{where} is not on the chain (missing, or older than the history this node keeps)")
        try:
            tx = VersionedTransaction.from_bytes(base64.b64decode(result["transaction"][0]))
        except (KeyError, IndexError, TypeError, ValueError):
            raise ChainUnreachable(self.chain, f"getTransaction of {signature} answered no base64 transaction") from None
        if tx.signatures[0] != signature or not all(tx.verify_with_results()):
            raise AnchorMissing(f"{where}: the node returned a transaction whose signatures do not check")
        if (result.get("meta") or {}).get("err") is not None:
            raise AnchorMissing(f"{where} failed on the chain: {result['meta']['err']}")
        message = tx.message
        keys = message.account_keys
        memos = [bytes(ix.data) for ix in message.instructions if keys[ix.program_id_index] == MEMO]
        if memo_text(root).encode() not in memos:
            shown = ", ".join(repr(m.decode(errors="replace")) for m in memos) or "no memo"
            raise AnchorMissing(f"{where} does not anchor root {to_0x(root)}: its memo is {shown}")
        payer = keys[0]
        if payer != signer:
            raise AnchorMissing(f"{where} was signed by {payer}, not by the configured signer {signer}")
        slot = int(result["slot"])
        timestamp = result.get("blockTime")
        if timestamp is None:
            timestamp = self.rpc.call("getBlockTime", slot)
        return AnchorReceipt.model_validate(
            {
                "chain": self.chain,
                "chain_id": self.chain_id,
                "backend": self.name,
                "contract": MEMO_PROGRAM,
                "tx": to_0x(bytes(signature)),
                "block": slot,
                "timestamp": int(timestamp or 0),
                # extra keys (kept in every bundle): what Solana tools and explorers show
                "signature": str(signature),
                "signer": str(payer),
                "genesis_hash": self.genesis_hash,
            }
        )

    # -- chain state -----------------------------------------------------------------------------

    def head(self) -> int:
        return int(self.rpc.call("getSlot", {"commitment": self.config.commitment}))

    def estimate_anchor_cost(self) -> dict[str, Any] | None:
        """The fee of one memo transaction now, as the node computes it (``getFeeForMessage``)."""
        payer = Pubkey.from_string(self.config.signer) if self.config.signer else self.signer
        blockhash = Hash.from_string(self.rpc.value("getLatestBlockhash", {"commitment": self.config.commitment})["blockhash"])
        instruction = Instruction(MEMO, memo_text(os.urandom(32)).encode(), [AccountMeta(payer, is_signer=True, is_writable=False)])
        message = Message.new_with_blockhash([instruction], payer, blockhash)
        lamports = self.rpc.value("getFeeForMessage", base64.b64encode(bytes(message)).decode(), {"commitment": self.config.commitment})
        if lamports is None:
            raise ChainUnreachable(self.chain, "getFeeForMessage answered no fee (blockhash expired)")
        return {"lamports": int(lamports), "total": format_lamports(int(lamports))}

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {**super().describe(), "rpc": redact_url(self.config.url), "memo_program": MEMO_PROGRAM}
        if self.config.preset:
            info["preset"] = self.config.preset
        if self.config.signer:
            info["signer"] = self.config.signer
        info["finality"] = f"the anchor transaction is {self.config.commitment}"
        return info

    def tx_url(self, receipt: AnchorReceipt) -> str | None:
        try:
            return self.config.tx_url(str(signature_of(receipt)))
        except ValueError:
            return None

    def close(self) -> None:
        self.rpc.close()
