"""``bctrace export --format ots``: the standard OpenTimestamps file of each record, which the
official ``ots`` client reads (``ots info``, ``ots upgrade``, ``ots verify``). The file's "file
hash" is the record's digest (sha256 of its RFC 8785 canonical JSON); the export writes those
canonical bytes beside it (``NAME.record.json`` and ``NAME.record.json.ots``), so that ``ots
verify NAME.record.json.ots`` checks it on a machine with Bitcoin Core as it would any file."""

from __future__ import annotations

from pathlib import PurePath

from bctrace.api import AnchorReceipt, ExportedFile, ExportRequest, ProofBundle, UsageError, canonical_bytes, check_offline

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


def export_request(request: ExportRequest) -> list[ExportedFile]:
    """The exporter registered as ``ots``: per bundle, the canonical record and its ``.ots``."""
    files = []
    for i, bundle in enumerate(request.bundles):
        source = request.sources[i] if i < len(request.sources) else "bundle"
        name = PurePath(source).name.removesuffix(".bctrace.json") or bundle.digest
        files.append(ExportedFile(f"{name}.record.json", canonical_bytes(bundle.record), binary=True))
        files.append(ExportedFile(f"{name}.record.json.ots", export_ots(bundle, source), binary=True))
    return files
