"""An audit (the body of an ``ml-audit`` record) as plain text, for ``ml audit`` and ``ml report``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["render_audit"]

_VERDICT = {
    "reproducible": "REPRODUCIBLE: {runs} runs gave the same model, metrics, outputs and predictions",
    "not-reproducible": "NOT REPRODUCIBLE: the {runs} runs differ in {diff}",
    "unexplained": "NOT REPRODUCIBLE, cause not found among the known sources: the {runs} runs differ in {diff}",
    "failed": "NOT AUDITED: the command failed",
}


def render_audit(audit: dict[str, Any], *, echo: Callable[[str], Any]) -> None:
    diff = ", ".join(audit.get("differences") or []) or "-"
    echo(_VERDICT.get(audit.get("verdict", ""), "{verdict}").format(runs=audit.get("runs"), diff=diff, verdict=audit.get("verdict")))
    rows = [(s["title"], s["status"]) for s in audit.get("sources") or []]
    if rows:
        width = max(len(t) for t, _ in rows)
        echo(f"  {'source of nondeterminism'.ljust(width)}  what pinning it did")
        for title, status in rows:
            echo(f"  {title.ljust(width)}  {status}")
    if audit.get("together") is not None:
        echo(f"all used sources pinned together: {'the runs agree' if audit['together'] else 'the runs still differ'}")
    if audit.get("minimal"):
        if audit.get("minimal_any_one"):
            echo(f"each of these pins alone makes the runs agree: {', '.join(audit['minimal'])}")
        else:
            echo(f"minimal set of pins that makes the runs agree: {', '.join(audit['minimal'])}")
        echo(f"add to the script{' (for ' + audit['minimal'][0] + ')' if audit.get('minimal_any_one') else ''}:")
        for line in audit.get("fix") or []:
            echo(f"    {line}")
    for note in audit.get("notes") or []:
        echo(f"note: {note}")
    echo(f"{audit.get('trials', 0) + 1} command runs in {audit.get('wall_time_s')} s (the command itself: {audit.get('command_time_s')} s)")
