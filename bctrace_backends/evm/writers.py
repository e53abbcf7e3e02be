"""The registry's writer allowlist: allow, revoke, list. Works on any EVM-family backend.

The allowlist exists only in a registry deployed restricted (``TraceRegistry(restricted=true)``,
what ``bctrace deploy`` does for ``besu`` / ``quorum``); on an open registry allow/revoke would
change nothing, so they are refused with that reason instead of spending a transaction. Only the
registry's owner (its deployer, unless ownership was transferred) can change writers; anyone
else gets :class:`~bctrace.errors.NotPermitted` from the contract's ``NotOwner`` error.
The list is rebuilt from ``WriterAllowed`` / ``WriterRevoked`` events and checked against the
``allowed`` mapping, so it is exactly what the contract enforces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import is_address, to_checksum_address

from bctrace.api import to_0x
from bctrace.errors import UsageError

from . import artifact
from .backend import EvmBackend


@dataclass(frozen=True)
class WriterChange:
    chain: str
    writer: str
    allowed: bool
    tx: str | None
    """``None`` when nothing had to change (already allowed / already revoked)."""
    block: int | None


def checked_address(value: str) -> str:
    if not is_address(value):
        raise UsageError(f"{value!r} is not an address (0x followed by 40 hex digits)")
    return to_checksum_address(value)


def _restricted_registry(backend: EvmBackend, doing: str) -> Any:
    registry = backend.registry()
    with backend.client.errors("reading the registry's restricted flag"):
        restricted = registry.functions.restricted().call()
    if not restricted:
        raise UsageError(
            f"chain {backend.chain!r}: the registry at {registry.address} is open (deployed without the writer allowlist), "
            f"so {doing} would change nothing; deploy a restricted one with `bctrace deploy --chain {backend.chain} --restricted`"
        )
    return registry


def set_writer(backend: EvmBackend, address: str, allowed: bool) -> WriterChange:
    """Allow or revoke ``address`` as a writer (one transaction from the configured signer)."""
    writer = checked_address(address)
    verb = "allow" if allowed else "revoke"
    registry = _restricted_registry(backend, f"`{verb}`")
    with backend.client.errors(f"reading whether {writer} is allowed"):
        current = bool(registry.functions.allowed(writer).call())
    if current == allowed:
        return WriterChange(backend.chain, writer, allowed, None, None)
    data = bytes.fromhex(registry.encode_abi(verb, args=[writer])[2:])
    receipt = backend.client.transact(data, to=registry.address, what=f"{verb} of writer {writer}")
    return WriterChange(backend.chain, writer, allowed, to_0x(receipt["transactionHash"]), int(receipt["blockNumber"]))


def list_writers(backend: EvmBackend) -> dict[str, Any]:
    """Owner and current writers of a restricted registry (from its events, checked on chain)."""
    registry = _restricted_registry(backend, "listing writers")
    topics = [to_0x(artifact.event_topic("WriterAllowed")), to_0x(artifact.event_topic("WriterRevoked"))]
    with backend.client.errors("reading the registry's writer events"):
        owner = registry.functions.owner().call()
        logs = backend.client.w3.eth.get_logs({"address": registry.address, "fromBlock": 0, "toBlock": "latest", "topics": [topics]})
        seen = list(dict.fromkeys(to_checksum_address(bytes(log["topics"][1])[-20:]) for log in logs))
        writers = [w for w in seen if registry.functions.allowed(w).call()]
    return {"chain": backend.chain, "contract": registry.address, "owner": owner, "writers": writers}
