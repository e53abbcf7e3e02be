"""How every benchmark measures: one timer, one result table, the machine and its load.

Each case is measured beside its baseline in the same run, so that the ratio (the headline) is
taken under the same load; the load average is written beside every row because the machine may
be shared. Micro-benchmarks of pure CPU work use process time (what this process got of a core,
less disturbed by other jobs than wall time); anything that waits on a node, a disk or a child
process uses wall time.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

WALL = time.perf_counter
CPU = time.process_time


def timed(fn: Callable[[], object], repeat: int, clock: Callable[[], float] = WALL) -> float:
    """Median seconds of ``repeat`` calls of ``fn`` (after none: callers warm up when it matters)."""
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def load() -> float:
    """One-minute load average now (runnable processes; above the core count means contention)."""
    return round(os.getloadavg()[0], 2)


@dataclass
class Row:
    """One measured case beside its baseline."""

    suite: str
    case: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    higher_is_better: bool = True
    target: str | None = None
    target_value: float | None = None
    """What the issue asks of ``value`` (or, when ``target_ratio``, of the ratio)."""
    target_ratio: bool = False
    note: str = ""
    load: float = field(default_factory=load)

    @property
    def ratio(self) -> float | None:
        """How many times better than the baseline (>1: bctrace is better)."""
        if not self.baseline_value or not self.value:
            return None
        return self.value / self.baseline_value if self.higher_is_better else self.baseline_value / self.value

    @property
    def target_met(self) -> bool | None:
        if self.target_value is None:
            return None
        got = self.ratio if self.target_ratio else self.value
        if got is None:
            return None
        return got >= self.target_value if (self.higher_is_better or self.target_ratio) else got <= self.target_value

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "target_met": self.target_met}


@dataclass
class Results:
    """Everything one run measured: rows, the series plotted, and the machine."""

    smoke: bool
    rows: list[Row] = field(default_factory=list)
    series: dict[str, dict[str, Any]] = field(default_factory=dict)
    """name -> {"x": label, "y": label, "log_x": bool, "lines": {line label: [[x, y], ...]}}."""
    notes: list[str] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        shown = f"  {row.suite:11s} {row.case:58s} {fmt(row.value)} {row.unit}"
        if row.baseline_value is not None:
            shown += f"  vs {row.baseline} {fmt(row.baseline_value)}  ({row.ratio or 0:.2f}x)"
        print(shown + f"  [load {row.load}]", flush=True)
        return row

    def point(self, plot: str, line: str, x: float, y: float, *, x_label: str = "", y_label: str = "", log_x: bool = True) -> None:
        entry = self.series.setdefault(plot, {"x": x_label, "y": y_label, "log_x": log_x, "lines": {}})
        entry["lines"].setdefault(line, []).append([x, y])

    def to_json(self) -> dict[str, Any]:
        return {"started": self.started, "smoke": self.smoke, "machine": machine(), "rows": [r.to_json() for r in self.rows],
                "series": self.series, "notes": self.notes}


def fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def machine() -> dict[str, Any]:
    """What the numbers were measured on (absolute numbers mean little without it)."""
    cpu = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) // 1024 for line in _lines("/proc/meminfo") if line.startswith("MemTotal")), None)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mib": mem, "python": sys.version.split()[0],
            "platform": platform.platform(), "commit": commit, "load_at_end": [round(x, 2) for x in os.getloadavg()]}


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []
