"""Plain text output shared by the commands: aligned tables and UTC times."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import click


def table(title: str | None, columns: list[str], rows: Iterable[Iterable[Any]], indent: str = "  ") -> None:
    """Plain aligned columns: readable in a terminal, a log file or a CI transcript alike."""
    cells = [columns] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    if title:
        click.echo(title)
    for r in cells:
        click.echo(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip())


def when(ts: int | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
