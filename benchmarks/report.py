"""Write one run's results: ``<date>.json`` (everything), ``<date>.md`` (the table) and one PNG
per plotted series (matplotlib, headless)."""

from __future__ import annotations

import json
from pathlib import Path

from .measure import Results, fmt


def write(res: Results, out: Path, stem: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    data = res.to_json()
    written = [out / f"{stem}.json", out / f"{stem}.md"]
    written[0].write_text(json.dumps(data, indent=2) + "\n")
    written[1].write_text(markdown(data))
    written += plots(data, out, stem)
    return written


def markdown(data: dict) -> str:
    m = data["machine"]
    lines = [
        f"# bctrace benchmarks, {data['started']}{' (smoke: tiny sizes, numbers mean nothing)' if data['smoke'] else ''}",
        "",
        f"{m['cpu']}, {m['cores']} cores, {m['memory_mib']} MiB, Python {m['python']}, {m['platform']}, commit {m['commit']}. "
        f"Load average (1, 5, 15 min) at the end: {', '.join(map(str, m['load_at_end']))}; each row shows the 1-minute load "
        f"when it was measured (above {m['cores']} the cores were shared with other jobs).",
        "",
        "| suite | case | bctrace | baseline | ratio | target | load | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in data["rows"]:
        base = f"{r['baseline']}: {fmt(r['baseline_value'])}" if r["baseline_value"] is not None else ""
        ratio = f"**{r['ratio']:.2f}×**" if r["ratio"] is not None else ""
        target = r["target"] or ""
        if r["target_met"] is not None:
            target += " (met)" if r["target_met"] else " (**not met**)"
        lines.append(f"| {r['suite']} | {r['case']} | {fmt(r['value'])} {r['unit']} | {base} | {ratio} | {target} | {r['load']} | {r['note']} |")
    if data["notes"]:
        lines += ["", *(f"- {n}" for n in data["notes"])]
    return "\n".join(lines) + "\n"


def plots(data: dict, out: Path, stem: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for name, series in data["series"].items():
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for label, points in series["lines"].items():
            points = sorted(points)
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
        if series["log_x"]:
            ax.set_xscale("log")
        if name in ("records-per-second", "gas-per-record"):
            ax.set_yscale("log")
        ax.set_xlabel(series["x"])
        ax.set_ylabel(series["y"])
        ax.set_title(name.replace("-", " "))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
        fig.tight_layout()
        path = out / f"{stem}-{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
