"""``solana``: anchor roots on Solana with the SPL Memo program, over Solana JSON-RPC.

The plugin module: nothing here imports solders or httpx; the backend is registered by name and
imported when a ``[chains.X]`` table with ``backend = "solana"`` is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bctrace.api import hookimpl

if TYPE_CHECKING:
    from bctrace.api import BackendRegistry


@hookimpl
def bctrace_register_backends(registry: BackendRegistry) -> None:
    registry.add("solana", "bctrace_backends.solana.backend:SolanaBackend", extra="solana")
