"""The in-browser verifier's speed and memory, in Debian's Chromium driven by Playwright.

Method:

1. **1,000 bundles of one batch**: start anvil, deploy the TraceRegistry, record N salted records
   in one batch and flush once (one root, one anchor with its chain proof, N bundle files). Open
   the exported page (``bctrace serve --export``, from ``file://``), give it all N bundle files
   at once, and time the page from receiving the files to the final verdict (its ``data-ms``;
   the time Playwright takes to hand 1,000 files over is printed apart): (a) through the live node
   (``?rpc=``; the page asks the node once per root and claim), (b) with the node's answer
   replaced by the anchor block's hash (``?trust=``; chain proof checked once, offline). Each
   bundle is read, parsed under the strict reading rules, hashed (digest, Merkle proof) and shown.
2. **1 GB file, flat memory**: stamp a 1 GiB file on the local ledger, give the page the file
   and its bundle (``?trust=`` the ledger head), and time the verdict; meanwhile sample, every
   50 ms, the summed anonymous resident memory (RssAnon) of every Chromium process and the page's JS heap
   (DevTools ``Performance.getMetrics``). Memory stays flat when the file is read in 8 MiB
   slices: its peak is far below the file's size.

Reports the median of --repeat runs. Run:
``.venv/bin/python benchmarks/bench_web_verifier.py --records 1000 --size-mb 1024 --repeat 3``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_chain import deploy_bench_registry, write_bench_config

from bctrace import Tracer
from bctrace_backends.evm.anvil import start_anvil

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync"]


def export_site(folder: Path) -> Path:
    subprocess.run([str(Path(sys.executable).with_name("bctrace")), "serve", "--export", str(folder)], check=True, capture_output=True)
    return folder / "index.html"


def timed_check(page, url: str, files: list[Path], run: int) -> tuple[float, float]:
    """Seconds from handing the files over (Playwright) to the verdict, and the page's own time
    from receiving them to the verdict (``data-ms``)."""
    page.goto(url)
    start = time.perf_counter()
    page.set_input_files("input#files", [str(f) for f in files])
    page.locator('[data-testid=verdict][data-run="1"]').wait_for(timeout=600_000)
    elapsed = time.perf_counter() - start
    verdict = page.locator("[data-testid=verdict]")
    if verdict.get_attribute("data-status") != "verified":
        raise SystemExit(f"run {run}: the page says {verdict.get_attribute('data-status')}: {verdict.inner_text()[:500]}")
    return elapsed, int(verdict.get_attribute("data-ms") or 0) / 1000


def descendants_rss_kib(root: int, field: str = "RssAnon") -> int:
    """Summed resident memory of every process below ``root`` (Chromium's browser, renderer, GPU,
    utility): ``RssAnon`` by default, the memory processes allocate (``VmRSS`` adds file pages
    mapped from disk, such as the file being read, which the kernel can drop at any time)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def sample_memory(samples: list[int], done: threading.Event) -> None:
    """Append Chromium's memory every 50 ms until ``done``."""
    while not done.is_set():
        samples.append(descendants_rss_kib(os.getpid()))
        time.sleep(0.05)


def bundles_benchmark(browser, site: Path, records: int, repeat: int) -> None:
    node = start_anvil(31337)
    try:
        table, deployed, client = deploy_bench_registry(node)
        client.close()
        with tempfile.TemporaryDirectory() as tmp:
            config = write_bench_config(Path(tmp) / "bctrace.toml", table, deployed.address, 'bundle_dir = "bundles"')
            with Tracer.from_config(config) as tracer:
                with tracer.batch():
                    for i in range(records):
                        tracer.record("bench", {"i": i}, salt=True)
                tracer.flush()
            files = sorted((Path(tmp) / "bundles").glob("*.bctrace.json"))
            anchor = json.loads(files[0].read_text())["anchors"][0]
            size_kb = statistics.mean(f.stat().st_size for f in files) / 1000
            for label, query in (("live node (?rpc=)", f"rpc=31337={node.url}"), ("trusted block (?trust=)", f"trust=31337={anchor['block_hash']}")):
                times, in_page = [], []
                for run in range(repeat):
                    context = browser.new_context()
                    total, page_time = timed_check(context.new_page(), f"{site.as_uri()}?{query}", files, run)
                    times.append(total)
                    in_page.append(page_time)
                    context.close()
                median = statistics.median(in_page)
                print(f"{records:,} bundles ({size_kb:.1f} kB each), {label}: {median:.2f} s median in the page "
                      f"({records / median:,.0f} bundles/s; runs {', '.join(f'{t:.2f}' for t in in_page)}); "
                      f"{statistics.median(times):.2f} s including Playwright handing over the files")
    finally:
        node.stop()


def big_file_benchmark(browser, site: Path, size_mb: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.bin"
        chunk = os.urandom(8 << 20)
        with big.open("wb") as out:
            for _ in range(size_mb // 8):
                out.write(chunk)
        with Tracer.from_config(None, cwd=Path(tmp)) as tracer:
            tracer.stamp(big)
            tracer.flush()
        bundle = Path(tmp) / "big.bin.bctrace.json"
        anchor = json.loads(bundle.read_text())["anchors"][0]
        for run in range(repeat):
            context = browser.new_context()
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")
            samples: list[int] = []
            done = threading.Event()
            baseline = descendants_rss_kib(os.getpid())
            sampler = threading.Thread(target=sample_memory, args=(samples, done))
            sampler.start()
            try:
                _, elapsed = timed_check(page, f"{site.as_uri()}?trust={anchor['chain_id']}={anchor['block_hash']}", [big, bundle], run)
            finally:
                done.set()
                sampler.join()
            heap = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
            peak = max(samples)
            print(f"{size_mb} MiB file hashed and verified in the page: {elapsed:.2f} s ({size_mb / elapsed:,.0f} MiB/s); "
                  f"Chromium anonymous RSS {baseline / 1024:,.0f} MiB before, {peak / 1024:,.0f} MiB peak; "
                  f"JS heap after {heap.get('JSHeapUsedSize', 0) / 2**20:,.1f} MiB (of {heap.get('JSHeapTotalSize', 0) / 2**20:,.1f})")
            context.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        site = export_site(Path(tmp) / "site")
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS, headless=True)
        try:
            bundles_benchmark(browser, site, args.records, args.repeat)
            big_file_benchmark(browser, site, args.size_mb, args.repeat)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
