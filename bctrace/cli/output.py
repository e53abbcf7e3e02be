"""Plain text output shared by the commands: aligned tables and UTC times.

Text that may come from a bundle is escaped (:func:`safe`): a hostile bundle must not be able to
move the cursor or rewrite the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import click

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe(value: Any) -> str:
    """``value`` as one printable line: control and bidi characters shown as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}",
                        "" if value is None else str(value))


def table_lines(columns: list[str], rows: Iterable[Iterable[Any]], indent: str = "  ") -> list[str]:
    """Plain aligned columns: readable in a terminal, a log file or a CI transcript alike."""
    cells = [columns] + [[safe(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return [(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False))).rstrip() for r in cells]


def table(title: str | None, columns: list[str], rows: Iterable[Iterable[Any]], indent: str = "  ") -> None:
    if title:
        click.echo(title)
    for line in table_lines(columns, rows, indent):
        click.echo(line)


def when(ts: int | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
