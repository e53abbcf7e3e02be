"""The durable outbox: an interface (:class:`Outbox`) and its implementations, chosen by the
config's ``outbox`` setting (see :func:`open_outbox`)."""

from __future__ import annotations

from pathlib import Path

from .base import Batch, BuildStep, Outbox, StoredRecord
from .sqlite import OUTBOX_FILE, SQLiteOutbox

__all__ = ["OUTBOX_FILE", "Batch", "BuildStep", "Outbox", "SQLiteOutbox", "StoredRecord", "is_database_url", "open_outbox"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(value: str) -> bool:
    """Whether an ``outbox`` setting names a PostgreSQL database (else: SQLite in the state folder)."""
    return value.startswith(POSTGRES_SCHEMES)


def open_outbox(state_dir: Path, url: str | None = None) -> Outbox:
    """The outbox a project uses: PostgreSQL when ``url`` is a ``postgresql://`` URL, else the
    SQLite file in ``state_dir``."""
    if url and is_database_url(url):
        from .postgres import PostgresOutbox  # psycopg is only needed by those who use it

        return PostgresOutbox(url)
    return SQLiteOutbox(state_dir)
