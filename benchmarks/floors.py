"""The bare cost of what each targeted operation must do, measured in the same run: floors.

A target set above its floor cannot be met on this machine by any code, so every floor row sits
beside its target and says how far the target is from the machine's limit. Each floor does only
the unavoidable work with the fastest library at hand and nothing else (no models, no checks,
no error handling): what bctrace would cost if all of its own Python vanished.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .measure import CPU, WALL, Row, timed


def _c_encoder() -> Any:
    """The standard library's C JSON encoder in RFC 8785's spelling for plain records (sorted
    keys, no spaces, UTF-8), built once: ``json.dumps`` runs the same C code but builds the
    encoder on every call, which costs a quarter of a small record's encoding, so it is no floor."""
    from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]

    if c_make_encoder is None:  # pragma: no cover - CPython without its _json accelerator
        return lambda value: [json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)]
    return c_make_encoder(None, None, encode_basestring, None, ":", ",", True, False, False)


_ENCODER = _c_encoder()


def _canonical(value: dict[str, Any]) -> bytes:
    return "".join(_ENCODER(value, 0)).encode()


def offline_check(record: dict[str, Any], levels: int, n: int, repeat: int) -> float:
    """Checks/s (CPU) of the bare work of one offline check: the C JSON encoding of the record, one
    sha256 of its bytes, 2 keccak256 for the OpenZeppelin leaf and ``levels`` for the proof."""
    import sha3

    k = sha3.keccak_256
    nodes = [os.urandom(64)] * levels

    def checks() -> None:
        for _ in range(n):
            digest = hashlib.sha256(_canonical(record)).digest()
            k(k(digest).digest()).digest()
            for node in nodes:
                k(node).digest()

    return n / timed(checks, repeat, CPU)


def canonical_step(records: list[dict[str, Any]]) -> float:
    """Records/s (CPU) of the C JSON encoding + sha256 per record: the floor of record()'s own work."""
    return len(records) / timed(lambda: [hashlib.sha256(_canonical(r)).digest() for r in records], 1, CPU)


Rows = list[tuple[bytes, str, int, str, None]]
"""Outbox rows: digest, trace, seq, canonical JSON, bundle path."""


def outbox_rows(records: list[dict[str, Any]]) -> Rows:
    """The rows the outbox stores for ``records`` (digest, trace, seq, canonical JSON, no bundle
    path), one trace as ``tracer.batch()`` writes them."""
    trace = os.urandom(16).hex()
    rows = []
    for seq, r in enumerate(records):
        text = _canonical(r)
        rows.append((hashlib.sha256(text).digest(), trace, seq, text.decode(), None))
    return rows


def _outbox_db(folder: str, synchronous: str) -> sqlite3.Connection:
    """A fresh database with the outbox's schema, indexes and pragmas (WAL; the outbox's
    ``synchronous`` is NORMAL)."""
    from bctrace._internal.outbox.sqlite import _SCHEMA

    db = sqlite3.connect(Path(folder) / "floor.sqlite", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.executescript(_SCHEMA)
    return db


_INSERT = "INSERT INTO records(digest, trace, seq, record, bundle_path) VALUES (?, ?, ?, ?, ?)"


def _rows_per_second(rows: Rows, write: Callable[[sqlite3.Connection, Rows], None], synchronous: str = "NORMAL") -> float:
    """Rows/s (wall) of ``write`` storing ``rows`` into a fresh outbox database."""
    with tempfile.TemporaryDirectory(prefix="bctrace-floor-") as tmp:
        db = _outbox_db(tmp, synchronous)
        start = WALL()
        write(db, rows)
        took = WALL() - start
        db.close()
    return len(rows) / took


def _one_transaction(db: sqlite3.Connection, rows: Rows) -> None:
    db.execute("BEGIN IMMEDIATE")
    db.executemany(_INSERT, rows)
    db.execute("COMMIT")


def _commit_groups(size: int) -> Callable[[sqlite3.Connection, Rows], None]:
    """Insert ``rows`` committing every ``size`` of them (1: each on its own)."""
    def write(db: sqlite3.Connection, rows: Rows) -> None:
        for start in range(0, len(rows), size):
            db.execute("BEGIN IMMEDIATE")
            db.executemany(_INSERT, rows[start : start + size])
            db.execute("COMMIT")

    return write


def storage_step(rows: Rows) -> float:
    """Rows/s of one ``executemany`` of ``rows`` in one transaction: the floor of storing a batch."""
    return _rows_per_second(rows, _one_transaction)


def commit_per_row(rows: Rows, synchronous: str = "NORMAL", *, rows_per_commit: int = 1) -> float:
    """Rows/s of one thread inserting and committing each row on its own: the floor of a
    durable record() without group commit. With WAL and ``synchronous=NORMAL`` (the outbox's
    setting) a commit writes the WAL but does not fsync; ``FULL`` fsyncs every commit.
    ``rows_per_commit=k``: k rows per commit, the best group commit can do for k threads that
    each wait for their record before writing the next."""
    return _rows_per_second(rows, _commit_groups(rows_per_commit), synchronous)


def record_floor(records: list[dict[str, Any]]) -> dict[str, float]:
    """Canonical step, storage step, and both in sequence (records/s): the floor of record()."""
    canon = canonical_step(records)
    store = storage_step(outbox_rows(records))
    return {"canonical": canon, "storage": store, "both": 1 / (1 / canon + 1 / store)}


def target_note(target: float, floor: float, unit: str) -> str:
    """Where a target stands against its floor, in words."""
    where = ("above the floor measured in this run: no code could meet it under this run's load" if target > floor
             else "below the floor: reachable in principle")
    return f"target {target:,.0f} {unit} = {target / floor:.2f}× the floor ({where})"


def record_floor_rows(suite: str, case: str, value: float, floor: dict[str, float], n: int, *,
                      target: float | None = None, extra: str = "") -> list[Row]:
    """Each step's floor as its own row, then ``value`` (bctrace's rate) beside the two steps
    together, with where ``target`` stands against that floor."""
    note = "what record() cannot avoid: canonical bytes, their digest, one stored row"
    if target is not None:
        note += "; " + target_note(target, floor["both"], "records/s")
    return [
        Row(suite, f"floor: storage step, sqlite3 executemany of {n:,} outbox rows", floor["storage"], "rows/s",
            note="the outbox's schema and indexes, one transaction, WAL, synchronous=NORMAL"),
        Row(suite, f"floor: canonical step, C JSON encoder + sha256 of {n:,} records", floor["canonical"], "records/s"),
        Row(suite, case, value, "records/s", "floor: canonical + storage steps", floor["both"], note=note + (f"; {extra}" if extra else "")),
    ]
