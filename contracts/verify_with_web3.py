"""Verify a bctrace proof bundle with nothing but web3.py, rfc8785 and the TraceRegistry ABI.

Why it exists: a proof should not depend on trusting bctrace's own code. This script re-does
every check independently: the record's digest (sha256 of its RFC 8785 canonical JSON), the
Merkle proof (OpenZeppelin StandardMerkleTree, leaf type bytes32), the anchor's block, time and
transaction on the chain, and the registry's own on-chain ``verifyRecord`` view.

Usage::

    python verify_with_web3.py BUNDLE.bctrace.json --rpc URL [--abi TraceRegistry.json]

Checks the bundle's anchor(s) whose chain id is the RPC node's. Prints a JSON report; exit 0 when
every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import rfc8785
from web3 import Web3

DEFAULT_ABI = Path(__file__).resolve().parent.parent / "bctrace_backends" / "evm" / "artifacts" / "TraceRegistry.json"


def merkle_root(digest: bytes, proof: list[bytes]) -> bytes:
    node = Web3.keccak(Web3.keccak(digest))  # leaf = keccak256(keccak256(abi.encode(bytes32)))
    for sibling in proof:
        node = Web3.keccak(b"".join(sorted((bytes(node), sibling))))
    return bytes(node)


def verify(bundle: dict, w3: Web3, abi: list) -> dict:
    checks: dict = {}
    digest = hashlib.sha256(rfc8785.dumps(bundle["record"])).digest()
    checks["digest"] = "0x" + digest.hex() == bundle["digest"]
    proof = [bytes.fromhex(p[2:]) for p in bundle["merkle"]["proof"]]
    root = bytes.fromhex(bundle["merkle"]["root"][2:])
    checks["proof"] = merkle_root(digest, proof) == root
    chain_id = w3.eth.chain_id
    anchors = [a for a in bundle["anchors"] if a["chain_id"] == chain_id and a.get("contract")]
    checks["anchors"] = []
    for anchor in anchors:
        registry = w3.eth.contract(address=Web3.to_checksum_address(anchor["contract"]), abi=abi)
        timestamp, block, sender = registry.functions.anchors(root).call()
        logs = registry.events.Anchored().get_logs(from_block=block, to_block=block, argument_filters={"root": root}) if timestamp else []
        tx = "0x" + bytes(logs[0]["transactionHash"]).hex() if logs else None
        checks["anchors"].append({
            "chain": anchor["chain"],
            "contract": anchor["contract"],
            "anchored": timestamp != 0,
            "block_matches": block == anchor["block"],
            "timestamp_matches": timestamp == anchor["timestamp"],
            "tx_matches": tx is not None and tx.lower() == anchor["tx"].lower(),
            "on_chain_verifyRecord": registry.functions.verifyRecord(digest, proof, root).call(),
            "sender": sender,
        })
    a_ok = bool(checks["anchors"]) and all(
        all(v for k, v in a.items() if k not in ("chain", "contract", "sender")) for a in checks["anchors"]
    )
    return {"chain_id": chain_id, "verified": checks["digest"] and checks["proof"] and a_ok, **checks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a bctrace bundle with web3.py only.")
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--rpc", required=True, help="JSON-RPC URL of the chain to check")
    parser.add_argument("--abi", type=Path, default=DEFAULT_ABI, help="TraceRegistry artifact or ABI JSON")
    args = parser.parse_args(argv)
    abi = json.loads(args.abi.read_text())
    abi = abi["abi"] if isinstance(abi, dict) else abi
    report = verify(json.loads(args.bundle.read_text()), Web3(Web3.HTTPProvider(args.rpc)), abi)
    print(json.dumps(report, indent=2))
    return 0 if report["verified"] else 1


if __name__ == "__main__":
    sys.exit(main())
