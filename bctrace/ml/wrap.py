"""Record any training command as a run, without changing its code (``bctrace ml run``).

The wrapper hashes the declared inputs and writes the start step, runs the command, then hashes
the declared outputs and model, reads the metrics file the script wrote, and writes the end step
with the exit status and wall time. When the command is bctrace's own Python interpreter running
a script, it runs through :mod:`bctrace.ml.child` so that seeds, determinism switches, thread
pools and torch facts are reported from inside the training process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .run import ROLES, Run

if TYPE_CHECKING:
    from .._internal.tracer import FlushResult, Tracer

__all__ = ["WrapSpec", "Wrapped", "parse_input", "run_wrapped"]

SEED_ENV = "BCTRACE_SEED"


@dataclass
class WrapSpec:
    """What to run and what to hash around it; stored in the end step so that ``bctrace ml
    reproduce`` can run the same thing again."""

    command: list[str]
    name: str | None = None
    inputs: list[tuple[str, str]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    metrics_file: str | None = None
    seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    declarations: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["inputs"] = [{"path": p, "role": r} for p, r in self.inputs]
        data.pop("declarations")  # carried by the run's own "declarations"
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WrapSpec:
        return cls(
            command=list(data.get("command") or []),
            name=data.get("name"),
            inputs=[(i["path"], i["role"]) for i in data.get("inputs") or []],
            outputs=list(data.get("outputs") or []),
            models=list(data.get("models") or []),
            metrics_file=data.get("metrics_file"),
            seed=data.get("seed"),
            params=dict(data.get("params") or {}),
        )


@dataclass
class Wrapped:
    run: Run
    exit_code: int
    flushed: FlushResult | None

    @property
    def end_bundle(self) -> Path | None:
        if not self.run.recorded:
            return None
        path = self.run.recorded[-1].bundle_path
        return path if path is not None and path.exists() else None


def parse_input(value: str) -> tuple[str, str]:
    """``PATH[:ROLE]`` -> (path, role); a path may itself contain ``:``. A suffix that is not a
    role after an existing path (``data/train.csv:training``) is a mistyped role, not a file name."""
    path, sep, role = value.rpartition(":")
    if sep and role in ROLES and path:
        return path, role
    if sep and path and not Path(value).exists() and Path(path).exists():
        raise UsageError(f"--input {value}: unknown role {role!r} (allowed: {', '.join(ROLES)})")
    return value, "train"


def _check_command(command: list[str]) -> None:
    """The program exists and, for ``python SCRIPT``, so does the script: a typo is a usage error
    (exit 2) and no run is recorded for it."""
    if shutil.which(command[0]) is None:
        raise UsageError(f"command not found: {command[0]}")
    from .capture import _script_of

    script, _ = _script_of(command)
    if script is not None and script != command[0] and not Path(script).is_file():
        raise UsageError(f"script {script} does not exist")


def run_wrapped(tracer: Tracer, spec: WrapSpec, *, bundle_dir: str | os.PathLike[str] | None = None, parent: str | None = None, extra: dict[str, Any] | None = None,
                flush: bool = True, env: dict[str, str] | None = None, output: str = "inherit") -> Wrapped:
    """Run ``spec.command`` as a recorded run; the command's output goes to this terminal.
    ``env`` adds environment variables for the command and ``output`` (see :func:`_execute`)
    redirects what it prints (``bctrace ml audit`` uses both)."""
    if not spec.command:
        raise UsageError("no command given: put it after --, e.g. bctrace ml run -- python train.py")
    _check_command(spec.command)  # before anything is recorded
    name = spec.name or _default_name(spec.command)
    run = Run(tracer, name, params=spec.params, seed=spec.seed, apply_seed=False, parent=parent, argv=spec.command,
              root=tracer.config.root, progress=sys.stderr.isatty(), bundle_dir=bundle_dir)
    for path, role in spec.inputs:
        run.log_input(path, role=role)
    if spec.declarations:
        run.declare(**spec.declarations)
    run.start()
    before = {p: _mtime(p) for p in [*spec.outputs, *spec.models, *([spec.metrics_file] if spec.metrics_file else [])]}

    with tempfile.TemporaryDirectory(prefix="bctrace-ml-") as tmp:
        report_path = Path(tmp) / "child.json"
        command, child_env = _child_command(spec, report_path, env)
        t0 = time.perf_counter()
        exit_code = _execute(command, child_env, output=output)
        wall = round(time.perf_counter() - t0, 6)
        child = _read_json(report_path)

    # A file left by an earlier run and not rewritten by this one is flagged "stale", so that it
    # can never pass for this run's result (a comparison treats it as a difference).
    warnings: list[str] = []
    if spec.metrics_file:
        if not Path(spec.metrics_file).is_file():
            warnings.append(f"metrics file {spec.metrics_file} was not written")
        elif _mtime(spec.metrics_file) == before[spec.metrics_file]:
            warnings.append(f"metrics file {spec.metrics_file} was not rewritten by this run: ignored")
        else:
            _log_metrics_file(run, _load_metrics(Path(spec.metrics_file)))
    for kind, entries in ((child or {}).get("observed") or {}).items():
        for entry in entries:
            run.observe(kind, entry)
    child_models = (child or {}).get("models") or {}
    for path in [*spec.outputs, *spec.models]:
        if not Path(path).exists():
            warnings.append(f"{'model' if path in spec.models else 'output'} {path} was not written")
            continue
        entry = _log_model(run, path, child_models.get(path)) if path in spec.models else run.log_artifact(path)
        if _mtime(path) == before[path]:
            entry["stale"] = True
            warnings.append(f"{path} was not rewritten by this run")
    end_extra: dict[str, Any] = {
        "process": {"command": spec.command, "exit_code": exit_code, "wall_time_s": wall, "instrumented": child is not None},
        "wrapper": spec.to_json(),
        "warnings": warnings,
        **(extra or {}),
    }
    if child is not None:
        end_extra["randomness"] = child.get("randomness")
        end_extra["runtime"] = child.get("runtime")
    status = "ok" if exit_code == 0 else "failed"
    run.end(status, error=_ExitStatus(exit_code) if exit_code else None, extra=end_extra)
    flushed = tracer.flush() if flush else None
    return Wrapped(run, exit_code, flushed)


class _ExitStatus(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"command exited with status {code}" if code > 0 else f"command killed by signal {-code}")


def _log_model(run: Run, path: str, from_child: dict[str, Any] | None) -> dict[str, Any]:
    """Use the child's parameter hash when it is of this very file (same sha256), else hash here."""
    if from_child and from_child.get("file_sha256"):
        from .model_hash import _hash_path

        if _hash_path(Path(path))["sha256"] == from_child["file_sha256"]:
            return run._add_model(path, from_child)
    return run.log_model(path, name=path)


def _log_metrics_file(run: Run, metrics: dict[str, Any]) -> None:
    """A metric given as a list of numbers is one value per step (epoch): each step goes into the
    run's history, and the last value is the metric."""
    series = {k: v for k, v in metrics.items() if isinstance(v, list) and v and all(isinstance(x, (int, float)) for x in v)}
    for step in range(max((len(v) for v in series.values()), default=0)):
        run.log_metrics({k: v[step] for k, v in series.items() if step < len(v)}, step=step)
    rest = {k: v for k, v in metrics.items() if k not in series}
    if rest or not series:
        run.log_metrics(rest)


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _default_name(command: list[str]) -> str:
    from .capture import _script_of

    script, module = _script_of(command)
    return Path(script).stem if script else (module or Path(command[0]).name)


def _child_command(spec: WrapSpec, report_path: Path, extra_env: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, **(extra_env or {})}
    if spec.seed is not None:
        env[SEED_ENV] = str(spec.seed)
        env["PYTHONHASHSEED"] = str(spec.seed)  # only effective when set before Python starts
    command = list(spec.command)
    rest = command[1:]
    if _is_own_python(command[0]) and rest and (not rest[0].startswith("-") or (rest[0] == "-m" and len(rest) > 1)):
        env["BCTRACE_ML_CHILD_REPORT"] = str(report_path)
        env["BCTRACE_ML_MODELS"] = json.dumps(spec.models)
        command = [command[0], "-m", "bctrace.ml.child", *rest]
    return command, env


def _is_own_python(program: str) -> bool:
    """True if ``program`` is this interpreter (same venv), so bctrace is importable in it."""
    if not re.fullmatch(r"python[0-9.]*", Path(program).name):
        return False
    found = shutil.which(program)
    if found is None:
        return False
    return Path(os.path.abspath(found)).parent == Path(os.path.abspath(sys.executable)).parent


def _execute(command: list[str], env: dict[str, str], *, output: str = "inherit") -> int:
    """Run the command to its end. ``output``: ``inherit`` (this terminal), ``stderr`` (both
    streams to stderr, keeping stdout for a report), ``discard`` (the audit's extra runs)."""
    streams: dict[str, Any] = {
        "inherit": {},
        "stderr": {"stdout": sys.stderr.fileno() if _has_fileno(sys.stderr) else subprocess.DEVNULL},
        "discard": {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL},
    }[output]
    try:
        proc = subprocess.Popen(command, env=env, **streams)
    except OSError as err:  # checked with shutil.which before; the file changed since
        raise UsageError(f"cannot start {command[0]}: {err.strerror}") from err
    try:
        return proc.wait()
    except KeyboardInterrupt:  # the child got the same SIGINT from the terminal; record its end
        return proc.wait()


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (OSError, ValueError, AttributeError):  # a captured stream (tests, notebooks)
        return False
    return True


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _load_metrics(path: Path) -> dict[str, Any]:
    """A flat ``{"name": number}`` object; nested objects are flattened with dots."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UsageError(f"metrics file {path} is not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise UsageError(f"metrics file {path} must hold a JSON object of metric names to values")
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            flat[prefix] = value

    walk("", data)
    return flat
