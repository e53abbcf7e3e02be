"""Benchmark: the shared anchoring service on PostgreSQL, from other processes on loopback.

Method: a PostgreSQL 15 started for the run (``tests/pgserver.py``: initdb in a temp folder,
random loopback port, fsync off), anvil as the chain (automine) with a TraceRegistry, and
``bctrace serve --db ...`` processes. Producers are separate Python processes (httpx) that post
records in batches (``{"records": [...]}``) to one service, then fetch their bundles.

1. **accepted**: 4 producers x 2,500 records, posts of 500, to ONE service process: records/s
   accepted (all records / wall time of the posting), p50/p99 latency of a batch post, and p50/p99
   of single-record posts (1 producer, 500 posts of one record).
2. **end to end**: the same 10,000 records through TWO service processes on one PostgreSQL,
   anchoring every ``--every`` seconds: records/s from the first post until every bundle is
   fetched; every bundle verifies on anvil (checked by fetching and verifying all of them);
   each batch root is anchored exactly once (counted on chain).

3. with ``--kill``: step 2 on a chain that makes a block every second, one service process
   killed with SIGKILL while it anchors and restarted: nothing lost, nothing doubled.

    .venv/bin/python benchmarks/bench_service.py [--producers 4] [--records 2500] [--batch 500] [--every 5] [--kill]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
sys.path[:0] = [str(HERE), str(TESTS), str(TESTS / "service")]

from bench_chain import deploy_bench_registry  # noqa: E402

from bctrace_backends.evm.anvil import start_anvil  # noqa: E402
from pgserver import PostgresServer, find_bin_dir  # noqa: E402
from serviceproc import ServiceProcess, make_token, wait_for  # noqa: E402

PRODUCER = TESTS / "serviceproc.py"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_producers(urls: list[str], token: str, producers: int, records: int, batch: int, folder: Path) -> tuple[float, list[Path], list[float]]:
    outs = [folder / f"p{i}.jsonl" for i in range(producers)]
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, str(PRODUCER), "produce", urls[i % len(urls)], token, f"b{i}", str(records), str(batch), str(out)])
             for i, out in enumerate(outs)]
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("a producer failed")
    elapsed = time.perf_counter() - t0
    latencies = [x for out in outs for x in json.loads(out.with_suffix(".latency").read_text())]
    return elapsed, outs, latencies


def all_anchored(db: str) -> bool:
    import psycopg

    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT (SELECT count(*) FROM bctrace_records WHERE batch IS NULL), "
                           "(SELECT count(*) FROM bctrace_batches WHERE NOT done)").fetchone()
    return row == (0, 0)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--records", type=int, default=2500)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument("--kill", action="store_true",
                        help="skip step 1; in step 2, SIGKILL a service process while it anchors (blocks every second) and restart it")
    args = parser.parse_args()
    total = args.producers * args.records
    server = PostgresServer(find_bin_dir())  # type: ignore[arg-type]
    server.start()
    node = start_anvil(31337, extra_args=["--block-time", "1"] if args.kill else [])
    results: dict[str, object] = {"producers": args.producers, "records": total, "batch": args.batch, "anchor_every_s": args.every}
    started: list[ServiceProcess] = []
    try:
        table, deployment, client = deploy_bench_registry(node)
        client.close()
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp)
            lines = ["[chains.bench]", 'backend = "evm"', f'contract = "{deployment.address}"']
            lines += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
            (project / "bctrace.toml").write_text("\n".join(lines) + "\n")

            # 1. accepted by one service process (anchoring out of the way: every hour)
            if not args.kill:
                db = server.database()
                token = make_token(project, db, "producer", "record", "read")
                one = ServiceProcess(project, db, "--anchor-every", "1h", "--rate-limit", "0").start()
                started.append(one)
                elapsed, _, latencies = run_producers([one.url], token, args.producers, args.records, args.batch, project)
                results["accepted_records_per_s"] = round(total / elapsed)
                results["batch_post_p50_ms"] = round(statistics.median(latencies) * 1000, 1)
                results["batch_post_p99_ms"] = round(percentile(latencies, 0.99) * 1000, 1)
                (project / "single").mkdir()
                _, _, singles = run_producers([one.url], token, 1, 500, 1, project / "single")
                results["single_post_p50_ms"] = round(statistics.median(singles) * 1000, 2)
                results["single_post_p99_ms"] = round(percentile(singles, 0.99) * 1000, 2)
                one.stop()
                print(json.dumps(results), flush=True)  # step 1, in case step 2 fails

            # 2. end to end through two service processes on one database
            db = server.database()
            token = make_token(project, db, "producer", "record", "read")
            pair = [ServiceProcess(project, db, "--anchor-every", f"{args.every}s", "--rate-limit", "0").start() for _ in range(2)]
            started += pair
            (project / "e2e").mkdir()
            t0 = time.perf_counter()
            _, outs, _ = run_producers([s.url for s in pair], token, args.producers, args.records, args.batch, project / "e2e")
            posted = time.perf_counter()
            if args.kill:
                victim = wait_for(lambda: next((s for s in pair if s.status(token)["worker"]["anchoring_now"]), None), timeout=120,
                                  what="a service process anchoring")
                victim.kill()
                results["killed_mid_anchor"] = True
                started.append(ServiceProcess(project, db, "--anchor-every", f"{args.every}s", "--rate-limit", "0").start())
                pair = [s for s in pair if s is not victim]
            wait_for(lambda: all_anchored(db), timeout=600, what="every record anchored")
            anchored = time.perf_counter()
            results["posting_s"] = round(posted - t0, 1)
            results["last_post_to_all_anchored_s"] = round(anchored - posted, 1)
            results["end_to_end_records_per_s"] = round(total / (anchored - t0))
            from test_exactly_once import assert_exactly_once, fetch_and_verify  # the suite's checks, at full size

            results["verified_bundles"] = fetch_and_verify(pair[0].url, token, outs, project / "bctrace.toml", project / "e2e")
            assert_exactly_once(db, node, deployment.address, total, 0)
            results["each_root_anchored_once"] = True
            results["batches"] = sum(s.status(token)["worker"]["batches_anchored"] for s in pair)
    finally:
        for s in started:
            s.kill()
        node.stop()
        server.remove()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
