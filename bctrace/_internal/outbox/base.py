"""The outbox interface: what the tracer (and the service) need from a durable queue of records
not yet anchored, and of batches whose anchors are not all stored.

Two implementations sit behind it: :class:`~.sqlite.SQLiteOutbox` (a file in the state folder,
the default) and :class:`~.postgres.PostgresOutbox` (one database shared by several anchoring
processes). Both pass ``bctrace.testing.OutboxTests``.

The life of a record, and what survives a crash (a kill -9, not a power loss) at each step:

1. ``append`` stores it (and advances its trace's hash chain) in one transaction before
   ``Tracer.record`` returns. Once ``append`` returns, the record is durable.
2. ``next_batch`` takes every pending record into one batch and stores the batch's Merkle root;
   from then on the batch is re-used, never rebuilt, until it is done.
3. ``add_anchor`` stores each chain's receipt as soon as the chain returns it.
4. ``finish_batch`` marks the batch done after all its chains are stored and bundles written.
5. A receipt stored with ``status: "pending"`` (its chain confirms later: OpenTimestamps) stays in
   the outbox after its batch is done; ``pending_anchors`` lists such receipts and
   ``replace_anchor`` stores the confirmed receipt in its place (``bctrace upgrade``).

A crash between any two steps leaves an open batch that the next ``next_batch`` (of this process
after a restart, or of another process) resumes with the same root; backends treat an
already-anchored root as success, so nothing is anchored twice.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

from ...errors import UsageError
from ..bundle import AnchorReceipt
from ..hexutil import to_0x
from ..merkle import MerkleTree

BuildStep = Callable[[int, "bytes | None"], "tuple[bytes, bytes, str | None]"]
"""``build(seq, prev_digest) -> (canonical_json_bytes, digest, bundle_path)`` of one step."""


@dataclass(frozen=True)
class Batch:
    id: int
    root: bytes
    chains: list[str]


@dataclass(frozen=True)
class PendingAnchor:
    """A stored receipt whose chain has not confirmed it yet (``status: "pending"``)."""

    batch: Batch
    chain: str
    receipt: AnchorReceipt


@dataclass(frozen=True)
class StoredRecord:
    digest: bytes
    record_json: str
    """The record's RFC 8785 canonical JSON, exactly the bytes its digest was computed over; empty
    for a bare digest a producer sent without its record (the service's ``POST /v1/digests``)."""
    bundle_path: str | None


@dataclass(frozen=True)
class ListedRecord:
    """One record as read-only views list it (``bctrace serve``'s project pages)."""

    trace: str
    seq: int
    digest: bytes
    record_json: str
    anchored: bool
    """Whether its batch is done (its bundle can be made)."""


SEARCH_LIMIT = 500
"""Most traces one search returns (the most recently extended first)."""


def already_stored(digest: bytes) -> str:
    """The one-line refusal of a record whose digest is already in the outbox."""
    return f"record {to_0x(digest)} is already in the outbox (add a salt to record the same content twice)"


def like_prefix(text: str) -> str:
    """A ``LIKE ... ESCAPE '\\'`` pattern matching strings that start with ``text`` literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def chains_without(batch_id: int, chains_json: str, chain: str) -> str | None:
    """A batch's chains (as stored, JSON) without ``chain``, or None when it is not among them;
    a batch keeps at least one chain (what ``drop_chain`` does, for every implementation)."""
    chains = json.loads(chains_json)
    if chain not in chains:
        return None
    if chains == [chain]:
        raise UsageError(f"batch {batch_id} is anchored on {chain!r} only; it cannot finish without it")
    return json.dumps([c for c in chains if c != chain])


class Outbox(ABC):
    """A durable queue of records and batches. Every method that writes is one transaction:
    after a crash it either happened entirely or not at all."""

    location: str
    """Where the outbox lives, for messages (a file path, or a database URL without password)."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection. Work in flight stays as the last committed step left it; a
        batch this outbox had claimed becomes free for other processes."""

    @abstractmethod
    def group(self) -> AbstractContextManager[None]:
        """Make every ``append`` inside the block one transaction: many records for the cost of
        one commit. They become durable together when the block ends, also when it ends with an
        exception (what was recorded is kept, then the exception goes on). A crash inside the
        block loses the block's records (none was acknowledged as durable yet). An
        implementation may write the records in bulk: a record whose digest is already stored
        (before the block, or earlier in it) may then be reported
        (:class:`~bctrace.errors.UsageError`) when the block ends, after the others are stored."""

    # -- recording --------------------------------------------------------------------------

    @abstractmethod
    def append(self, trace: str, build: BuildStep, *, new_trace: bool = False) -> tuple[int, bytes]:
        """Store the next step of ``trace``; durable when this returns (outside ``group``).

        ``build(seq, prev_digest)`` is called inside the write transaction so that two writers
        (threads or processes) never take the same ``seq`` of a trace. ``new_trace=True`` (a fresh
        random trace id) skips looking up earlier steps; its step is ``build(0, None)``, which an
        implementation may call before the transaction (nothing to race for), so that threads
        build their records in parallel with a commit. A digest already in the outbox raises
        :class:`~bctrace.errors.UsageError` and stores nothing. Returns ``(seq, digest)``.
        """

    @abstractmethod
    def pending_count(self) -> int:
        """Records not yet in any batch."""

    @abstractmethod
    def open_batches(self) -> list[Batch]:
        """Batches not finished yet, oldest first (whoever works on them)."""

    # -- batching ---------------------------------------------------------------------------

    @abstractmethod
    def next_batch(self, chains: list[str], *, one_trace: bool = False) -> Batch | None:
        """The oldest unfinished batch this outbox may work on, or a new batch over the pending
        records (anchored on ``chains``), or None when there is nothing to do. With
        ``one_trace``, a new batch holds only the pending records of the trace of the oldest
        pending record (chains that anchor each trace apart).

        Creating a batch is one transaction: after a crash, either the records are still pending
        or they all belong to the batch with its stored root. An implementation shared by several
        processes hands a batch to one of them at a time (a claim), and a crashed process's claim
        ends with its connection, so that another process resumes the batch.
        """

    @abstractmethod
    def release(self, batch_id: int) -> None:
        """Give up this process's claim on an unfinished batch (graceful shutdown mid-batch) so
        that another process resumes it at once. Nothing stored is undone."""

    @abstractmethod
    def tree(self, batch_id: int) -> MerkleTree:
        """The Merkle tree of a batch's records (the same root ``next_batch`` stored)."""

    @abstractmethod
    def anchors(self, batch_id: int) -> dict[str, AnchorReceipt]:
        """The receipts stored for a batch, by chain name."""

    @abstractmethod
    def add_anchor(self, batch_id: int, chain: str, receipt: AnchorReceipt) -> None:
        """Store a chain's receipt for a batch, durably, before anything else happens. A second
        receipt for the same batch and chain is ignored (the first one stays)."""

    @abstractmethod
    def pending_anchors(self) -> list[PendingAnchor]:
        """Every stored receipt with ``status: "pending"`` (its chain confirms later), of done
        and open batches, oldest batch first: what ``bctrace upgrade`` asks the chains about."""

    @abstractmethod
    def replace_anchor(self, batch_id: int, chain: str, receipt: AnchorReceipt) -> None:
        """Store the confirmed receipt of a pending anchor in its place, in one transaction:
        after a crash the outbox holds the pending receipt or the confirmed one, never neither."""

    @abstractmethod
    def batch_records(self, batch_id: int, *, with_bundle_path_only: bool = False) -> Iterator[StoredRecord]:
        """A batch's records in the order they were recorded."""

    @abstractmethod
    def drop_chain(self, chain: str) -> None:
        """Stop open batches from waiting for ``chain``; a batch keeps at least one chain
        (:class:`~bctrace.errors.UsageError` otherwise, and nothing changes)."""

    @abstractmethod
    def finish_batch(self, batch_id: int) -> None:
        """Mark a batch done (all its anchors stored, bundles written) and end its claim."""

    # -- lookups ----------------------------------------------------------------------------

    @abstractmethod
    def find(self, digest: bytes) -> tuple[StoredRecord, Batch | None, bool]:
        """A record by digest with its batch (None while pending) and whether that batch is done.
        Raises :class:`~bctrace.errors.UsageError` naming the outbox for an unknown digest."""

    @abstractmethod
    def known(self, digests: list[bytes]) -> set[bytes]:
        """Which of ``digests`` are in the outbox (one query, for bulk idempotent inserts)."""

    @abstractmethod
    def trace_digests(self, trace: str) -> list[bytes]:
        """A trace's record digests in ``seq`` order."""

    @abstractmethod
    def search_traces(self, query: str = "", *, limit: int = SEARCH_LIMIT) -> list[ListedRecord]:
        """Read-only: every record of the ``limit`` most recently extended traces whose id starts
        with ``query``, or with a step of kind ``query``, or whose subjects name ``query`` (a
        ``0x`` sha256); every trace when ``query`` is empty. In (trace, seq) order."""
