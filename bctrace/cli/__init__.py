"""The ``bctrace`` command line, one module per command group (``anchoring``, ``checking``,
``project``); plugins add namespaced groups through ``bctrace_register_commands``.

Only :func:`main` is public here; commands get their tracer through :mod:`bctrace.api`
(``get_tracer``, ``pass_tracer``).
"""

from __future__ import annotations

from .app import main
from .context import emit_json, get_tracer

open_tracer = get_tracer
"""Deprecated name of :func:`bctrace.api.get_tracer` (kept for one release)."""

__all__ = ["emit_json", "get_tracer", "main", "open_tracer"]
