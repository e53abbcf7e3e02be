"""Benchmarks against a real EVM node (anvil): anchoring one transaction per record (the naive
way, with web3.py) beside bctrace's batches, gas per record, latency from ``record()`` to a
confirmed anchor, and verification of a batch's bundles through the node, with
``--trust-block`` (no network), and against three chains."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from . import floors
from .core import stored_records
from .measure import WALL, Results, Row


class Chain:
    """A funded key and a TraceRegistry on a running anvil, and configs that anchor on it."""

    def __init__(self) -> None:
        from eth_account import Account
        from web3 import Web3

        from bctrace_backends.evm import artifact
        from bctrace_backends.evm.anvil import start_anvil
        from bctrace_backends.evm.client import EvmClient
        from bctrace_backends.evm.config import EvmConfig
        from bctrace_backends.evm.deploy import deploy_registry

        self.node = start_anvil(31337)
        self.account = Account.create()
        self.node.fund(self.account.address, 10**24)
        os.environ["BCTRACE_BENCH_KEY"] = self.account.key.to_0x_hex()
        self.table = {"rpc_url": self.node.url, "chain_id": 31337, "key": "env:BCTRACE_BENCH_KEY", "poll_interval": 0.02}
        self.client = EvmClient("bench", EvmConfig.model_validate(self.table))
        self.contracts = [deploy_registry(self.client).address for _ in range(3)]
        self.w3 = Web3(Web3.HTTPProvider(self.node.url))
        self.registry = self.w3.eth.contract(address=self.contracts[0], abi=artifact.abi())

    def config(self, folder: Path, chains: int = 1, *top: str) -> Path:
        """``bctrace.toml`` with ``chains`` chains (one registry each, all on this anvil)."""
        lines = list(top)
        names = [f"bench{i}" for i in range(chains)]
        lines.append("default_chains = [" + ", ".join(f'"{n}"' for n in names) + "]")
        for name, contract in zip(names, self.contracts, strict=False):
            lines += [f"[chains.{name}]", 'backend = "evm"', f'contract = "{contract}"']
            lines += [f"{k} = {v!r}".replace("'", '"') for k, v in self.table.items()]
        path = folder / "bctrace.toml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def close(self) -> None:
        self.client.close()
        self.node.stop()


def _signed_anchors(chain: Chain, digests: list[bytes]) -> list[bytes]:
    """One signed ``anchor(digest)`` transaction per record, nonces in order."""
    nonce = chain.w3.eth.get_transaction_count(chain.account.address)
    gas_price = chain.w3.eth.gas_price * 2
    out = []
    for i, d in enumerate(digests):
        tx = chain.registry.functions.anchor(d).build_transaction(
            {"from": chain.account.address, "nonce": nonce + i, "gas": 80_000, "gasPrice": gas_price, "chainId": 31337})
        out.append(chain.account.sign_transaction(tx).raw_transaction)
    return out


def naive(res: Results, chain: Chain, n: int) -> dict[str, float]:
    """One anchor transaction per record with web3.py: sequential (send, wait for the receipt),
    and all sent in one JSON-RPC batch request, then every receipt awaited. Signing is not timed."""
    rates = {}
    raws = _signed_anchors(chain, [os.urandom(32) for _ in range(n)])
    start = WALL()
    gas = 0
    for raw in raws:
        gas += chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_raw_transaction(raw), poll_latency=0.01)["gasUsed"]
    rates["sequential"] = n / (WALL() - start)
    rates["gas"] = gas / n
    raws = _signed_anchors(chain, [os.urandom(32) for _ in range(n)])
    start = WALL()
    # web3.py refuses eth_sendRawTransaction inside its batch_requests(): one JSON-RPC batch by hand
    calls = [{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": ["0x" + raw.hex()]} for i, raw in enumerate(raws)]
    answers = requests.post(chain.node.url, json=calls, timeout=120).json()
    for h in (a["result"] for a in sorted(answers, key=lambda a: a["id"])):
        chain.w3.eth.wait_for_transaction_receipt(h, poll_latency=0.01)
    rates["batched"] = n / (WALL() - start)
    return rates


def anchoring(res: Results, chain: Chain, sizes: list[int], naive_n: int) -> dict[int, int]:
    """bctrace (record in a batch, flush: tree, one anchor with its chain proof) at each size,
    beside the naive rates measured in the same run, and at the largest size beside the floor
    of its record step. Returns the anchor transaction's gas at each size."""
    from bctrace import Tracer

    base = naive(res, chain, naive_n)
    gas_by_size: dict[int, int] = {}
    res.add(Row("anchoring", f"naive one tx per record, JSON-RPC batched ({naive_n} records)", base["batched"], "records/s",
                "naive sequential", base["sequential"]))
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            config = chain.config(Path(tmp))
            with Tracer.from_config(config) as tracer:
                start = WALL()
                with tracer.batch():
                    for i in range(n):
                        last = tracer.record("bench", {"i": i}, salt=True)
                result = tracer.flush()
                took = WALL() - start
                (anchor,) = result.batches[0]["anchors"]
                gas = chain.w3.eth.get_transaction_receipt(anchor["tx"])["gasUsed"]
                bundle = tracer.bundle(last.digest)
                proof = bundle.merkle.proof_bytes()
                view_gas = chain.registry.functions.verifyRecord(bundle.digest_bytes(), proof, bundle.merkle.root_bytes()).estimate_gas()
                stored = stored_records(tracer, n) if n == max(sizes) else []
        big = n >= 100_000
        four_hundred = f"400× naive sequential = {400 * base['sequential']:,.0f} records/s in this run"
        res.add(Row("anchoring", f"bctrace end to end (record + flush), {n:,} records", n / took, "records/s",
                    "naive sequential", base["sequential"],
                    target=">= 80,000/s and >= 400x naive at 100,000" if big else None, target_value=400 if big else None,
                    target_ratio=big, note=four_hundred if big else ""))
        if stored:
            floor = floors.record_floor(stored)
            for row in floors.record_floor_rows("anchoring", f"bctrace end to end (record + flush), {n:,} records, beside its floor",
                                                n / took, floor, n, target=80_000, extra=four_hundred):
                res.add(row)
            res.point("records-per-second", "floor of record(): canonical + storage steps (anvil run)", n, floor["both"])
        gas_by_size[n] = gas
        res.add(Row("gas", f"gas per record, bctrace batch of {n:,}", gas / n, "gas", "one tx per record", base["gas"],
                    higher_is_better=False, note=f"anchor tx {gas:,} gas; proof length {len(proof)}; "
                                                 f"verifyRecord would cost {view_gas:,} gas as a transaction (free as a call)"))
        res.point("records-per-second", "bctrace on anvil (record + flush + anchor)", n, n / took)
        res.point("records-per-second", "naive: one tx per record (sequential)", n, base["sequential"])
        res.point("records-per-second", "naive: one tx per record (JSON-RPC batch)", n, base["batched"])
        res.point("gas-per-record", "bctrace (one anchor per batch)", n, gas / n, x_label="batch size (records)", y_label="gas per record")
        res.point("gas-per-record", "one anchor tx per record", n, base["gas"])
    # latency: one record, from record() to its confirmed anchor (flush returns after the receipt)
    with tempfile.TemporaryDirectory() as tmp:
        from bctrace import Tracer

        with Tracer.from_config(chain.config(Path(tmp))) as tracer:
            times = []
            for _ in range(3):
                start = WALL()
                tracer.record("bench", {"t": time.time()}, salt=True)
                tracer.flush()
                times.append(WALL() - start)
    res.add(Row("anchoring", "latency record() -> confirmed anchor (1 record, anvil automine)", min(times) * 1000, "ms",
                higher_is_better=False, note="anvil mines at once; on a real chain add its block time and confirmations"))
    return gas_by_size


def verification(res: Results, chain: Chain, n: int, repeat: int) -> None:
    """Verify every bundle of one n-record batch in a fresh Tracer: through the node (one lookup
    per root, cached), against three chains, and with ``--trust-block`` and the node stopped."""
    from bctrace import Tracer
    from bctrace.api import from_0x
    from bctrace._internal.verify import check_offline

    with tempfile.TemporaryDirectory() as tmp:
        rates: dict[str, float] = {}
        paths: dict[int, list[Path]] = {}
        anchors: dict[int, Any] = {}
        for chains in (1, 3):
            folder = Path(tmp) / f"c{chains}"
            folder.mkdir()
            config = chain.config(folder, chains, 'bundle_dir = "bundles"')
            with Tracer.from_config(config) as tracer:
                with tracer.batch():
                    for i in range(n):
                        tracer.record("bench", {"i": i}, salt=True)
                result = tracer.flush()
            paths[chains] = sorted(result.bundles)
            anchors[chains] = result.batches[0]["anchors"]

            def through_node(config: Path = config, chains: int = chains) -> None:
                with Tracer.from_config(config) as verifier:
                    for p in paths[chains]:
                        verifier.verify(p)

            took = min(_wall(through_node) for _ in range(repeat))
            rates[f"node{chains}"] = n / took
        from bctrace._internal.bundle import ProofBundle

        bundles = [ProofBundle.read(p) for p in paths[1]]
        start = WALL()
        for b in bundles:
            check_offline(b, "bench")
        offline = n / (WALL() - start)
        res.add(Row("verify", f"full verify of {n:,} bundles of one batch, 1 chain (node, 1 lookup per root)", rates["node1"],
                    "bundles/s", "offline checks of the same bundles (already parsed)", offline,
                    target=">= 5,000 bundles/s", target_value=5_000))
        res.add(Row("verify", f"full verify of {n:,} bundles of one batch, 3 chains", rates["node3"], "bundles/s", "1 chain", rates["node1"]))
        config = chain.config(Path(tmp) / "c1", 1, 'bundle_dir = "bundles"')
        chain.node.stop()
        trusted = {31337: {from_0x(anchors[1][0]["block_hash"])}}

        def offline_trusted() -> None:
            with Tracer.from_config(config) as verifier:
                for p in paths[1]:
                    verifier.verify(p, trusted=trusted)

        took = min(_wall(offline_trusted) for _ in range(repeat))
        res.add(Row("verify", f"verify of {n:,} bundles with --trust-block, node stopped", n / took, "bundles/s", "through the node",
                    rates["node1"]))


def _wall(fn) -> float:
    start = WALL()
    fn()
    return WALL() - start
