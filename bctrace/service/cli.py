"""Command-line pieces of the anchoring service in ``bctrace serve``: its options, structured
logs, and ``bctrace serve token create|delete|list``."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ..errors import UsageError

if TYPE_CHECKING:
    from .._internal.config import Config

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    """``30s``, ``5m``, ``1h``, ``250ms`` or plain seconds."""
    m = _DURATION.match(text.strip())
    if not m or float(m.group(1)) <= 0:
        raise UsageError(f"--anchor-every {text!r}: give a positive duration such as 30s, 5m or 1h")
    return float(m.group(1)) * _UNIT[m.group(2)]


def with_outbox(config: Config, db: str | None) -> Config:
    """The config with ``--db`` (a ``postgresql://`` URL) as its outbox, when given."""
    if db is None:
        return config
    from .._internal.outbox import is_database_url

    if not is_database_url(db):
        raise UsageError("--db must be a postgresql:// URL (without it, the config's outbox is used)")
    return dataclasses.replace(config, outbox=db)


def service_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The options of the anchoring service, added to ``bctrace serve``."""
    for option in reversed([
        click.option("--db", default=None, envvar="BCTRACE_DB", help="PostgreSQL URL of the outbox (default: the config's `outbox`, else SQLite)."),
        click.option("--anchor-every", default=None, help="Anchor every DURATION (30s, 5m; default 30s unless --anchor-at is given)."),
        click.option("--anchor-at", type=click.IntRange(min=1), default=None, help="Anchor as soon as N records are pending."),
        click.option("--max-body", type=click.IntRange(min=1024), default=None, help="Largest request body in bytes (default 4 MiB)."),
        click.option("--rate-limit", type=click.FloatRange(min=0), default=None, help="Requests per second per token (default 50; 0: off)."),
        click.option("--cors-origin", multiple=True, help="A browser origin allowed to call /v1 (repeatable; default: none)."),
    ]):
        f = option(f)
    return f


def build_options(anchor_every: str | None, anchor_at: int | None, max_body: int | None, rate_limit: float | None,
                  cors_origin: tuple[str, ...]) -> Any:
    from .api import Limits
    from .app import ServiceOptions

    limits = Limits()
    if max_body is not None:
        limits.max_body = max_body
    if rate_limit is not None:
        limits.rate = rate_limit
    return ServiceOptions(anchor_every=parse_duration(anchor_every) if anchor_every else None, anchor_at=anchor_at,
                          limits=limits, cors_origins=cors_origin)


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(entry)


def json_logs() -> None:
    """Structured logs: one JSON object per line on stderr (bctrace's and uvicorn's)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLines())
    for name in ("bctrace", "uvicorn.error"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(logging.INFO)
        log.propagate = False


@click.group("token")
def token_group() -> None:
    """Producers' bearer tokens (stored hashed)."""


def _tokens(db: str | None) -> Any:
    from ..cli.context import get_config
    from .tokens import TokenStore

    config = with_outbox(get_config(), db)
    return TokenStore(config.state_dir, config.outbox)


_db_option = click.option("--db", default=None, envvar="BCTRACE_DB", help="PostgreSQL URL of the outbox (default: the config's).")


@token_group.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(["record", "read", "admin"]),
              help="What the token may do (repeatable; default: record and read).")
@_db_option
def token_create(name: str, scopes: tuple[str, ...], db: str | None) -> None:
    """Create a token for producer NAME and print it (once: only its hash is kept)."""
    store = _tokens(db)
    try:
        token = store.create(name, list(scopes) or ["record", "read"])
    finally:
        store.close()
    click.echo(token)


@token_group.command("delete")
@click.argument("name")
@_db_option
def token_delete(name: str, db: str | None) -> None:
    """Delete producer NAME's token (refused within 10 s by every service process)."""
    store = _tokens(db)
    try:
        if not store.delete(name):
            raise UsageError(f"no token named {name!r}")
    finally:
        store.close()
    click.echo(f"deleted token {name}")


@token_group.command("list")
@_db_option
def token_list(db: str | None) -> None:
    """The producers that have a token, with their scopes."""
    store = _tokens(db)
    try:
        for name, scopes in store.names():
            click.echo(f"{name}\t{scopes}")
    finally:
        store.close()
