"""Load a recorded run from its bundles, verify it, and compare a re-run with it.

What must match for a run to count as reproduced: the input hashes, the output and model hashes
(exactly), the metrics (within the tolerance the user sets), the seed, the params and the exit
status. Differences of environment and code are listed, but do not by themselves fail: a run
that gives the same outputs on a newer library version has been reproduced.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._internal.bundle import BUNDLE_SUFFIX, ProofBundle
from ..errors import BundleError
from .run import KIND

if TYPE_CHECKING:
    from .._internal.tracer import Tracer

__all__ = ["Difference", "RunBundles", "compare_runs", "load_run", "run_view"]


@dataclass(frozen=True)
class Difference:
    what: str
    detail: str
    fatal: bool

    def __str__(self) -> str:
        return f"{self.what}: {self.detail}"


@dataclass
class RunBundles:
    """The steps of one recorded run, in order, with the files they came from."""

    steps: list[ProofBundle]
    paths: list[Path]

    @property
    def start(self) -> dict[str, Any]:
        return self.steps[0].record["body"]

    @property
    def end(self) -> dict[str, Any]:
        return self.steps[-1].record["body"]

    @property
    def run_id(self) -> str:
        return str(self.steps[0].record.get("trace"))

    def verify(self, tracer: Tracer) -> None:
        """Check every step's digest, proof and anchors on the configured chains, and that the
        steps link into one unbroken trace; raise a :class:`VerificationError` naming what failed."""
        for path in self.paths:
            tracer.verify(path)
        tracer.verify_trace(self.steps)


def load_run(target: str | Path) -> RunBundles:
    """The run a bundle belongs to (its sibling bundles of the same trace), or the run in a
    folder of bundles. The run must have its start and end steps."""
    p = Path(target)
    if p.is_dir():
        folder, trace = p, None
    elif p.name.endswith(BUNDLE_SUFFIX):
        first = ProofBundle.read(p)
        folder, trace = p.parent, first.record.get("trace")
    else:
        raise BundleError(f"{p} is neither a run folder nor a {BUNDLE_SUFFIX} file")
    found: list[tuple[ProofBundle, Path]] = []
    for f in sorted(folder.glob(f"*{BUNDLE_SUFFIX}")):
        b = ProofBundle.read(f)
        if b.record.get("kind") == KIND and (trace is None or b.record.get("trace") == trace):
            found.append((b, f))
    traces = {b.record.get("trace") for b, _ in found}
    if not found:
        raise BundleError(f"{p}: no ML run bundles (kind {KIND!r}) found")
    if len(traces) > 1:
        raise BundleError(f"{folder} holds bundles of {len(traces)} runs: pass one bundle file of the run you mean")
    found.sort(key=lambda bp: bp[0].record.get("seq", 0))
    steps = [b for b, _ in found]
    if steps[0].record["body"].get("step") != "start":
        raise BundleError(f"{p}: the run's start step (seq 0) is missing")
    if steps[-1].record["body"].get("step") != "end":
        raise BundleError(f"{p}: the run has no end step (still running, crashed, or not flushed yet)")
    return RunBundles(steps, [f for _, f in found])


def run_view(start: dict[str, Any], end: dict[str, Any]) -> dict[str, Any]:
    """One dict of everything comparable: environment and code from the start step, the rest
    (including randomness as reported from inside the process) from the end step."""
    view = {**start, **end}
    view["environment"] = start.get("environment") or {}
    view["code"] = start.get("code") or {}
    if end.get("runtime"):
        view["environment"] = {**view["environment"], **end["runtime"]}
    return view


def compare_runs(old: dict[str, Any], new: dict[str, Any], *, abs_tol: float = 0.0, rel_tol: float = 0.0) -> list[Difference]:
    """Every difference between two run views; ``fatal`` ones mean "not reproduced"."""
    diffs: list[Difference] = []
    diffs += _compare_hashed("input", old.get("inputs"), new.get("inputs"), with_role=True)
    diffs += _compare_hashed("output", old.get("outputs"), new.get("outputs"))
    diffs += _compare_hashed("model", old.get("models"), new.get("models"))
    diffs += _compare_metrics(old.get("metrics") or {}, new.get("metrics") or {}, abs_tol, rel_tol)
    for key in ("seed", "params", "status"):
        if key == "status" and (old.get("process") or new.get("process")):
            continue  # the exit code below says it more precisely
        if old.get(key) != new.get(key):
            diffs.append(Difference(key, f"{_short(old.get(key))} -> {_short(new.get(key))}", True))
    old_rc = (old.get("process") or {}).get("exit_code")
    new_rc = (new.get("process") or {}).get("exit_code")
    if old_rc != new_rc:
        diffs.append(Difference("exit code", f"{old_rc} -> {new_rc}", True))
    diffs += _compare_environment(old, new)
    return diffs


def _compare_hashed(kind: str, old: list[dict[str, Any]] | None, new: list[dict[str, Any]] | None, *, with_role: bool = False) -> list[Difference]:
    def key(entry: dict[str, Any]) -> str:
        return f"{entry['name']} ({entry.get('role')})" if with_role else str(entry["name"])

    a = {key(e): e for e in old or []}
    b = {key(e): e for e in new or []}
    diffs = []
    for name in sorted(set(a) | set(b)):
        if name not in b:
            diffs.append(Difference(f"{kind} {name}", "recorded in the original run, missing in the re-run", True))
        elif name not in a:
            diffs.append(Difference(f"{kind} {name}", "new in the re-run", True))
        elif b[name].get("stale"):
            diffs.append(Difference(f"{kind} {name}", "not written by the re-run (the file is left from before)", True))
        elif a[name]["sha256"] != b[name]["sha256"]:
            detail = f"sha256 differs ({a[name]['sha256'][:14]}... -> {b[name]['sha256'][:14]}...)"
            files = _changed_files(a[name].get("manifest"), b[name].get("manifest"))
            diffs.append(Difference(f"{kind} {name}", detail + (f"; {files}" if files else ""), True))
    return diffs


def _changed_files(old: dict[str, str] | None, new: dict[str, str] | None, limit: int = 5) -> str:
    """Which files of a folder changed, when both records carry the folder's manifest."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return ""
    changes = [f"{p} removed" if p not in new else f"{p} added" if p not in old else f"{p} changed"
               for p in sorted(set(old) | set(new)) if old.get(p) != new.get(p)]
    more = f" (+{len(changes) - limit} more)" if len(changes) > limit else ""
    return ", ".join(changes[:limit]) + more


def _compare_metrics(old: dict[str, Any], new: dict[str, Any], abs_tol: float, rel_tol: float) -> list[Difference]:
    diffs = []
    for name in sorted(set(old) | set(new)):
        if name not in new:
            diffs.append(Difference(f"metric {name}", "missing in the re-run", True))
        elif name not in old:
            diffs.append(Difference(f"metric {name}", "new in the re-run", True))
        else:
            a, b = old[name], new[name]
            numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
            same = math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol) if numeric else a == b
            if not same:
                delta = f", |diff| {abs(a - b):.6g}" if numeric else ""
                diffs.append(Difference(f"metric {name}", f"{a!r} -> {b!r}{delta} (tolerance abs {abs_tol:g}, rel {rel_tol:g})", True))
    return diffs


_ENV_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("python", ("environment", "python", "version")),
    ("python implementation", ("environment", "python", "implementation")),
    ("OS", ("environment", "os", "system")),
    ("OS release", ("environment", "os", "release")),
    ("machine", ("environment", "os", "machine")),
    ("libc", ("environment", "libc")),
    ("CPU", ("environment", "hardware", "cpu_model")),
    ("CPU count", ("environment", "hardware", "cpu_count")),
    ("GPUs", ("environment", "hardware", "gpus")),
    ("container image", ("environment", "container", "image_digest")),
    ("lockfiles", ("environment", "lockfiles")),
    ("environment variables", ("environment", "env_vars")),
    ("thread pools", ("environment", "threadpools")),
    ("torch", ("environment", "torch")),
    ("determinism switches", ("randomness", "torch")),
    ("seeds set in the process", ("randomness", "seeded")),
    ("git commit", ("code", "git", "commit")),
    ("uncommitted diff", ("code", "git", "diff_sha256")),
    ("untracked sources", ("code", "git", "untracked_sha256")),
    ("entry point", ("code", "entry_point")),
    ("arguments", ("code", "argv")),
    ("config files", ("code", "config_files")),
)


_UNORDERED = frozenset({"thread pools", "GPUs"})
"""Lists whose order says nothing: threadpoolctl lists pools in the order the libraries happened
to be loaded, which can change from run to run."""


def _compare_environment(old: dict[str, Any], new: dict[str, Any]) -> list[Difference]:
    diffs = []
    for label, path in _ENV_FIELDS:
        a, b = _get(old, path), _get(new, path)
        if label in _UNORDERED and isinstance(a, list) and isinstance(b, list):
            same = sorted(map(_canonical, a)) == sorted(map(_canonical, b))
        else:
            same = a == b
        if not same:
            diffs.append(Difference(label, f"{_short(a)} -> {_short(b)}", False))
    pa = _get(old, ("environment", "packages")) or {}
    pb = _get(new, ("environment", "packages")) or {}
    changed = [f"{n} {pa.get(n, '-')} -> {pb.get(n, '-')}" for n in sorted(set(pa) | set(pb)) if pa.get(n) != pb.get(n)]
    if changed:
        more = f" (+{len(changed) - 5} more)" if len(changed) > 5 else ""
        diffs.append(Difference("packages", "; ".join(changed[:5]) + more, False))
    return diffs


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
