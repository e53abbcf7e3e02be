"""Chain proofs of EVM anchors: everything needed to check an anchor from one trusted block hash.

An anchor's ``chain_proof`` (format ``evm-mpt-v1``, README "Proof bundle format") holds the
anchor block's header (RLP: its keccak256 is the block hash), ``eth_getProof`` of the registry
account and of the root's storage slot at that block (Merkle-Patricia proofs to the header's
``stateRoot`` and the account's ``storageRoot``), and the anchor transaction with its proof in
the block's transactions trie (to ``transactionsRoot``). Given a block hash the verifier trusts,
:func:`check` derives every claim of the anchor with no network: the block number and timestamp
(header), the contract holds TraceRegistry code (account code hash), the root was first anchored
in that block at that time (storage slot), and the transaction is in the block, calls
``anchor(root)`` on that contract, and is signed for the anchor's chain id.

:func:`build` makes the proof at flush and checks it with :func:`check` before it is stored;
where the node's header cannot be re-encoded to its block hash (QBFT seals, an unknown chain
format) or the anchor transaction was not a direct ``anchor(root)`` call, it raises
:class:`NoChainProof` and the anchor is stored without a proof. MPT proofs are checked with
``trie`` (py-trie) and ``rlp``, not hand-written code.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import rlp
from eth_utils import to_checksum_address
from trie import HexaryTrie
from trie import exceptions as trie_errors

from bctrace.api import AnchorReceipt, keccak256, to_0x
from bctrace.errors import ClaimMismatch

from . import artifact

if TYPE_CHECKING:
    from .client import EvmClient

FORMAT = "evm-mpt-v1"
ANCHORS_SLOT = 0
"""Storage slot of the registry's ``anchors`` mapping (its first state variable)."""
ANCHOR_SELECTOR = keccak256(b"anchor(bytes32)")[:4]
MAX_NODES = 64
MAX_NODE_BYTES = 256 * 1024
"""Largest proof node: a transactions-trie leaf holds the whole transaction."""
MAX_HEADER_BYTES = 64 * 1024
_MASK48 = (1 << 48) - 1
_LOWER_HEX = re.compile(r"0x(?:[0-9a-f]{2})*")

_HEADER_FIELDS = (
    ("parentHash", False), ("sha3Uncles", False), ("miner", False), ("stateRoot", False),
    ("transactionsRoot", False), ("receiptsRoot", False), ("logsBloom", False), ("difficulty", True),
    ("number", True), ("gasLimit", True), ("gasUsed", True), ("timestamp", True), ("extraData", False),
    ("mixHash", False), ("nonce", False),
    ("baseFeePerGas", True),  # London
    ("withdrawalsRoot", False),  # Shanghai
    ("blobGasUsed", True), ("excessBlobGas", True), ("parentBeaconBlockRoot", False),  # Cancun
    ("requestsHash", False),  # Prague
)
"""Header fields in RLP order, and whether each is a quantity (big-endian, no leading zeros)."""
_PROOF_ERRORS = (
    trie_errors.BadTrieProof, trie_errors.InvalidNode, trie_errors.InvalidNibbles, trie_errors.ValidationError,
    trie_errors.MissingTrieNode, trie_errors.MissingTraversalNode, trie_errors.TraversedPartialPath,
    rlp.exceptions.RLPException, ValueError, TypeError, IndexError, KeyError, RecursionError,
)


class NoChainProof(Exception):
    """This anchor cannot get a chain proof that would verify (the reason is said once)."""


def header_rlp(block: dict[str, Any]) -> bytes:
    """The RLP header of a block as the node serves it (``eth_getBlockByNumber`` JSON): every
    field the node gives, in the order of the forks that added them."""
    items = []
    for name, quantity in _HEADER_FIELDS:
        if name not in block:
            continue
        value = str(block[name])
        if quantity:
            n = int(value, 16)
            items.append(n.to_bytes((n.bit_length() + 7) // 8, "big"))
        else:
            items.append(bytes.fromhex(value[2:]))
    return rlp.encode(items)


def storage_slot(root: bytes) -> bytes:
    """The slot of ``anchors[root]``: keccak256(root ‖ uint256(ANCHORS_SLOT))."""
    return keccak256(root + ANCHORS_SLOT.to_bytes(32, "big"))


def build(client: EvmClient, receipt: AnchorReceipt, root: bytes) -> dict[str, Any]:
    """The chain proof of ``receipt`` (which must carry ``block_hash``); raises
    :class:`NoChainProof` when none that verifies can be made, and ChainError when the node fails."""
    number = hex(receipt.block)
    block = client.request("eth_getBlockByNumber", [number, False], doing=f"reading block {receipt.block}")
    header = header_rlp(block)
    if to_0x(keccak256(header)) != block.get("hash") or block.get("hash") != receipt.block_hash:
        raise NoChainProof("its block headers do not re-encode to their block hash (a consensus with seals outside "
                           "the hash, such as QBFT, or a header format bctrace does not know)")
    hashes = [str(h).lower() for h in block.get("transactions", [])]
    if receipt.tx not in hashes:
        raise NoChainProof(f"transaction {receipt.tx} is not in block {receipt.block} as the node lists it")
    txs = HexaryTrie({})
    raw_tx = b""
    for index, tx_hash in enumerate(hashes):
        raw = bytes.fromhex(str(client.request("eth_getRawTransactionByHash", [tx_hash], doing=f"reading transaction {tx_hash}"))[2:])
        if to_0x(keccak256(raw)) != tx_hash:
            raise NoChainProof(f"the node's raw transaction {tx_hash} does not hash to its id")
        txs.set(rlp.encode(index), raw)
        if tx_hash == receipt.tx:
            raw_tx, tx_index = raw, index
    state = client.request("eth_getProof", [receipt.contract, [to_0x(storage_slot(root))], number],
                           doing=f"reading the storage proof of root {to_0x(root)}")
    proof = {
        "format": FORMAT,
        "header": to_0x(header),
        "account_proof": [str(n).lower() for n in state["accountProof"]],
        "storage_proof": [str(n).lower() for n in state["storageProof"][0]["proof"]],
        "tx": to_0x(raw_tx),
        "tx_index": tx_index,
        "tx_proof": [to_0x(rlp.encode(node)) for node in txs.get_proof(rlp.encode(tx_index))],
    }
    try:
        check(receipt.model_copy(update={"chain_proof": proof}), root, [keccak256(header)])
    except ClaimMismatch as err:
        raise NoChainProof(f"the proof made from the node's answers does not check ({err})") from None
    return proof


def check(anchor: AnchorReceipt, root: bytes, trusted: Collection[bytes]) -> None:
    """Check every claim of ``anchor`` from its chain proof and a trusted block hash (module
    docstring); raises :class:`ClaimMismatch` naming the first field that does not follow."""
    proof = anchor.chain_proof or {}
    if proof.get("format") != FORMAT:
        raise ClaimMismatch("chain_proof.format", f"is {str(proof.get('format'))[:40]!r}, not {FORMAT!r}")
    header = _hex(proof, "header", MAX_HEADER_BYTES)
    block_hash = keccak256(header)
    if anchor.block_hash is not None and to_0x(block_hash) != anchor.block_hash:
        raise ClaimMismatch("block_hash", f"chain_proof.header hashes to {to_0x(block_hash)}, the anchor says {anchor.block_hash}")
    if block_hash not in trusted:
        shown = ", ".join(to_0x(h) for h in trusted) or "none"
        raise ClaimMismatch("block_hash", f"the anchor's block (chain_proof.header) hashes to {to_0x(block_hash)}, "
                                          f"which is not the trusted block hash ({shown})")
    fields = _decode(header, "chain_proof.header")
    if not isinstance(fields, list) or len(fields) < 15 or not all(isinstance(f, bytes) for f in fields):
        raise ClaimMismatch("chain_proof.header", "is not a block header")
    number, timestamp = _int(fields[8]), _int(fields[11])
    if number != anchor.block:
        raise ClaimMismatch("block", f"the block header is block {number}, the anchor says {anchor.block}")
    if timestamp != anchor.timestamp:
        raise ClaimMismatch("timestamp", f"the block's own timestamp is {timestamp}, the anchor says {anchor.timestamp}")
    address = _address(anchor.contract)
    account = _proven(fields[3], keccak256(address), proof.get("account_proof"),
                      f"contract {anchor.contract} (or chain_proof.account_proof)")
    if not account:
        raise ClaimMismatch("contract", f"no account at {anchor.contract} in the state of block {number}")
    account_fields = _decode(account, "chain_proof.account_proof")
    if not isinstance(account_fields, list) or len(account_fields) != 4:
        raise ClaimMismatch("chain_proof.account_proof", "does not prove an account")
    _nonce, _balance, storage_root, code_hash = account_fields
    if code_hash not in artifact.registry_code_hashes():
        raise ClaimMismatch("contract", f"the code at {anchor.contract} is not a bctrace TraceRegistry (code hash {_shown(code_hash)})")
    value = _proven(storage_root, keccak256(storage_slot(root)), proof.get("storage_proof"),
                    "merkle.root (or chain_proof.storage_proof)")
    if not value:
        raise ClaimMismatch("merkle.root", f"the registry at {anchor.contract} holds no anchor of root {to_0x(root)} in block {number}")
    slot = _int(_decode(value, "chain_proof.storage_proof"))
    first_block, first_time = (slot >> 48) & _MASK48, slot & _MASK48
    if first_block != anchor.block or first_time != anchor.timestamp:
        raise ClaimMismatch("block" if first_block != anchor.block else "timestamp",
                            f"the registry says the root was first anchored in block {first_block} at {first_time}, "
                            f"the anchor says block {anchor.block} at {anchor.timestamp}")
    claimed_sender = (anchor.model_extra or {}).get("sender")
    if claimed_sender is not None and f"0x{slot >> 96:040x}" != str(claimed_sender).lower():  # one address per trace
        raise ClaimMismatch("sender", f"the registry says root {to_0x(root)} was anchored by 0x{slot >> 96:040x}, the anchor says {claimed_sender}")
    _check_transaction(anchor, proof, root, fields[4], address)


def _check_transaction(anchor: AnchorReceipt, proof: dict[str, Any], root: bytes, tx_root: bytes, address: bytes) -> None:
    raw = _hex(proof, "tx", MAX_NODE_BYTES)
    if to_0x(keccak256(raw)) != anchor.tx:
        raise ClaimMismatch("tx", f"the transaction in chain_proof.tx hashes to {to_0x(keccak256(raw))}, the anchor says {anchor.tx}")
    index = proof.get("tx_index")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 2**32:
        raise ClaimMismatch("chain_proof.tx_index", "is not a transaction index")
    if _proven(tx_root, rlp.encode(index), proof.get("tx_proof"), "chain_proof.tx_index (or chain_proof.tx_proof)") != raw:
        raise ClaimMismatch("tx", f"transaction {index} of block {anchor.block} is not {anchor.tx} (chain_proof.tx_index or tx_proof)")
    to, data, chain_id = _transaction_fields(raw)
    if to != address or data != ANCHOR_SELECTOR + root:
        raise ClaimMismatch("tx", f"transaction {anchor.tx} does not call anchor(root) on {anchor.contract}")
    if chain_id != anchor.chain_id:
        raise ClaimMismatch("chain_id", f"transaction {anchor.tx} is signed for chain id {chain_id}, the anchor says {anchor.chain_id}")


def _transaction_fields(raw: bytes) -> tuple[bytes, bytes, int | None]:
    """``to``, ``data`` and the chain id of a signed transaction (legacy EIP-155, or EIP-2718
    types 1, 2, 3, 4)."""
    kind = raw[0] if raw else 0
    positions = {1: (4, 6), 2: (5, 7), 3: (5, 7), 4: (5, 7)}
    if kind < 0xC0 and kind not in positions:
        raise ClaimMismatch("chain_proof.tx", f"transaction type {kind} is not one bctrace reads")
    try:
        if kind >= 0xC0:  # legacy: [nonce, gasPrice, gas, to, value, data, v, r, s], v = 2 * chain id + 35/36
            items = _decode(raw, "chain_proof.tx")
            v = _int(items[6])
            return items[3], items[5], (v - 35) // 2 if v >= 35 else None
        items = _decode(raw[1:], "chain_proof.tx")
        to_at, data_at = positions[kind]
        return items[to_at], items[data_at], _int(items[0])
    except (IndexError, TypeError, KeyError):
        raise ClaimMismatch("chain_proof.tx", "is not a signed transaction") from None


def _proven(root_hash: bytes, key: bytes, nodes: Any, what: str) -> bytes:
    """The value at ``key`` in the trie with ``root_hash``, from proof nodes (``b""`` when the
    proof shows the key absent); raises naming ``what`` when the proof does not prove either."""
    if not isinstance(nodes, list) or not 0 < len(nodes) <= MAX_NODES:
        raise ClaimMismatch(what.split(" ")[0], f"the proof is not a list of 1 to {MAX_NODES} nodes")
    try:
        decoded = [rlp.decode(_hex_value(n, MAX_NODE_BYTES)) for n in nodes]
        value = HexaryTrie.get_from_proof(root_hash, key, decoded)
    except _PROOF_ERRORS:
        raise ClaimMismatch(what.split(" ")[0], f"the Merkle-Patricia proof does not prove {what}") from None
    return bytes(value)


def _hex(proof: dict[str, Any], name: str, limit: int) -> bytes:
    try:
        return _hex_value(proof.get(name), limit)
    except ValueError:
        raise ClaimMismatch(f"chain_proof.{name}", f"is not lowercase 0x hex of at most {limit} bytes") from None


def _hex_value(value: Any, limit: int) -> bytes:
    if not isinstance(value, str) or len(value) > 2 + 2 * limit or not _LOWER_HEX.fullmatch(value):
        raise ValueError("not lowercase 0x hex")
    return bytes.fromhex(value[2:])


def _decode(data: bytes, field: str) -> Any:
    try:
        return rlp.decode(data)
    except (rlp.exceptions.RLPException, RecursionError):
        raise ClaimMismatch(field, "is not valid RLP") from None


def _int(value: Any) -> int:
    if not isinstance(value, bytes):
        raise ClaimMismatch("chain_proof", "a number in the proof is not a byte string")
    return int.from_bytes(value, "big")


def _address(contract: str | None) -> bytes:
    """The contract's 20 bytes; the anchor must spell it as EIP-55, as bctrace writes it."""
    try:
        raw = bytes.fromhex((contract or "")[2:])
        if len(raw) != 20 or to_checksum_address(raw) != contract:
            raise ValueError
    except ValueError:
        raise ClaimMismatch("contract", f"{str(contract)[:60]!r} is not an EIP-55 address") from None
    return raw


def _shown(value: Any) -> str:
    return to_0x(value) if isinstance(value, bytes) else "not bytes"
