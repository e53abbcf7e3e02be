"""A small flushed trace on the local ledger, shared by the export tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from bctrace import Tracer


@pytest.fixture
def donation_trace(project: Path) -> list[Path]:
    """Three steps of one donation trace (anchored on the local ledger); their bundle files."""
    (project / "receipt.pdf").write_bytes(b"%PDF receipt")
    with Tracer.from_config() as tracer:
        trace = tracer.trace("donation-1")
        steps = [
            trace.record("donation", {"amount": "25", "currency": "EUR", "donor": {"name": "=HYPERLINK(1)"}}),
            trace.record("transfer", {"to": "field office", "tags": ["a", "b"]}),
            tracer.stamp(project / "receipt.pdf", trace="donation-1"),
        ]
        tracer.flush()
        paths = []
        for step in steps:
            path = project / "bundles" / f"{step.digest_hex}.bctrace.json"
            tracer.bundle(step.digest).write(path)
            paths.append(path)
    return paths
