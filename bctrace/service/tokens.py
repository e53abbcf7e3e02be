"""Producers' bearer tokens: ``bctrace serve token create NAME`` prints a token once; the
service keeps only its sha256 (with the name and scopes) in the outbox's database (PostgreSQL) or
in ``STATE_DIR/tokens.sqlite`` (SQLite outbox)."""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, OutboxError, UsageError

SCOPES = ("record", "read", "admin")
TOKEN_PREFIX = "bct_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class Producer:
    """Who a token belongs to: the name records are attributed to, and what it may do."""

    name: str
    scopes: frozenset[str]


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def check_new_token(name: str, scopes: list[str]) -> None:
    if not _NAME.match(name):
        raise UsageError(f"token name {name!r} must be 1-64 letters, digits or . _ @ - (it becomes the records' author)")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise UsageError(f"scopes must be among {', '.join(SCOPES)}, got {', '.join(unknown) or 'none'}")


class TokenStore:
    """Tokens in SQLite or PostgreSQL (same table). Thread-safe: one connection under a lock,
    with recently seen tokens cached for ``cache_seconds`` (a deleted token stops working within
    that time in every process)."""

    def __init__(self, state_dir: Path, url: str | None = None, *, cache_seconds: float = 10.0) -> None:
        self._lock = threading.Lock()
        self._cache: dict[bytes, tuple[float, Producer | None]] = {}
        self.cache_seconds = cache_seconds
        if url:
            from .._internal.outbox.postgres import connect, migrate

            self._pg = True
            self._conn: Any = connect(url, what="token store")
            migrate(self._conn)
            self.location = url
        else:
            self._pg = False
            path = state_dir / "tokens.sqlite"
            try:
                state_dir.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
                self._conn.execute("CREATE TABLE IF NOT EXISTS bctrace_tokens(name TEXT PRIMARY KEY, hash BLOB NOT NULL UNIQUE, "
                                   "scopes TEXT NOT NULL, created REAL NOT NULL)")
            except (OSError, sqlite3.Error) as err:
                raise ConfigError(f"token store {path} cannot be opened: {err}") from err
        self.location = "the outbox database" if url else str(state_dir / "tokens.sqlite")

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._pg else sql

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                cur = self._conn.execute(self._sql(sql), params)
                return list(cur.fetchall()) if cur.description is not None else []
            except Exception as err:  # sqlite3.Error or psycopg.Error: one line, never a traceback
                if "unique" in str(err).lower() or "duplicate" in str(err).lower():
                    raise
                raise OutboxError(f"token store {self.location}: {' '.join(str(err).split())}") from err

    def create(self, name: str, scopes: list[str]) -> str:
        """A new token for ``name`` (printed once; only its hash is kept)."""
        check_new_token(name, scopes)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        try:
            self._execute("INSERT INTO bctrace_tokens(name, hash, scopes, created) VALUES (?, ?, ?, ?)",
                          (name, token_hash(token), ",".join(sorted(set(scopes))), time.time()))
        except OutboxError:
            raise
        except Exception as err:  # the unique name (or, astronomically rarely, hash) is taken
            raise UsageError(f"a token named {name!r} exists already (delete it first: `bctrace serve token delete {name}`)") from err
        return token

    def delete(self, name: str) -> bool:
        found = bool(self._execute("SELECT name FROM bctrace_tokens WHERE name = ?", (name,)))
        self._execute("DELETE FROM bctrace_tokens WHERE name = ?", (name,))
        self._cache.clear()
        return found

    def names(self) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self._execute("SELECT name, scopes FROM bctrace_tokens ORDER BY name")]

    def lookup(self, token: str) -> Producer | None:
        """The producer a presented token belongs to, or None for an unknown token."""
        key = token_hash(token)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.cache_seconds:
            return hit[1]
        rows = self._execute("SELECT name, scopes FROM bctrace_tokens WHERE hash = ?", (key,))
        producer = Producer(rows[0][0], frozenset(rows[0][1].split(","))) if rows else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now, producer)
        return producer

    def close(self) -> None:
        self._conn.close()
