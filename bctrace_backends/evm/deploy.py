"""Deploy a TraceRegistry with the committed bytecode (no compiler needed)."""

from __future__ import annotations

from dataclasses import dataclass

from bctrace.api import to_0x
from bctrace.errors import AnchorFailed

from . import artifact
from .client import EvmClient


@dataclass(frozen=True)
class Deployment:
    chain: str
    chain_id: int
    address: str
    block: int
    tx: str
    gas_used: int

    def config_line(self) -> str:
        """What to paste into the chain's ``[chains.NAME]`` table."""
        return f'contract = "{self.address}"'


def deploy_registry(client: EvmClient, *, restricted: bool = False) -> Deployment:
    """Deploy from the client's signer; ``restricted`` turns the writer allowlist on for good."""
    from eth_abi import encode

    data = artifact.bytecode() + encode(["bool"], [restricted])
    receipt = client.transact(data, to=None, what="deployment of TraceRegistry")
    address = receipt.get("contractAddress")
    if not address:
        raise AnchorFailed(client.chain, f"deployment transaction {to_0x(receipt['transactionHash'])} created no contract")
    if not artifact.is_registry_code(client.code(address)):
        raise AnchorFailed(client.chain, f"the code deployed at {address} is not the TraceRegistry runtime code")
    return Deployment(
        chain=client.chain,
        chain_id=client.config.required_chain_id,
        address=str(address),
        block=int(receipt["blockNumber"]),
        tx=to_0x(receipt["transactionHash"]),
        gas_used=int(receipt["gasUsed"]),
    )
