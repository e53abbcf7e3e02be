"""``bctrace ml audit``: run a command several times, and when the runs differ, find which source
of nondeterminism makes them differ.

The first run is recorded like ``bctrace ml run``; the others are compared with it: model hash by
parameters, metrics, output hashes, predictions hashed by an integration. When they differ, the
known sources (:data:`bctrace.ml.sources.SOURCES`) that the program used are pinned all together,
then one at a time, and, when no single one suffices, removed one by one from the full set until
no pin can go: the result is a table of what each pin did, the smallest set found that makes the
runs agree, and the lines to add to the script. The audit is recorded as an ``ml-audit`` record
that names the run (id and end digest), and anchored.

How pinning reaches a process bctrace does not control: environment variables set before Python
starts (``PYTHONHASHSEED``, thread counts, ``CUBLAS_WORKSPACE_CONFIG``), and a ``sitecustomize``
start-up hook (:mod:`bctrace.ml._audit_hook`) put first on ``PYTHONPATH`` that seeds libraries
as they are imported and observes which sources the program used. What a platform leaves
unspecified and another machine would change is varied between runs when not pinned: odd-numbered
runs list folders in reverse order and use another thread count.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .sources import SOURCES, THREAD_ENV, Source, relevance
from .wrap import WrapSpec, _child_command, _execute, _load_metrics, _mtime, _read_json, run_wrapped

if TYPE_CHECKING:
    from .._internal.tracer import Recorded, Tracer

__all__ = ["KIND", "AuditResult", "run_audit"]

KIND = "ml-audit"
HOOK = Path(__file__).with_name("_audit_hook.py")


@dataclass
class AuditResult:
    """What an audit found; ``as_json()`` is the body of its ``ml-audit`` record."""

    run_id: str
    end_digest: str
    command: list[str]
    runs: int
    vary: bool
    seed: int
    verdict: str  # reproducible | not-reproducible | unexplained | failed
    differences: list[str]
    fingerprints: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    together: bool | None = None
    minimal: list[str] = field(default_factory=list)
    any_one: bool = False
    """``minimal`` lists alternatives: each one of them alone makes the runs agree."""
    fix: list[str] = field(default_factory=list)
    trials: int = 0
    notes: list[str] = field(default_factory=list)
    wall_time_s: float = 0.0
    command_time_s: float = 0.0
    recorded: Recorded | None = None
    bundle_path: Path | None = None

    @property
    def exit_code(self) -> int:
        return 0 if self.verdict == "reproducible" else 1

    def as_json(self) -> dict[str, Any]:
        return {
            "run": {"run_id": self.run_id, "end_digest": self.end_digest},
            "command": self.command,
            "runs": self.runs,
            "vary": self.vary,
            "pin_seed": self.seed,
            "verdict": self.verdict,
            "differences": self.differences,
            "fingerprints": self.fingerprints,
            "sources": self.sources,
            "together": self.together,
            "minimal": self.minimal,
            "minimal_any_one": self.any_one,
            "fix": self.fix,
            "trials": self.trials,
            "notes": self.notes,
            "wall_time_s": round(self.wall_time_s, 3),
            "command_time_s": round(self.command_time_s, 3),
        }


def run_audit(tracer: Tracer, spec: WrapSpec, *, runs: int = 2, vary: bool = True, bundle_dir: str | os.PathLike[str] | None = None,
              flush: bool = True, progress: Any = None) -> AuditResult:
    """Audit ``spec.command`` (see the module docstring). ``progress(text)`` is told what runs."""
    if runs < 2:
        raise UsageError("--runs must be at least 2: an audit compares runs")
    say = progress or (lambda text: None)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bctrace-audit-") as tmp:
        runner = _Runner(spec, Path(tmp), vary=vary)
        say(f"run 1/{runs} (recorded)")
        first = runner.recorded_run(tracer, bundle_dir)
        base = [first] + [runner.trial((), i, say=say, label=f"run {i + 1}/{runs}") for i in range(1, runs)]
        usage = _merge([u for r in base for u in r.usage])
        fingerprints = [r.fingerprint for r in base]
        result = AuditResult(
            run_id=runner.run.id, end_digest=runner.run.recorded[-1].digest_hex, command=list(spec.command), runs=runs, vary=vary,
            seed=runner.seed, verdict="reproducible", differences=_differences(fingerprints), fingerprints=fingerprints, sources=[],
        )
        statuses: dict[str, str] = {}
        reasons = {s.id: relevance(s, usage, runner.env_pinned, hook_loaded=bool(usage.get("loaded"))) for s in SOURCES}
        relevant = [s for s in SOURCES if reasons[s.id] is None]
        for error in usage.get("errors") or []:
            result.notes.append(f"the start-up hook could not pin or observe something: {error}")
        if not usage.get("loaded"):
            result.notes.append("the start-up hook did not load in the command (python -E, -I or -S, or not Python): only environment pins were tried")
        if any(f.get("exit_code") != 0 for f in fingerprints):
            result.verdict = "failed"
            result.notes.append(f"the command failed (exit codes {[f.get('exit_code') for f in fingerprints]}): an audit needs a command that succeeds")
        elif result.differences:
            result.verdict = "not-reproducible"
            _bisect(runner, relevant, runs, statuses, result, say)
        for source in SOURCES:
            reason = reasons[source.id]
            status = statuses.get(source.id) or (reason if reason else ("not tried: the runs agreed" if result.verdict == "reproducible" else "not tried"))
            result.sources.append({"id": source.id, "title": source.title, "used": reason is None, "status": status, "where": source.where(usage)})
        if result.minimal:
            chosen = result.minimal[:1] if result.any_one else result.minimal
            result.fix = [line for sid in chosen for line in _source(sid).fix(usage, runner.seed)]
        result.trials = runner.trials
        result.command_time_s = runner.command_time
    result.wall_time_s = time.perf_counter() - t0
    _record(tracer, runner, result, flush)
    return result


def _bisect(runner: _Runner, relevant: list[Source], runs: int, statuses: dict[str, str], result: AuditResult, say: Any) -> None:
    """All relevant pins together; then each alone; when none suffices alone, drop pins from the
    full set one by one while the runs still agree (a 1-minimal set, as delta debugging gives)."""
    if not relevant:
        result.verdict = "unexplained"
        result.notes.append("no known source of nondeterminism was used by the command")
        return
    ids = [s.id for s in relevant]
    result.together = runner.agree(ids, runs, say)
    if not result.together:
        result.verdict = "unexplained"
        result.notes.append("the runs still differ with every known source pinned: the cause is elsewhere (time, network, unseeded generator objects, native code)")
        for sid in ids:
            statuses[sid] = "pinned with all others: runs still differ"
        return
    alone = {sid: (runner.agree([sid], runs, say) if len(ids) > 1 else True) for sid in ids}
    for sid, ok in alone.items():
        statuses[sid] = "CAUSE: pinned alone, the runs agree" if ok else "pinned alone: runs still differ"
    causes = [sid for sid, ok in alone.items() if ok]
    if causes:
        result.minimal, result.any_one = causes, len(causes) > 1
        return
    keep = list(ids)
    for sid in ids:
        trial = [k for k in keep if k != sid]
        if trial and runner.agree(trial, runs, say):
            keep = trial
    result.minimal = keep
    for sid in keep:
        statuses[sid] = "CAUSE together with " + ", ".join(k for k in keep if k != sid)


def _source(sid: str) -> Source:
    return next(s for s in SOURCES if s.id == sid)


@dataclass
class _Outcome:
    fingerprint: dict[str, Any]
    usage: list[dict[str, Any]]


class _Runner:
    """Starts the runs: the first recorded, the others compared only, each a fresh process with
    the start-up hook and the environment pins of its trial."""

    def __init__(self, spec: WrapSpec, tmp: Path, *, vary: bool) -> None:
        self.spec = spec
        self.tmp = tmp
        self.vary = vary
        self.seed = spec.seed if spec.seed is not None else 0
        self.hook_dir = tmp / "hook"
        self.hook_dir.mkdir()
        shutil.copyfile(HOOK, self.hook_dir / "sitecustomize.py")
        self.env_pinned = {name: os.environ[name] for name in ("PYTHONHASHSEED", *THREAD_ENV) if os.environ.get(name)}
        if spec.seed is not None:
            self.env_pinned["PYTHONHASHSEED"] = str(spec.seed)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        self.alt_threads = 1 if cores > 1 else 2
        self.trials = 0
        self.command_time = 0.0
        self.run: Any = None
        self._cache: dict[tuple[str, ...], bool] = {}

    def env(self, pins: tuple[str, ...] | list[str], index: int, report_dir: Path) -> dict[str, str]:
        """Environment of one run: the hook, its orders, and the pins set from outside."""
        varied = self.vary and index % 2 == 1
        vary: dict[str, Any] = {}
        env = {"PYTHONPATH": os.pathsep.join([str(self.hook_dir), *filter(None, [os.environ.get("PYTHONPATH")])])}
        if "pythonhashseed" in pins:
            env["PYTHONHASHSEED"] = str(self.seed)
        if "threads" in pins:
            env.update({name: "1" for name in THREAD_ENV})
        elif varied and not any(n in self.env_pinned for n in THREAD_ENV):
            env.update({name: str(self.alt_threads) for name in THREAD_ENV})
            vary["threads"] = self.alt_threads
        if "cublas-workspace" in pins:
            env["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"
        if varied:
            vary["listing"] = "reverse"
        bctrace_dir = str(Path(__file__).resolve().parents[1])
        env["BCTRACE_AUDIT"] = json.dumps({"seed": self.seed, "pins": list(pins), "vary": vary, "report_dir": str(report_dir), "ignore": [bctrace_dir]})
        return env

    def recorded_run(self, tracer: Tracer, bundle_dir: str | os.PathLike[str] | None) -> _Outcome:
        """The first run, recorded like ``ml run`` (its output on stderr: stdout is the report's);
        fingerprinted from its record, with the model hashes it already computed."""
        report_dir = self._report_dir()
        before = self._mtimes()
        wrapped = run_wrapped(tracer, self.spec, bundle_dir=bundle_dir, flush=False, env=self.env((), 0, report_dir), output="stderr")
        self.run = wrapped.run
        end = wrapped.run.recorded[-1].record.body
        self.command_time += float(end["process"]["wall_time_s"])
        models = {m["name"]: ("stale" if m.get("stale") else m["sha256"]) for m in end.get("models") or []}
        observed = {"predictions": end.get("predictions") or []}
        return _Outcome(_fingerprint(self.spec, wrapped.exit_code, {"observed": observed}, before, models=models), _usage(report_dir))

    def _mtimes(self) -> dict[str, int | None]:
        paths = [*self.spec.outputs, *self.spec.models, *([self.spec.metrics_file] if self.spec.metrics_file else [])]
        return {p: _mtime(p) for p in paths}

    def trial(self, pins: tuple[str, ...] | list[str], index: int, *, say: Any, label: str) -> _Outcome:
        say(f"{label}{' with ' + ', '.join(pins) + ' pinned' if pins else ''}")
        self.trials += 1
        report_dir = self._report_dir()
        before = self._mtimes()
        child_report = report_dir / "child.json"
        command, env = _child_command(self.spec, child_report, self.env(pins, index, report_dir))
        t0 = time.perf_counter()
        exit_code = _execute(command, env, output="discard")
        self.command_time += time.perf_counter() - t0
        child = _read_json(child_report) or {}
        return _Outcome(_fingerprint(self.spec, exit_code, child, before), _usage(report_dir))

    def agree(self, pins: list[str], runs: int, say: Any) -> bool:
        key = tuple(sorted(pins))
        if key not in self._cache:
            prints = [self.trial(key, i, say=say, label=f"trial run {i + 1}/{runs}").fingerprint for i in range(runs)]
            self._cache[key] = not _differences(prints) and all(p["exit_code"] == 0 for p in prints)
        return self._cache[key]

    def _report_dir(self) -> Path:
        return Path(tempfile.mkdtemp(dir=self.tmp, prefix="usage-"))


def _fingerprint(spec: WrapSpec, exit_code: int, child: dict[str, Any], before: dict[str, int | None], *, models: dict[str, str] | None = None) -> dict[str, Any]:
    """What one run produced, hashed as a recorded run hashes it; ``models`` when already hashed.
    Metrics are compared as the file holds them (a per-step list whole, not only its last value)."""
    from .._internal.hashing import subject_for_path
    from .model_hash import _hash_path, hash_model_file

    def written(path: str) -> bool:
        return Path(path).exists() and _mtime(path) != before.get(path)

    def model_hash(path: str) -> str:
        """The child's parameter hash when it is of this very file, else hashed here."""
        info = (child.get("models") or {}).get(path)
        if not (info and info.get("file_sha256") == _hash_path(Path(path))["sha256"]):
            info = hash_model_file(path)
        return str(info["sha256"])

    if models is None:
        models = {path: model_hash(path) if written(path) else "stale" for path in spec.models}
    outputs = {path: subject_for_path(path)[0].sha256 if written(path) else "stale" for path in spec.outputs}
    metrics = _load_metrics(Path(spec.metrics_file)) if spec.metrics_file and written(spec.metrics_file) else {}
    from .run import _number

    predictions = {p["name"]: p["sha256"] for p in (child.get("observed") or {}).get("predictions") or []}
    return {"exit_code": exit_code, "models": models, "outputs": outputs, "metrics": {k: _number(v) for k, v in metrics.items()}, "predictions": predictions}


def _differences(prints: list[dict[str, Any]]) -> list[str]:
    """What is not the same in every run, named (``model model.pt``, ``metric loss``)."""
    out = []
    labels = {"models": "model", "outputs": "output", "metrics": "metric", "predictions": "predictions"}
    for key, label in labels.items():
        names = sorted({n for p in prints for n in p.get(key) or {}})
        for name in names:
            values = [json.dumps((p.get(key) or {}).get(name), sort_keys=True) for p in prints]
            if len(set(values)) > 1:
                out.append(f"{label} {name}")
    if len({p.get("exit_code") for p in prints}) > 1:
        out.append("exit code")
    return out


def _usage(report_dir: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(report_dir.glob("[0-9]*.json")):
        data = _read_json(path)
        if data is not None:
            found.append(data)
    return found


def _merge(usages: list[dict[str, Any]]) -> dict[str, Any]:
    """One view of what every process of every run used: flags or-ed, lists joined."""
    merged: dict[str, Any] = {"loaded": bool(usages)}
    for u in usages:
        for key, value in u.items():
            if isinstance(value, bool):
                merged[key] = merged.get(key, False) or value
            elif isinstance(value, list):
                merged.setdefault(key, [])
                merged[key] += [v for v in value if v not in merged[key]]
            elif isinstance(value, int):
                merged[key] = max(merged.get(key, 0), value)
    return merged


def _record(tracer: Tracer, runner: _Runner, result: AuditResult, flush: bool) -> None:
    """The audit as an ``ml-audit`` record, its bundle in the run's folder; anchored with the run."""
    from .._internal.bundle import BUNDLE_SUFFIX

    run = runner.run
    result.bundle_path = run.bundle_dir / f"audit{BUNDLE_SUFFIX}"
    from .run import _jsonable

    result.recorded = tracer.record(KIND, _jsonable(result.as_json()), trace=tracer.trace().id, bundle_path=result.bundle_path)
    if flush:
        tracer.flush()
