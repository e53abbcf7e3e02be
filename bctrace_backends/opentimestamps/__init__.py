"""``opentimestamps``: anchor roots in Bitcoin through OpenTimestamps calendars.

The plugin module: nothing here imports the ``opentimestamps`` library; the backend is
registered by name and imported when a ``[chains.X]`` table with ``backend = "opentimestamps"``
is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bctrace.api import hookimpl

if TYPE_CHECKING:
    from bctrace.api import BackendRegistry, ExporterRegistry


@hookimpl
def bctrace_register_backends(registry: BackendRegistry) -> None:
    registry.add("opentimestamps", "bctrace_backends.opentimestamps.backend:OpenTimestampsBackend", extra="opentimestamps")


@hookimpl
def bctrace_register_exporters(registry: ExporterRegistry) -> None:
    registry.add("ots", "OpenTimestamps proof of each record (NAME.record.json and its .ots, read by the ots client)",
                 "bctrace_backends.opentimestamps.export:export_request", extra="opentimestamps")
