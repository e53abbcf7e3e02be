"""``Tracer``: the one class a user needs. A thin facade over record, outbox, merkle, bundle,
verify and the chain backends chosen in the config."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pydantic import ValidationError

from ..errors import BctraceError, ChainError, ChainsFailed, ConfigError, UsageError, one_line
from .authorship import Signer, scheme_fields
from .authorship import sign as sign_record
from .backend import ChainBackend
from .bundle import BUNDLE_SUFFIX, AnchorReceipt, MerkleProofInfo, ProofBundle, bundle_path_for, field_error
from .config import Config, load_config
from .hexutil import to_0x
from .kinds import validate_body
from .merkle import MerkleTree
from .plugin_manager import BctracePluginManager, backend_registry, get_plugin_manager, kind_registry, store_registry
from .record import Record, Subject, new_salt, parse_digest
from .registry import KindRegistry
from .signatures import signer_class
from .verify import Policy, TrustedBlocks, VerificationReport, check_offline, verify_bundle, verify_trace

if TYPE_CHECKING:  # imported where used: verifying a bundle needs neither the outbox nor a store
    from .outbox import Batch, Outbox, PendingAnchor
    from .stores import ContentStore, StoreConfig

__all__ = ["FlushResult", "Recorded", "Trace", "Tracer", "UpgradeResult"]

logger = logging.getLogger("bctrace.tracer")


@dataclass(frozen=True)
class Recorded:
    """A record as stored in the outbox, waiting for the next flush."""

    record: Record
    digest: bytes
    bundle_path: Path | None = None
    salt_file: Path | None = None
    """For a salted text: the producer's file holding the salt (never anchored nor bundled)."""
    disclosure_file: Path | None = None
    """For a record with private fields: the producer's file holding their disclosures."""

    @property
    def digest_hex(self) -> str:
        return to_0x(self.digest)


@dataclass
class FlushResult:
    """What one ``flush()`` anchored: one entry per batch (normally one)."""

    batches: list[dict[str, Any]] = field(default_factory=list)
    bundles: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What a chain wants said once (e.g. that its anchors carry no chain proof)."""
    upgrade: UpgradeResult | None = None
    """The pending anchors flush tried to upgrade first (``None`` when there were none)."""

    @property
    def records(self) -> int:
        return sum(b["records"] for b in self.batches)


@dataclass
class UpgradeResult:
    """What one ``upgrade()`` found: anchors now confirmed, anchors still pending, bundles rewritten."""

    upgraded: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    bundles: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Trace:
    """A handle on one trace: each ``record`` call appends the next hash-chained step."""

    def __init__(self, tracer: Tracer, trace_id: str) -> None:
        self.tracer = tracer
        self.id = trace_id

    def record(self, kind: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Recorded:
        return self.tracer.record(kind, body, trace=self.id, **kwargs)


class Tracer:
    """Records steps durably, anchors them in batches, and verifies their proof bundles.

    Use as a context manager, or call :meth:`close`, to release the outbox and chain clients.
    """

    def __init__(self, config: Config, *, plugin_manager: BctracePluginManager | None = None) -> None:
        self.config = config
        self.pm = plugin_manager or get_plugin_manager()
        self._registry = backend_registry(self.pm)
        self._backends: dict[str, ChainBackend] = {}
        self._outbox: Outbox | None = None
        self._service: Any = None
        """Client mode's ``ServiceClient`` (config ``[service]``), made on first use."""
        self._in_batch = False
        self._signing_account: Signer | None = None
        self._adhoc_backends: dict[Any, ChainBackend] = {}
        """Backends of ``--rpc`` endpoints and ``--ledger`` copies, kept across verify calls."""
        self._verify_cache: dict[Any, Any] = {}
        self._kinds: KindRegistry | None = None

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, *, cwd: Path | None = None) -> Tracer:
        """Load ``bctrace.toml`` (or ``[tool.bctrace]``, or ``$BCTRACE_CONFIG``; defaults to the
        local ledger) and build a tracer on it."""
        pm = get_plugin_manager()
        config = load_config(path, registry=backend_registry(pm), store_registry=store_registry(pm), cwd=cwd)
        return cls(config, plugin_manager=pm)

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            from .outbox import open_outbox

            self._outbox = open_outbox(self.config.state_dir, self.config.outbox)
        return self._outbox

    @property
    def service(self) -> Any:
        """Client mode's connection to the anchoring service (``[service]`` in the config)."""
        if self._service is None:
            from ..service.client import ServiceClient

            bundles = self.config.bundle_dir or self.config.state_dir / "bundles"
            self._service = ServiceClient(self.config.service, self.outbox, self.config.state_dir, bundles)
        return self._service

    def _deliver(self) -> None:
        """Client mode: send what was recorded now; an unreachable service only delays it."""
        from ..errors import ServiceUnreachable

        try:
            self.service.deliver()
        except ServiceUnreachable as err:
            logger.warning("records kept in the local outbox, sent when the service answers: %s", err.one_line())

    def backend(self, chain: str) -> ChainBackend:
        """The backend of a configured chain (built on first use)."""
        if chain not in self._backends:
            try:
                cfg = self.config.chains[chain]
            except KeyError:
                raise ConfigError(f"chain {chain!r} is not configured (configured: {', '.join(self.config.chains)})") from None
            cls = self._registry.get(cfg.backend)
            self._backends[chain] = cls(chain, cfg, state_dir=self.config.state_dir)
        return self._backends[chain]

    def store(self, name: str) -> ContentStore:
        """A new connection to the content store configured as ``[stores.NAME]`` (close it, or use
        it as a context manager)."""
        return open_store(self.config, name, self.pm)

    @property
    def kinds(self) -> KindRegistry:
        """The record kinds of the built-in and installed plugins (``bctrace_register_kinds``)."""
        if self._kinds is None:
            self._kinds = kind_registry(self.pm)
        return self._kinds

    def backends(self, chains: Iterable[str] | None = None) -> dict[str, ChainBackend]:
        names = list(chains) if chains is not None else list(self.config.chains)
        return {name: self.backend(name) for name in names}

    def close(self) -> None:
        for backend in [*self._backends.values(), *self._adhoc_backends.values()]:
            backend.close()
        self._backends.clear()
        self._adhoc_backends.clear()
        self._verify_cache.clear()
        if self._service is not None:
            self._service.close()
            self._service = None
        if self._outbox is not None:
            self._outbox.close()
            self._outbox = None

    def __enter__(self) -> Tracer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- recording --------------------------------------------------------------------------

    def _signer(self) -> Signer:
        """The ``[signer]`` identity, loaded once (a keystore password is asked for once)."""
        if self._signing_account is None:
            if self.config.signer is None:
                raise ConfigError("signing was asked for, but the config has no [signer] table (key = \"env:VAR\")")
            self._signing_account = signer_class(self.config.signer.scheme).from_config(self.config.signer)
        return self._signing_account

    def batch(self) -> AbstractContextManager[None]:
        """Record many steps as one outbox transaction (much faster for bulk input).

        Inside the block each ``record()`` returns at once; all become durable together when the
        block ends, also when it ends with an exception (in client mode they are then sent).
        """
        return self._batch()

    @contextmanager
    def _batch(self) -> Iterator[None]:
        if self._in_batch:
            yield
            return
        self._in_batch = True
        try:
            with self.outbox.group():
                yield
        finally:
            self._in_batch = False
            if self.config.service is not None:
                self._deliver()

    def trace(self, trace_id: str | None = None) -> Trace:
        """A trace to append steps to; a new random id when none is given."""
        return Trace(self, trace_id or secrets.token_hex(16))

    def record(
        self,
        kind: str,
        body: dict[str, Any] | None = None,
        *,
        subjects: Sequence[Subject] = (),
        trace: str | None = None,
        author: str | None = None,
        salt: bool | str = False,
        bundle_path: str | os.PathLike[str] | None = None,
        bundle_dir: str | os.PathLike[str] | None = None,
        created: datetime | None = None,
        sign: bool | None = None,
        private: Sequence[str] = (),
        public: Sequence[str] = (),
        decoys: int = 0,
    ) -> Recorded:
        """Store one step durably (it is on disk when this returns) for the next flush.

        A registered kind's body is checked against its model first (a bad field raises
        :class:`~bctrace.errors.UsageError` naming it).

        :param trace: the trace to append to; each call without one starts a new trace.
        :param salt: ``True`` for a random salt (hides guessable bodies), or a salt string.
        :param bundle_path: where flush writes this record's bundle; without one (and without
            ``bundle_dir`` in the config) the bundle is produced on demand by :meth:`bundle`.
        :param bundle_dir: write the bundle into this folder as ``<digest>.bctrace.json``.
        :param sign: sign the record with the ``[signer]`` key (proof of authorship); the
            default is the signer's ``sign_all`` setting. The author becomes the signer's identity.
        :param private: body fields (``donor``, ``a.b``, ``items[2]``) to record as disclosure
            digests only, besides the kind's private-by-default fields; their values are kept in
            ``STATE_DIR/disclosures/`` (:attr:`Recorded.disclosure_file`) for :meth:`disclose`.
        :param public: private-by-default fields of the kind to record in clear.
        :param decoys: random digests added to each list of hidden fields.
        """
        trace_id = trace or secrets.token_hex(16)
        kinds = self.kinds
        body = validate_body(kinds, kind, body or {})
        info = kinds.info.get(kind)
        kept: Path | None = None
        if private or (info is not None and info.private):
            from .disclosure import keep, make_private, present

            hidden = [p for p in (info.private if info else ()) if p not in public and present(body, p)] + [p for p in private if p not in public]
            if hidden:
                body, disclosures = make_private(body, dict.fromkeys(hidden), decoys=decoys)
                kept = keep(self.config.state_dir, body, disclosures)
        signer = self._signer() if (sign if sign is not None else bool(self.config.signer and self.config.signer.sign_all)) else None
        if signer is not None:
            if author and author.lower() != signer.identity.lower():
                raise UsageError(f"author {author} is not the signing key's address {signer.identity}")
            author = signer.identity
        fields: dict[str, Any] = {
            "kind": kind,
            "trace": trace_id,
            "author": author or self.config.author,
            "subjects": tuple(subjects),
            "body": body,
            "created": created or datetime.now(timezone.utc),
        }
        if info is not None:
            fields["kind_version"] = info.version
        if salt:
            fields["salt"] = salt if isinstance(salt, str) else new_salt()
        made: dict[str, Any] = {}

        def build(seq: int, prev: bytes | None) -> tuple[bytes, bytes, str | None]:
            try:
                rec = Record(seq=seq, prev=to_0x(prev) if prev else None, **fields, **(scheme_fields(signer) if signer else {}))
                if signer is not None:
                    rec = rec.model_copy(update={"signature": sign_record(signer, rec.to_json_dict())})
                canonical = rec.canonical_bytes()
            except ValidationError as err:
                raise UsageError(f"record of kind {kind!r}: {field_error(err)}") from None
            except ValueError as err:
                raise UsageError(f"record of kind {kind!r}: {one_line(err)}") from None
            digest = hashlib.sha256(canonical).digest()
            target = Path(bundle_path) if bundle_path else None
            if target is None and bundle_dir is not None:
                target = Path(bundle_dir) / (to_0x(digest) + BUNDLE_SUFFIX)
            made.update(record=rec, target=target)
            return canonical, digest, str(target) if target else None

        try:
            _, digest = self.outbox.append(trace_id, build, new_trace=trace is None)
        except BaseException:
            if kept is not None:  # nothing was recorded: keep no private values for it
                kept.unlink(missing_ok=True)
            raise
        if self.config.service is not None and not self._in_batch:
            self._deliver()
        return Recorded(made["record"], digest, made["target"], disclosure_file=kept)

    def disclose(self, target: ProofBundle | str | os.PathLike[str], fields: Sequence[str] = (), *,
                 everything: bool = False) -> ProofBundle:
        """A copy of a bundle that reveals the private body fields ``fields`` (with
        ``everything``: all whose disclosures are at hand) and no other.

        Disclosures come from the bundle itself and from this state folder's
        ``STATE_DIR/disclosures/`` (the producer's). Revealing ``a.b`` also reveals ``a`` when
        ``a`` is hidden; revealing ``a`` reveals what is hidden inside it. The record, digest,
        proof and anchors are unchanged, so the copy verifies like the original.
        """
        from .disclosure import disclosure_digest, kept, resolve, select
        from .verify import check_offline, record_view

        bundle, source, _ = self._resolve_bundle(target)
        check_offline(bundle, source)
        body = record_view(bundle, source).body
        resolve(body, bundle.disclosures or [], source)  # what the bundle already reveals must check
        available = {disclosure_digest(d): d for d in [*(bundle.disclosures or []), *kept(self.config.state_dir, body)]}
        resolved = resolve(body, list(available.values()), source)
        if not fields and not everything:
            raise UsageError("name the fields to disclose (--field NAME), or disclose all of them (--all)")
        chosen = list(resolved.disclosures.values()) if everything else select(resolved, fields)
        return bundle.model_copy(update={"disclosures": chosen or None})

    def stamp(
        self,
        path: str | os.PathLike[str],
        *,
        kind: str | None = None,
        body: dict[str, Any] | None = None,
        trace: str | None = None,
        store: str | None = None,
        bundle_path: str | os.PathLike[str] | None = None,
        progress: bool = False,
        cid: bool = False,
        blake3: bool = False,
        sign: bool | None = None,
    ) -> Recorded:
        """Hash a file or folder and record it; its bundle is written beside it on flush.

        :param store: name of a ``[stores.NAME]`` content store to upload the bytes to (IPFS);
            the record then carries the CID the store confirmed.
        :param cid: also compute the IPFS CID locally (in the same read as sha256).
        :param blake3: also compute BLAKE3 (in the same read).
        """
        from .hashing import subject_for_path

        p = _named(Path(path))
        subject, extra = subject_for_path(p, progress=progress, cid=cid or store is not None, blake3=blake3)
        merged = {**(extra or {}), **(body or {})}
        if store is not None:
            from .stores import put_subject

            with self.store(store) as opened:
                subject = put_subject(opened, p, subject)
            merged.setdefault("stores", []).append({"store": store, "cid": subject.cid})
        return self.record(
            kind or ("dataset" if p.is_dir() else "file"),
            merged,
            subjects=[subject],
            trace=trace,
            bundle_path=bundle_path or bundle_path_for(p),
            sign=sign,
        )

    def stamp_git(self, repo: str | os.PathLike[str], *, store: str | None = None, archive: bool = True) -> Recorded:
        """Record the state of the git repository at ``repo`` (commit, tree, branch, remote,
        uncommitted diff, untracked files); its bundle goes beside the repository as
        ``NAME.git.bctrace.json``.

        :param archive: make the record's subject the ``git archive --format=tar`` tarball of the
            commit (name, size, sha256), which anyone with the repository can rebuild and compare.
        :param store: also upload that tarball to this content store (the subject gets its CID).
        """
        import tempfile

        from .gitstate import git_archive, git_bundle_path, git_state, repo_top
        from .hashing import subject_for_path

        state = git_state(Path(repo))
        top = repo_top(Path(repo))
        subjects = []
        if archive or store is not None:
            with tempfile.TemporaryDirectory(prefix="bctrace-git-") as tmp:
                tar = git_archive(top, state["commit"], Path(tmp) / f"{top.name}-{state['commit'][:12]}.tar")
                subject, _ = subject_for_path(tar, cid=store is not None)
                subject = subject.model_copy(update={"media_type": "application/x-tar"})
                if store is not None:
                    from .stores import put_subject

                    with self.store(store) as opened:
                        subject = put_subject(opened, tar, subject)
                    state["archive"] = {"store": store, "cid": subject.cid, "format": "git archive --format=tar"}
                subjects.append(subject)
        return self.record("git", {"git": state}, subjects=subjects, bundle_path=git_bundle_path(top))

    def stamp_text(self, text: str, *, kind: str = "text", name: str = "text", salt: bool | str = True, **kwargs: Any) -> Recorded:
        """Record a text by its hash (the text itself stays with you).

        Salted by default: the recorded hash is SHA-256(salt || text) (``hash_scheme``
        ``salted-sha256-v1``) and the salt is kept only in ``STATE_DIR/salts/`` (see
        :attr:`Recorded.salt_file`), so nobody holding the bundle can confirm a guessed text.
        ``salt`` may be a ``0x`` hex salt of 32 bytes to reuse; ``False`` records the plain
        sha256 (anyone can then test guesses).
        """
        from .privatetext import TEXT_MEDIA_TYPE, parse_salt, salted_text_subject

        data = text.encode("utf-8")
        if salt is False:
            subject = Subject(name=name, sha256=to_0x(hashlib.sha256(data).digest()), size=len(data), media_type=TEXT_MEDIA_TYPE)
            return self.record(kind, subjects=[subject], **kwargs)
        subject, kept = salted_text_subject(text, self.config.state_dir, name=name,
                                            salt=parse_salt(salt) if isinstance(salt, str) else None)
        return dataclasses.replace(self.record(kind, subjects=[subject], **kwargs), salt_file=kept)

    def verify_text(self, text: str, target: ProofBundle | str | os.PathLike[str], *, salt: str | None = None,
                    **options: Any) -> VerificationReport:
        """Check that ``text`` is the text a bundle records, then verify the bundle as
        :meth:`verify` does (``options`` are its options).

        A salted text subject needs its salt: ``salt`` (``0x`` hex) if given, else the producer's
        ``STATE_DIR/salts/`` file. Raises :class:`~bctrace.errors.SubjectMismatch` (exit 1) for a
        different text, :class:`~bctrace.errors.UsageError` (exit 2) when the salt is not found.
        Bundles with a plain sha256 text subject (written before salted subjects) need no salt.
        """
        from .privatetext import check_text
        from .verify import check_offline, record_view

        bundle, source, _ = self._resolve_bundle(target)
        check_offline(bundle, source)
        check_text(text, record_view(bundle, source).subjects, source, salt=salt, state_dir=self.config.state_dir)
        report = self.verify(bundle, **options)
        report.subject_checked.append("text")
        return report

    # -- anchoring --------------------------------------------------------------------------

    def flush(self, chains: Sequence[str] | None = None, *, drop_chains: Sequence[str] = ()) -> FlushResult:
        """Anchor everything pending: one Merkle tree, one anchor per chain, then bundles.

        Resumes a batch left open by an earlier failure first (same root, so nothing is anchored
        twice). If a chain fails, the receipts of the chains that succeeded are kept, the batch
        stays open, and a :class:`~bctrace.errors.ChainError` names the failed chain.

        :param drop_chains: stop waiting for these chains in open batches (a chain that is gone
            for good); the batches finish with the anchors they have.
        """
        if self.config.service is not None:
            return self.fetch_proofs()
        targets = list(chains) if chains is not None else list(self.config.default_chains)
        for name in targets:
            self.backend(name)  # fail on an unknown chain before touching the outbox
        for name in drop_chains:
            self.outbox.drop_chain(name)
        result = FlushResult()
        if self.pending_anchors():
            result.upgrade = self.upgrade()
            result.bundles += result.upgrade.bundles
            result.notes += result.upgrade.notes
        per_trace = any(self.backend(name).anchors_per_trace for name in targets)
        while (batch := self.outbox.next_batch(targets, one_trace=per_trace)) is not None:
            for name in batch.chains:
                if name not in self.config.chains:
                    raise ConfigError(
                        f"batch {batch.id} waits for chain {name!r}, which is no longer configured: add it back, "
                        f"or finish the batch without it with `bctrace flush --drop-chain {name}`"
                    )
            stored = self.outbox.anchors(batch.id)
            logger.info("batch %d: root %s on %s (already anchored on: %s)", batch.id, to_0x(batch.root), ", ".join(batch.chains), ", ".join(stored) or "none")
            failures: list[ChainError] = []
            trace = self._trace_of_batch(batch.id) if any(self.backend(n).anchors_per_trace for n in batch.chains) else None
            for name in batch.chains:
                if name in stored:
                    continue
                backend = self.backend(name)
                try:
                    receipt = backend.anchor_trace(batch.root, trace) if trace and backend.anchors_per_trace else backend.anchor(batch.root)
                except ChainError as err:
                    logger.warning("batch %d: chain %s failed, the batch waits for it: %s", batch.id, name, err.one_line())
                    failures.append(err)
                    continue
                self.outbox.add_anchor(batch.id, name, receipt)
                logger.info("batch %d: anchored on %s (chain id %d) in block %d, tx %s", batch.id, name, receipt.chain_id, receipt.block, receipt.tx)
                stored[name] = receipt
                result.notes += self.backend(name).notes
                self.backend(name).notes.clear()
            if failures:
                raise ChainsFailed.of(failures)
            receipts = [stored[name] for name in batch.chains]
            tree = self.outbox.tree(batch.id)
            result.bundles += self._write_bundles(batch, receipts)
            self.outbox.finish_batch(batch.id)
            logger.info("batch %d: done, %d record(s), %d bundle(s) written", batch.id, len(tree), len(result.bundles))
            anchors = []
            for name, receipt in zip(batch.chains, receipts, strict=False):
                entry = receipt.model_dump(exclude_none=True)
                url = self.backend(name).tx_url(receipt)
                if url:
                    entry["url"] = url
                anchors.append(entry)
            result.batches.append({"root": to_0x(batch.root), "records": len(tree), "anchors": anchors})
        return result

    def _trace_of_batch(self, batch_id: int) -> str | None:
        """The trace whose records alone make up a batch, or None (a batch of several traces,
        made before a chain asked for one anchor per trace, is anchored as a whole)."""
        traces = {json.loads(r.record_json)["trace"] for r in self.outbox.batch_records(batch_id)}
        return traces.pop() if len(traces) == 1 else None

    def _write_bundles(self, batch: Batch, receipts: list[AnchorReceipt]) -> list[Path]:
        """Write the bundle of every record of ``batch`` that has a bundle path (or of all of
        them, with ``bundle_dir``), atomically."""
        tree = self.outbox.tree(batch.id)
        written = []
        sweep = ProofBundle.sweeper()  # each folder listed once for stale temp files, not once per bundle
        for rec in self.outbox.batch_records(batch.id, with_bundle_path_only=self.config.bundle_dir is None):
            if not rec.record_json:
                continue  # a bare digest: its producer joins the proof to its own record
            bundle = _make_bundle(rec.record_json, rec.digest, batch.root, tree, receipts)
            target = Path(rec.bundle_path) if rec.bundle_path else self.config.bundle_dir / (to_0x(rec.digest) + BUNDLE_SUFFIX)  # type: ignore[operator]
            written.append(bundle.write(target, sweep=sweep))
        return written

    def pending_anchors(self) -> list[PendingAnchor]:
        """The outbox's anchors still waiting for their chain's confirmation. The outbox is asked
        only when a configured chain's backend makes pending anchors (it overrides ``upgrade``),
        so a flush on chains that never make them pays no query for them."""
        for name in self.config.chains:
            try:
                cls = self.backend_class(name)
            except BctraceError:  # a chain whose plugin is not installed makes no anchors here
                continue
            if cls is not None and cls.upgrade is not ChainBackend.upgrade:
                return self.outbox.pending_anchors()
        return []

    def upgrade(self) -> UpgradeResult:
        """Ask the chains of pending anchors (OpenTimestamps: the calendars) whether they have
        confirmed them; store each confirmed receipt and rewrite the bundles of its batch.

        A chain that cannot be asked now leaves its anchors pending (a note says why), so
        ``flush``, which calls this first, is never stopped by it.
        """
        result = UpgradeResult()
        changed: dict[int, Batch] = {}
        for anchor in self.pending_anchors():
            entry = {"batch": anchor.batch.id, "root": to_0x(anchor.batch.root), "chain": anchor.chain}
            if anchor.chain not in self.config.chains:
                result.pending.append(entry)
                result.notes.append(f"batch {anchor.batch.id}: the pending anchor on {anchor.chain!r} cannot be upgraded: the chain is no longer configured")
                continue
            try:
                receipt = self.backend(anchor.chain).upgrade(anchor.batch.root, anchor.receipt)
            except ChainError as err:
                logger.warning("batch %d: the pending anchor on %s stays pending: %s", anchor.batch.id, anchor.chain, err.one_line())
                result.pending.append(entry)
                result.notes.append(f"batch {anchor.batch.id}: {err.one_line()}")
                continue
            result.notes += self.backend(anchor.chain).notes
            self.backend(anchor.chain).notes.clear()
            if receipt == anchor.receipt:
                result.pending.append(entry)
                continue
            self.outbox.replace_anchor(anchor.batch.id, anchor.chain, receipt)
            (result.pending if receipt.status == "pending" else result.upgraded).append({**entry, **receipt.model_dump(exclude={"chain_proof"}, exclude_none=True)})
            changed[anchor.batch.id] = anchor.batch
            logger.info("batch %d: anchor on %s upgraded (%s)", anchor.batch.id, anchor.chain, receipt.status or f"block {receipt.block}")
        for batch in changed.values():
            stored = self.outbox.anchors(batch.id)
            result.bundles += self._write_bundles(batch, [stored[name] for name in batch.chains if name in stored])
        return result

    def upgrade_bundle(self, target: str | os.PathLike[str]) -> tuple[Path, list[AnchorReceipt]]:
        """Upgrade the pending anchors of a bundle file (one received from someone else, like
        ``ots upgrade FILE``) through the configured chain of each (same name or chain id), and
        rewrite the file if any changed. Returns the file and its anchors still pending.

        Raises :class:`~bctrace.errors.ConfigError` when no configured chain can upgrade one.
        """
        from .verify import _backends_for

        bundle, source, _ = self._resolve_bundle(target)
        root = check_offline(bundle, source)
        anchors = list(bundle.anchors)
        for i, anchor in enumerate(anchors):
            if anchor.status != "pending":
                continue
            candidates = _backends_for(anchor, self.backends())
            if not candidates:
                raise ConfigError(f"{source}: no configured chain can upgrade the pending anchor on {anchor.chain!r} "
                                  f"(chain id {anchor.chain_id}): add a [chains.NAME] table with backend = {anchor.backend!r}")
            anchors[i] = candidates[0].upgrade(root, anchor).model_copy(update={"chain": anchor.chain})
        if anchors != bundle.anchors:
            bundle.model_copy(update={"anchors": anchors}).write(source)
        return Path(source), [a for a in anchors if a.status == "pending"]

    def backend_class(self, name: str) -> type[ChainBackend] | None:
        """The backend class of a configured chain ``name``, or of the backend called ``name``
        (``--trust-block NAME=VALUE``); ``None`` if neither exists."""
        if name in self.config.chains:
            return self._registry.get(self.config.chains[name].backend)
        return self._registry.get(name) if name in self._registry.names() else None

    def fetch_proofs(self) -> FlushResult:
        """Client mode: send what is not delivered yet, then write the bundle of every record the
        service has anchored (the others wait; see :mod:`bctrace.service.client`)."""
        if self.config.service is None:
            raise ConfigError("fetch-proofs needs a [service] table in the config (url, token)")
        fetched = self.service.fetch_proofs()
        result = FlushResult(bundles=fetched.bundles)
        if fetched.bundles:
            result.batches.append({"root": None, "records": len(fetched.bundles), "anchors": [], "service": self.service.where})
        if fetched.pending:
            result.notes.append(f"{fetched.pending} record(s) wait for the service's next anchor (run fetch-proofs again later)")
        if fetched.unreachable:
            result.notes.append(f"{fetched.unreachable}; records stay in the local outbox and are sent when it answers")
        return result

    def bundle(self, digest: bytes | str) -> ProofBundle:
        """The proof bundle of an anchored record in this project's outbox."""
        try:
            raw = parse_digest(digest) if isinstance(digest, str) else digest
        except ValueError as err:
            raise UsageError(str(err)) from None
        stored, batch, done = self.outbox.find(raw)
        if batch is None or not done:
            raise UsageError(f"record {to_0x(raw)} is not anchored yet: run flush first")
        receipts = self.outbox.anchors(batch.id)
        return _make_bundle(stored.record_json, raw, batch.root, self.outbox.tree(batch.id),
                            [receipts[name] for name in batch.chains if name in receipts])

    # -- verification -----------------------------------------------------------------------

    def verify(
        self,
        target: ProofBundle | str | os.PathLike[str],
        *,
        chains: Iterable[str] | None = None,
        policy: Policy = "all",
        raise_on_failure: bool = True,
        rpc: Sequence[tuple[int, str]] = (),
        trusted: TrustedBlocks | None = None,
        ledgers: Sequence[str | os.PathLike[str]] = (),
        progress: bool = False,
    ) -> VerificationReport:
        """Verify a bundle, a bundle file, or a stamped file/folder (its bundle sits beside it).

        For a stamped path the file's current hash is checked against the record first. A
        record with private fields gets :attr:`VerificationReport.fields` (what the bundle
        reveals, each value checked against its digest, and what stays hidden). Raises
        a :class:`~bctrace.errors.VerificationError` naming what failed; with
        ``raise_on_failure=False`` a policy miss is returned in the report instead. Answers of
        chains are cached for the tracer's life: verifying many bundles of one batch asks each
        chain once per root.

        :param rpc: ``(chain_id, url)`` endpoints to check the anchor on without any config:
            each is asked on its own (the contract comes from the bundle's receipt), so giving
            two providers of one chain means not trusting either alone.
        :param trusted: chain id -> trusted block hashes (or local ledger head hashes): anchors
            on those chains are checked from their ``chain_proof`` alone, with no network.
        :param ledgers: copies of local ledgers (a ``ledger.jsonl`` or its folder) to check local
            anchors against, without the rest of a state folder.
        :param progress: show a progress bar on stderr while hashing a large stamped file or folder.
        """
        bundle, source, subject_path = self._resolve_bundle(target)
        if subject_path is not None:
            self._check_stamped(bundle, subject_path, source, progress=progress)
        backends = self.backends()
        named = list(chains) if chains is not None else None
        extra = {**self._endpoint_backends(bundle, rpc), **self._ledger_backends(ledgers)}
        if extra:
            backends = {**backends, **extra}
            named = [*(named or ()), *extra]
        report = verify_bundle(bundle, backends, chains=named, policy=policy, source=source, trusted=trusted,
                               checker=self._registry.get, cache=self._verify_cache,
                               asked_chain_ids={chain_id for chain_id, _ in rpc})
        if subject_path is not None:
            report.subject_checked.append(str(subject_path))
        if raise_on_failure and not report.ok:
            raise report.failure()
        return report

    def _endpoint_backends(self, bundle: ProofBundle, rpc: Sequence[tuple[int, str]]) -> dict[str, ChainBackend]:
        """Backends for ad-hoc endpoints, built by the anchoring backend's ``from_endpoint``."""
        from urllib.parse import urlsplit

        out: dict[str, ChainBackend] = {}
        for chain_id, url in rpc:
            receipt = next((a for a in bundle.anchors if a.chain_id == chain_id), None)
            if receipt is None:
                continue  # reported as a failed check: the bundle has no anchor there
            host = urlsplit(url).hostname or "endpoint"
            port = urlsplit(url).port
            name = f"{chain_id}@{host}" + (f":{port}" if port else "")
            key = (name, url, receipt.backend, receipt.contract)
            if key not in self._adhoc_backends:
                try:
                    self._adhoc_backends[key] = self._registry.get(receipt.backend).from_endpoint(
                        name, url, receipt, state_dir=self.config.state_dir)
                except (UsageError, ConfigError) as err:
                    raise UsageError(f"--rpc {chain_id}=…: {err.one_line()}") from err
            out[name] = self._adhoc_backends[key]
        return out

    def _ledger_backends(self, ledgers: Sequence[str | os.PathLike[str]]) -> dict[str, ChainBackend]:
        """Local backends reading copies of ledgers (``--ledger``)."""
        out: dict[str, ChainBackend] = {}
        for path in ledgers:
            key = ("ledger", str(path))
            if key not in self._adhoc_backends:
                local = self._registry.get("local")
                self._adhoc_backends[key] = local.from_ledger_copy(Path(path), state_dir=self.config.state_dir)  # type: ignore[attr-defined]
            backend = self._adhoc_backends[key]
            out[backend.chain] = backend
        return out

    def verify_trace(self, bundles: Sequence[ProofBundle]) -> None:
        """Check that the given steps of a trace link into an unbroken hash chain from step 0."""
        verify_trace(list(bundles))

    def _resolve_bundle(self, target: ProofBundle | str | os.PathLike[str]) -> tuple[ProofBundle, str, Path | None]:
        if isinstance(target, ProofBundle):
            return target, "bundle", None
        p = _named(Path(target))
        if p.name.endswith(BUNDLE_SUFFIX):
            return ProofBundle.read(p), str(p), None
        if not p.exists():
            raise UsageError(f"path {p} does not exist")
        bp = bundle_path_for(p)
        if not bp.exists() and p.is_dir():
            from .gitstate import git_bundle_path

            if git_bundle_path(p).exists():  # stamped with `stamp --git`
                bp = git_bundle_path(p)
        if not bp.exists():
            raise UsageError(f"{p} has no bundle beside it ({bp.name}); stamp and flush it first")
        return ProofBundle.read(bp), str(bp), p

    def _check_stamped(self, bundle: ProofBundle, path: Path, source: str, *, progress: bool = False) -> None:
        from ..errors import BundleError
        from .hashing import check_subject
        from .verify import check_offline, record_view

        check_offline(bundle, source)
        if bundle.record.get("kind") == "git" and path.is_dir():
            from .gitstate import check_git_state

            check_git_state(path, bundle.record)
            return
        view = record_view(bundle, source)
        if not view.subjects:
            raise BundleError(f"{source}: the record has no subject to compare {path} with")
        check_subject(path, view.subjects[0], view.body, progress=progress)

    # -- ML runs (see bctrace.ml) -------------------------------------------------------------

    def run(self, name: str, **options: Any) -> Any:
        """Record an ML training run as a trace (``with tracer.run("name", seed=0) as run:``).

        The run API is a plugin's (the built-in ML plugin's :func:`bctrace.ml.start_run`, found
        through the ``bctrace_run_factory`` hook), so that the core does not depend on it.
        """
        factory = self.pm.hook.bctrace_run_factory()
        if factory is None:
            raise UsageError("no plugin provides ML runs (the built-in plugin bctrace.ml.plugin is not loaded)")
        return factory(self, name, **options)


def _make_bundle(record_json: str, digest: bytes, root: bytes, tree: MerkleTree, receipts: list[AnchorReceipt]) -> ProofBundle:
    return ProofBundle(
        record=json.loads(record_json),
        digest=to_0x(digest),
        merkle=MerkleProofInfo(root=to_0x(root), proof=[to_0x(p) for p in tree.proof(digest)]),
        anchors=receipts,
    )


def _named(p: Path) -> Path:
    """``p`` itself, or resolved when it has no name of its own (``.``, ``..``): its bundle is
    named after it and sits beside it."""
    return p if p.name not in ("", "..") else p.resolve()


def open_store(config: Config, name: str, plugin_manager: BctracePluginManager | None = None) -> ContentStore:
    """Build the store configured as ``[stores.NAME]``."""
    try:
        cfg = config.stores[name]
    except KeyError:
        known = ", ".join(config.stores) or "none"
        raise ConfigError(f"store {name!r} is not configured in {config.describe_source()} (configured: {known})") from None
    store_config = cast("StoreConfig", cfg)
    return store_registry(plugin_manager).get(store_config.backend)(name, store_config)
