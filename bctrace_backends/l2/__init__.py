"""``optimism``, ``arbitrum`` and ``scroll``: rollup backends on top of ``evm``.

Anchoring, lookup and verification are the ``evm`` backend's, unchanged (a rollup runs the same
TraceRegistry bytecode); what differs is the fee: a rollup charges for the L2 execution and for
publishing the transaction's data on L1, and each family exposes that L1 part differently
(OP-stack and Scroll: a GasPriceOracle predeploy; Arbitrum: the NodeInterface precompile).
Registered through the same hook a third-party plugin uses, as import references: nothing is
imported until a chain uses one of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bctrace.api import hookimpl

if TYPE_CHECKING:
    from bctrace.api import BackendRegistry


@hookimpl
def bctrace_register_backends(registry: BackendRegistry) -> None:
    registry.add("optimism", "bctrace_backends.l2.optimism:OptimismBackend", extra="evm")
    registry.add("arbitrum", "bctrace_backends.l2.arbitrum:ArbitrumBackend", extra="evm")
    registry.add("scroll", "bctrace_backends.l2.optimism:ScrollBackend", extra="evm")
