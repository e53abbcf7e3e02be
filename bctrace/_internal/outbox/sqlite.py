"""The embedded outbox: SQLite in WAL mode in the state folder (the default).

Transactions that write use ``BEGIN IMMEDIATE``, so several processes can share one outbox; the
database is opened (and created) under a lock file, so that a first open is race-free too.
``synchronous=NORMAL`` survives a crash of the process (not of the machine's power). Processes
sharing the file do not claim batches: each resumes the oldest open batch, and backends treat an
already-anchored root as success (see :mod:`.base` for the life of a record).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

from ...errors import OutboxError, UsageError
from ..bundle import AnchorReceipt
from ..groupcommit import GroupCommitter, Write
from ..hexutil import to_0x
from ..locks import locked
from ..merkle import MerkleTree
from .base import SEARCH_LIMIT, Batch, BuildStep, ListedRecord, Outbox, PendingAnchor, StoredRecord, already_stored, chains_without, like_prefix

OUTBOX_FILE = "outbox.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches(
    id INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    chains TEXT NOT NULL,
    created REAL NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS records(
    id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    trace TEXT NOT NULL,
    seq INTEGER NOT NULL,
    record TEXT NOT NULL,
    bundle_path TEXT,
    batch INTEGER REFERENCES batches(id),
    UNIQUE(trace, seq)
);
CREATE INDEX IF NOT EXISTS records_batch ON records(batch);
CREATE TABLE IF NOT EXISTS anchors(
    batch INTEGER NOT NULL REFERENCES batches(id),
    chain TEXT NOT NULL,
    receipt TEXT NOT NULL,
    PRIMARY KEY(batch, chain)
);
"""


CACHE_KIB = -32_768
"""SQLite page cache of the connection (negative: KiB): large enough that inserting a big batch
or assigning it to a Merkle batch does not evict the index pages it keeps touching."""

GROUP_ROWS = 10_000
"""Records a group buffers before it inserts them (bounds its memory)."""

_INSERT = "INSERT INTO records(digest, trace, seq, record, bundle_path) VALUES (?, ?, ?, ?, ?)"
_Row = tuple[bytes, str, int, str, "str | None"]
_Append = tuple[str, "BuildStep | None", "_Row | None"]
"""A queued append: ``(trace, build, None)``, or ``(trace, None, row)`` built by its caller."""


class SQLiteOutbox(Outbox):
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / OUTBOX_FILE
        self.location = str(self.path)
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutboxError(f"outbox {self.path} cannot be opened: {err}") from err
        # Switching a new database to WAL needs an exclusive lock that SQLite's busy handler
        # does not wait for, so processes opening a fresh outbox at once would see "database is
        # locked". Opening under a lock file of the state folder makes the first open race-free.
        with locked(FileLock(str(self.path) + ".lock"), what=f"outbox {self.path}", poll=0.005):
            try:
                self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute(f"PRAGMA cache_size={CACHE_KIB}")
                self._db.executescript(_SCHEMA)
            except sqlite3.Error as err:
                raise OutboxError(f"outbox {self.path} cannot be opened: {err}") from err
        self._tree_cache: tuple[int, MerkleTree] | None = None
        self._in_group = False
        self._group_thread: int | None = None
        self._buffer: dict[bytes, _Row] = {}
        """A group's records not inserted yet (digest -> row), written by ``executemany``."""
        self._group_heads: dict[str, tuple[int, bytes]] = {}
        """The last step of each trace appended in the group (its rows may still be buffered)."""
        self._refused: list[bytes] = []
        """Digests of the group refused as already stored (reported when the group ends)."""
        # One connection, many threads: a transaction (a group, a write, a group commit) holds
        # this lock from BEGIN to COMMIT, so threads never interleave statements in one.
        self._lock = threading.RLock()
        self._appends: GroupCommitter[_Append] = GroupCommitter(self._commit_appends)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def group(self) -> Iterator[None]:
        """Make every append inside the block one transaction: many records for the cost of one
        commit. They become durable together when the block ends, also when it ends with an
        exception (what was recorded is kept, then the exception goes on).

        The records are buffered and inserted with ``executemany`` every :data:`GROUP_ROWS`
        records and when the block ends (memory stays bounded). A digest repeated among the
        buffered records is refused at once; one already inserted (before the group, or from an
        earlier chunk of it) is reported (:class:`~bctrace.errors.UsageError`) when the group
        ends, after the others are committed, as :class:`~.postgres.PostgresOutbox` does."""
        with self._lock:
            if self._in_group:
                yield
                return
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as err:
                raise OutboxError(f"outbox {self.path} is not writable: {err}") from err
            self._in_group = True
            self._group_thread = threading.get_ident()
            try:
                yield
                self._insert_buffered(db)
            except sqlite3.Error:
                self._buffer.clear()
                db.execute("ROLLBACK")
                raise
            except BaseException:
                self._insert_buffered(db)  # keep what was recorded, then let the exception go on
                raise
            finally:
                self._in_group = False
                self._group_thread = None
                self._group_heads.clear()
                refused, self._refused = self._refused, []
                if db.in_transaction:
                    db.execute("COMMIT")
            if refused:
                raise UsageError(f"{already_stored(refused[0])}; {len(refused)} record(s) of the group were refused, the others are stored")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._db
            if self._in_group:
                self._insert_buffered(db)  # what the group recorded is visible to its other writes
                yield db
                return
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as err:
                raise OutboxError(f"outbox {self.path} is not writable: {err}") from err
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            else:
                db.execute("COMMIT")

    # -- recording --------------------------------------------------------------------------

    def append(
        self,
        trace: str,
        build: BuildStep,
        *,
        new_trace: bool = False,
    ) -> tuple[int, bytes]:
        """Store the next step of ``trace``.

        ``build(seq, prev_digest)`` returns ``(canonical_json_bytes, digest, bundle_path)`` for the
        step; it is called inside the write transaction so that two writers cannot take the same
        ``seq``. ``new_trace=True`` (a fresh random trace id) skips looking up earlier steps.
        Returns ``(seq, digest)``.

        Records appended by several threads at once are committed together (group commit): each
        call still returns only once its record is committed, but one commit serves every record
        queued while the previous one ran. Inside :meth:`group` (on its thread) the append joins
        the group's transaction instead.
        """
        if self._group_thread == threading.get_ident():
            return self._insert(self._db, trace, build, new_trace)
        if new_trace:  # seq 0 without prev: build it here, outside the lock (see base.append)
            canonical, digest, bundle_path = build(0, None)
            return self._appends.submit((trace, None, (digest, trace, 0, canonical.decode("utf-8"), bundle_path)))
        return self._appends.submit((trace, build, None))

    def _commit_appends(self, writes: list[Write[_Append]]) -> None:
        """One transaction for every queued append: the rows built by their callers with one
        ``executemany``, then the steps of existing traces in the order they were queued. A
        record refused by its builder or as a duplicate fails only its own call (a failed INSERT
        undoes only itself in SQLite)."""
        with self._write() as db:
            built = [(w, row) for w in writes if (row := w.job[2]) is not None]
            if built:
                refused = set(self._insert_rows(db, [row for _, row in built]))
                for i, (w, row) in enumerate(built):
                    if i in refused:
                        w.error = UsageError(already_stored(row[0]))
                    else:
                        w.result = (0, row[0])
            for write in writes:
                trace, build, _ = write.job
                if build is not None:
                    try:
                        write.result = self._insert(db, trace, build, False)
                    except Exception as err:
                        write.error = err

    def _insert(self, db: sqlite3.Connection, trace: str, build: BuildStep, new_trace: bool) -> tuple[int, bytes]:
        """The next step of ``trace``, inserted in the open transaction (statements prepared once:
        sqlite3 caches them), or buffered inside a group."""
        head = self._group_heads.get(trace) if self._in_group else None
        if head is None and not new_trace:
            row = db.execute("SELECT seq, digest FROM records WHERE trace = ? ORDER BY seq DESC LIMIT 1", (trace,)).fetchone()
            head = None if row is None else (row[0], row[1])
        seq, prev = (0, None) if head is None else (head[0] + 1, head[1])
        canonical, digest, bundle_path = build(seq, prev)
        row = (digest, trace, seq, canonical.decode("utf-8"), bundle_path)
        if self._in_group:
            if digest in self._buffer:
                raise UsageError(already_stored(digest))
            self._buffer[digest] = row
            self._group_heads[trace] = (seq, digest)
            if len(self._buffer) >= GROUP_ROWS:
                self._insert_buffered(db)
            return seq, digest
        try:
            db.execute(_INSERT, row)
        except sqlite3.IntegrityError:
            raise UsageError(already_stored(digest)) from None
        return seq, digest

    def _insert_buffered(self, db: sqlite3.Connection) -> None:
        """Insert the group's buffered rows; the refused ones are kept for the group's end."""
        rows, self._buffer = list(self._buffer.values()), {}
        self._refused += [rows[i][0] for i in self._insert_rows(db, rows)]

    @staticmethod
    def _insert_rows(db: sqlite3.Connection, rows: list[_Row]) -> list[int]:
        """``executemany`` of ``rows`` in the open transaction; returns the indexes of the rows
        refused as already stored (each failed INSERT undoes only itself; the rest go on)."""
        refused: list[int] = []
        start = 0
        while start < len(rows):
            before = db.total_changes
            try:
                db.executemany(_INSERT, itertools.islice(rows, start, None))
                break
            except sqlite3.IntegrityError:
                start += db.total_changes - before  # the rows before the failed one are in
                refused.append(start)
                start += 1
        return refused

    def pending_count(self) -> int:
        return self._db.execute("SELECT count(*) FROM records WHERE batch IS NULL").fetchone()[0]

    def open_batches(self) -> list[Batch]:
        rows = self._db.execute("SELECT id, root, chains FROM batches WHERE done = 0 ORDER BY id").fetchall()
        return [Batch(r[0], r[1], json.loads(r[2])) for r in rows]

    # -- batching ---------------------------------------------------------------------------

    def next_batch(self, chains: list[str], *, one_trace: bool = False) -> Batch | None:
        """The oldest unfinished batch, or a new one over every pending record, or None.

        :param one_trace: the new batch holds only the pending records of the trace of the
            oldest one (chains that anchor each trace apart; README, "One address per trace").
        """
        with self._write() as db:
            row = db.execute("SELECT id, root, chains FROM batches WHERE done = 0 ORDER BY id LIMIT 1").fetchone()
            if row is not None:
                return Batch(row[0], row[1], json.loads(row[2]))
            only = ""  # every pending record
            params: tuple[str, ...] = ()
            first = db.execute("SELECT trace FROM records WHERE batch IS NULL ORDER BY id LIMIT 1").fetchone() if one_trace else None
            if first is not None:
                only, params = " AND trace = ?", (first[0],)
            # streamed: only the digests are held, not every row
            digests = [r[0] for r in db.execute(f"SELECT digest FROM records WHERE batch IS NULL{only} ORDER BY id", params)]
            if not digests:
                return None
            last = db.execute(f"SELECT max(id) FROM records WHERE batch IS NULL{only}", params).fetchone()[0]
            tree = MerkleTree(digests)
            cur = db.execute(
                "INSERT INTO batches(root, chains, created) VALUES (?, ?, ?)",
                (tree.root, json.dumps(chains), time.time()),
            )
            batch_id = cur.lastrowid
            assert batch_id is not None
            db.execute(f"UPDATE records SET batch = ? WHERE batch IS NULL AND id <= ?{only}", (batch_id, last, *params))
        self._tree_cache = (batch_id, tree)
        return Batch(batch_id, tree.root, chains)

    def release(self, batch_id: int) -> None:
        """Nothing to release: processes sharing a SQLite outbox do not claim batches."""

    def tree(self, batch_id: int) -> MerkleTree:
        if self._tree_cache and self._tree_cache[0] == batch_id:
            return self._tree_cache[1]
        digests = [r[0] for r in self._db.execute("SELECT digest FROM records WHERE batch = ?", (batch_id,))]
        tree = MerkleTree(digests)
        self._tree_cache = (batch_id, tree)
        return tree

    def anchors(self, batch_id: int) -> dict[str, AnchorReceipt]:
        rows = self._db.execute("SELECT chain, receipt FROM anchors WHERE batch = ?", (batch_id,))
        return {chain: AnchorReceipt.model_validate_json(receipt) for chain, receipt in rows}

    def add_anchor(self, batch_id: int, chain: str, receipt: AnchorReceipt) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO anchors(batch, chain, receipt) VALUES (?, ?, ?)",
                (batch_id, chain, receipt.model_dump_json(exclude_none=True)),
            )

    def pending_anchors(self) -> list[PendingAnchor]:
        rows = self._db.execute(
            "SELECT b.id, b.root, b.chains, a.chain, a.receipt FROM anchors a JOIN batches b ON a.batch = b.id "
            "WHERE json_extract(a.receipt, '$.status') = 'pending' ORDER BY b.id, a.chain"
        ).fetchall()
        return [PendingAnchor(Batch(r[0], r[1], json.loads(r[2])), r[3], AnchorReceipt.model_validate_json(r[4])) for r in rows]

    def replace_anchor(self, batch_id: int, chain: str, receipt: AnchorReceipt) -> None:
        with self._write() as db:
            db.execute("UPDATE anchors SET receipt = ? WHERE batch = ? AND chain = ?",
                       (receipt.model_dump_json(exclude_none=True), batch_id, chain))

    def batch_records(self, batch_id: int, *, with_bundle_path_only: bool = False) -> Iterator[StoredRecord]:
        sql = "SELECT digest, record, bundle_path FROM records WHERE batch = ?"
        if with_bundle_path_only:
            sql += " AND bundle_path IS NOT NULL"
        for digest, record, bundle_path in self._db.execute(sql + " ORDER BY id", (batch_id,)):
            yield StoredRecord(digest, record, bundle_path)

    def drop_chain(self, chain: str) -> None:
        """Stop open batches from waiting for ``chain``; a batch keeps at least one chain."""
        with self._write() as db:
            for batch_id, chains_json in db.execute("SELECT id, chains FROM batches WHERE done = 0").fetchall():
                if (remaining := chains_without(batch_id, chains_json, chain)) is not None:
                    db.execute("UPDATE batches SET chains = ? WHERE id = ?", (remaining, batch_id))

    def finish_batch(self, batch_id: int) -> None:
        with self._write() as db:
            db.execute("UPDATE batches SET done = 1 WHERE id = ?", (batch_id,))

    # -- lookups ----------------------------------------------------------------------------

    def find(self, digest: bytes) -> tuple[StoredRecord, Batch | None, bool]:
        """A record by digest with its batch (None while pending) and whether that batch is done."""
        row = self._db.execute(
            "SELECT r.digest, r.record, r.bundle_path, b.id, b.root, b.chains, b.done "
            "FROM records r LEFT JOIN batches b ON r.batch = b.id WHERE r.digest = ?",
            (digest,),
        ).fetchone()
        if row is None:
            raise UsageError(f"record {to_0x(digest)} is not in the outbox {self.path}")
        stored = StoredRecord(row[0], row[1], row[2])
        if row[3] is None:
            return stored, None, False
        return stored, Batch(row[3], row[4], json.loads(row[5])), bool(row[6])

    def known(self, digests: list[bytes]) -> set[bytes]:
        found: set[bytes] = set()
        for i in range(0, len(digests), 500):  # SQLite's limit on bound parameters
            chunk = digests[i:i + 500]
            found.update(r[0] for r in self._db.execute(f"SELECT digest FROM records WHERE digest IN ({','.join('?' * len(chunk))})", chunk))
        return found

    def trace_digests(self, trace: str) -> list[bytes]:
        return [r[0] for r in self._db.execute("SELECT digest FROM records WHERE trace = ? ORDER BY seq", (trace,))]

    def search_traces(self, query: str = "", *, limit: int = SEARCH_LIMIT) -> list[ListedRecord]:
        record = "CASE WHEN record = '' THEN '{}' ELSE record END"  # a bare digest has no record
        rows = self._db.execute(
            "SELECT r.trace, r.seq, r.digest, r.record, COALESCE(b.done, 0) FROM records r LEFT JOIN batches b ON r.batch = b.id "
            "WHERE r.trace IN (SELECT trace FROM records WHERE ? = '' OR trace LIKE ? ESCAPE '\\' "
            f"OR json_extract({record}, '$.kind') = ? OR instr(json_extract({record}, '$.subjects'), ?) > 0 "
            "GROUP BY trace ORDER BY MAX(id) DESC LIMIT ?) ORDER BY r.trace, r.seq",
            (query, like_prefix(query), query, json.dumps(query.lower()), limit))
        return [ListedRecord(row[0], row[1], row[2], row[3], bool(row[4])) for row in rows]
