"""``.ots`` export: the standard OpenTimestamps file of one record, which the official ``ots``
client reads (``ots info``, ``ots upgrade``, ``ots verify``). The file's "file hash" is the
record's digest (sha256 of its RFC 8785 canonical JSON), so ``ots verify -d DIGEST`` or
``ots verify -f`` on the canonical record bytes checks it on a machine with Bitcoin Core."""

from __future__ import annotations

from bctrace.api import AnchorReceipt, ProofBundle, UsageError, check_offline

from . import proof
from .backend import OpenTimestampsBackend


def ots_anchor(bundle: ProofBundle, source: str = "bundle") -> AnchorReceipt:
    """The bundle's OpenTimestamps anchor (a confirmed one first)."""
    anchors = sorted((a for a in bundle.anchors if a.backend == OpenTimestampsBackend.name), key=lambda a: a.status == "pending")
    if not anchors:
        raise UsageError(f"{source} has no {OpenTimestampsBackend.name} anchor to export as .ots")
    return anchors[0]


def export_ots(bundle: ProofBundle, source: str = "bundle") -> bytes:
    """The ``.ots`` file of the bundle's record: from its sha256 digest through bctrace's Merkle
    tree (keccak256 steps) to the root, then the calendars' proof to Bitcoin (or to the
    calendars' pending attestations, which ``ots upgrade`` completes)."""
    root = check_offline(bundle, source)
    stamp = OpenTimestampsBackend.stamp_of(root, ots_anchor(bundle, source))
    return proof.record_ots(bundle.digest_bytes(), bundle.merkle.proof_bytes(), stamp)
