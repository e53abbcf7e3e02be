"""The PostgreSQL outbox passes the same conformance suite as SQLite, plus batch claims."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bctrace._internal.outbox.postgres import PostgresOutbox, migrate, migrations
from bctrace.errors import EXIT_CHAIN, EXIT_USAGE, OutboxError, OutboxUnreachable
from bctrace.testing import ClaimingOutboxTests


class TestPostgresOutbox(ClaimingOutboxTests):
    @pytest.fixture
    def outbox_factory(self, pg_url: str):
        return lambda: PostgresOutbox(pg_url)


def test_migrations_are_applied_once_and_recorded(pg_url: str) -> None:
    PostgresOutbox(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert migrate(conn) == []  # already there: nothing applied again
        versions = [r[0] for r in conn.execute("SELECT version FROM bctrace_migrations ORDER BY version")]
    assert versions == [number for number, _, _ in migrations()]


def test_an_unreachable_database_is_one_line_without_the_password(pg_server) -> None:
    url = f"postgresql://bctrace:s3cret@127.0.0.1:{pg_server.port}/no_such_db"
    with pytest.raises(OutboxError) as info:
        PostgresOutbox(url)
    message = str(info.value)
    assert "no_such_db" in message and "s3cret" not in message and "\n" not in message
    assert info.value.exit_code == EXIT_USAGE  # the server answered: a configuration mistake


def test_a_database_server_that_does_not_answer_is_a_network_error(tmp_path) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://bctrace:s3cret@127.0.0.1:{port}/bctrace"
    with pytest.raises(OutboxUnreachable) as info:
        PostgresOutbox(url)
    assert info.value.exit_code == EXIT_CHAIN and "s3cret" not in str(info.value)
    (tmp_path / "bctrace.toml").write_text(f'outbox = "{url}"\n')
    done = subprocess.run([str(Path(sys.executable).with_name("bctrace")), "status"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == EXIT_CHAIN, done.stderr
    assert done.stderr.count("\n") == 1 and f"127.0.0.1:{port}" in done.stderr and "s3cret" not in done.stderr


CLAIM_AND_DIE = """
import os, sys
from bctrace._internal.outbox.postgres import PostgresOutbox
box = PostgresOutbox(sys.argv[1])
batch = box.next_batch(["alpha"])
print(batch.id, flush=True)
sys.stdin.read()  # hold the claim until killed
"""


def test_a_killed_process_claim_ends_and_another_resumes_the_batch(pg_url: str) -> None:
    """SIGKILL (no cleanup) a process holding a batch: the server ends its session and its claim,
    and another connection resumes the same batch with the same root."""
    import signal
    import subprocess
    import sys
    import time

    from bctrace._internal.outbox.conformance import step

    box = PostgresOutbox(pg_url)
    try:
        box.append("t", step())
        child = subprocess.Popen([sys.executable, "-c", CLAIM_AND_DIE, pg_url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        batch_id = int(child.stdout.readline())
        assert box.next_batch(["alpha"]) is None  # claimed by the live child
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        deadline = time.monotonic() + 30  # the server notices the closed socket within moments
        while (resumed := box.next_batch(["alpha"])) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert resumed is not None and resumed.id == batch_id
    finally:
        box.close()


def test_a_tracer_configured_with_a_postgresql_outbox_records_anchors_and_verifies(pg_url: str, tmp_path, monkeypatch) -> None:
    from bctrace import Tracer

    monkeypatch.setenv("TEST_DB", pg_url)
    (tmp_path / "bctrace.toml").write_text('outbox = "${TEST_DB}"\n[chains.local]\nbackend = "local"\n')
    with Tracer.from_config(tmp_path / "bctrace.toml") as tracer:
        assert isinstance(tracer.outbox, PostgresOutbox)
        trace = tracer.trace()
        recorded = [trace.record("step", {"n": i}) for i in range(3)]
        assert tracer.flush().records == 3
        for rec in recorded:
            assert tracer.verify(tracer.bundle(rec.digest_hex)).ok
    assert not (tmp_path / ".bctrace" / "outbox.sqlite").exists()  # nothing went to SQLite
