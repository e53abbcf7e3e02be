"""``local``: the embedded default ledger, so bctrace works with no chain configured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bctrace.api import hookimpl

if TYPE_CHECKING:
    from bctrace.api import BackendRegistry


@hookimpl
def bctrace_register_backends(registry: BackendRegistry) -> None:
    from .backend import LocalBackend

    registry.add("local", LocalBackend)
