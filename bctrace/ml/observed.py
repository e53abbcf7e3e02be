"""What the integrations measure while a program trains (split membership, label statistics,
search spaces and trials, hashes of predictions), kept for the run it belongs to.

A measurement goes to the open run (:func:`bctrace.ml.current_run`) and, in a process started by
``bctrace ml run`` or ``bctrace ml audit``, also to this process-wide collector, which the
launcher (:mod:`bctrace.ml.child`) reports to the wrapping run: a script needs no run of its own
for its splits to be recorded.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from .run import _jsonable, current_run

__all__ = ["KINDS", "collecting", "observe", "snapshot"]

KINDS = ("splits", "search", "predictions")
_collected: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
_lock = threading.Lock()


def collecting() -> bool:
    """True in a process launched by ``bctrace ml run`` / ``ml audit`` (its report is read)."""
    return bool(os.environ.get("BCTRACE_ML_CHILD_REPORT"))


def observe(kind: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Record one measurement of ``kind`` (one of :data:`KINDS`) for the run."""
    entry = _jsonable(entry)
    run = current_run()
    if run is not None:
        run.observe(kind, entry)
    if collecting():
        with _lock:
            _collected[kind].append(entry)
    return entry


def snapshot() -> dict[str, list[dict[str, Any]]]:
    with _lock:
        return {k: list(v) for k, v in _collected.items() if v}
