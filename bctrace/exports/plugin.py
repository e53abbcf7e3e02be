"""Built-in plugin: the export formats bctrace ships (imported only when used)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bctrace.api import hookimpl

if TYPE_CHECKING:  # the registry's module loads pydantic: not needed to register (`bctrace --help`)
    from bctrace.api import ExporterRegistry


@hookimpl
def bctrace_register_exporters(registry: ExporterRegistry) -> None:
    registry.add("csv", "one row per record (trace, step, kind, digest, subjects, body fields, anchors) for spreadsheets",
                 "bctrace.exports.tables:export_csv")
    registry.add("jsonl", "the same rows as csv, one JSON object per line, values keeping their JSON types",
                 "bctrace.exports.tables:export_jsonl")
    registry.add("in-toto", "an in-toto Statement v1 per record (ML runs: SLSA Provenance v1); --sign wraps each in a DSSE envelope",
                 "bctrace.exports.intoto:export_in_toto", extra="export")
    registry.add("prov", "W3C PROV of each trace: records, steps, subjects, agents, anchors, wasDerivedFrom along the hash chain "
                 "(--option serialization=json|provn)", "bctrace.exports.prov:export_prov", extra="export")
