"""Gas and fee split of one anchor on each chain family: L1 (evm), OP-stack, Arbitrum, Besu/Quorum.

Method: for each family start anvil with the family's chain id (1, 10, 42161, 1337 free gas),
place the fee stand-in where the family has its oracle (contracts/test: the OP GasPriceOracle with
Ecotone parameters of the order of OP mainnet's, l1BaseFee 20 gwei, blobBaseFee 3 gwei,
baseFeeScalar 5227, blobBaseFeeScalar 1014213; the Arbitrum NodeInterface with an L1 base fee
estimate of 25 gwei), deploy the committed TraceRegistry (restricted on the permissioned chain),
take the backend's fee estimate for one anchor, then anchor 5 random roots and read gasUsed from
the receipts. On the restricted registry also measures allow() and revoke(). The L1 fee figures
depend entirely on the parameters above: on a live chain, `bctrace chains --estimate` reads them.

Run: ``.venv/bin/python benchmarks/bench_l2_permissioned_gas.py``
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from eth_abi import encode
from eth_account import Account
from web3 import Web3

from bctrace._internal.merkle import keccak256
from bctrace._internal.plugin_manager import backend_registry, get_plugin_manager
from bctrace_backends.evm.anvil import start_anvil
from bctrace_backends.evm.client import EvmClient
from bctrace_backends.evm.config import EvmConfig
from bctrace_backends.evm.deploy import deploy_registry

STANDINS = Path(__file__).resolve().parents[1] / "contracts" / "test" / "artifacts"
FAMILIES = [  # backend, chain id, stand-in, its address, setter call
    ("evm", 1, None, None, None),
    ("optimism", 10, "GasPriceOracleStandIn", "0x420000000000000000000000000000000000000F",
     ("setParams(bool,uint256,uint256,uint32,uint32,uint256,uint256)", [True, 20 * 10**9, 3 * 10**9, 5227, 1014213, 0, 0])),
    ("arbitrum", 42161, "NodeInterfaceStandIn", "0x00000000000000000000000000000000000000C8",
     ("setL1BaseFeeEstimate(uint256)", [25 * 10**9])),
    ("besu", 1337, None, None, None),
]


def _call_data(signature: str, args: list) -> bytes:
    types = [t for t in signature[signature.index("(") + 1 : -1].split(",") if t]
    return keccak256(signature.encode())[:4] + encode(types, args)


def main() -> int:
    registry = backend_registry(get_plugin_manager(autoload=False))
    account = Account.create()
    os.environ["BCTRACE_BENCH_KEY"] = account.key.to_0x_hex()
    print(f"{'backend':>9} {'chain':>6} {'deploy gas':>10} {'anchor gas':>10} {'estimate':>9} {'L2 exec fee ETH':>16} {'L1 data fee ETH':>16}")
    for backend_name, chain_id, standin, address, setter in FAMILIES:
        free = backend_name == "besu"
        node = start_anvil(chain_id, free_gas=free)
        try:
            node.fund(account.address)
            table = {"rpc_url": node.url, "chain_id": chain_id, "key": "env:BCTRACE_BENCH_KEY", "poll_interval": 0.05}
            client = EvmClient("bench", EvmConfig.model_validate({**table, **({"gas_price": 0} if free else {})}))
            if standin:
                node.rpc("anvil_setCode", [address, json.loads((STANDINS / f"{standin}.json").read_text())["deployedBytecode"]])
                client.transact(_call_data(*setter), to=address, what="stand-in setup")
            deployed = deploy_registry(client, restricted=free)
            cls = registry.get(backend_name)
            with tempfile.TemporaryDirectory() as tmp:
                backend = cls("bench", cls.config_model.model_validate({**table, "backend": backend_name, "contract": deployed.address}),
                              state_dir=Path(tmp))
                fee = backend.anchor_fee()
                w3 = Web3(Web3.HTTPProvider(node.url))
                used = {w3.eth.get_transaction_receipt(backend.anchor(os.urandom(32)).tx)["gasUsed"] for _ in range(5)}
                print(f"{backend_name:>9} {chain_id:>6} {deployed.gas_used:>10,} {'/'.join(f'{u:,}' for u in sorted(used)):>10} "
                      f"{fee.gas:>9,} {fee.execution_fee / 1e18:>16.9f} {fee.l1_data_fee / 1e18:>16.9f}")
                if free:
                    other = Account.create().address
                    for verb in ("allow", "revoke"):
                        receipt = client.transact(_call_data(f"{verb}(address)", [other]), to=deployed.address, what=verb)
                        print(f"{'':>9} {'':>6} {verb}(): {receipt['gasUsed']:,} gas")
                backend.close()
            client.close()
        finally:
            node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
