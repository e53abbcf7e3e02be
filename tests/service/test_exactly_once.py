"""Several service processes on one PostgreSQL outbox anchoring on anvil: every record is
anchored exactly once, every producer's bundles verify, no root is anchored twice, also when
one service process is killed (SIGKILL) mid-anchor and restarted.

Sizes here are the suite's (4 producers x 150 records); ``benchmarks/bench_service.py`` runs
the full 4 x 2,500."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from bctrace import ProofBundle, Tracer
from serviceproc import auth, make_token, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PRODUCERS, RECORDS, PER_POST = 4, 150, 50
SERVICEPROC = Path(__file__).resolve().parents[1] / "serviceproc.py"


def write_config(project: Path, table: dict) -> Path:
    lines = ["[chains.anvil]"] + [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    (project / "bctrace.toml").write_text("\n".join(lines) + "\n")
    return project / "bctrace.toml"


def produce(urls: list[str], token: str, tmp_path: Path) -> list[Path]:
    """4 producer processes at once, alternating between the service processes."""
    outs = [tmp_path / f"producer-{i}.jsonl" for i in range(PRODUCERS)]
    procs = [subprocess.Popen([sys.executable, str(SERVICEPROC), "produce", urls[i % len(urls)], token, str(i), str(RECORDS), str(PER_POST), str(out)],
                              stderr=subprocess.PIPE, text=True) for i, out in enumerate(outs)]
    for proc in procs:
        assert proc.wait(300) == 0, proc.stderr.read()  # type: ignore[union-attr]
    return outs


def fetch_and_verify(url: str, token: str, outs: list[Path], config: Path, tmp_path: Path) -> int:
    """Each producer fetches its own bundles (4 processes at once); each bundle verifies on anvil."""
    procs = [subprocess.Popen([sys.executable, str(SERVICEPROC), "fetch", url, token, str(out), str(tmp_path / f"bundles-{i}")],
                              stderr=subprocess.PIPE, text=True) for i, out in enumerate(outs)]
    for proc in procs:
        assert proc.wait(300) == 0, proc.stderr.read()  # type: ignore[union-attr]
    verified = 0
    with Tracer.from_config(config) as tracer:
        for i, out in enumerate(outs):
            for line in out.read_text().splitlines():
                digest = json.loads(line)["digest"]
                bundle = ProofBundle.model_validate_json((tmp_path / f"bundles-{i}" / f"{digest}.bctrace.json").read_text())
                assert bundle.record["author"] == "producer"
                assert tracer.verify(bundle).ok
                verified += 1
    return verified


def assert_exactly_once(db: str, node, contract: str, expected: int, from_block: int) -> None:
    """Every record in one finished batch; each batch root anchored once on chain since
    ``from_block`` (the test's start; the node is shared by the module), and nothing else."""
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT digest) FROM bctrace_records WHERE batch IS NOT NULL").fetchone() == (expected, expected)
        assert conn.execute("SELECT count(*) FROM bctrace_records WHERE batch IS NULL").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM bctrace_batches WHERE NOT done").fetchone() == (0,)
        roots = [bytes(r[0]) for r in conn.execute("SELECT root FROM bctrace_batches")]
    sent: Counter[str] = Counter()
    for number in range(from_block, int(node.rpc("eth_blockNumber"), 16) + 1):
        for tx in node.rpc("eth_getBlockByNumber", [hex(number), True])["transactions"]:
            receipt = node.rpc("eth_getTransactionReceipt", [tx["hash"]])
            if tx["to"] and tx["to"].lower() == contract.lower() and receipt["status"] == "0x1":
                sent[tx["input"][10:74]] += 1  # anchor(bytes32): selector, then the root
    assert len(roots) == len(set(roots))
    assert sent == Counter({root.hex(): 1 for root in roots}), "a root was anchored twice, or one is missing"


def test_two_service_processes_anchor_every_record_exactly_once(anvil_registry, pg_url, start_service, tmp_path):
    config = write_config(tmp_path, anvil_registry["table"])
    start = int(anvil_registry["node"].rpc("eth_blockNumber"), 16) + 1
    token = make_token(tmp_path, pg_url, "producer", "record", "read")
    services = [start_service(tmp_path, pg_url, "--anchor-every", "1s", "--anchor-at", "200") for _ in range(2)]
    outs = produce([s.url for s in services], token, tmp_path)
    assert fetch_and_verify(services[0].url, token, outs, config, tmp_path) == PRODUCERS * RECORDS
    assert_exactly_once(pg_url, anvil_registry["node"], anvil_registry["table"]["contract"], PRODUCERS * RECORDS, start)
    assert all(s.status(token)["worker"]["last_error"] is None for s in services)


def test_a_service_killed_mid_anchor_loses_nothing_and_doubles_nothing(anvil_registry, pg_url, start_service, tmp_path):
    config = write_config(tmp_path, anvil_registry["table"])
    start = int(anvil_registry["node"].rpc("eth_blockNumber"), 16) + 1
    token = make_token(tmp_path, pg_url, "producer", "record", "read", "admin")
    victim, other = (start_service(tmp_path, pg_url, "--anchor-every", "1h") for _ in range(2))
    outs = produce([victim.url, other.url], token, tmp_path)
    import httpx

    assert httpx.post(f"{victim.url}/v1/anchor", headers=auth(token), timeout=30).status_code == 202
    # Blocks come every second: the anchor transaction is in flight for about that long.
    wait_for(lambda: victim.status(token)["worker"]["anchoring_now"], timeout=30, what="the victim to start anchoring")
    victim.kill()
    # The other process claims the batch the dead one held (its session ended with it) and
    # finishes it with the same root; the dead one's transaction, if it was sent, counts once.
    assert httpx.post(f"{other.url}/v1/anchor", headers=auth(token), timeout=30).status_code == 202
    restarted = start_service(tmp_path, pg_url, "--anchor-every", "1s")
    assert fetch_and_verify(restarted.url, token, outs, config, tmp_path) == PRODUCERS * RECORDS
    assert_exactly_once(pg_url, anvil_registry["node"], anvil_registry["table"]["contract"], PRODUCERS * RECORDS, start)
