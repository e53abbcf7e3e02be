"""The SQLite outbox (the default) passes the outbox conformance suite."""

from pathlib import Path

import pytest

from bctrace._internal.outbox import SQLiteOutbox
from bctrace.testing import OutboxTests


class TestSQLiteOutbox(OutboxTests):
    @pytest.fixture
    def outbox_factory(self, tmp_path: Path):
        return lambda: SQLiteOutbox(tmp_path / "state")


def test_outbox_setting_other_than_sqlite_or_postgresql_is_one_line(tmp_path: Path) -> None:
    from bctrace._internal.config import load_config
    from bctrace.errors import ConfigError

    config = tmp_path / "bctrace.toml"
    config.write_text('outbox = "mysql://root:pw@db/x"\n')
    with pytest.raises(ConfigError, match="field 'outbox' must be \"sqlite\" or a postgresql:// URL, not mysql") as info:
        load_config(config)
    assert "pw" not in str(info.value)
    config.write_text('outbox = "sqlite"\n')
    assert load_config(config).outbox is None


def test_a_group_inserts_in_bounded_chunks_and_keeps_its_traces_chained(tmp_path: Path, monkeypatch) -> None:
    # SQLite buffers a group's records and writes them with executemany every GROUP_ROWS rows:
    # memory stays bounded, steps of one trace chain across chunks, and a write inside the group
    # (a batch) sees every record recorded before it.
    from bctrace._internal.outbox import sqlite
    from bctrace._internal.outbox.conformance import step

    monkeypatch.setattr(sqlite, "GROUP_ROWS", 3)
    outbox = SQLiteOutbox(tmp_path / "state")
    seen: list[tuple[int, bytes | None]] = []

    def chained(seq: int, prev: bytes | None):
        seen.append((seq, prev))
        return step(seq)(seq, prev)

    try:
        with outbox.group():
            appended = []
            for i in range(7):
                appended.append(outbox.append("a", chained)[1])
                outbox.append(f"new-{i}", step(i), new_trace=True)
                assert len(outbox._buffer) < 3
            batch = outbox.next_batch(["alpha"])
        assert batch is not None and len(outbox.tree(batch.id)) == 14
        assert outbox.trace_digests("a") == appended
        assert seen == [(0, None)] + [(i, appended[i - 1]) for i in range(1, 7)]
    finally:
        outbox.close()


def test_bulk_insert_refuses_only_the_rows_already_stored(tmp_path: Path) -> None:
    from bctrace._internal.outbox.conformance import step

    outbox = SQLiteOutbox(tmp_path / "state")
    try:
        def row(i: int, build=None):
            canonical, digest, _ = (build or step(i))(0, None)
            return (digest, f"t{i}", 0, canonical.decode(), None)

        stored = [row(1), row(3)]
        outbox._insert_rows(outbox._db, stored)
        rows = [row(0), stored[0], row(2), stored[1], row(4)]
        with outbox._write() as db:
            assert outbox._insert_rows(db, rows) == [1, 3]
        assert outbox.known([r[0] for r in rows]) == {r[0] for r in rows}
        assert outbox.pending_count() == 5
    finally:
        outbox.close()
