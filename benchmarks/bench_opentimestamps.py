"""Bitcoin through OpenTimestamps: what a batch costs from stamp to verified, on local calendars.

Method: two local calendars and a local Esplora-style header source on 127.0.0.1
(``tests/ots_calendar.py``; no network). Record N salted records with ``bundle_dir`` (N bundle
files), then time:

1. **flush**: one root submitted to both calendars, N bundles written with the pending anchor;
2. **upgrade**: after the calendars mine a block, ``Tracer.upgrade()``: ask both calendars, fetch
   the block header, store the confirmed receipt, rewrite the N bundles;
3. **verify (header source)**: a fresh Tracer verifies every bundle through the header source
   (the header is fetched once per root: the answer is cached); header requests are counted;
4. **verify (trusted merkle root)**: stop the servers, verify every bundle with
   ``bitcoin=HEIGHT:0xMERKLEROOT`` only;
5. **export**: ``export_ots`` of every bundle.

Reports seconds and records/s (median of --repeat runs of steps 3-5). Run:
``.venv/bin/python benchmarks/bench_opentimestamps.py --records 1000 --repeat 3``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bctrace import ProofBundle, Tracer  # noqa: E402
from bctrace_backends.opentimestamps.export import export_ots  # noqa: E402
from bctrace_backends.opentimestamps.headers import EsploraHeaders  # noqa: E402
from ots_calendar import LocalBitcoin, LocalCalendar  # noqa: E402


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bitcoin = LocalBitcoin().start()
    bitcoin.add_block([])
    calendars = [LocalCalendar(bitcoin=bitcoin).start() for _ in range(2)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "bctrace.toml"
            urls = ", ".join(f'"{c.url}"' for c in calendars)
            config.write_text(f'state_dir = ".bctrace"\nbundle_dir = "bundles"\ndefault_chains = ["bitcoin"]\n\n'
                              f'[chains.bitcoin]\nbackend = "opentimestamps"\ncalendars = [{urls}]\nupgrade_from = []\n'
                              f'esplora = "{bitcoin.url}"\n')
            with Tracer.from_config(config) as tracer:
                with tracer.batch():
                    for i in range(args.records):
                        tracer.record("bench", {"i": i}, salt=True)
                flush_s, result = timed(tracer.flush)
                for c in calendars:
                    c.mine()
                upgrade_s, upgraded = timed(tracer.upgrade)
            paths = sorted(upgraded.bundles)
            anchor = ProofBundle.read(paths[0]).anchors[0]
            print(f"{len(paths):,} bundles, {paths[0].stat().st_size:,} bytes each; flush (submit + write, pending) {flush_s:.2f} s, "
                  f"upgrade (2 calendars, 1 header, rewrite) {upgrade_s:.2f} s")

            requests = 0
            original = EsploraHeaders._get

            def counted(self, path):  # type: ignore[no-untyped-def]
                nonlocal requests
                requests += 1
                return original(self, path)

            EsploraHeaders._get = counted  # type: ignore[method-assign]
            node_runs = []
            for _ in range(args.repeat):
                with Tracer.from_config(config) as verifier:
                    node_runs.append(timed(lambda v=verifier: [v.verify(p) for p in paths])[0])
            EsploraHeaders._get = original  # type: ignore[method-assign]
            block = bitcoin.blocks[anchor.block - bitcoin.base_height]
            for server in [*calendars, bitcoin]:
                server.stop()
            trusted = {anchor.chain_id: {anchor.block.to_bytes(4, "big") + block.hashMerkleRoot[::-1]}}
            offline_runs, export_runs = [], []
            for _ in range(args.repeat):
                with Tracer.from_config(config) as verifier:
                    offline_runs.append(timed(lambda v=verifier: [v.verify(p, trusted=trusted) for p in paths])[0])
                export_runs.append(timed(lambda: [export_ots(ProofBundle.read(p)) for p in paths])[0])
            for label, runs in (("verify through the header source", node_runs), ("verify with a trusted merkle root", offline_runs),
                                ("export .ots", export_runs)):
                median = statistics.median(runs)
                print(f"{label}: {median:.2f} s, {len(paths) / median:,.0f} records/s (median of {len(runs)})")
            print(f"header source requests during {args.repeat} verify runs of {len(paths):,} bundles: {requests}")
    finally:
        for server in [*calendars, bitcoin]:
            try:
                server.stop()
            except Exception:  # noqa: BLE001 - already stopped above
                pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
