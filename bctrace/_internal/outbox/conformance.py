"""``OutboxTests``: the behaviour every outbox implementation must show (exported by
:mod:`bctrace.testing`). A subclass provides ``outbox_factory``: a callable opening a new
connection to one fresh, empty outbox (each call a new instance on the same storage)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from ...errors import UsageError
from ..bundle import AnchorReceipt
from ..merkle import MerkleTree
from .base import BuildStep, Outbox

OutboxFactory = Callable[[], Outbox]


def step(body: object = None, *, bundle_path: str | None = None) -> BuildStep:
    """A ``build`` callback making a small canonical record that links to its predecessor."""
    nonce = os.urandom(8).hex()

    def build(seq: int, prev: bytes | None) -> tuple[bytes, bytes, str | None]:
        canonical = json.dumps({"seq": seq, "prev": prev.hex() if prev else None, "body": body, "nonce": nonce},
                               sort_keys=True, separators=(",", ":")).encode()
        return canonical, hashlib.sha256(canonical).digest(), bundle_path

    return build


def receipt(chain: str = "alpha", block: int = 7) -> AnchorReceipt:
    return AnchorReceipt(chain=chain, chain_id=1337, backend="local", contract="0x" + "11" * 20, tx="0x" + "22" * 32,
                         block=block, timestamp=1_700_000_000)


class OutboxTests:
    """Record, batch, anchor, finish and look up, against one real outbox."""

    @pytest.fixture
    def outbox_factory(self) -> OutboxFactory:  # pragma: no cover - always overridden
        raise NotImplementedError("subclass OutboxTests and provide an 'outbox_factory' fixture")

    @pytest.fixture
    def outbox(self, outbox_factory: OutboxFactory) -> Iterator[Outbox]:
        box = outbox_factory()
        yield box
        box.close()

    # -- recording --------------------------------------------------------------------------

    def test_append_chains_the_steps_of_a_trace(self, outbox: Outbox) -> None:
        seen: list[tuple[int, bytes | None]] = []

        def build(seq: int, prev: bytes | None) -> tuple[bytes, bytes, str | None]:
            seen.append((seq, prev))
            return step(seq)(seq, prev)

        s0, d0 = outbox.append("t1", build)
        s1, d1 = outbox.append("t1", build)
        assert (s0, s1) == (0, 1)
        assert seen == [(0, None), (1, d0)]
        assert outbox.trace_digests("t1") == [d0, d1]
        assert outbox.append("t2", step(), new_trace=True)[0] == 0
        assert outbox.pending_count() == 3

    def test_duplicate_digest_is_refused_and_stores_nothing(self, outbox: Outbox) -> None:
        build = step("same")
        outbox.append("t", build, new_trace=True)
        with pytest.raises(UsageError, match="already in the outbox"):
            outbox.append("t", build, new_trace=True)
        assert outbox.pending_count() == 1

    def test_a_failing_build_stores_nothing(self, outbox: Outbox) -> None:
        def build(seq: int, prev: bytes | None) -> tuple[bytes, bytes, str | None]:
            raise UsageError("bad record")

        with pytest.raises(UsageError, match="bad record"):
            outbox.append("t", build)
        assert outbox.pending_count() == 0 and outbox.trace_digests("t") == []
        assert outbox.append("t", step())[0] == 0  # the trace is still usable

    def test_group_keeps_what_was_recorded_when_it_ends_with_an_exception(self, outbox_factory: OutboxFactory, outbox: Outbox) -> None:
        with pytest.raises(RuntimeError), outbox.group():
            for i in range(20):
                outbox.append("g", step(i))
            raise RuntimeError("stop")
        other = outbox_factory()
        try:
            assert other.pending_count() == 20
            assert len(other.trace_digests("g")) == 20
        finally:
            other.close()

    def test_records_are_durable_for_a_new_connection(self, outbox_factory: OutboxFactory, outbox: Outbox) -> None:
        _, digest = outbox.append("t", step(bundle_path="/x/y.bctrace.json"))
        other = outbox_factory()
        try:
            stored, batch, done = other.find(digest)
            assert stored.digest == digest and stored.bundle_path == "/x/y.bctrace.json"
            assert hashlib.sha256(stored.record_json.encode()).digest() == digest
            assert batch is None and done is False
        finally:
            other.close()

    def test_known_says_which_digests_are_stored(self, outbox: Outbox) -> None:
        stored = [outbox.append("t", step(i))[1] for i in range(3)]
        other = os.urandom(32)
        assert outbox.known([*stored, other]) == set(stored)
        assert outbox.known([]) == set()

    def test_a_group_refuses_a_digest_already_stored_and_keeps_the_others(self, outbox: Outbox) -> None:
        build = step("same")
        outbox.append("t", build, new_trace=True)
        refused = []  # at once (SQLite), or when the group ends (PostgreSQL inserts the group at once)
        try:
            with outbox.group():
                try:
                    outbox.append("t", build, new_trace=True)
                except UsageError as err:
                    refused.append(err)
                outbox.append("u", step("new"), new_trace=True)
        except UsageError as err:
            refused.append(err)
        assert len(refused) == 1 and "already in the outbox" in str(refused[0])
        assert outbox.pending_count() == 2

    def test_find_of_an_unknown_digest_names_the_outbox(self, outbox: Outbox) -> None:
        with pytest.raises(UsageError, match="is not in the outbox"):
            outbox.find(os.urandom(32))

    def test_concurrent_writers_never_share_a_seq(self, outbox_factory: OutboxFactory) -> None:
        boxes = [outbox_factory() for _ in range(4)]
        errors: list[BaseException] = []

        def write(box: Outbox) -> None:
            try:
                for i in range(15):
                    box.append("shared", step(i))
            except BaseException as err:  # pragma: no cover - reported below
                errors.append(err)

        threads = [threading.Thread(target=write, args=(b,)) for b in boxes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        try:
            assert errors == []
            digests = boxes[0].trace_digests("shared")
            assert len(digests) == 60
            for seq, digest in enumerate(digests):  # each step links to the one before it
                stored, _, _ = boxes[0].find(digest)
                data = json.loads(stored.record_json)
                assert data["seq"] == seq
                assert data["prev"] == (digests[seq - 1].hex() if seq else None)
        finally:
            for box in boxes:
                box.close()

    # -- batching ---------------------------------------------------------------------------

    def test_no_batch_without_pending_records(self, outbox: Outbox) -> None:
        assert outbox.next_batch(["alpha"]) is None
        assert outbox.open_batches() == []

    def test_next_batch_takes_every_pending_record_under_one_root(self, outbox: Outbox) -> None:
        digests = [outbox.append("t", step(i))[1] for i in range(5)]
        batch = outbox.next_batch(["alpha", "beta"])
        assert batch is not None
        assert batch.chains == ["alpha", "beta"]
        assert batch.root == MerkleTree(digests).root
        assert outbox.tree(batch.id).root == batch.root
        assert outbox.pending_count() == 0
        assert outbox.open_batches() == [batch]
        assert [r.digest for r in outbox.batch_records(batch.id)] == digests
        assert outbox.find(digests[0])[1:] == (batch, False)

    def test_an_open_batch_is_resumed_with_the_same_root_not_rebuilt(self, outbox_factory: OutboxFactory, outbox: Outbox) -> None:
        outbox.append("t", step(1))
        first = outbox.next_batch(["alpha"])
        outbox.append("t", step(2))  # arrives after the batch was made: waits for the next one
        assert outbox.next_batch(["alpha"]) == first
        outbox.close()  # like a crash: the next connection resumes the same batch
        other = outbox_factory()
        try:
            assert other.next_batch(["alpha"]) == first
            assert other.tree(first.id).root == first.root  # type: ignore[union-attr]
            assert other.pending_count() == 1
        finally:
            other.close()

    def test_one_trace_batches_hold_the_oldest_pending_records_trace_only(self, outbox: Outbox) -> None:
        a1 = outbox.append("a", step(1))[1]
        b1 = outbox.append("b", step(2))[1]
        a2 = outbox.append("a", step(3))[1]
        first = outbox.next_batch(["alpha"], one_trace=True)
        assert first is not None and [r.digest for r in outbox.batch_records(first.id)] == [a1, a2]
        assert outbox.pending_count() == 1
        outbox.finish_batch(first.id)
        second = outbox.next_batch(["alpha"], one_trace=True)
        assert second is not None and [r.digest for r in outbox.batch_records(second.id)] == [b1]
        outbox.finish_batch(second.id)
        assert outbox.next_batch(["alpha"], one_trace=True) is None

    def test_anchors_are_stored_once_per_chain(self, outbox: Outbox) -> None:
        outbox.append("t", step())
        batch = outbox.next_batch(["alpha", "beta"])
        assert batch is not None and outbox.anchors(batch.id) == {}
        outbox.add_anchor(batch.id, "alpha", receipt("alpha", block=7))
        outbox.add_anchor(batch.id, "alpha", receipt("alpha", block=99))  # ignored: the first stays
        assert outbox.anchors(batch.id) == {"alpha": receipt("alpha", block=7)}

    def test_finish_batch_closes_it_and_the_next_batch_takes_later_records(self, outbox: Outbox) -> None:
        _, d1 = outbox.append("t", step(1))
        batch = outbox.next_batch(["alpha"])
        assert batch is not None
        _, d2 = outbox.append("t", step(2))
        outbox.add_anchor(batch.id, "alpha", receipt())
        outbox.finish_batch(batch.id)
        assert outbox.open_batches() == []
        assert outbox.find(d1)[1:] == (batch, True)
        second = outbox.next_batch(["alpha"])
        assert second is not None and second.id != batch.id
        assert [r.digest for r in outbox.batch_records(second.id)] == [d2]
        outbox.finish_batch(second.id)
        assert outbox.next_batch(["alpha"]) is None

    def test_pending_receipts_outlive_their_batch_until_replaced(self, outbox_factory: OutboxFactory, outbox: Outbox) -> None:
        outbox.append("t", step(1))
        batch = outbox.next_batch(["alpha", "slow"])
        assert batch is not None and outbox.pending_anchors() == []
        pending = receipt("slow", block=0).model_copy(update={"status": "pending", "tx": ""})
        outbox.add_anchor(batch.id, "alpha", receipt("alpha"))
        outbox.add_anchor(batch.id, "slow", pending)
        outbox.finish_batch(batch.id)
        other = outbox_factory()  # what is durable, another connection sees
        try:
            [found] = other.pending_anchors()
            assert (found.batch, found.chain, found.receipt) == (batch, "slow", pending)
            confirmed = receipt("slow", block=840_001)
            other.replace_anchor(batch.id, "slow", confirmed)
        finally:
            other.close()
        assert outbox.pending_anchors() == []
        assert outbox.anchors(batch.id) == {"alpha": receipt("alpha"), "slow": confirmed}

    def test_batch_records_can_be_limited_to_those_with_a_bundle_path(self, outbox: Outbox) -> None:
        outbox.append("t", step(1))
        _, with_path = outbox.append("t", step(2, bundle_path="b.bctrace.json"))
        batch = outbox.next_batch(["alpha"])
        assert batch is not None
        assert [r.digest for r in outbox.batch_records(batch.id, with_bundle_path_only=True)] == [with_path]

    def test_drop_chain_keeps_at_least_one_chain(self, outbox: Outbox) -> None:
        outbox.append("t", step())
        batch = outbox.next_batch(["alpha", "beta"])
        assert batch is not None
        outbox.drop_chain("beta")
        assert outbox.open_batches()[0].chains == ["alpha"]
        with pytest.raises(UsageError, match="'alpha' only"):
            outbox.drop_chain("alpha")
        assert outbox.open_batches()[0].chains == ["alpha"]

    def test_two_connections_never_put_a_record_in_two_batches(self, outbox_factory: OutboxFactory) -> None:
        a, b = outbox_factory(), outbox_factory()
        try:
            digests = {a.append("t", step(i))[1] for i in range(10)}
            batched: list[bytes] = []
            for box in (a, b, a, b):
                box.append("t", step(os.urandom(4).hex()))
                batch = box.next_batch(["alpha"])
                if batch is None:
                    continue
                batched += [r.digest for r in box.batch_records(batch.id)]
                box.finish_batch(batch.id)
            rest = a.next_batch(["alpha"])
            if rest is not None:
                batched += [r.digest for r in a.batch_records(rest.id)]
            assert len(batched) == len(set(batched)) == 14
            assert digests <= set(batched)
        finally:
            a.close()
            b.close()

    def test_search_traces_by_id_prefix_kind_and_subject_hash(self, outbox: Outbox) -> None:
        def record(kind: str, sha256: str | None = None) -> BuildStep:
            def build(seq: int, prev: bytes | None) -> tuple[bytes, bytes, str | None]:
                fields = {"kind": kind, "seq": seq, "prev": prev.hex() if prev else None,
                          "subjects": [{"name": "a.txt", "sha256": sha256}] if sha256 else []}
                canonical = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
                return canonical, hashlib.sha256(canonical).digest(), None
            return build

        hash_a = "0x" + "ab" * 32
        outbox.append("donation-1", record("donation"))
        outbox.append("donation-1", record("receipt", hash_a))
        outbox.append("x_%-2", record("file", "0x" + "cd" * 32))
        batch = outbox.next_batch(["alpha"])
        assert batch is not None
        outbox.add_anchor(batch.id, "alpha", receipt())
        outbox.finish_batch(batch.id)
        outbox.append("x_%-2", record("file"))

        everything = outbox.search_traces()
        assert [(r.trace, r.seq, r.anchored) for r in everything] == [
            ("donation-1", 0, True), ("donation-1", 1, True), ("x_%-2", 0, True), ("x_%-2", 1, False)]
        assert everything[1].digest == outbox.trace_digests("donation-1")[1]
        assert json.loads(everything[1].record_json)["kind"] == "receipt"
        traces = lambda query: sorted({r.trace for r in outbox.search_traces(query)})  # noqa: E731
        assert traces("donation") == ["donation-1"]  # by kind, and by prefix
        assert traces("receipt") == ["donation-1"]  # any step of the trace
        assert traces(hash_a) == traces(hash_a.upper().replace("0X", "0x")) == ["donation-1"]
        assert traces("x_%") == ["x_%-2"] and traces("x%") == [] and traces("_") == []  # LIKE wildcards are literal
        assert traces("0x" + "ef" * 32) == []
        assert [r.trace for r in outbox.search_traces(limit=1)] == ["x_%-2", "x_%-2"]  # the most recently extended


class ClaimingOutboxTests(OutboxTests):
    """For outboxes shared by several anchoring processes, which hand an open batch to one of
    them at a time (PostgreSQL). The SQLite outbox does not claim: its processes resume the same
    batch, and anchors are idempotent."""

    @contextmanager
    def _claimed(self, outbox_factory: OutboxFactory) -> Iterator[tuple[Outbox, Outbox, int]]:
        """Two connections, the first holding a claimed batch; both closed at the end."""
        a, b = outbox_factory(), outbox_factory()
        try:
            a.append("t", step())
            batch = a.next_batch(["alpha"])
            assert batch is not None
            yield a, b, batch.id
        finally:
            a.close()
            b.close()

    def test_a_claimed_batch_is_not_handed_to_another_connection(self, outbox_factory: OutboxFactory) -> None:
        with self._claimed(outbox_factory) as (a, b, batch_id):
            assert b.next_batch(["alpha"]) is None
            _, late = b.append("t", step("late"))
            other = b.next_batch(["alpha"])  # new records make a batch of their own
            assert other is not None and other.id != batch_id
            assert [r.digest for r in b.batch_records(other.id)] == [late]

    def test_a_released_batch_is_resumed_by_another_connection(self, outbox_factory: OutboxFactory) -> None:
        with self._claimed(outbox_factory) as (a, b, batch_id):
            a.release(batch_id)
            resumed = b.next_batch(["alpha"])
            assert resumed is not None and resumed.id == batch_id
            assert a.next_batch(["alpha"]) is None

    def test_a_closed_connections_claim_ends_with_it(self, outbox_factory: OutboxFactory) -> None:
        with self._claimed(outbox_factory) as (a, b, batch_id):
            a.close()  # closing again at the end is harmless
            resumed = b.next_batch(["alpha"])
            assert resumed is not None and resumed.id == batch_id
