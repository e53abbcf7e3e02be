"""OpenTimestamps proofs as bctrace carries them: every operation, attestation and byte of the
``.ots`` format comes from the ``opentimestamps`` library; this module only walks its trees.

A bundle's OTS proof is the serialized ``Timestamp`` of the batch's Merkle root (the format's
timestamp body, without a file header): the calendars' operations from the root to their
commitments, then either ``PendingAttestation`` (the calendar's URL) or the Bitcoin
transaction and block Merkle path to a ``BitcoinBlockHeaderAttestation`` (the block height).
:func:`record_ots` prefixes it with bctrace's own tree (keccak256 operations, OpenZeppelin's
sorted pairs) to make the standard ``.ots`` file of one record's sha256 digest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bitcoin.core import CTransaction, SerializationError
from opentimestamps.core.notary import BitcoinBlockHeaderAttestation, PendingAttestation
from opentimestamps.core.op import OpAppend, OpKECCAK256, OpPrepend, OpSHA256
from opentimestamps.core.serialize import (
    BytesDeserializationContext,
    BytesSerializationContext,
    DeserializationError,
)
from opentimestamps.core.timestamp import DetachedTimestampFile, Timestamp

MAX_PROOF_BYTES = 64 * 1024
"""Largest OTS proof read from a bundle (real ones are a few hundred bytes)."""


def serialize(stamp: Timestamp) -> bytes:
    ctx = BytesSerializationContext()
    stamp.serialize(ctx)
    return ctx.getbytes()


def deserialize(msg: bytes, data: bytes) -> Timestamp:
    """The timestamp of ``msg`` serialized in ``data``; ``ValueError`` naming what is wrong."""
    if len(data) > MAX_PROOF_BYTES:
        raise ValueError(f"the OTS proof is larger than {MAX_PROOF_BYTES} bytes")
    ctx = BytesDeserializationContext(data)
    try:
        stamp = Timestamp.deserialize(ctx, msg)
        ctx.assert_eof()
    except (DeserializationError, ValueError, TypeError) as err:  # TrailingGarbageError is a DeserializationError
        raise ValueError(f"the OTS proof does not parse: {err}") from None
    return stamp


@dataclass(frozen=True)
class BitcoinCommitment:
    """Where a timestamp reaches Bitcoin: the block height, the block's Merkle root (serialized
    byte order) and the calendar's transaction id on the way (serialized byte order)."""

    height: int
    merkle_root: bytes
    txid: bytes | None


def bitcoin_commitments(stamp: Timestamp) -> list[BitcoinCommitment]:
    """Every Bitcoin block attestation reachable from ``stamp``, lowest block first."""
    found = []
    for path in _paths(stamp, []):
        node = path[-1]
        for attestation in node.attestations:
            if isinstance(attestation, BitcoinBlockHeaderAttestation):
                found.append(BitcoinCommitment(attestation.height, node.msg, _txid_on(path)))
    return sorted(found, key=lambda c: (c.height, c.merkle_root))


def _paths(stamp: Timestamp, before: list[Timestamp]) -> Iterator[list[Timestamp]]:
    path = [*before, stamp]
    if stamp.attestations:
        yield path
    for sub in stamp.ops.values():
        yield from _paths(sub, path)


def _txid_on(path: list[Timestamp]) -> bytes | None:
    """The transaction on the path: the last message that is a whole Bitcoin transaction (the
    step the ``ots`` client labels "Transaction id")."""
    for node in reversed(path):
        try:
            return CTransaction.deserialize(node.msg).GetTxid()
        except (SerializationError, ValueError, IndexError):
            continue
    return None


def pending(stamp: Timestamp) -> Iterator[tuple[Timestamp, PendingAttestation]]:
    """Each ``(commitment, attestation)`` still waiting at a calendar."""
    for path in _paths(stamp, []):
        for attestation in path[-1].attestations:
            if isinstance(attestation, PendingAttestation):
                yield path[-1], attestation


def record_ots(digest: bytes, merkle_proof: list[bytes], root_stamp: Timestamp) -> bytes:
    """The standard ``.ots`` file of a record whose sha256 is ``digest``: our leaf hash (two
    keccak256), each sorted pair of the OpenZeppelin tree (append or prepend the sibling, then
    keccak256), then the OTS proof of the root."""
    stamp = Timestamp(digest)
    node = stamp.ops.add(OpKECCAK256()).ops.add(OpKECCAK256())
    for sibling in merkle_proof:
        joined = node.ops.add(OpAppend(sibling) if node.msg < sibling else OpPrepend(sibling))
        node = joined.ops.add(OpKECCAK256())
    if node.msg != root_stamp.msg:
        raise ValueError("the Merkle proof does not lead from the digest to the anchored root")
    node.merge(root_stamp)
    ctx = BytesSerializationContext()
    DetachedTimestampFile(OpSHA256(), stamp).serialize(ctx)
    return ctx.getbytes()
