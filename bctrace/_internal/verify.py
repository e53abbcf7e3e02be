"""Verification of proof bundles: the record's digest and Merkle proof offline, then the anchor
on each chain, combined under a policy (``all``, ``any``, or at least ``k`` chains).

Offline failures (a record that does not hash to its digest, a proof that does not lead to the
root) raise at once: no chain can make such a bundle valid. Chain checks never raise on their
own; each becomes a :class:`ChainCheck` with a status and a reason, and the policy decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import (
    ChainError,
    DigestMismatch,
    PolicyNotMet,
    PolicyUnreachable,
    ProofInvalid,
    TraceBroken,
    UsageError,
    VerificationError,
)
from .authorship import check_signature
from .backend import ChainBackend
from .bundle import AnchorReceipt, ProofBundle
from .hexutil import to_0x
from .merkle import root_from_proof
from .record import digest_of_json

Policy = Literal["all", "any"] | int
Status = Literal["verified", "missing", "mismatch", "tampered", "unreachable", "not-configured"]
_CANNOT_CHECK = ("unreachable", "not-configured")


@dataclass
class ChainCheck:
    """The outcome of checking one chain."""

    chain: str
    chain_id: int | None
    status: Status
    reason: str | None = None
    receipt: AnchorReceipt | None = None
    confirmations: int | None = None
    url: str | None = None
    """Explorer link of the anchor transaction, where the chain has an explorer."""

    @property
    def ok(self) -> bool:
        return self.status == "verified"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"chain": self.chain, "chain_id": self.chain_id, "status": self.status}
        if self.reason:
            out["reason"] = self.reason
        if self.receipt:
            out.update(block=self.receipt.block, timestamp=self.receipt.timestamp, tx=self.receipt.tx)
        if self.confirmations is not None:
            out["confirmations"] = self.confirmations
        if self.url:
            out["url"] = self.url
        return out


@dataclass
class VerificationReport:
    """What was checked for one bundle, and whether the policy was met."""

    source: str
    digest: str
    root: str
    policy: Policy
    chains: list[ChainCheck] = field(default_factory=list)
    subject_checked: list[str] = field(default_factory=list)
    signed_by: str | None = None
    """The author's address, when the record is signed and the signature checks."""
    bundle: ProofBundle | None = field(default=None, repr=False)
    """The bundle that was verified (for checks across bundles, such as trace continuity)."""

    @property
    def verified_count(self) -> int:
        return sum(c.ok for c in self.chains)

    @property
    def required(self) -> int:
        if self.policy == "all":
            return max(1, len(self.chains))
        if self.policy == "any":
            return 1
        return int(self.policy)

    @property
    def ok(self) -> bool:
        return bool(self.chains) and self.verified_count >= self.required

    def failure(self) -> PolicyNotMet:
        failed = [c for c in self.chains if not c.ok]
        if not self.chains:
            detail = "the bundle has no anchors and no chain was named to check"
        else:
            detail = "; ".join(f"{c.chain}: {c.status}" + (f" ({c.reason})" if c.reason else "") for c in failed)
        unreachable_only = bool(failed) and all(c.status in _CANNOT_CHECK for c in failed)
        cls = PolicyUnreachable if unreachable_only else PolicyNotMet
        err = cls(f"{self.source}: {self.verified_count} of {len(self.chains)} chains verified, policy {self.policy!r} needs {self.required}: {detail}")
        err.report = self
        return err

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "digest": self.digest,
            "root": self.root,
            "policy": self.policy,
            "verified": self.ok,
            "signed_by": self.signed_by,
            "subjects": self.subject_checked,
            "chains": [c.to_dict() for c in self.chains],
        }


def parse_policy(value: str | int) -> Policy:
    """``all``, ``any`` or a positive integer k (k-of-n)."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        k = int(value)
        if k < 1:
            raise UsageError(f"policy {value!r}: k must be at least 1")
        return k
    if value in ("all", "any"):
        return value  # type: ignore[return-value]
    raise UsageError(f"policy {value!r} is not 'all', 'any' or a number of chains")


def check_offline(bundle: ProofBundle, source: str) -> bytes:
    """Check digest and Merkle proof; return the root. Raises on any mismatch."""
    digest = digest_of_json(bundle.record)
    if digest != bundle.digest_bytes():
        raise DigestMismatch(f"{source}: the record does not hash to the bundle's digest (record edited)")
    root = bundle.merkle.root_bytes()
    if root_from_proof(digest, bundle.merkle.proof_bytes()) != root:
        raise ProofInvalid(f"{source}: the Merkle proof does not lead from the digest to the root (proof or root edited)")
    return root


def check_chain(backend: ChainBackend, root: bytes, claimed: AnchorReceipt | None) -> ChainCheck:
    """Ask one chain about ``root`` and compare with the receipt the bundle claims."""
    expected_id = claimed.chain_id if claimed else None
    try:
        live_id = backend.chain_id
        if expected_id is not None and live_id != expected_id:
            return ChainCheck(backend.chain, expected_id, "mismatch", f"chain id is {live_id}, bundle says {expected_id}")
        found = backend.lookup_claimed(root, claimed)
        if found is None:
            return ChainCheck(backend.chain, live_id, "missing", "root not anchored on this chain")
        if claimed is not None and (found.block != claimed.block or found.tx.lower() != claimed.tx.lower()):
            return ChainCheck(
                backend.chain, live_id, "mismatch",
                f"chain has the root in block {found.block} tx {found.tx}, bundle says block {claimed.block} tx {claimed.tx}",
                receipt=found,
            )
        return ChainCheck(backend.chain, live_id, "verified", receipt=found, confirmations=backend.confirmations(found),
                          url=backend.tx_url(found))
    except ChainError as err:
        return ChainCheck(backend.chain, expected_id, "unreachable", _strip_chain(str(err), backend.chain))
    except VerificationError as err:
        return ChainCheck(backend.chain, expected_id, "tampered", str(err))


def _strip_chain(message: str, chain: str) -> str:
    prefix = f"chain {chain!r}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def verify_bundle(
    bundle: ProofBundle,
    backends: Mapping[str, ChainBackend],
    *,
    chains: Iterable[str] | None = None,
    policy: Policy = "all",
    source: str = "bundle",
) -> VerificationReport:
    """Verify one bundle against the configured chains and return the report (never raises on a
    policy miss: see :meth:`VerificationReport.failure`).

    :param chains: names of configured chains to check; by default every anchor in the bundle is
        checked on the configured chain with the same name or, failing that, the same chain id.
    """
    root = check_offline(bundle, source)
    report = VerificationReport(source=source, digest=bundle.digest, root=to_0x(root), policy=policy, bundle=bundle,
                                signed_by=check_signature(bundle.record, source))
    if chains is not None:
        for name in chains:
            if name not in backends:
                raise UsageError(f"chain {name!r} is not configured (configured: {', '.join(backends) or 'none'})")
            named = backends[name]
            report.chains.append(check_chain(named, root, _claim_for(bundle.anchors, named)))
        return report
    for anchor in bundle.anchors:
        backend = _backend_for(anchor, backends)
        if backend is None:
            report.chains.append(
                ChainCheck(anchor.chain, anchor.chain_id, "not-configured",
                           f"no configured chain named {anchor.chain!r} or with chain id {anchor.chain_id}")
            )
            continue
        report.chains.append(check_chain(backend, root, anchor))
    return report


def _backend_for(anchor: AnchorReceipt, backends: Mapping[str, ChainBackend]) -> ChainBackend | None:
    """The configured chain to check a receipt on: same name, else same chain id.

    Chain ids promised by configs are compared first, so that matching does not connect to
    every node; only backends whose config has no chain id are asked live.
    """
    if anchor.chain in backends:
        return backends[anchor.chain]
    unknown = []
    for backend in backends.values():
        configured = backend.configured_chain_id
        if configured == anchor.chain_id:
            return backend
        if configured is None:
            unknown.append(backend)
    for backend in unknown:
        try:
            if backend.chain_id == anchor.chain_id:
                return backend
        except (ChainError, VerificationError):
            continue
    return None


def _claim_for(anchors: list[AnchorReceipt], backend: ChainBackend) -> AnchorReceipt | None:
    """The bundle's receipt for a chain named by the verifier: same name, else same chain id."""
    for anchor in anchors:
        if anchor.chain == backend.chain:
            return anchor
    configured = backend.configured_chain_id
    for anchor in anchors:
        if configured is not None and anchor.chain_id == configured:
            return anchor
    return None


def verify_trace(bundles: list[ProofBundle], *, from_start: bool = True) -> None:
    """Check that bundles of one trace form an unbroken hash chain.

    :param from_start: the steps must begin at step 0 (a whole trace); otherwise they must only
        be consecutive and linked among themselves (a part of a trace).

    Raises :class:`TraceBroken` naming the first step that is missing, repeated or mislinked.
    """
    by_trace: dict[str, list[ProofBundle]] = {}
    for b in bundles:
        by_trace.setdefault(str(b.record.get("trace")), []).append(b)
    for trace, steps in by_trace.items():
        steps.sort(key=lambda b: b.record.get("seq", 0))
        first = 0 if from_start else steps[0].record.get("seq", 0)
        prev: str | None = None if first == 0 else steps[0].record.get("prev")
        for expected_seq, step in enumerate(steps, start=first):
            seq = step.record.get("seq", 0)
            if seq != expected_seq:
                raise TraceBroken(f"trace {trace}: step {expected_seq} is missing (next step found is {seq})")
            if step.record.get("prev") != prev:
                raise TraceBroken(f"trace {trace}: step {seq} does not link to step {seq - 1} (prev digest differs)")
            prev = step.digest
