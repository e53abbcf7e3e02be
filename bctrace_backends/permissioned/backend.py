"""``BesuBackend`` and ``QuorumBackend``: the ``evm`` backend with permissioned-network defaults.

What differs from ``evm`` is configuration (:mod:`.config`) and two facts of these networks:
``bctrace deploy`` deploys the registry with its writer allowlist on, and GoQuorum's Raft
consensus stamps blocks in nanoseconds, which the registry's 48-bit seconds cannot hold, so a
Raft network is refused up front rather than anchored with a wrong time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bctrace.errors import ChainMisconfigured
from bctrace_backends.evm.backend import EvmBackend

from .config import BesuConfig, QuorumConfig

if TYPE_CHECKING:
    from web3.contract import Contract

NANOSECOND_TIMESTAMPS = 10**12
"""A block timestamp above this (year 33658 in seconds) is in nanoseconds: GoQuorum Raft."""


class PermissionedBackend(EvmBackend):
    deploys_restricted = True
    finality = (
        "immediate under QBFT/IBFT: a sealed block is final (confirmations 0 by default); "
        "with Clique set `confirmations` as on a public chain"
    )

    def registry(self) -> Contract:
        if self._registry is None:
            with self.client.errors("reading the latest block"):
                latest = self.client.w3.eth.get_block("latest")
            if int(latest["timestamp"]) > NANOSECOND_TIMESTAMPS:
                raise ChainMisconfigured(
                    self.chain,
                    "blocks carry nanosecond timestamps (GoQuorum Raft consensus), which the registry cannot store; "
                    "use a QBFT or IBFT network",
                )
        return super().registry()


class BesuBackend(PermissionedBackend):
    name = "besu"
    config_model = BesuConfig
    config: BesuConfig


class QuorumBackend(PermissionedBackend):
    name = "quorum"
    config_model = QuorumConfig
    config: QuorumConfig
