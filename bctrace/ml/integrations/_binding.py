"""The run an integration logs to, shared by the framework callbacks and helpers.

A callback cannot wrap training in a ``with`` block, so it needs an object that opens a run on
the first hook and closes it on the last. The rule is the same everywhere: log to the run given
explicitly, else attach to the run already open (:func:`bctrace.ml.current_run`) and leave
closing it to its owner, else open a run and close it (and, if asked, anchor it) ourselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...errors import UsageError
from ..run import Run, current_run, start_run

if TYPE_CHECKING:
    from ..._internal.tracer import FlushResult, Tracer

__all__ = ["BoundCallback", "RunBinding", "require_run"]


def require_run(run: Run | None) -> Run:
    """``run`` or the active run; a helper that only adds to a run cannot open one."""
    found = run or current_run()
    if found is None:
        raise UsageError("no ML run is open: pass run=... or call this inside `with tracer.run(...)`")
    return found


class RunBinding:
    """Opens, attaches to, and closes the run of one training session.

    :param run: log to this run (it is neither ended nor anchored here).
    :param tracer: the tracer for a run opened here; without one, one is built from the config
        (``Tracer.from_config()``) and closed when the run ends.
    :param flush: anchor (``tracer.flush()``) after ending a run opened here. An attached run is
        never flushed here: its owner ends it, and anchoring before the end step would leave the
        end step for a later batch.
    :param run_kwargs: passed to :func:`bctrace.ml.start_run` (``seed``, ``tags``, ``bundle_dir``...).
    """

    def __init__(self, *, run: Run | None = None, tracer: Tracer | None = None, flush: bool = False, **run_kwargs: Any) -> None:
        self._given = run
        self._tracer = tracer
        self._flush = flush
        self._run_kwargs = run_kwargs
        self.run: Run | None = None
        """The run of the current (or last) session; kept after it ends for inspection."""
        self.owned = False
        self.flushed: FlushResult | None = None
        self._own_tracer: Tracer | None = None

    def open(self, name: str, params: Mapping[str, Any] | None = None) -> Run:
        """The run to log to, with ``params`` logged; opened now if there is none to attach to."""
        if self.run is not None and self.run.status is None:  # still open: a later hook of the same session
            if params:
                self.run.log_params(params)
            return self.run
        attach = self._given or current_run()
        if attach is not None:
            self.run, self.owned = attach, False
            if params:
                attach.log_params(params)
            return attach
        tracer = self._tracer
        if tracer is None:
            from ..._internal.tracer import Tracer

            tracer = self._own_tracer = Tracer.from_config()
        kwargs = dict(self._run_kwargs)
        merged = {**(kwargs.pop("params", None) or {}), **(params or {})}
        self.run = start_run(tracer, kwargs.pop("name", None) or name, params=merged, **kwargs)
        self.owned = True
        return self.run

    def close(self, error: BaseException | None = None) -> None:
        """End a run opened here (``failed`` with the error, else ``ok``), anchor it if asked,
        and release a tracer built here. An attached run is left open for its owner."""
        run = self.run
        if run is None or not self.owned:  # attached, or closed already
            return
        self.owned = False
        try:
            if run.status is None:
                run.end("ok" if error is None else "failed", error=error)
            if self._flush:
                self.flushed = run.tracer.flush()
        finally:
            if self._own_tracer is not None:
                self._own_tracer.close()
                self._own_tracer = None



class BoundCallback:
    """What the framework callbacks share: their options and the run they log to.

    Mixed in before the framework's own callback base class
    (``class BctraceCallback(BoundCallback, pl.Callback)``).
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        tracer: Tracer | None = None,
        run: Run | None = None,
        checkpoints: bool = False,
        flush: bool = False,
        **run_kwargs: Any,
    ) -> None:
        self.name = name
        self.checkpoints = checkpoints
        self._binding = RunBinding(run=run, tracer=tracer, flush=flush, **run_kwargs)

    @property
    def run(self) -> Run | None:
        """The run of the current (or last) training session."""
        return self._binding.run

    @property
    def flushed(self) -> FlushResult | None:
        """What the last ``flush=True`` anchored."""
        return self._binding.flushed
