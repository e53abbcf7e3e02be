"""``bctrace ml report``: a recorded run as readable tables (rich)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._internal.bundle import BUNDLE_SUFFIX, ProofBundle
from ..errors import BctraceError
from .compare import RunBundles, load_run, run_view

__all__ = ["find_audits", "other_run", "render_report"]

_STATUS_STYLE = {"ok": "green", "missing": "red", "failed": "red", "undeclared": "yellow", "unknown": "yellow", "n/a": "dim"}


def render_report(run: RunBundles, *, verified: str, console: Any = None) -> None:
    """Print the run's summary, data, results and checklist. ``verified`` says what was checked
    (offline only, or against the chains)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    view = run_view(run.start, run.end)
    code = view.get("code") or {}
    git = code.get("git") or {}
    env = view.get("environment") or {}
    anchors = run.steps[-1].anchors

    summary = Table(title=f"ML run {view.get('name')!r}", show_header=False, title_justify="left")
    summary.add_column(style="bold")
    summary.add_column()
    rows: list[tuple[str, Any]] = [
        ("run id", run.run_id),
        ("status", view.get("status")),
        ("started / ended", f"{view.get('started')} / {view.get('ended')}"),
        ("wall time", f"{view.get('wall_time_s')} s"),
        ("parent run", view.get("parent")),
        ("command", " ".join(code.get("argv") or [])),
        ("git", f"{git.get('commit') or '(no commit)'} on {git.get('branch')}{' (dirty)' if git.get('dirty') else ''}" if git else "(not a git repository)"),
        ("remote", git.get("remote")),
        ("python", f"{(env.get('python') or {}).get('implementation')} {(env.get('python') or {}).get('version')}"),
        ("platform", f"{(env.get('os') or {}).get('system')} {(env.get('os') or {}).get('release')} {(env.get('os') or {}).get('machine')}"),
        ("packages", f"{len(env.get('packages') or {})} installed"),
        ("seed", view.get("seed")),
        ("anchors", ", ".join(f"{a.chain} (chain id {a.chain_id}) block {a.block} tx {a.tx[:18]}..." for a in anchors) or "(none)"),
        ("verified", verified),
    ]
    for key, value in rows:
        if value not in (None, ""):
            summary.add_row(key, escape(str(value)))
    console.print(summary)

    if view.get("params"):
        console.print(_kv_table("Hyper-parameters", view["params"]))
    hashed = Table(title="Data, outputs and model", title_justify="left")
    for col in ("kind", "name", "role", "sha256", "size"):
        hashed.add_column(col)
    for kind, entries in (("input", view.get("inputs")), ("output", view.get("outputs")), ("model", view.get("models"))):
        for e in entries or []:
            cells = (kind, e.get("name"), e.get("role") or e.get("method") or "", e.get("sha256"), e.get("size") or "")
            hashed.add_row(*(escape(str(c)) for c in cells))
    if hashed.row_count:
        console.print(hashed)
    if view.get("metrics"):
        console.print(_kv_table("Metrics (last values)", view["metrics"]))

    checklist = view.get("checklist") or {}
    table = Table(title=f"Reproducibility checklist: {checklist.get('satisfied')}/{checklist.get('applicable')} ({round(100 * (checklist.get('score') or 0))} %)", title_justify="left")
    for col in ("item", "source", "status", "value"):
        table.add_column(col)
    for item in checklist.get("items") or []:
        style = _STATUS_STYLE.get(item["status"], "")
        status = f"[{style}]{item['status']}[/{style}]" if style else escape(item["status"])
        table.add_row(item["title"], item["source"], status, escape(str(item.get("value", ""))))
    console.print(table)
    console.print("Standards: " + "; ".join(checklist.get("standards") or []), style="dim")


def _kv_table(title: str, data: dict[str, Any]) -> Any:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for k, v in data.items():
        table.add_row(escape(str(k)), escape(str(v)))
    return table


def find_audits(run: RunBundles) -> list[tuple[ProofBundle, Path]]:
    """The ``ml-audit`` records next to the run's bundles that name this run."""
    from .audit import KIND

    found = []
    for path in sorted(run.paths[0].parent.glob(f"*{BUNDLE_SUFFIX}")):
        if path in run.paths:
            continue
        bundle = ProofBundle.read(path)
        if bundle.record.get("kind") == KIND and (bundle.record.get("body") or {}).get("run", {}).get("run_id") == run.run_id:
            found.append((bundle, path))
    return found


def other_run(run: RunBundles, given: str | None) -> RunBundles | None:
    """The run to plot beside ``run``: the one given, else the original this run re-ran when its
    folder sits beside this run's (``.bctrace/runs/<id>/``)."""
    if given:
        return load_run(given)
    original = (run.end.get("reproduces") or {}).get("run_id")
    folder = run.paths[0].parent.parent / str(original)
    if original and folder.is_dir():
        try:
            return load_run(folder)
        except BctraceError:
            return None
    return None
