"""What one address per trace costs on a real EVM (anvil): gas and transactions per flush for
T traces of S steps each, with ``trace_seed`` (one anchor per trace, sent from the trace's own
account, funded from the main key the first time) against without it (one anchor per flush).

Method: start anvil (chain id 31337, London+ rules, 1 gwei base fee at start), deploy the
committed TraceRegistry, and for each setting record T traces x S steps through the Tracer in a
fresh state folder, flush once, then sum ``gasUsed`` over every transaction mined during the
flush (anchors and funding transfers) and count them. A second flush of one more step per trace
shows the steady state (accounts already funded). Wall time includes waiting for each receipt.

Run: ``.venv/bin/python benchmarks/bench_trace_address.py``
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from bench_chain import deploy_bench_registry, write_bench_config
from web3 import Web3

from bctrace import Tracer
from bctrace_backends.evm.anvil import start_anvil

TRACES = (1, 10)
STEPS = 5
MNEMONIC = "test test test test test test test test test test test junk"


def flush_cost(w3: Web3, tracer: Tracer, traces: list[str], steps: int) -> tuple[int, int, float]:
    """Record ``steps`` steps on each trace, flush; (gas used, transactions, seconds)."""
    with tracer.outbox.group():
        for trace in traces:
            for n in range(steps):
                tracer.record("bench", {"n": n}, trace=trace, salt=True)
    before = w3.eth.block_number
    start = time.perf_counter()
    tracer.flush()
    elapsed = time.perf_counter() - start
    gas = txs = 0
    for number in range(before + 1, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            gas += w3.eth.get_transaction_receipt(tx["hash"])["gasUsed"]
            txs += 1
    return gas, txs, elapsed


def main() -> int:
    os.environ["BCTRACE_BENCH_SEED"] = MNEMONIC
    node = start_anvil(31337)
    try:
        table, deployed, client = deploy_bench_registry(node)
        w3 = Web3(Web3.HTTPProvider(node.url))
        print(f"{'mode':>16} {'traces':>6} {'flush':>6} {'txs':>4} {'gas':>9} {'gas/trace':>9} {'seconds':>7}")
        for per_trace in (False, True):
            for t in TRACES:
                with tempfile.TemporaryDirectory() as tmp:
                    settings = {**table, "trace_seed": "env:BCTRACE_BENCH_SEED"} if per_trace else table
                    config = write_bench_config(Path(tmp) / "bctrace.toml", settings, deployed.address)
                    traces = [f"bench-{per_trace}-{t}-{i}" for i in range(t)]
                    with Tracer.from_config(config) as tracer:
                        for label, steps in (("first", STEPS), ("next", 1)):
                            gas, txs, seconds = flush_cost(w3, tracer, traces, steps)
                            mode = "address/trace" if per_trace else "one address"
                            print(f"{mode:>16} {t:>6} {label:>6} {txs:>4} {gas:>9,} {gas / t:>9,.0f} {seconds:>7.2f}")
        client.close()
    finally:
        node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
