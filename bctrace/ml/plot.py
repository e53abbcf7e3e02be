"""A PNG of metrics per step, the original run and its re-run on one chart (``ml report``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_metrics", "series"]


def series(history: list[dict[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    """``{metric: [(step, value), ...]}`` from a run's ``metric_history`` (numeric values with a
    step only)."""
    out: dict[str, list[tuple[float, float]]] = {}
    for entry in history or []:
        step = entry.get("step")
        if not isinstance(step, (int, float)):
            continue
        for name, value in (entry.get("metrics") or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out.setdefault(name, []).append((step, value))
    return {k: v for k, v in out.items() if len(v) > 1}


def plot_metrics(runs: list[tuple[str, list[dict[str, Any]]]], path: Path) -> Path | None:
    """Draw every metric with at least two steps, one panel per metric, one line per run
    (``(label, metric_history)``). Returns the PNG's path, or None when there is nothing to draw."""
    drawn = [(label, series(history)) for label, history in runs]
    names = sorted({name for _, s in drawn for name in s})
    if not names:
        return None
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(names), 1, figsize=(7, 2.6 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        for i, (label, s) in enumerate(drawn):
            if name in s:
                steps, values = zip(*s[name], strict=True)
                ax.plot(steps, values, label=label, linestyle="-" if i == 0 else "--", marker="o" if len(steps) < 30 else None, markersize=3)
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
