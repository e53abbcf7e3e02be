"""``ArbitrumBackend``: Arbitrum One, Nova, or any Nitro chain.

Arbitrum charges everything in L2 gas at the L2 base fee (tips are not used): the L1 part of a
transaction is expressed as extra L2 gas. ``NodeInterface.gasEstimateComponents`` (a virtual
contract at 0x…C8, answering eth_call only) returns the total gas, the part of it that pays for
L1 (``gasEstimateForL1``), the L2 base fee and the L1 base fee estimate, so:
``L1 data fee = gasEstimateForL1 × baseFee`` and ``L2 execution fee = (gasEstimate −
gasEstimateForL1) × baseFee``.
"""

from __future__ import annotations

import os

from bctrace_backends.evm.backend import AnchorFee, EvmBackend, format_wei

from .config import ARBITRUM_NODE_INTERFACE, ArbitrumConfig

_COMPONENTS = ["uint64", "uint64", "uint256", "uint256"]


class ArbitrumBackend(EvmBackend):
    name = "arbitrum"
    config_model = ArbitrumConfig
    config: ArbitrumConfig
    finality = (
        "L2 inclusion: the sequencer put the anchor in an L2 block (`confirmations` L2 blocks, default 1); "
        "it is final on L1 once the sequencer's batch is posted and that L1 block is finalized"
    )

    def anchor_fee(self, root: bytes | None = None) -> AnchorFee:
        registry = self.registry()
        data = bytes.fromhex(registry.encode_abi("anchor", args=[root or os.urandom(32)])[2:])
        total, for_l1, base_fee, l1_base_fee = self.client.call(  # type: ignore[misc]
            ARBITRUM_NODE_INTERFACE,
            "gasEstimateComponents(address,bool,bytes)",
            [registry.address, False, data],
            _COMPONENTS,
            sender=self.client.estimate_sender(),
        )
        return AnchorFee(
            gas=int(total) - int(for_l1),
            gas_price=int(base_fee),
            l1_data_fee=int(for_l1) * int(base_fee),
            layered=True,
            details={"l1_gas": int(for_l1), "l1_base_fee": format_wei(int(l1_base_fee), "gwei", 9)},
        )
