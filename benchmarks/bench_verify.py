"""Verification speed: 10,000 bundles of one batch anchored on one EVM chain (anvil).

Method: start anvil, deploy the committed TraceRegistry, record N salted records, flush once
(one root, one anchor with its chain proof, N bundle files). Then, in a fresh Tracer as a
verifier would:

1. **node**: verify every bundle file against the chain through the config (each bundle: read and
   parse strictly, digest, Merkle proof, then the anchor's claims; the chain's answer for the
   root is cached, so the node is asked once per root); the number of chain lookups is counted.
2. **trusted block**: stop the node, then verify every bundle with the anchor block's hash as
   the only trusted input (``--trust-block``): the chain proof (header, account, storage and
   transaction proofs) is checked offline, once per distinct anchor (cached), then each bundle's
   own digest and Merkle proof.

Reports records/s for each (median of --repeat runs). Run:
``.venv/bin/python benchmarks/bench_verify.py --records 10000 --repeat 3``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench_chain import deploy_bench_registry, write_bench_config

from bctrace import Tracer
from bctrace.api import from_0x
from bctrace_backends.evm.anvil import start_anvil
from bctrace_backends.evm.backend import EvmBackend


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    node = start_anvil(31337)
    try:
        table, deployed, client = deploy_bench_registry(node)
        client.close()
        with tempfile.TemporaryDirectory() as tmp:
            config = write_bench_config(Path(tmp) / "bctrace.toml", table, deployed.address, 'bundle_dir = "bundles"')
            with Tracer.from_config(config) as tracer:
                with tracer.batch():
                    for i in range(args.records):
                        tracer.record("bench", {"i": i}, salt=True)
                result = tracer.flush()
            paths = sorted(result.bundles)
            (anchor,) = result.batches[0]["anchors"]
            size = paths[0].stat().st_size
            print(f"{len(paths):,} bundles of one batch, {size:,} bytes each (chain proof included), anvil {node.url}")

            lookups = 0
            original = EvmBackend.find_claimed

            def counted(self, root, claim):  # type: ignore[no-untyped-def]
                nonlocal lookups
                lookups += 1
                return original(self, root, claim)

            EvmBackend.find_claimed = counted  # type: ignore[method-assign]
            node_rates = []
            for _ in range(args.repeat):
                lookups = 0
                with Tracer.from_config(config) as verifier:
                    start = time.perf_counter()
                    for p in paths:
                        assert verifier.verify(p).ok
                    node_rates.append(len(paths) / (time.perf_counter() - start))
                assert lookups == 1, lookups
            EvmBackend.find_claimed = original  # type: ignore[method-assign]
            print(f"node (config, cached):   {statistics.median(node_rates):,.0f} records/s; chain lookups per run: {lookups}")

            node.stop()
            trusted = {31337: {from_0x(anchor["block_hash"])}}
            offline_rates = []
            for _ in range(args.repeat):
                with Tracer.from_config(config) as verifier:
                    start = time.perf_counter()
                    for p in paths:
                        assert verifier.verify(p, trusted=trusted).ok
                    offline_rates.append(len(paths) / (time.perf_counter() - start))
            print(f"trusted block (no node): {statistics.median(offline_rates):,.0f} records/s")
    finally:
        node.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
