import json
from pathlib import Path

import pytest

from bctrace import ProofBundle, Tracer
from bctrace.errors import (
    AnchorFailed,
    ChainsFailed,
    ConfigError,
    DigestMismatch,
    PolicyNotMet,
    ProofInvalid,
    SubjectMismatch,
    TraceBroken,
    UsageError,
)
from mock_chain import MockBackend


@pytest.fixture(autouse=True)
def _fresh_mock():
    MockBackend.reset()
    yield
    MockBackend.reset()


def write_config(folder: Path, text: str) -> Path:
    path = folder / "bctrace.toml"
    path.write_text(text)
    return path


TWO_MOCKS = """
[chains.alpha]
backend = "mock"
chain_id = 1
[chains.beta]
backend = "mock"
chain_id = 2
"""


def test_default_is_local_ledger_in_project(project):
    with Tracer.from_config() as t:
        assert list(t.config.chains) == ["local"]
        rec = t.record("text", {"hello": "world"})
        result = t.flush()
        assert result.records == 1
        bundle = t.bundle(rec.digest)
        report = t.verify(bundle)
        assert report.ok and report.chains[0].chain == "local"
    assert (project / ".bctrace" / "ledger.jsonl").exists()


def test_one_flush_is_one_anchor_per_chain(project):
    write_config(project, TWO_MOCKS)
    with Tracer.from_config() as t:
        digests = [t.record("n", {"i": i}).digest for i in range(50)]
        result = t.flush()
        assert len(result.batches) == 1 and result.records == 50
        assert [a["chain"] for a in result.batches[0]["anchors"]] == ["alpha", "beta"]
        assert t.backend("alpha").head() == 1 and t.backend("beta").head() == 1
        for d in digests[::7]:
            assert t.verify(t.bundle(d)).verified_count == 2


def test_failed_chain_keeps_records_and_next_flush_completes(project):
    write_config(project, TWO_MOCKS)
    with Tracer.from_config() as t:
        rec = t.record("n", {"x": 1})
        MockBackend.fail_next.add("beta")
        with pytest.raises(AnchorFailed, match="beta"):
            t.flush()
        (batch,) = t.outbox.open_batches()
        assert list(t.outbox.anchors(batch.id)) == ["alpha"]
        with pytest.raises(UsageError, match="not anchored yet"):
            t.bundle(rec.digest)
        later = t.record("n", {"x": 2})
        result = t.flush()
        # the open batch is finished first (same root), then the later record gets its own batch
        assert [b["records"] for b in result.batches] == [1, 1]
        assert t.backend("alpha").head() == 2  # alpha was not anchored twice for batch 1
        assert t.verify(t.bundle(rec.digest)).ok and t.verify(t.bundle(later.digest)).ok


def test_policy_all_any_k(project):
    write_config(project, TWO_MOCKS + '[chains.gamma]\nbackend = "mock"\nchain_id = 3\n')
    with Tracer.from_config() as t:
        rec = t.record("n", {})
        t.flush()
        bundle = t.bundle(rec.digest)
        MockBackend._chains["gamma"].clear()  # gamma "forgets" the anchor
        with pytest.raises(PolicyNotMet, match="gamma: missing") as err:
            t.verify(bundle)
        assert err.value.exit_code == 1
        assert t.verify(bundle, policy="any").ok
        assert t.verify(bundle, policy=2).ok
        with pytest.raises(PolicyNotMet, match="needs 3"):
            t.verify(bundle, policy=3)
        report = t.verify(bundle, raise_on_failure=False)
        assert [c.status for c in report.chains] == ["verified", "verified", "missing"]


def test_chain_id_mismatch_is_reported(project):
    cfg = write_config(project, TWO_MOCKS)
    with Tracer.from_config() as t:
        rec = t.record("n", {})
        t.flush()
        bundle = t.bundle(rec.digest)
    cfg.write_text(TWO_MOCKS.replace("chain_id = 2", "chain_id = 99"))
    with Tracer.from_config() as t:
        report = t.verify(bundle, raise_on_failure=False)
        beta = report.chains[1]
        assert beta.status == "mismatch" and "99" in beta.reason


def test_tampered_bundles_fail_offline(project):
    with Tracer.from_config() as t:
        recs = [t.record("n", {"i": i}) for i in range(3)]
        t.flush()
        bundle = t.bundle(recs[1].digest)
        data = bundle.model_dump(mode="json")
        edited = json.loads(json.dumps(data))
        edited["record"]["body"]["i"] = 2
        with pytest.raises(DigestMismatch, match="record edited"):
            t.verify(ProofBundle.model_validate(edited))
        edited = json.loads(json.dumps(data))
        edited["merkle"]["proof"][0] = "0x" + "00" * 32
        with pytest.raises(ProofInvalid, match="proof"):
            t.verify(ProofBundle.model_validate(edited))


def test_traces_are_hash_chained(project):
    with Tracer.from_config() as t:
        trace = t.trace("shipment-7")
        steps = [trace.record("supply-step", {"lot": "shipment-7", "location": place}) for place in ("farm", "port", "shop")]
        assert [s.record.seq for s in steps] == [0, 1, 2]
        assert steps[0].record.prev is None
        assert steps[1].record.prev == steps[0].digest_hex and steps[2].record.prev == steps[1].digest_hex
        t.flush()
        bundles = [t.bundle(s.digest) for s in steps]
        t.verify_trace(bundles)
        with pytest.raises(TraceBroken, match="step 1 is missing"):
            t.verify_trace([bundles[0], bundles[2]])
        with pytest.raises(TraceBroken, match="step 0 is missing"):
            t.verify_trace(bundles[1:])
        from bctrace._internal.verify import verify_trace

        verify_trace(bundles[1:], from_start=False)  # a consecutive part of a trace is fine
        with pytest.raises(TraceBroken, match="step 1 is missing"):
            verify_trace([bundles[0], bundles[2]], from_start=False)


def test_trace_continues_across_tracers(project):
    with Tracer.from_config() as t:
        first = t.record("x", {}, trace="T")
    with Tracer.from_config() as t:
        second = t.record("x", {}, trace="T")
    assert second.record.seq == 1 and second.record.prev == first.digest_hex


def test_same_content_twice_in_one_trace_gives_distinct_steps(project):
    from datetime import datetime, timezone

    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with Tracer.from_config() as t:
        a = t.record("x", {"a": 1}, trace="T1", created=when)
        b = t.record("x", {"a": 1}, trace="T1", created=when)
        assert a.digest != b.digest and b.record.seq == 1


def test_stamp_file_and_folder_and_detect_changes(project):
    (project / "data").mkdir()
    for i in range(3):
        (project / "data" / f"{i}.csv").write_text(f"row,{i}\n")
    (project / "a.txt").write_text("hello")
    with Tracer.from_config() as t:
        t.stamp("a.txt")
        t.stamp("data")
        t.flush()
        assert (project / "a.txt.bctrace.json").exists() and (project / "data.bctrace.json").exists()
        assert t.verify("a.txt").ok and t.verify("data").ok
        (project / "data" / "1.csv").write_text("row,X\n")
        with pytest.raises(SubjectMismatch, match="1.csv"):
            t.verify("data")
        (project / "a.txt").write_text("hellp")
        with pytest.raises(SubjectMismatch, match="a.txt changed"):
            t.verify("a.txt")


def test_bundle_dir_config_writes_every_bundle(project):
    write_config(project, 'bundle_dir = "out"\n')
    with Tracer.from_config() as t:
        rec = t.record("n", {})
        t.flush()
    assert (project / "out" / f"{rec.digest_hex}.bctrace.json").exists()


def test_batch_groups_records_in_one_transaction(project):
    with Tracer.from_config() as t:
        with pytest.raises(RuntimeError):
            with t.batch():
                t.record("n", {"i": 1})
                t.record("n", {"i": 2})
                raise RuntimeError("boom")
        assert t.outbox.pending_count() == 2  # what was recorded is kept


def test_unknown_flush_chain_is_a_config_error(project):
    with Tracer.from_config() as t:
        t.record("n", {})
        with pytest.raises(ConfigError, match="nope"):
            t.flush(["nope"])
        assert t.outbox.pending_count() == 1


def test_import_bctrace_pulls_no_chain_library():
    import subprocess
    import sys

    code = "import sys, bctrace; from bctrace import Tracer; print([m for m in ('web3', 'eth_account', 'httpx', 'torch') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_several_failed_chains_are_all_named(project):
    write_config(project, TWO_MOCKS.replace('chain_id = 1\n', 'chain_id = 1\nfail = true\n').replace('chain_id = 2\n', 'chain_id = 2\nfail = true\n'))
    with Tracer.from_config() as t:
        t.record("n", {})
        with pytest.raises(ChainsFailed, match="chain 'alpha': .*; chain 'beta': ") as err:
            t.flush()
        assert err.value.exit_code == 3
        assert t.outbox.open_batches()[0].chains == ["alpha", "beta"]


def test_a_chain_removed_from_the_config_can_be_dropped_from_waiting_batches(project, cli):
    write_config(project, TWO_MOCKS)
    with Tracer.from_config() as t:
        rec = t.record("n", {})
        MockBackend.fail_next.add("beta")
        with pytest.raises(AnchorFailed):
            t.flush()
    write_config(project, TWO_MOCKS.split("[chains.beta]")[0])
    stuck = cli("flush")
    assert stuck.exit_code == 2 and "waits for chain 'beta', which is no longer configured" in stuck.output
    assert "--drop-chain beta" in stuck.output
    done = cli("flush", "--drop-chain", "beta", "--json")
    assert done.exit_code == 0
    with Tracer.from_config() as t:
        bundle = t.bundle(rec.digest)
        assert [a.chain for a in bundle.anchors] == ["alpha"] and t.verify(bundle).ok
