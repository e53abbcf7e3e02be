"""``OptimismBackend`` (OP-stack) and ``ScrollBackend``: the L1 data fee from a fee oracle.

An anchor on an OP-stack chain pays ``L2 gas × L2 gas price`` plus an L1 data fee that the
GasPriceOracle predeploy computes from the unsigned RLP-encoded transaction (Bedrock, Ecotone or
Fjord formula, whichever fork the chain runs: the oracle knows, so its answer is used as is),
plus after Isthmus an operator fee (``getOperatorFee(gas)``; absent on older oracles, then 0).
Scroll's L1GasPriceOracle has the same ``getL1Fee(bytes)``; only its address differs.
"""

from __future__ import annotations

from typing import Any

from bctrace.errors import ChainMisconfigured
from bctrace_backends.evm.backend import AnchorFee, EvmBackend

from .config import OptimismConfig, ScrollConfig
from .txbytes import unsigned_tx_bytes


class OptimismBackend(EvmBackend):
    name = "optimism"
    config_model = OptimismConfig
    config: OptimismConfig
    finality = (
        "L2 inclusion: the sequencer put the anchor in an L2 block (`confirmations` L2 blocks, default 1); "
        "it is final on L1 once its batch is posted and that L1 block is finalized (typically 15-30 min)"
    )
    _family = "OP-stack"

    def anchor_fee(self, root: bytes | None = None) -> AnchorFee:
        quote = self.quote_anchor(root)
        oracle = self.config.gas_price_oracle
        if not self.client.code(oracle):
            raise ChainMisconfigured(self.chain, f"no fee oracle at {oracle}: is chain id {self.config.chain_id} a {self._family} chain?")
        raw = unsigned_tx_bytes(quote.tx)
        (l1_fee,) = self.client.call(oracle, "getL1Fee(bytes)", [raw], ["uint256"])  # type: ignore[misc]
        operator = self.client.call(oracle, "getOperatorFee(uint256)", [quote.gas], ["uint256"], optional=True)
        return AnchorFee(
            gas=quote.gas,
            gas_price=quote.price,
            l1_data_fee=int(l1_fee),
            operator_fee=int(operator[0]) if operator else 0,
            layered=True,
            details=self._oracle_mode(),
        )

    def _oracle_mode(self) -> dict[str, Any]:
        """Which fee formula the oracle applies (Fjord > Ecotone > Bedrock), for the estimate."""
        oracle = self.config.gas_price_oracle
        for fork in ("Fjord", "Ecotone"):
            flag = self.client.call(oracle, f"is{fork}()", [], ["bool"], optional=True)
            if flag and flag[0]:
                return {"l1_fee_formula": fork.lower()}
        return {"l1_fee_formula": "bedrock"}


class ScrollBackend(OptimismBackend):
    name = "scroll"
    config_model = ScrollConfig
    config: ScrollConfig
    finality = (
        "L2 inclusion: the sequencer put the anchor in an L2 block (`confirmations` L2 blocks, default 1); "
        "final on L1 once the batch's validity proof is verified there (typically within hours)"
    )
    _family = "Scroll"

    def _oracle_mode(self) -> dict[str, Any]:
        return {}
