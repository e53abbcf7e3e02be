"""An ML training run recorded as one trace of hash-chained ``ml-run`` records.

The trace has a ``start`` step (code, environment, randomness, params, the inputs known so far),
optional ``checkpoint`` steps, and an ``end`` step (final params, every input, output and model
hash, last metrics, declarations, the reproducibility checklist, status and wall time). Because
the steps are chained by digest, a step cannot be dropped or reordered unseen, and once anchored
none can be edited.

The start step is written as soon as the run starts (so a crash still leaves a record of what was
started); inputs logged after that are carried by the end step, which always lists all of them.
"""

from __future__ import annotations

import functools
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .._internal.record import Subject
from ..errors import UsageError

if TYPE_CHECKING:
    from .._internal.tracer import Recorded, Tracer

__all__ = ["KIND", "ROLES", "Run", "current_run", "start_run", "traced_run"]

KIND = "ml-run"
METRIC_HISTORY_LIMIT = 10_000
"""Logged metric steps kept in the end step (for the report's plot); ``metric_steps`` counts all."""
MANIFEST_LIMIT = 1000
"""Folders with at most this many files carry their per-file hashes in the run record."""
ROLES = ("train", "validation", "test", "other")
F = TypeVar("F", bound=Callable[..., Any])

_active: list[Run] = []
_active_lock = threading.Lock()


def current_run() -> Run | None:
    """The innermost run that is open, or None; integrations attach to it instead of opening
    a second run."""
    with _active_lock:
        return _active[-1] if _active else None


class Run:
    """One training run. Use through :func:`start_run` / ``Tracer.run`` as a context manager.

    Not thread-safe by itself: log from one thread, or guard calls with your own lock.
    """

    def __init__(
        self,
        tracer: Tracer,
        name: str,
        *,
        params: Mapping[str, Any] | None = None,
        seed: int | None = None,
        parent: str | None = None,
        tags: Mapping[str, str] | None = None,
        bundle_dir: str | os.PathLike[str] | None = None,
        root: str | os.PathLike[str] | None = None,
        argv: list[str] | None = None,
        flush: bool = False,
        apply_seed: bool = True,
        progress: bool = False,
    ) -> None:
        if not name:
            raise UsageError("an ML run needs a name")
        self.tracer = tracer
        self.name = name
        self.trace_id: str = tracer.trace().id
        self.params: dict[str, Any] = _jsonable(dict(params or {}))
        self.seed = seed
        self.parent = parent
        self.tags = {str(k): str(v) for k, v in (tags or {}).items()}
        # Every run's bundles land in a folder of their own, so `bctrace ml report` can read a run
        # recorded from Python as well as one recorded by `bctrace ml run`.
        self.bundle_dir: Path = Path(bundle_dir) if bundle_dir is not None else tracer.config.state_dir / "runs" / self.trace_id
        self.root = Path(root) if root is not None else tracer.config.root
        self.argv = argv
        self.flush_on_end = flush
        self.apply_seed = apply_seed
        self.progress = progress
        self.recorded: list[Recorded] = []
        self.inputs: list[dict[str, Any]] = []
        self.outputs: list[dict[str, Any]] = []
        self.models: list[dict[str, Any]] = []
        self.metrics: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []
        self.declarations: dict[str, Any] = {}
        self.observed: dict[str, list[dict[str, Any]]] = {}
        """Measured by the integrations (see :mod:`bctrace.ml.observed`): splits, search, predictions."""
        self.status: str | None = None
        self.captured: dict[str, Any] = {}
        self._subjects: dict[str, Subject] = {}
        self._seeded: dict[str, Any] | None = None
        self._t0 = time.perf_counter()
        self._started: datetime | None = None

    @property
    def id(self) -> str:
        return self.trace_id

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Recorded:
        """Seed (if a seed was given), capture code/environment/randomness and write the start
        step. Called by :func:`start_run`; calling it again returns the first start step."""
        if self.recorded:
            return self.recorded[0]
        from .capture import capture_code, capture_environment
        from .randomness import capture_randomness, seed_everything

        if self.seed is not None and self.apply_seed:
            self._seeded = seed_everything(self.seed)
        self._started = datetime.now(timezone.utc)
        self._t0 = time.perf_counter()
        code = capture_code(self.root, argv=self.argv)
        env = capture_environment(self.root)
        self.captured = {"code": code, "environment": env}
        body = {
            "step": "start",
            "name": self.name,
            "run_id": self.trace_id,
            "parent": self.parent,
            "params": self.params,
            "seed": self.seed,
            "tags": self.tags,
            "code": code,
            "environment": env,
            "randomness": capture_randomness(self._seeded),
            "inputs": list(self.inputs),
        }
        rec = self._record("start", body, created=self._started)
        with _active_lock:
            _active.append(self)
        return rec

    def end(self, status: str = "ok", *, error: BaseException | None = None, extra: Mapping[str, Any] | None = None) -> Recorded:
        """Write the end step. ``status`` is ``"ok"`` or ``"failed"``; ``extra`` adds keys to the
        body (the ``bctrace ml run`` wrapper adds the command and its exit code)."""
        if self.status is not None:
            raise UsageError(f"run {self.name!r} has already ended")
        if not self.recorded:
            self.start()
        from .checklist import build_checklist
        from .randomness import capture_randomness

        self.status = status
        ended = datetime.now(timezone.utc)
        body: dict[str, Any] = {
            "step": "end",
            "name": self.name,
            "run_id": self.trace_id,
            "status": status,
            "started": _iso(self._started),
            "ended": _iso(ended),
            "wall_time_s": round(time.perf_counter() - self._t0, 6),
            "params": self.params,
            "seed": self.seed,
            "metrics": self.metrics,
            "metric_steps": len(self.history),
            "metric_history": self.history[:METRIC_HISTORY_LIMIT],
            "inputs": self.inputs,
            "outputs": self.outputs,
            "models": self.models,
            "declarations": self.declarations,
            "randomness": capture_randomness(self._seeded),
            **self.observed,
        }
        if error is not None:
            body["error"] = {"type": type(error).__name__, "message": _first_line(str(error))}
        body.update(_jsonable(dict(extra or {})))
        body["checklist"] = build_checklist({**self.captured, **body})
        try:
            rec = self._record("end", body, subjects=list(self._subjects.values()), created=ended)
        finally:
            with _active_lock:
                if self in _active:
                    _active.remove(self)
        if self.flush_on_end:
            self.tracer.flush()
        return rec

    def __enter__(self) -> Run:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if self.status is None:
            self.end("ok" if exc is None else "failed", error=exc)

    # -- logging ------------------------------------------------------------------------------

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Merge hyper-parameters into the run's params (later values win)."""
        self.params.update(_jsonable(dict(params)))

    def log_input(self, path: str | os.PathLike[str], *, role: str = "train", name: str | None = None, **meta: Any) -> dict[str, Any]:
        """Hash an input file or folder (streamed) and remember it with its split ``role``.

        ``meta`` is kept verbatim (e.g. ``uri=``, ``doi=``, ``version=``, ``license=``)."""
        if role not in ROLES:
            raise UsageError(f"input role {role!r} is not one of {', '.join(ROLES)}")
        entry = self._hash_path(path, name, role=role, **meta)
        self.inputs.append(entry)
        return entry

    def log_artifact(self, path: str | os.PathLike[str], *, name: str | None = None, **meta: Any) -> dict[str, Any]:
        """Hash an output file or folder (a log, a checkpoint, predictions)."""
        entry = self._hash_path(path, name, **meta)
        self.outputs.append(entry)
        return entry

    def log_model(self, model: Any, *, name: str = "model") -> dict[str, Any]:
        """Hash a model's learned parameters independently of pickling details; see
        :func:`bctrace.ml.model_hash.hash_model`."""
        from .model_hash import hash_model

        return self._add_model(name, hash_model(model))

    def _add_model(self, name: str, hashed: Mapping[str, Any]) -> dict[str, Any]:
        info = {"name": name, **hashed}
        self.models = [m for m in self.models if m["name"] != name] + [info]
        self._subjects[f"model:{name}"] = Subject(name=f"model:{name}", sha256=info["sha256"], size=info.get("size"))
        return info

    def log_metrics(self, metrics: Mapping[str, Any], *, step: int | None = None) -> None:
        """Log metric values; every call is kept in the history, the last value per key goes
        into the end step."""
        clean = {str(k): _number(v) for k, v in metrics.items()}
        self.history.append({"step": step, "metrics": clean})
        self.metrics.update(clean)

    def observe(self, kind: str, entry: dict[str, Any]) -> None:
        """Keep a measurement (``splits``, ``search`` or ``predictions``) for the end step; see
        :func:`bctrace.ml.observed.observe`, which integrations call."""
        self.observed.setdefault(kind, []).append(entry)

    def declare(self, **declarations: Any) -> None:
        """Checklist declarations a tool cannot capture: ``dataset_license``, ``dataset_source``,
        ``split_method``, ``n_runs``, and ``leakage={item: "checked" | "not-applicable" |
        "unknown"}`` (items in :data:`bctrace.ml.checklist.LEAKAGE_ITEMS`)."""
        from .checklist import validate_declarations

        clean = validate_declarations(declarations)
        leakage = {**self.declarations.get("leakage", {}), **clean.pop("leakage", {})}
        self.declarations.update(clean)
        if leakage:
            self.declarations["leakage"] = leakage

    def checkpoint(self, step: int | None = None, *, artifact: str | os.PathLike[str] | None = None) -> Recorded:
        """Write a checkpoint step now: the metrics so far and, optionally, an artifact's hash."""
        if not self.recorded:
            self.start()
        body: dict[str, Any] = {"step": "checkpoint", "run_id": self.trace_id, "training_step": step, "metrics": dict(self.metrics)}
        subjects: list[Subject] = []
        if artifact is not None:
            entry = self._hash_path(artifact, None, checkpoint=True)
            body["artifact"] = entry
            subjects.append(self._subjects[f"output:{entry['name']}"])
        return self._record("checkpoint", body, subjects=subjects)

    # -- internals ----------------------------------------------------------------------------

    def _hash_path(self, path: str | os.PathLike[str], name: str | None, *, role: str | None = None, **meta: Any) -> dict[str, Any]:
        from .._internal.hashing import subject_for_path

        p = Path(path)
        label = name or _display_path(p, self.root)
        subject, extra = subject_for_path(p, name=label, progress=self.progress)
        entry: dict[str, Any] = {"name": label}
        if role is not None:
            entry["role"] = role
        entry.update({"sha256": subject.sha256, "size": subject.size, "kind": "folder" if p.is_dir() else "file"})
        manifest = (extra or {}).get("manifest")
        if isinstance(manifest, list):
            entry["files"] = len(manifest)
            if len(manifest) <= MANIFEST_LIMIT:  # lets a comparison name the file that changed
                entry["manifest"] = {e["path"]: e["sha256"] for e in manifest}
        entry.update(_jsonable(meta))
        prefix = "input" if role is not None else "output"
        self._subjects[f"{prefix}:{label}"] = subject.model_copy(update={"name": f"{prefix}:{label}"})
        return entry

    def _record(self, step: str, body: dict[str, Any], *, subjects: list[Subject] | None = None, created: datetime | None = None) -> Recorded:
        from .._internal.bundle import BUNDLE_SUFFIX

        bundle_path = self.bundle_dir / f"{len(self.recorded):03d}-{step}{BUNDLE_SUFFIX}"
        rec = self.tracer.record(KIND, _jsonable(body), subjects=subjects or (), trace=self.trace_id, bundle_path=bundle_path, created=created)
        self.recorded.append(rec)
        return rec

    def __repr__(self) -> str:
        return f"Run(name={self.name!r}, id={self.trace_id!r}, status={self.status!r}, steps={len(self.recorded)})"


def start_run(tracer: Tracer, name: str, **kwargs: Any) -> Run:
    """Start a run on ``tracer`` (its start step is written now) and return it; use it as a
    context manager so that the end step is written, with status ``failed`` on an exception.

    Keyword arguments are those of :class:`Run`: ``params``, ``seed`` (passed to
    :func:`~bctrace.ml.randomness.seed_everything` before capture), ``parent`` (run id of the run
    this one reproduces or continues), ``tags``, ``bundle_dir`` (where each step's bundle is written
    on flush; default ``<state_dir>/runs/<run id>/``), ``root`` (the project folder for git and lockfiles), ``argv``, ``progress`` (progress bar
    while hashing large inputs), ``flush`` (anchor when
    the run ends), ``apply_seed`` (False when the seed is applied elsewhere: the ``bctrace ml
    run`` wrapper applies it in the child process).
    """
    run = Run(tracer, name, **kwargs)
    run.start()
    return run


def traced_run(name: str, tracer: Tracer | None = None, **kwargs: Any) -> Callable[[F], F]:
    """Decorator form: each call of the function is one run. Without a ``tracer`` one is built
    from the config for each call, the run is anchored when it ends, and the tracer is closed."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> Any:
            with _tracer_for(tracer) as (t, own):
                with start_run(t, name, **{"flush": own, **kwargs}):
                    return fn(*args, **kw)

        return wrapper  # type: ignore[return-value]

    return decorate


@contextmanager
def _tracer_for(tracer: Tracer | None) -> Iterator[tuple[Tracer, bool]]:
    if tracer is not None:
        yield tracer, False
        return
    from .._internal.tracer import Tracer

    with Tracer.from_config() as own:
        yield own, True


# -- JSON hygiene: records must canonicalise (RFC 8785 refuses NaN, numpy scalars, paths) ----------


def _number(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        try:
            value = value.item()
        except (TypeError, ValueError, RuntimeError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan" / "inf": kept visible, never silently dropped
    return _jsonable(value)


_MAX_SAFE_INT = 2**53 - 1


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_SAFE_INT:
        return str(value)  # RFC 8785 numbers are IEEE doubles: a 64-bit seed would not survive
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist") and callable(value.tolist):
        return _jsonable(value.tolist())
    return repr(value)


def _display_path(p: Path, root: Path) -> str:
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return p.resolve().as_posix()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _first_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:limit]
