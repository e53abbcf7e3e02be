"""Read-only views of a project's records for ``bctrace serve``: traces with their kinds and
steps, searched by trace id, kind or subject hash.

Reads the outbox's SQLite file through a separate read-only connection (``mode=ro``), so serving
can never change the project, and a running ``flush`` is never blocked by a page view.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from .._internal.hexutil import to_0x
from .._internal.outbox import OUTBOX_FILE

MAX_LISTED = 500
"""Most traces one page lists (newest first); a search narrows further."""


@dataclass
class TraceSummary:
    trace: str
    kinds: list[str] = field(default_factory=list)
    steps: int = 0
    anchored: int = 0
    first_created: str = ""
    last_created: str = ""
    is_run: bool = False


def _connect(state_dir: Path) -> sqlite3.Connection | None:
    path = state_dir / OUTBOX_FILE
    if not path.exists():
        return None
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)


def list_traces(state_dir: Path, query: str = "") -> list[TraceSummary]:
    """Traces whose id starts with ``query``, or with a step of kind ``query``, or whose records
    name ``query`` (a subject's ``0x`` sha256); every trace when ``query`` is empty."""
    db = _connect(state_dir)
    if db is None:
        return []
    query = query.strip()
    try:
        sql = ("SELECT r.trace, r.seq, r.record, b.done FROM records r LEFT JOIN batches b ON r.batch = b.id "
               "WHERE r.trace IN (SELECT trace FROM records WHERE ? = '' OR trace LIKE ? ESCAPE '\\' "
               "OR json_extract(record, '$.kind') = ? OR instr(json_extract(record, '$.subjects'), ?) > 0) "
               "ORDER BY r.trace, r.seq")
        like = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = db.execute(sql, (query, like, query, json.dumps(query.lower()) if query else "")).fetchall()
    finally:
        db.close()
    traces: dict[str, TraceSummary] = {}
    for trace, _seq, record_json, done in rows:
        record = json.loads(record_json)
        summary = traces.setdefault(trace, TraceSummary(trace, first_created=record.get("created", "")))
        summary.steps += 1
        summary.anchored += bool(done)
        summary.last_created = record.get("created", "")
        if record.get("kind") not in summary.kinds:
            summary.kinds.append(record.get("kind"))
        summary.is_run = summary.is_run or record.get("kind") == "ml-run"
    newest = sorted(traces.values(), key=lambda t: t.last_created, reverse=True)
    return newest[:MAX_LISTED]


def anchored_digests(state_dir: Path, trace: str) -> list[str]:
    """The digests of a trace's anchored steps, in order (the ones that have bundles)."""
    db = _connect(state_dir)
    if db is None:
        return []
    try:
        rows = db.execute("SELECT r.digest FROM records r JOIN batches b ON r.batch = b.id WHERE r.trace = ? AND b.done = 1 ORDER BY r.seq",
                          (trace,)).fetchall()
    finally:
        db.close()
    return [to_0x(row[0]) for row in rows]
