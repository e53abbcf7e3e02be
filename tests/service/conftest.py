"""One real PostgreSQL server per test session (see ``tests/pgserver.py``); each test that
needs a database gets a fresh one on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pgserver import PostgresServer, find_bin_dir


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail("PostgreSQL server binaries are needed: `apt-get install -y postgresql` (scripts/test does)")
    server = PostgresServer(bin_dir)
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return pg_server.database()
