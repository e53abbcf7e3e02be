"""Verification of proof bundles: the record's digest and Merkle proof offline, then every claim
of each anchor, combined under a policy (``all``, ``any``, or at least ``k`` distinct chains).

Offline failures (a record that does not hash to its digest, a proof that does not lead to the
root) raise at once: no chain can make such a bundle valid. Each anchor is then checked by its
**witnesses**: nodes (a configured chain, an ``--rpc`` endpoint), a copy of a local ledger, or a
trusted block hash (``--trust-block``) together with the anchor's own ``chain_proof``. A witness
confirms an anchor only when every field the anchor claims (chain id, contract or ledger identity,
tx, block, block hash, timestamp, the root at that place) is what it finds. Witness checks never
raise; each becomes a :class:`Witness` with a status and a reason.

Anchors are grouped into **distinct chains** by chain id and contract (or ledger identity): an
anchor copied under other chain names is still one chain, and policies count distinct chains.
A **pending** anchor (``"status": "pending"``: the chain has not confirmed it yet, e.g. an
OpenTimestamps anchor before a calendar's Bitcoin attestation) is not asked about: its chain is
shown with status ``pending`` and never counts toward a policy.
Under ``all`` and ``k`` every witness of a chain must confirm it, so one lying node cannot fake
an anchor (a disagreement is reported as ``disputed``); under ``any`` one witness is enough.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import (
    BctraceError,
    BundleError,
    ChainError,
    ChainMisconfigured,
    ChainProofUnsupported,
    ClaimMismatch,
    DigestMismatch,
    PolicyNotMet,
    PolicyUnreachable,
    ProofInvalid,
    TraceBroken,
    UsageError,
    VerificationError,
)
from .backend import ChainBackend
from .bundle import AnchorReceipt, ProofBundle, field_error
from .disclosure import Resolved, has_private, resolve
from .hexutil import from_0x, to_0x
from .merkle import root_from_proof
from .record import RecordView, digest_of_json
from .signatures import check_signature

Policy = Literal["all", "any"] | int
Status = Literal["verified", "pending", "missing", "mismatch", "tampered", "disputed", "unreachable", "not-configured"]
_CANNOT_CHECK = ("unreachable", "not-configured")
TrustedBlocks = Mapping[int, Collection[bytes]]
"""Chain id -> block hashes (EVM) or ledger head hashes (local) the verifier trusts."""
CLAIMED_FIELDS = ("chain_id", "contract", "tx", "block", "timestamp", "block_hash")
"""The anchor fields a witness compares with what it finds (``chain_proof`` is checked whole)."""
_MERKLE_PARENTS = ("merkle parents",)
_MAX_MERKLE_PARENTS = 1 << 18
"""About 50 MiB of 64-byte preimages and their parents (a batch of 262,144 records); the memo
starts over beyond it."""


@dataclass
class Witness:
    """One source's answer about one anchor."""

    source: str
    """``chain NAME`` (config or ``--rpc``), or ``trusted block 0x…`` / ``trusted head 0x…``."""
    status: Status
    reason: str | None = None
    receipt: AnchorReceipt | None = None
    """What the source vouches for (for a trusted block: the claim, every field proven)."""
    confirmations: int | None = None
    url: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "verified"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "status": self.status}
        if self.reason:
            out["reason"] = self.reason
        if self.confirmations is not None:
            out["confirmations"] = self.confirmations
        return out


@dataclass
class ChainCheck:
    """The verdict on one distinct chain, from all its witnesses."""

    chain: str
    chain_id: int | None
    status: Status
    reason: str | None = None
    receipt: AnchorReceipt | None = None
    """The anchor as checked (every field confirmed), when verified."""
    confirmations: int | None = None
    url: str | None = None
    """Explorer link of the anchor transaction, where the chain has an explorer."""
    witnesses: list[Witness] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    """The bundle's names for this chain (more than one when an anchor is repeated)."""

    @property
    def ok(self) -> bool:
        return self.status == "verified"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"chain": self.chain, "chain_id": self.chain_id, "status": self.status}
        if self.reason:
            out["reason"] = self.reason
        if self.receipt:
            out.update(block=self.receipt.block, timestamp=self.receipt.timestamp, tx=self.receipt.tx,
                       contract=self.receipt.contract)
            if self.receipt.block_hash:
                out["block_hash"] = self.receipt.block_hash
        if self.confirmations is not None:
            out["confirmations"] = self.confirmations
        if self.url:
            out["url"] = self.url
        if len(self.labels) > 1:
            out["entries"] = self.labels
        out["witnesses"] = [w.to_dict() for w in self.witnesses]
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
    fields: Resolved | None = None
    """For a record with private fields: what the bundle reveals (each value checked against
    its digest) and where values stay hidden."""

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
        elif failed:
            detail = "; ".join(f"{c.chain}: {c.status}" + (f" ({c.reason})" if c.reason else "") for c in failed)
        else:
            names = ", ".join(c.chain for c in self.chains)
            detail = (f"only {len(self.chains)} distinct chain{'s' if len(self.chains) > 1 else ''} "
                      f"({names}) {'were' if len(self.chains) > 1 else 'was'} checked")
        repeated = [c for c in self.chains if len(c.labels) > 1]
        if repeated:
            detail += "; " + "; ".join(
                f"entries {', '.join(repr(n) for n in c.labels)} are one chain (chain id {c.chain_id})" for c in repeated)
        unreachable_only = bool(failed) and all(c.status in _CANNOT_CHECK for c in failed)
        cls = PolicyUnreachable if unreachable_only else PolicyNotMet
        err = cls(f"{self.source}: {self.verified_count} of {len(self.chains)} distinct chains verified, "
                  f"policy {self.policy!r} needs {self.required}: {detail}")
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
            **({"fields": self.fields.to_dict()} if self.fields is not None else {}),
        }


def parse_policy(value: str | int) -> Policy:
    """``all``, ``any`` or a positive integer k (k-of-n distinct chains)."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        k = int(value)
        if k < 1:
            raise UsageError(f"policy {value!r}: k must be at least 1")
        return k
    if value in ("all", "any"):
        return value  # type: ignore[return-value]
    raise UsageError(f"policy {value!r} is not 'all', 'any' or a number of chains")


def parse_trusted_block(spec: str, backend_of: Callable[[str], type[ChainBackend] | None] | None = None) -> tuple[int, bytes]:
    """``CHAIN_ID=0xHASH`` (``--trust-block``): a block hash, or a local ledger's head hash; or
    ``NAME=VALUE`` where ``backend_of(NAME)`` finds the backend that parses VALUE (e.g.
    ``bitcoin=HEIGHT:0xMERKLEROOT``)."""
    chain_id, sep, value = spec.partition("=")
    if sep and not chain_id.strip().isdigit() and backend_of is not None:
        cls = backend_of(chain_id.strip())
        if cls is not None:
            try:
                return cls.parse_trusted(value.strip())
            except UsageError as err:
                raise UsageError(f"--trust-block {spec!r}: {err}") from None
    try:
        if not sep or not chain_id.strip().isdigit():
            raise ValueError("no chain id")
        return int(chain_id), from_0x(value.strip().lower(), what="block hash")
    except ValueError:
        raise UsageError(f"--trust-block {spec!r} must be CHAIN_ID=0x followed by a 32-byte hash in hex "
                         "(or NAME=VALUE for a chain whose backend reads its own form, e.g. bitcoin=HEIGHT:0xMERKLEROOT)") from None


def check_offline(bundle: ProofBundle, source: str, memo: dict[bytes, bytes] | None = None) -> bytes:
    """Check digest and Merkle proof; return the root. Raises on any mismatch.

    :param memo: Merkle parents kept across the bundles of one verifier
        (:func:`~bctrace._internal.merkle.root_from_proof`)."""
    try:
        digest = digest_of_json(bundle.record)
    except ValueError as err:
        raise BundleError(f"{source}: the record is not canonical JSON: {err}") from None
    if digest != bundle.digest_bytes():
        raise DigestMismatch(f"{source}: the record does not hash to the bundle's digest (record edited)")
    root = bundle.merkle.root_bytes()
    if root_from_proof(digest, bundle.merkle.proof_bytes(), memo) != root:
        raise ProofInvalid(f"{source}: the Merkle proof does not lead from the digest to the root (proof or root edited)")
    return root


def record_view(bundle: ProofBundle, source: str) -> RecordView:
    """The record's fields with their types checked (a record of the wrong shape: exit 2)."""
    from pydantic import ValidationError

    try:
        return RecordView.model_validate(bundle.record)
    except ValidationError as err:
        raise BundleError(f"{source}: the record is not a bctrace record: {field_error(err)}".replace("field '", "field 'record.", 1)) from None


def check_disclosures(bundle: ProofBundle, view: RecordView, source: str) -> Resolved | None:
    """Check each disclosure the bundle carries against a digest of the record (a changed value
    raises :class:`~bctrace.errors.DisclosureMismatch`, exit 1); ``None`` for a record with no
    private fields and a bundle with no disclosures."""
    if not has_private(view.body) and bundle.disclosures is None:
        return None
    return resolve(view.body, bundle.disclosures or [], source)


Checker = Callable[[str], type[ChainBackend]]
"""Backend name (an anchor's ``backend``) -> its class, to check a chain proof with no node."""


def verify_bundle(
    bundle: ProofBundle,
    backends: Mapping[str, ChainBackend],
    *,
    chains: Iterable[str] | None = None,
    policy: Policy = "all",
    source: str = "bundle",
    trusted: TrustedBlocks | None = None,
    checker: Checker | None = None,
    cache: dict[Any, Any] | None = None,
    asked_chain_ids: Collection[int] = (),
) -> VerificationReport:
    """Verify one bundle and return the report (never raises on a policy miss: see
    :meth:`VerificationReport.failure`).

    :param chains: names of configured chains to check; by default every anchor in the bundle is
        checked on each configured chain with the same name or the same chain id.
    :param trusted: trusted block hashes per chain id: the anchors on those chains are checked
        from their ``chain_proof`` alone (no network). Naming chains or trusted blocks limits the
        check to them.
    :param checker: finds the backend class of an anchor (needed for ``trusted``).
    :param cache: witness answers kept across bundles (one lookup per root and source), and the
        Merkle parents already hashed (each parent of a batch hashed once).
    :param asked_chain_ids: chain ids the verifier asked about (``--rpc``): one the bundle has
        no anchor on is a failed check, not an omission.
    """
    cache = {} if cache is None else cache
    memo = cache.setdefault(_MERKLE_PARENTS, {})
    if len(memo) > _MAX_MERKLE_PARENTS:
        memo.clear()
    root = check_offline(bundle, source, memo)
    fields = check_disclosures(bundle, record_view(bundle, source), source)
    report = VerificationReport(source=source, digest=bundle.digest, root=to_0x(root), policy=policy, bundle=bundle,
                                signed_by=check_signature(bundle.record, source), fields=fields)
    groups = _plan(bundle, backends, chains, trusted or {}, set(asked_chain_ids) | set(trusted or {}))
    for group in groups.values():
        results = []
        claims: list[AnchorReceipt | None] = list(group.claims) or [None]
        for claim in claims:
            if claim is not None and claim.status == "pending":
                results.append(pending_witness(claim))
                continue
            key = _claim_key(claim)
            for backend in group.backends:
                if (id(backend), root, key) not in cache:
                    cache[(id(backend), root, key)] = check_witness(backend, root, claim)
                results.append(cache[(id(backend), root, key)])
            if claim is not None and trusted and claim.chain_id in trusted:
                hashes = frozenset(trusted[claim.chain_id])
                if ("trusted", hashes, root, key) not in cache:
                    cache[("trusted", hashes, root, key)] = check_trusted(claim, root, hashes, checker)
                results.append(cache[("trusted", hashes, root, key)])
        report.chains.append(_verdict(group, results, policy))
    return report


@dataclass
class _Group:
    """The anchors of one distinct chain in a bundle and the witnesses to ask about them."""

    name: str
    chain_id: int | None
    claims: list[AnchorReceipt] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    backends: list[ChainBackend] = field(default_factory=list)
    absent: str | None = None
    """Set when the verifier asked about a chain the bundle has no anchor on."""

    def add_claim(self, claim: AnchorReceipt) -> None:
        if claim.chain not in self.labels:
            self.labels.append(claim.chain)
        if not any(_same_claim(claim, c) for c in self.claims):
            self.claims.append(claim)


def _identity(anchor: AnchorReceipt) -> tuple[int, str]:
    """What makes two anchors the same chain: its id and the registry (or ledger) it is in."""
    return anchor.chain_id, (anchor.contract or "").lower()


def _same_claim(a: AnchorReceipt, b: AnchorReceipt) -> bool:
    return a.model_dump(exclude={"chain"}) == b.model_dump(exclude={"chain"})


def _claim_key(claim: AnchorReceipt | None) -> str | None:
    return None if claim is None else claim.model_dump_json(exclude={"chain"})


def _plan(bundle: ProofBundle, backends: Mapping[str, ChainBackend], chains: Iterable[str] | None,
          trusted: TrustedBlocks, asked: Collection[int]) -> dict[Any, _Group]:
    groups: dict[Any, _Group] = {}

    def group_of(anchor: AnchorReceipt) -> _Group:
        key = _identity(anchor)
        if key not in groups:
            groups[key] = _Group(anchor.chain, anchor.chain_id)
        groups[key].add_claim(anchor)
        return groups[key]

    if chains is None and not trusted and not asked:
        for anchor in bundle.anchors:
            group = group_of(anchor)
            for backend in _backends_for(anchor, backends):
                if backend not in group.backends:
                    group.backends.append(backend)
        return groups
    for name in chains or ():
        if name not in backends:
            raise UsageError(f"chain {name!r} is not configured (configured: {', '.join(backends) or 'none'})")
        backend = backends[name]
        claim = _claim_for(bundle.anchors, backend)
        if claim is None:
            group = groups.setdefault(("chain", name), _Group(name, backend.configured_chain_id))
        else:
            group = group_of(claim)
        group.backends.append(backend)
    for anchor in bundle.anchors:
        if anchor.chain_id in trusted:
            group_of(anchor)
    have = ", ".join(sorted({str(a.chain_id) for a in bundle.anchors})) or "none"
    for chain_id in sorted(asked):
        if not any(a.chain_id == chain_id for a in bundle.anchors):
            groups[("absent", chain_id)] = _Group(f"chain id {chain_id}", chain_id,
                                                  absent=f"chain_id: the bundle has no anchor on chain id {chain_id} (its anchors: chain ids {have})")
    return groups


def check_witness(backend: ChainBackend, root: bytes, claim: AnchorReceipt | None) -> Witness:
    """Ask one node (or ledger copy) about ``root`` and compare every claimed field."""
    source = f"chain {backend.chain}"
    try:
        if claim is not None:
            served = backend.served_chain_id()
            if served != claim.chain_id:
                return Witness(source, "mismatch", f"chain_id: the chain is {served}, the bundle says {claim.chain_id}")
        found = backend.find_claimed(root, claim)
        if found is None:
            where = f" in {claim.contract}" if claim is not None and claim.contract else ""
            return Witness(source, "missing", f"root not anchored{where} on this chain")
        if claim is not None:
            differences = compare_claim(claim, found)
            if claim.chain_proof is not None and not differences:
                trusted = _trusted_hash(found)
                type(backend).check_chain_proof(claim, root, [trusted] if trusted else [])
            if differences:
                return Witness(source, "mismatch", "; ".join(differences), receipt=found)
        return Witness(source, "verified", receipt=found, confirmations=backend.confirmations(found), url=backend.tx_url(found))
    except ChainProofUnsupported as err:
        return Witness(source, "not-configured", f"chain_proof: {err}")
    except ClaimMismatch as err:
        return Witness(source, "mismatch", str(err))
    except ChainMisconfigured as err:
        if claim is None:
            raise
        return Witness(source, "mismatch", _strip_chain(str(err), backend.chain))
    except ChainError as err:
        return Witness(source, "unreachable", _strip_chain(str(err), backend.chain))
    except VerificationError as err:
        return Witness(source, "tampered", str(err))


def pending_witness(claim: AnchorReceipt) -> Witness:
    """A pending anchor is a claim nobody can confirm yet: no node is asked about it."""
    from datetime import datetime, timezone

    since = datetime.fromtimestamp(claim.timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return Witness("bundle", "pending", f"anchor pending since {since}: the chain has not confirmed it yet "
                   "(`bctrace upgrade BUNDLE` fetches the confirmation once the chain has it)")


def _trusted_hash(found: AnchorReceipt) -> bytes | None:
    """The hash a node vouches for that the anchor's chain proof must reach."""
    return from_0x(found.block_hash) if found.block_hash else None


def compare_claim(claim: AnchorReceipt, found: AnchorReceipt) -> list[str]:
    """Each claimed field that differs from what the chain says, as ``field: chain says X,
    bundle says Y``. ``block_hash`` is compared where the bundle states one."""
    out = []
    for name in CLAIMED_FIELDS:
        said, seen = getattr(claim, name), getattr(found, name)
        if name == "block_hash" and said is None:
            continue
        if said != seen:
            out.append(f"{name}: the chain says {seen}, the bundle says {said}")
    return out


def check_trusted(claim: AnchorReceipt, root: bytes, hashes: Collection[bytes], checker: Checker | None) -> Witness:
    """Check an anchor from its chain proof and trusted hashes alone: no network."""
    source = "trusted " + ("head " if claim.backend == "local" else "block ") + ", ".join(to_0x(h)[:12] + "…" for h in sorted(hashes))
    if claim.chain_proof is None:
        return Witness(source, "not-configured",
                       "the anchor carries no chain_proof, so a trusted block hash cannot check it (name a node with --rpc or a config)")
    if checker is None:
        return Witness(source, "not-configured", "no backend classes to check the chain proof with")
    try:
        checker(claim.backend).check_chain_proof(claim, root, hashes)
    except ClaimMismatch as err:
        return Witness(source, "mismatch", str(err))
    except BctraceError as err:  # unknown backend, missing extra, no chain proofs for it
        return Witness(source, "not-configured", f"chain_proof: {err}")
    return Witness(source, "verified", receipt=claim)


def _verdict(group: _Group, results: list[Witness], policy: Policy) -> ChainCheck:
    check = ChainCheck(group.name, group.chain_id, "not-configured", witnesses=results, labels=group.labels)
    if group.absent:
        check.status, check.reason = "missing", group.absent
        return check
    if not results:
        claim = group.claims[0]
        check.reason = f"no configured chain named {claim.chain!r} or with chain id {claim.chain_id}"
        return check
    good = [w for w in results if w.ok]
    bad = [w for w in results if not w.ok]
    if good and (policy == "any" or not bad):
        first = good[0]
        check.status, check.receipt, check.url = "verified", first.receipt, first.url
        counts = [w.confirmations for w in good if w.confirmations is not None]
        check.confirmations = min(counts) if counts else None
        if len(good) > 1 and any(_facts(w.receipt) != _facts(first.receipt) for w in good):
            check.status = "disputed"
            check.reason = "witnesses disagree: " + "; ".join(f"{w.source} says block {w.receipt.block} tx {w.receipt.tx}" for w in good if w.receipt)
        return check
    definite = [w for w in bad if w.status not in (*_CANNOT_CHECK, "pending")]
    if not good and not definite and any(w.status == "pending" for w in bad):
        check.status = "pending"
        check.reason = next(w.reason for w in bad if w.status == "pending")
        return check
    if good and definite:
        check.status = "disputed"
    elif definite:
        check.status = definite[0].status if len({w.status for w in definite}) == 1 else "mismatch"
    else:
        check.status = bad[0].status
    shown = results if len(results) > 1 else bad
    check.reason = "; ".join((f"{w.source}: {w.status}" + (f" ({w.reason})" if w.reason else "")) if len(results) > 1 else (w.reason or w.status)
                             for w in shown)
    if check.status == "disputed":
        check.reason = "witnesses disagree: " + check.reason
    return check


def _facts(receipt: AnchorReceipt | None) -> Any:
    return None if receipt is None else tuple(getattr(receipt, f) for f in CLAIMED_FIELDS)


def _strip_chain(message: str, chain: str) -> str:
    prefix = f"chain {chain!r}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def _backends_for(anchor: AnchorReceipt, backends: Mapping[str, ChainBackend]) -> list[ChainBackend]:
    """The configured chains to check a receipt on: the one with the same name, and every one
    promising the same chain id in its config (several providers of one chain are all asked).

    Chain ids promised by configs are compared first, so that matching does not connect to
    every node; backends whose config has no chain id are asked live only when nothing matched.
    """
    found = [backends[anchor.chain]] if anchor.chain in backends else []
    unknown = []
    for backend in backends.values():
        configured = backend.configured_chain_id
        if configured == anchor.chain_id and backend not in found:
            found.append(backend)
        elif configured is None and backend not in found:
            unknown.append(backend)
    if found:
        return found
    for backend in unknown:
        try:
            if backend.served_chain_id() == anchor.chain_id:
                return [backend]
        except (ChainError, VerificationError):
            continue
    return []


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
    by_trace: dict[str, list[tuple[RecordView, ProofBundle]]] = {}
    for b in bundles:
        view = record_view(b, "bundle")
        by_trace.setdefault(view.trace, []).append((view, b))
    for trace, steps in by_trace.items():
        steps.sort(key=lambda vb: vb[0].seq)
        first = 0 if from_start else steps[0][0].seq
        prev: str | None = None if first == 0 else steps[0][0].prev
        for expected_seq, (view, step) in enumerate(steps, start=first):
            if view.seq != expected_seq:
                raise TraceBroken(f"trace {trace}: step {expected_seq} is missing (next step found is {view.seq})")
            if view.prev != prev:
                raise TraceBroken(f"trace {trace}: step {view.seq} does not link to step {view.seq - 1} (prev digest differs)")
            prev = step.digest
