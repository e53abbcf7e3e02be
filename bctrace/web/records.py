"""Read-only views of a project's records for ``bctrace serve``: its traces with their kinds and
steps, searched by trace id, kind or subject hash (through the outbox's ``search_traces``, so
the SQLite and the PostgreSQL outbox both serve them)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .._internal.hexutil import to_0x
from .._internal.outbox import Outbox


@dataclass
class TraceSummary:
    trace: str
    kinds: list[str] = field(default_factory=list)
    steps: int = 0
    anchored: int = 0
    first_created: str = ""
    last_created: str = ""
    is_run: bool = False


def list_traces(outbox: Outbox, query: str = "") -> list[TraceSummary]:
    """The traces matching ``query`` (every trace when empty), newest first."""
    traces: dict[str, TraceSummary] = {}
    for listed in outbox.search_traces(query.strip()):
        record = json.loads(listed.record_json) if listed.record_json else {}  # a bare digest has no record
        summary = traces.setdefault(listed.trace, TraceSummary(listed.trace, first_created=str(record.get("created", ""))))
        summary.steps += 1
        summary.anchored += listed.anchored
        summary.last_created = str(record.get("created", ""))
        kind = str(record.get("kind", "digest"))
        if kind not in summary.kinds:
            summary.kinds.append(kind)
        summary.is_run = summary.is_run or kind == "ml-run"
    return sorted(traces.values(), key=lambda t: t.last_created, reverse=True)


def anchored_digests(outbox: Outbox, trace: str) -> list[str]:
    """The digests of a trace's anchored steps, in order (the ones that have bundles)."""
    return [to_0x(r.digest) for r in outbox.search_traces(trace) if r.trace == trace and r.anchored]
