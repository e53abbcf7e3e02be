"""Gas per anchor and per record on a real EVM (anvil), for batches of 1, 100 and 10,000 records.

Method: start anvil (chain id 31337, default London+ rules), deploy the committed TraceRegistry,
then for each batch size record N salted records through the Tracer, flush once, and read the
anchor transaction's ``gasUsed`` from its receipt. Gas per record is gasUsed / N. Also reports the
deployment gas, the gas a ``verifyRecord`` view would cost if executed in a transaction (an
``eth_estimateGas`` of the call; calling it from an explorer or web3 is free), and the flush wall
time (includes hashing, the Merkle tree, the transaction and writing no bundles).

Run: ``.venv/bin/python benchmarks/bench_evm_gas.py``
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench_chain import deploy_bench_registry, write_bench_config
from web3 import Web3

from bctrace import Tracer
from bctrace_backends.evm import artifact
from bctrace_backends.evm.anvil import start_anvil

SIZES = (1, 100, 10_000)


def main() -> int:
    node = start_anvil(31337)
    try:
        table, deployed, client = deploy_bench_registry(node)
        print(f"anvil {node.url}, TraceRegistry deployed at {deployed.address}: {deployed.gas_used:,} gas")
        w3 = Web3(Web3.HTTPProvider(node.url))
        registry = w3.eth.contract(address=deployed.address, abi=artifact.abi())
        print(f"{'records':>8} {'gas/anchor':>11} {'gas/record':>11} {'proof len':>9} {'verifyRecord gas':>16} {'flush s':>8}")
        with tempfile.TemporaryDirectory() as tmp:
            config = write_bench_config(Path(tmp) / "bctrace.toml", table, deployed.address)
            for n in SIZES:
                with Tracer.from_config(config) as tracer:
                    with tracer.outbox.group():
                        recs = [tracer.record("bench", {"i": i}, salt=True) for i in range(n)]
                    start = time.perf_counter()
                    result = tracer.flush()
                    elapsed = time.perf_counter() - start
                    assert result.records == n and len(result.batches) == 1
                    (anchor,) = result.batches[0]["anchors"]
                    receipt = w3.eth.get_transaction_receipt(anchor["tx"])
                    bundle = tracer.bundle(recs[-1].digest)
                    proof = bundle.merkle.proof_bytes()
                    view_gas = registry.functions.verifyRecord(bundle.digest_bytes(), proof, bundle.merkle.root_bytes()).estimate_gas()
                print(f"{n:>8,} {receipt['gasUsed']:>11,} {receipt['gasUsed'] / n:>11,.1f} {len(proof):>9} {view_gas:>16,} {elapsed:>8.2f}")
        client.close()
    finally:
        node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
