"""The chain proof of a local-ledger anchor: the ledger lines from the anchor's block on.

A bundle's local anchor carries ``{"format": "bctrace-local-v1", "lines": [...]}``: the anchor
block's line and the lines after it that the ledger had when the bundle was made (each the exact
stored text of a block). An auditor who trusts one head hash of the ledger (published, or
anchored elsewhere) checks the anchor with no state folder: each line is canonical and hashes to
its ``hash``, each links to the one before, one of them has the trusted hash, and the first one
is the anchor's block (height, hash, root, timestamp, chain id and genesis of the ledger).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bctrace.api import AnchorReceipt, to_0x
from bctrace.errors import ClaimMismatch

from .ledger import LEDGER_FORMAT, Block, LedgerState, parse_line

MAX_LINES = 64
"""Most lines a proof carries (and a verifier reads): a bundle is checked against a head at most
this many blocks after its anchor; later heads need the ledger copy (``--ledger``)."""
MAX_LINE_CHARS = 4096


def build(state: LedgerState, block: Block) -> dict[str, Any] | None:
    """The proof of ``block``, or ``None`` for a block written before blocks named their ledger."""
    lines = state.lines[block.height : block.height + MAX_LINES]
    parsed = parse_line(lines[0])
    if isinstance(parsed, str) or "genesis" not in parsed[0]:
        return None
    return {"format": LEDGER_FORMAT, "lines": [line.decode("utf-8") for line in lines]}


def check(anchor: AnchorReceipt, root: bytes, trusted: Collection[bytes]) -> None:
    """Check a local anchor from its lines and a trusted head hash; raise naming the field."""
    proof = anchor.chain_proof or {}
    lines = proof.get("lines")
    if proof.get("format") != LEDGER_FORMAT or not isinstance(lines, list) or not lines:
        raise ClaimMismatch("chain_proof", f"not a {LEDGER_FORMAT} proof with a list of ledger lines")
    if len(lines) > MAX_LINES:
        raise ClaimMismatch("chain_proof.lines", f"{len(lines)} lines, more than the {MAX_LINES} a proof may carry")
    blocks: list[tuple[dict[str, Any], str]] = []
    for i, line in enumerate(lines):
        if not isinstance(line, str) or len(line) > MAX_LINE_CHARS:
            raise ClaimMismatch(f"chain_proof.lines[{i}]", "not a ledger line")
        parsed = parse_line(line.encode("utf-8", "replace"))
        if isinstance(parsed, str):
            raise ClaimMismatch(f"chain_proof.lines[{i}]", parsed)
        fields, digest = parsed
        if blocks and (fields.get("prev") != blocks[-1][1] or fields.get("height") != blocks[-1][0].get("height", -2) + 1):
            raise ClaimMismatch(f"chain_proof.lines[{i}]", "does not link to the line before it")
        blocks.append((fields, digest))
    hashes = [digest for _, digest in blocks]
    if not any(to_0x(h) in hashes for h in trusted):
        raise ClaimMismatch("chain_proof", f"no line of the proof has the trusted head hash ({', '.join(to_0x(h) for h in trusted) or 'none given'}); "
                            "check against a copy of the ledger (--ledger) or trust the head the bundle was made with")
    first, first_hash = blocks[0]
    expected = {
        "block": (first.get("height"), anchor.block),
        "tx": (first_hash, anchor.tx),
        "block_hash": (first_hash, anchor.block_hash if anchor.block_hash is not None else first_hash),
        "timestamp": (first.get("timestamp"), anchor.timestamp),
        "chain_id": (first.get("chain_id"), anchor.chain_id),
        "contract": (first.get("genesis"), anchor.contract),
        "merkle.root": (first.get("root"), to_0x(root)),
    }
    for name, (found, claimed) in expected.items():
        if found != claimed:
            raise ClaimMismatch(name, f"the ledger line says {found}, the bundle says {claimed}")
