"""Configs and presets of the rollup families. Each family accepts its own presets (and any
chain of the family by ``chain_id``); everything else is :class:`EvmConfig`."""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import field_validator

from bctrace_backends.evm.config import EvmConfig, Preset

OP_STACK_PRESETS: dict[str, Preset] = {
    "optimism": Preset(10, "https://optimistic.etherscan.io", 1, 10),
    "base": Preset(8453, "https://basescan.org", 1, 10),
    "optimism-sepolia": Preset(11155420, "https://sepolia-optimism.etherscan.io", 1, 100),
    "base-sepolia": Preset(84532, "https://sepolia.basescan.org", 1, 100),
}
ARBITRUM_PRESETS: dict[str, Preset] = {
    "arbitrum-one": Preset(42161, "https://arbiscan.io", 1, 10),
    "arbitrum-nova": Preset(42170, "https://nova.arbiscan.io", 1, 10),
    "arbitrum-sepolia": Preset(421614, "https://sepolia.arbiscan.io", 1, 100),
}
SCROLL_PRESETS: dict[str, Preset] = {
    "scroll": Preset(534352, "https://scrollscan.com", 1, 10),
    "scroll-sepolia": Preset(534351, "https://sepolia.scrollscan.com", 1, 100),
}

OP_GAS_PRICE_ORACLE = "0x420000000000000000000000000000000000000F"
"""The OP-stack GasPriceOracle predeploy (the same address on every OP-stack chain)."""
SCROLL_L1_GAS_PRICE_ORACLE = "0x5300000000000000000000000000000000000002"
"""Scroll's L1GasPriceOracle predeploy (same ``getL1Fee(bytes)`` ABI as the OP-stack's)."""
ARBITRUM_NODE_INTERFACE = "0x00000000000000000000000000000000000000C8"
"""Arbitrum's NodeInterface: a virtual contract answering ``eth_call`` only."""

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class OptimismConfig(EvmConfig):
    """An OP-stack chain (Optimism, Base, or any OP-stack chain by ``chain_id``)."""

    presets: ClassVar[dict[str, Preset]] = OP_STACK_PRESETS
    backend: str = "optimism"
    gas_price_oracle: str = OP_GAS_PRICE_ORACLE
    """The L1 fee oracle; the predeploy address unless a chain moved it."""

    @field_validator("gas_price_oracle")
    @classmethod
    def _oracle_address(cls, value: str) -> str:
        if not _ADDRESS.match(value):
            raise ValueError("must be a 0x-prefixed 20-byte address")
        return value


class ScrollConfig(OptimismConfig):
    """Scroll: same L1-fee-oracle model, its own predeploy address."""

    presets: ClassVar[dict[str, Preset]] = SCROLL_PRESETS
    backend: str = "scroll"
    gas_price_oracle: str = SCROLL_L1_GAS_PRICE_ORACLE


class ArbitrumConfig(EvmConfig):
    """An Arbitrum chain (One, Nova, or any Nitro chain by ``chain_id``)."""

    presets: ClassVar[dict[str, Preset]] = ARBITRUM_PRESETS
    backend: str = "arbitrum"
