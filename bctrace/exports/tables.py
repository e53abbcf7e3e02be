"""Flat tables of records for spreadsheets and data tools: one row per record, ordered by trace
and step. Body fields become columns (``body.amount``; nested objects dotted, lists as JSON
text), subjects and anchors are summed up in one cell each, so a row stands on its own.

A bundle may come from anyone: a CSV cell that a spreadsheet would run as a formula (starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, and not a number) is written with a
leading ``'`` (OWASP's advice on CSV injection); the JSONL rows keep every value as it is.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from bctrace.api import ExportedFile, ExportRequest, ProofBundle

FIXED = ["trace", "seq", "kind", "digest", "prev", "created", "author", "signed", "subjects", "merkle_root", "anchors"]


def rows(bundles: Sequence[ProofBundle]) -> list[dict[str, Any]]:
    """One flat row per record, ordered by trace and step."""
    out = []
    for b in bundles:
        r = b.record
        row: dict[str, Any] = {
            "trace": r.get("trace"), "seq": r.get("seq", 0), "kind": r.get("kind"), "digest": b.digest,
            "prev": r.get("prev"), "created": r.get("created"), "author": r.get("author"),
            "signed": "signature" in r,
            "subjects": "; ".join(f"{s.get('name')} sha256:{s.get('sha256')}" for s in r.get("subjects", [])),
            "merkle_root": b.merkle.root,
            "anchors": "; ".join(f"{a.chain} (chain id {a.chain_id}) block {a.block} tx {a.tx}" for a in b.anchors),
        }
        _flatten(r.get("body", {}), "body", row)
        out.append(row)
    return sorted(out, key=lambda row: (str(row["trace"]), row["seq"] if isinstance(row["seq"], int) else 0))


def _flatten(value: dict[str, Any], prefix: str, into: dict[str, Any]) -> None:
    for key, item in value.items():
        name = f"{prefix}.{key}"
        if isinstance(item, dict) and item:
            _flatten(item, name, into)
        elif isinstance(item, (dict, list)):
            into[name] = json.dumps(item, ensure_ascii=False, sort_keys=True)
        else:
            into[name] = item


def columns(table: list[dict[str, Any]]) -> list[str]:
    extra = sorted({k for row in table for k in row} - set(FIXED))
    return FIXED + extra


def export_csv(request: ExportRequest) -> list[ExportedFile]:
    table = rows(request.bundles)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns(table), lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return [ExportedFile("records.csv", buf.getvalue().encode("utf-8"))]


def export_jsonl(request: ExportRequest) -> list[ExportedFile]:
    lines = [json.dumps(row, ensure_ascii=False) for row in rows(request.bundles)]
    return [ExportedFile("records.jsonl", ("\n".join(lines) + "\n").encode("utf-8"))]


def _cell(value: Any) -> Any:
    """A value as a CSV cell: booleans as true/false, formula-looking text defused."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
