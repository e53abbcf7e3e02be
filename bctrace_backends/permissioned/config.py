"""``BesuConfig`` / ``QuorumConfig``: :class:`EvmConfig` with permissioned-network defaults."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from bctrace_backends.evm.config import EvmConfig, Preset

_FEE_FIELDS = ("gas_price", "max_fee_per_gas", "priority_fee_per_gas")


class PermissionedConfig(EvmConfig):
    """A private QBFT/IBFT network: no public presets, ``chain_id`` required."""

    presets: ClassVar[dict[str, Preset]] = {}

    confirmations: int = Field(default=0, ge=0)
    """0: a QBFT/IBFT block is final once sealed (no forks). Raise it for Clique networks."""
    poa: bool | None = True
    """QBFT/IBFT/Clique seals make extraData longer than 32 bytes."""

    @model_validator(mode="before")
    @classmethod
    def _free_gas_by_default(cls, data: Any) -> Any:
        """No fee setting given: a free-gas network, ``gasPrice: 0`` sent explicitly (the node's
        own ``eth_maxPriorityFeePerGas`` may still suggest a tip the network does not want)."""
        if isinstance(data, dict) and not any(data.get(f) is not None for f in _FEE_FIELDS):
            data = {**data, "gas_price": 0}
        return data

    @property
    def effective_confirmations(self) -> int:
        return self.confirmations


class BesuConfig(PermissionedConfig):
    backend: str = "besu"


class QuorumConfig(PermissionedConfig):
    backend: str = "quorum"
