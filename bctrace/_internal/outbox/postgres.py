"""The PostgreSQL outbox: one database shared by several anchoring processes (the service).

Same tables and crash guarantees as the SQLite outbox (see :mod:`.base`), plus **claims**, so
that processes sharing the database never work on the same batch at once:

- a new batch takes the pending records with ``SELECT ... FOR UPDATE SKIP LOCKED`` in the
  transaction that stores its root, so two processes batching at once take disjoint records;
- the process working on a batch holds a session-level advisory lock on its id. PostgreSQL
  ends the lock with the session: when the process exits, is killed (SIGKILL closes its socket
  and the server ends the session at once) or loses the network (after the TCP keepalive set
  below), another process's ``next_batch`` claims the batch and resumes it with the same root.

Schema changes are numbered SQL files in ``migrations/``, applied in order, each in the one
transaction that records its number in ``bctrace_migrations``, under a transaction advisory
lock so that processes starting together migrate once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

import psycopg

from ...errors import OutboxError, OutboxUnreachable, UsageError
from ..bundle import AnchorReceipt
from ..hexutil import to_0x
from ..merkle import MerkleTree
from .base import SEARCH_LIMIT, Batch, BuildStep, ListedRecord, Outbox, PendingAnchor, StoredRecord, already_stored, chains_without, like_prefix

LOCK_CLASS_TRACE = 0x6274_0001
"""Advisory lock namespace (first key) of a trace's hash chain: one writer per trace at a time."""
LOCK_CLASS_BATCH = 0x6274_0002
"""Advisory lock namespace of batch claims (second key: the batch id)."""
LOCK_MIGRATE = 0x6274_0003


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unreadable URL)"
    user = f"{info['user']}@" if info.get("user") else ""
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{user}{info.get('host', '')}{port}/{info.get('dbname', '')}"


def migrations() -> list[tuple[int, str, str]]:
    """``(number, name, sql)`` of every migration file, in order."""
    found = []
    for entry in resources.files(__package__).joinpath("migrations").iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text("utf-8")))
    return sorted(found)


def migrate(conn: psycopg.Connection[Any]) -> list[str]:
    """Apply the migrations this database lacks; returns the names applied."""
    applied: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_MIGRATE,))
        conn.execute("CREATE TABLE IF NOT EXISTS bctrace_migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                     "applied TIMESTAMPTZ NOT NULL DEFAULT now())")
        done = {row[0] for row in conn.execute("SELECT version FROM bctrace_migrations")}
        for number, name, sql in migrations():
            if number in done:
                continue
            with conn.transaction():
                conn.execute(sql.encode())  # a file holds several statements: sent unparameterised
                conn.execute("INSERT INTO bctrace_migrations(version, name) VALUES (%s, %s)", (number, name))
            applied.append(name)
    return applied


def connect(url: str, *, what: str = "outbox") -> psycopg.Connection[Any]:
    """An autocommit connection with keepalives on both ends, or one OutboxError line."""
    try:
        # TCP keepalive on both ends: a vanished peer ends the session (and its claims) in ~60 s.
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10, keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3)
        conn.execute("SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3")
    except psycopg.Error as err:
        raise (OutboxError if _server_answered(err) else OutboxUnreachable)(f"{what} {redact(url)} cannot be opened: {_one_line(err)}") from err
    return conn


def _server_answered(err: psycopg.Error) -> bool:
    """Whether a failed connect reached a server that refused us (no such database, bad
    password: a configuration mistake) rather than none answering (refused, timed out: the
    network). libpq gives no code for either; a server's refusal carries its severity, which
    libpq writes as ``FATAL:`` (servers set to another message language translate it: then the
    failure counts as the network's)."""
    return err.pgconn is not None and b"FATAL:" in (err.pgconn.error_message or b"")


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


class PostgresOutbox(Outbox):
    """The outbox in a PostgreSQL database (``outbox = "postgresql://..."``). One instance is
    one connection; use one instance per thread (a transaction belongs to its connection)."""

    def __init__(self, url: str) -> None:
        self.location = redact(url)
        self._conn = connect(url)
        try:
            migrate(self._conn)
        except psycopg.Error as err:
            self._conn.close()
            raise OutboxError(f"outbox {self.location} cannot be migrated: {_one_line(err)}") from err
        self._claimed: set[int] = set()
        self._in_group = False
        self._group_heads: dict[str, tuple[int, bytes]] = {}
        """Inside ``group``: the last step of each trace appended to (its lock is held)."""
        self._buffer: dict[bytes, tuple[str, int, str, str | None]] = {}
        """Inside ``group``: the records to insert when it ends, by digest."""
        self._lock = threading.RLock()

    def close(self) -> None:
        """Release this session's claims (at once: the server would end them only when it has
        noticed the session is gone), then close."""
        if not self._conn.closed:
            try:
                with self._lock:
                    self._conn.execute("SELECT pg_advisory_unlock_all()")
            except psycopg.Error:
                pass  # the connection is gone already: so are its claims
            self._conn.close()
        self._claimed.clear()

    # -- transactions -----------------------------------------------------------------------

    @contextmanager
    def _db_errors(self) -> Iterator[None]:
        try:
            yield
        except UsageError:
            raise
        except psycopg.Error as err:
            raise OutboxError(f"outbox {self.location}: {_one_line(err)}") from err

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction, or (inside ``group``) the group's transaction. No statement here
        fails on bad input (duplicates are ``ON CONFLICT DO NOTHING``), so a refused record
        never aborts the group's transaction and needs no savepoint."""
        if self._in_group:
            with self._lock, self._db_errors():
                yield self._conn
            return
        with self._lock, self._db_errors(), self._conn.transaction():
            yield self._conn

    @contextmanager
    def group(self) -> Iterator[None]:
        """As the interface says, with one difference: the group's records are sent as one
        multi-row INSERT when it ends (one round trip for thousands of records), so a digest
        already in the database is reported (UsageError) when the group ends, after the others
        are committed; one repeated inside the group is refused at once, as in SQLite."""
        if self._in_group:
            yield
            return
        with self._lock:
            failure: BaseException | None = None
            with self._db_errors(), self._conn.transaction():
                self._in_group = True
                try:
                    yield
                except psycopg.Error:
                    raise  # the transaction is unusable: roll it back
                except BaseException as err:
                    failure = err  # keep what was recorded: commit, then let the exception go on
                finally:
                    self._in_group = False
                    self._group_heads.clear()
                refused = self._insert_buffered()
            if failure is not None:
                raise failure
            if refused:
                raise UsageError(f"{already_stored(refused[0])}; {len(refused)} record(s) of the group were refused, the others are stored")

    def _insert_buffered(self) -> list[bytes]:
        """Insert the group's records in one statement; returns the digests refused as duplicates."""
        rows, self._buffer = self._buffer, {}
        if not rows:
            return []
        columns = list(zip(*[(d, *rest) for d, rest in rows.items()], strict=True))
        inserted = {bytes(r[0]) for r in self._conn.execute(
            "INSERT INTO bctrace_records(digest, trace, seq, record, bundle_path) "
            "SELECT * FROM unnest(%s::bytea[], %s::text[], %s::int[], %s::text[], %s::text[]) "
            "ON CONFLICT (digest) DO NOTHING RETURNING digest", [list(c) for c in columns]).fetchall()}
        return [d for d in rows if d not in inserted]

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock, self._db_errors():
            return self._conn.execute(sql, params).fetchall()

    # -- recording --------------------------------------------------------------------------

    def append(self, trace: str, build: BuildStep, *, new_trace: bool = False) -> tuple[int, bytes]:
        with self._write() as db:
            head = self._group_heads.get(trace) if self._in_group else None
            if head is None and not new_trace:
                # The trace's lock is held until the transaction ends, so inside a group the
                # head read once stays true for every later step of that trace in the group.
                db.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_CLASS_TRACE, trace))
                row = db.execute("SELECT seq, digest FROM bctrace_records WHERE trace = %s ORDER BY seq DESC LIMIT 1",
                                 (trace,)).fetchone()
                head = None if row is None else (row[0], bytes(row[1]))
            seq, prev = (0, None) if head is None else (head[0] + 1, head[1])
            canonical, digest, bundle_path = build(seq, prev)
            if self._in_group:
                if digest in self._buffer:
                    raise UsageError(already_stored(digest))
                self._buffer[digest] = (trace, seq, canonical.decode("utf-8"), bundle_path)
                if not new_trace:
                    self._group_heads[trace] = (seq, digest)
                return seq, digest
            inserted = db.execute("INSERT INTO bctrace_records(digest, trace, seq, record, bundle_path) VALUES (%s, %s, %s, %s, %s) "
                                  "ON CONFLICT (digest) DO NOTHING RETURNING id",
                                  (digest, trace, seq, canonical.decode("utf-8"), bundle_path)).fetchone()
            if inserted is None:
                raise UsageError(already_stored(digest))
        return seq, digest

    def pending_count(self) -> int:
        return int(self._read("SELECT count(*) FROM bctrace_records WHERE batch IS NULL")[0][0])

    def open_batches(self) -> list[Batch]:
        return [_batch(r) for r in self._read("SELECT id, root, chains FROM bctrace_batches WHERE NOT done ORDER BY id")]

    # -- batching ---------------------------------------------------------------------------

    def next_batch(self, chains: list[str], *, one_trace: bool = False) -> Batch | None:
        with self._lock:
            for row in self._read("SELECT id, root, chains FROM bctrace_batches WHERE NOT done ORDER BY id"):
                if row[0] in self._claimed or self._claim(row[0]):
                    return _batch(row)
            return self._new_batch(chains, one_trace)

    def _claim(self, batch_id: int) -> bool:
        """Take the advisory lock of an open batch, if no live session holds it and the batch is
        still open once held (another process may have finished it since it was listed)."""
        if not self._read("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS_BATCH, batch_id))[0][0]:
            return False
        if self._read("SELECT done FROM bctrace_batches WHERE id = %s", (batch_id,))[0][0]:
            self._unlock(batch_id)
            return False
        self._claimed.add(batch_id)
        return True

    def _unlock(self, batch_id: int) -> None:
        self._read("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS_BATCH, batch_id))
        self._claimed.discard(batch_id)

    def _new_batch(self, chains: list[str], one_trace: bool) -> Batch | None:
        with self._write() as db:
            if one_trace:  # the trace of the oldest pending record nobody else is batching
                first = db.execute("SELECT trace FROM bctrace_records WHERE batch IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED").fetchone()
                if first is None:
                    return None
                rows = db.execute("SELECT id, digest FROM bctrace_records WHERE batch IS NULL AND trace = %s ORDER BY id FOR UPDATE SKIP LOCKED",
                                  (first[0],)).fetchall()
            else:
                rows = db.execute("SELECT id, digest FROM bctrace_records WHERE batch IS NULL ORDER BY id FOR UPDATE SKIP LOCKED").fetchall()
            if not rows:
                return None
            tree = MerkleTree([bytes(r[1]) for r in rows])
            (batch_id,) = db.execute("INSERT INTO bctrace_batches(root, chains, created) VALUES (%s, %s, %s) RETURNING id",
                                     (tree.root, json.dumps(chains), time.time())).fetchone()  # type: ignore[misc]
            db.execute("UPDATE bctrace_records SET batch = %s WHERE id = ANY(%s)", (batch_id, [r[0] for r in rows]))
            # A session lock taken inside the transaction outlives its commit: nobody else can
            # claim the batch between its creation and our first anchor.
            db.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_CLASS_BATCH, batch_id))
        self._claimed.add(batch_id)
        _remember_tree((self.location, batch_id), tree)
        return Batch(batch_id, tree.root, chains)

    def release(self, batch_id: int) -> None:
        if batch_id in self._claimed:
            self._unlock(batch_id)

    def tree(self, batch_id: int) -> MerkleTree:
        """A batch's records never change once it exists, so its tree is kept in a small cache
        shared by every connection of the process (the service's threads fetch bundles of the
        same few batches)."""
        key = (self.location, batch_id)
        with _TREES_LOCK:
            tree = _TREES.get(key)
            if tree is not None:
                _TREES.move_to_end(key)
                return tree
        tree = MerkleTree([bytes(r[0]) for r in self._read("SELECT digest FROM bctrace_records WHERE batch = %s ORDER BY id", (batch_id,))])
        _remember_tree(key, tree)
        return tree

    def anchors(self, batch_id: int) -> dict[str, AnchorReceipt]:
        rows = self._read("SELECT chain, receipt FROM bctrace_anchors WHERE batch = %s", (batch_id,))
        return {chain: AnchorReceipt.model_validate_json(receipt) for chain, receipt in rows}

    def add_anchor(self, batch_id: int, chain: str, receipt: AnchorReceipt) -> None:
        with self._write() as db:
            db.execute("INSERT INTO bctrace_anchors(batch, chain, receipt) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                       (batch_id, chain, receipt.model_dump_json(exclude_none=True)))

    def pending_anchors(self) -> list[PendingAnchor]:
        rows = self._read("SELECT b.id, b.root, b.chains, a.chain, a.receipt FROM bctrace_anchors a JOIN bctrace_batches b ON a.batch = b.id "
                          "WHERE a.receipt::jsonb ->> 'status' = 'pending' ORDER BY b.id, a.chain")
        return [PendingAnchor(_batch(r[:3]), r[3], AnchorReceipt.model_validate_json(r[4])) for r in rows]

    def replace_anchor(self, batch_id: int, chain: str, receipt: AnchorReceipt) -> None:
        with self._write() as db:
            db.execute("UPDATE bctrace_anchors SET receipt = %s WHERE batch = %s AND chain = %s",
                       (receipt.model_dump_json(exclude_none=True), batch_id, chain))

    def batch_records(self, batch_id: int, *, with_bundle_path_only: bool = False) -> Iterator[StoredRecord]:
        sql = "SELECT digest, record, bundle_path FROM bctrace_records WHERE batch = %s"
        if with_bundle_path_only:
            sql += " AND bundle_path IS NOT NULL"
        for digest, record, bundle_path in self._read(sql + " ORDER BY id", (batch_id,)):
            yield StoredRecord(bytes(digest), record, bundle_path)

    def drop_chain(self, chain: str) -> None:
        with self._write() as db:
            for batch_id, chains_json in db.execute("SELECT id, chains FROM bctrace_batches WHERE NOT done ORDER BY id FOR UPDATE").fetchall():
                if (remaining := chains_without(batch_id, chains_json, chain)) is not None:
                    db.execute("UPDATE bctrace_batches SET chains = %s WHERE id = %s", (remaining, batch_id))

    def finish_batch(self, batch_id: int) -> None:
        with self._write() as db:
            db.execute("UPDATE bctrace_batches SET done = TRUE WHERE id = %s", (batch_id,))
        self.release(batch_id)  # after the commit: whoever claims it next sees it done

    # -- lookups ----------------------------------------------------------------------------

    def find(self, digest: bytes) -> tuple[StoredRecord, Batch | None, bool]:
        rows = self._read(
            "SELECT r.digest, r.record, r.bundle_path, b.id, b.root, b.chains, b.done "
            "FROM bctrace_records r LEFT JOIN bctrace_batches b ON r.batch = b.id WHERE r.digest = %s", (digest,))
        if not rows:
            raise UsageError(f"record {to_0x(digest)} is not in the outbox {self.location}")
        row = rows[0]
        stored = StoredRecord(bytes(row[0]), row[1], row[2])
        if row[3] is None:
            return stored, None, False
        return stored, _batch(row[3:6]), bool(row[6])

    def known(self, digests: list[bytes]) -> set[bytes]:
        return {bytes(r[0]) for r in self._read("SELECT digest FROM bctrace_records WHERE digest = ANY(%s)", (digests,))}

    def trace_digests(self, trace: str) -> list[bytes]:
        return [bytes(r[0]) for r in self._read("SELECT digest FROM bctrace_records WHERE trace = %s ORDER BY seq", (trace,))]

    def search_traces(self, query: str = "", *, limit: int = SEARCH_LIMIT) -> list[ListedRecord]:
        record = "(CASE WHEN record = '' THEN '{}' ELSE record END)::jsonb"  # a bare digest has no record
        rows = self._read(
            "SELECT r.trace, r.seq, r.digest, r.record, COALESCE(b.done, FALSE) FROM bctrace_records r "
            "LEFT JOIN bctrace_batches b ON r.batch = b.id "
            "WHERE r.trace IN (SELECT trace FROM bctrace_records WHERE %s = '' OR trace LIKE %s ESCAPE '\\' "
            f"OR {record} ->> 'kind' = %s OR strpos(({record} -> 'subjects')::text, %s) > 0 "
            "GROUP BY trace ORDER BY MAX(id) DESC LIMIT %s) ORDER BY r.trace, r.seq",
            (query, like_prefix(query), query, json.dumps(query.lower()), limit))
        return [ListedRecord(row[0], row[1], bytes(row[2]), row[3], bool(row[4])) for row in rows]


_TREES: OrderedDict[tuple[str, int], MerkleTree] = OrderedDict()
_TREES_LOCK = threading.Lock()
TREES_KEPT = 16


def _remember_tree(key: tuple[str, int], tree: MerkleTree) -> None:
    with _TREES_LOCK:
        _TREES[key] = tree
        _TREES.move_to_end(key)
        while len(_TREES) > TREES_KEPT:
            _TREES.popitem(last=False)


def _batch(row: tuple[Any, ...]) -> Batch:
    return Batch(int(row[0]), bytes(row[1]), json.loads(row[2]))
