"""Anchoring inside the service: a thread that flushes every ``anchor_every`` seconds, as soon as
``anchor_at`` records are pending, or when an admin asks (``POST /v1/anchor``).

Several service processes on one PostgreSQL outbox each run one: batches are claimed (see
``bctrace/_internal/outbox/postgres.py``), so each batch is anchored by one process, and a batch
left by a killed process is resumed by another. A chain error is logged and retried at the next
tick; the records wait in the outbox.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from .._internal.config import Config
from .._internal.tracer import Tracer
from ..errors import BctraceError

logger = logging.getLogger("bctrace.service")

POLL_SECONDS = 0.2
"""How often the pending count is read when ``anchor_at`` is set (one indexed count)."""


class AnchorScheduler:
    def __init__(self, config: Config, *, every: float | None, at: int | None) -> None:
        if every is None and at is None:
            every = 30.0
        self.config = config
        self.every = every
        self.at = at
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.next_due = time.time() + every if every else None
        self.last_run: float | None = None
        self.last_error: str | None = None
        self.last_anchor: dict[str, dict[str, Any]] = {}
        self.batches_anchored = 0
        self.records_anchored = 0
        self.running = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="bctrace-anchor", daemon=True)
        self._thread.start()

    def trigger(self) -> None:
        """Anchor now (what is pending), without waiting for the schedule."""
        self._wake.set()

    def stop(self, grace: float = 30.0) -> bool:
        """Let the batch in flight finish (up to ``grace`` seconds). Returns whether it did; if
        not, the process exits with the batch claimed, and its claim ends with its connection."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(grace)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _due(self, tracer: Tracer) -> bool:
        if self.next_due is not None and time.time() >= self.next_due:
            return True
        return self.at is not None and tracer.outbox.pending_count() >= self.at

    def _loop(self) -> None:
        with Tracer(self.config) as tracer:
            while not self._stop.is_set():
                woken = self._wake.wait(POLL_SECONDS if self.at is not None else max(0.0, (self.next_due or 0) - time.time()) or POLL_SECONDS)
                self._wake.clear()
                if self._stop.is_set():
                    break
                try:
                    if woken or self._due(tracer):
                        self.run_once(tracer)
                except BctraceError as err:
                    self.last_error = err.one_line()
                    logger.warning("anchoring failed, retried at the next tick: %s", self.last_error)
                except Exception as err:  # keep the worker alive: the next tick retries
                    self.last_error = f"{type(err).__name__}: {err}"
                    logger.exception("anchoring failed unexpectedly, retried at the next tick")

    def run_once(self, tracer: Tracer) -> None:
        self.running = True
        started = time.time()
        try:
            result = tracer.flush()
        finally:
            self.running = False
            self.last_run = started
            if self.every:
                self.next_due = started + self.every
        self.last_error = None
        for batch in result.batches:
            self.batches_anchored += 1
            self.records_anchored += batch["records"]
            for anchor in batch.get("anchors", []):
                kept = {k: anchor[k] for k in ("chain", "chain_id", "tx", "block", "timestamp", "url") if k in anchor}
                self.last_anchor[anchor["chain"]] = {**kept, "root": batch.get("root"), "at": time.time()}
        if result.batches:
            logger.info("anchored %d record(s) in %d batch(es) in %.2f s", result.records, len(result.batches), time.time() - started)

    def status(self) -> dict[str, Any]:
        return {
            "alive": self.alive, "anchoring_now": self.running, "anchor_every": self.every, "anchor_at": self.at,
            "next_anchor_by": self.next_due, "last_run": self.last_run, "last_error": self.last_error,
            "batches_anchored": self.batches_anchored, "records_anchored": self.records_anchored,
        }
