"""Pending anchors in the core (with the in-memory mock chain): flush writes bundles with the
pending anchor, verify shows it as ``pending`` and counts it toward no policy, ``upgrade`` stores
the confirmed receipt and rewrites the bundles, and a chain that cannot be asked leaves it pending
without stopping a flush."""

from __future__ import annotations

import json

import pytest

from bctrace import Tracer
from bctrace.errors import PolicyNotMet
from mock_chain import MockBackend

CONFIG = """
default_chains = ["slow", "fast"]
[chains.slow]
backend = "mock"
chain_id = 7
pending = true
[chains.fast]
backend = "mock"
chain_id = 8
"""


@pytest.fixture
def tracer(project):
    MockBackend.reset()
    (project / "bctrace.toml").write_text(CONFIG)
    with Tracer.from_config() as t:
        yield t
    MockBackend.reset()


def _anchors(path):
    return {a["chain"]: a for a in json.loads(path.read_text())["anchors"]}


def test_pending_anchor_counts_toward_no_policy_until_upgraded(tracer, project):
    (project / "a.txt").write_text("a")
    tracer.stamp(project / "a.txt")
    [bundle_path] = tracer.flush().bundles
    assert _anchors(bundle_path)["slow"]["status"] == "pending"

    with pytest.raises(PolicyNotMet, match=r"1 of 2 distinct chains verified, policy 'all' needs 2: slow: pending \(anchor pending since") as err:
        tracer.verify(bundle_path)
    assert err.value.exit_code == 1
    report = tracer.verify(bundle_path, policy=1)
    assert {c.chain: c.status for c in report.chains} == {"slow": "pending", "fast": "verified"}
    with pytest.raises(PolicyNotMet):
        tracer.verify(bundle_path, policy="any", chains=["slow"])

    early = tracer.upgrade()
    assert (early.upgraded, len(early.pending), early.bundles) == ([], 1, [])
    MockBackend.confirm(bytes.fromhex(report.root[2:]))
    done = tracer.upgrade()
    assert [u["chain"] for u in done.upgraded] == ["slow"] and done.bundles == [bundle_path]
    assert "status" not in _anchors(bundle_path)["slow"]
    assert tracer.outbox.pending_anchors() == []
    tracer._verify_cache.clear()
    assert tracer.verify(bundle_path).ok
    assert tracer.bundle(report.digest).anchors[0].status is None


def test_an_upgrade_that_cannot_ask_leaves_the_anchor_pending_and_flush_goes_on(tracer, project):
    tracer.record("text", {"n": 1}, bundle_path=project / "one.bctrace.json")
    tracer.flush()
    MockBackend.upgrade_fails = True
    tracer.record("text", {"n": 2}, bundle_path=project / "two.bctrace.json")
    result = tracer.flush()
    assert result.records == 1 and result.upgrade is not None
    assert result.notes == ["batch 1: chain 'slow': mock chain cannot be asked"]
    assert len(tracer.outbox.pending_anchors()) == 2


def test_the_outbox_is_asked_for_pending_anchors_only_when_a_chain_makes_them(project, monkeypatch):
    """A flush with chains that never make pending anchors costs no extra query."""
    from bctrace._internal.outbox import SQLiteOutbox

    def refuse(self):
        raise AssertionError("pending_anchors asked")

    monkeypatch.setattr(SQLiteOutbox, "pending_anchors", refuse)
    (project / "bctrace.toml").write_text('default_chains = ["local"]\n[chains.local]\nbackend = "local"\n')
    with Tracer.from_config() as t:
        t.record("text", {"n": 1})
        assert t.flush().records == 1 and t.pending_anchors() == []
