"""``besu`` and ``quorum``: permissioned EVM networks (Hyperledger Besu, GoQuorum).

Same registry and anchoring as ``evm``, with the defaults such networks need: free gas (a
``gasPrice`` of 0 sent explicitly), proof-of-authority blocks (QBFT/IBFT seals make extraData
longer than 32 bytes), zero confirmations (QBFT/IBFT blocks are final once sealed), and a
registry deployed with its writer allowlist on. ``bctrace evm allow | revoke | writers``
manage that allowlist on any EVM-family chain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bctrace.api import hookimpl

if TYPE_CHECKING:
    from bctrace.api import BackendRegistry


@hookimpl
def bctrace_register_backends(registry: BackendRegistry) -> None:
    registry.add("besu", "bctrace_backends.permissioned.backend:BesuBackend", extra="evm")
    registry.add("quorum", "bctrace_backends.permissioned.backend:QuorumBackend", extra="evm")
