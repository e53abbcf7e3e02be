"""MLflow: anchor an MLflow run as a bctrace record and tag the run with the anchor.

MLflow keeps a run's params, metrics and artifacts in a store its owner can edit. ``anchor_run``
freezes what the store says now — run identity and times, params, every metric's full history,
tags (the ``mlflow.source.git.*`` code tags among them), dataset inputs with their digests, and the
sha256 of every artifact file — into one ``mlflow-run`` record, anchors it, and writes the anchor
back to the run as ``bctrace.*`` tags (plus the proof bundle as artifact ``bctrace/<digest>.bctrace.json``).
``verify_run`` later checks the bundle on its chains and compares the run with the anchored record.

The record goes into trace ``mlflow-<run id>``: anchoring the same run again (after more artifacts
were logged, say) appends a step that links to the previous one. Earlier ``bctrace.*`` tags and
``bctrace/`` artifacts are left out of the record, so anchoring is stable.

``anchored_run(...)`` is ``mlflow.start_run(...)`` that anchors the run when the block ends (also
when it fails, then with MLflow status ``FAILED``); it works with ``mlflow.autolog()``. Anchoring
needs the run to have ended, so the default run for ``anchor_run()`` is MLflow's last ended run.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import mlflow
from mlflow.entities import RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ..._internal.hashing import subject_for_path
from ..._internal.record import Subject, canonical_bytes
from ...errors import BundleError, StoreError, SubjectMismatch, UsageError, one_line

if TYPE_CHECKING:
    from ..._internal.bundle import ProofBundle
    from ..._internal.tracer import Recorded, Tracer
    from ..._internal.verify import VerificationReport

__all__ = ["KIND", "TAG_PREFIX", "MlflowAnchor", "anchor_run", "anchored_run", "run_record", "verify_run"]

KIND = "mlflow-run"
TAG_PREFIX = "bctrace."
BUNDLE_ARTIFACT_DIR = "bctrace"
CODE_TAGS = {
    "git_commit": "mlflow.source.git.commit",
    "git_branch": "mlflow.source.git.branch",
    "git_repo_url": "mlflow.source.git.repoURL",
    "source_name": "mlflow.source.name",
    "source_type": "mlflow.source.type",
    "entry_point": "mlflow.project.entryPoint",
}


@dataclass
class MlflowAnchor:
    """What :func:`anchor_run` did: the record, its proof bundle, and the tags set on the run."""

    run_id: str
    recorded: Recorded
    bundle: ProofBundle
    tags: dict[str, str] = field(default_factory=dict)


def anchor_run(
    run_id: str | None = None,
    *,
    tracer: Tracer | None = None,
    client: MlflowClient | None = None,
    tracking_uri: str | None = None,
    log_bundle: bool = True,
) -> MlflowAnchor:
    """Record an MLflow run, anchor it (``tracer.flush()``, which anchors everything pending),
    tag the run with the anchor, and log the proof bundle as a run artifact.

    :param run_id: default: the last run that ended in this process (``mlflow.last_active_run()``).
    :param tracer: default: ``Tracer.from_config()``, closed afterwards.
    :param client: default: ``MlflowClient(tracking_uri)``.
    """
    client = client or MlflowClient(tracking_uri)
    run_id = run_id or _last_run_id()
    with _tracer(tracer) as t:
        subjects, body = run_record(run_id, client=client)
        recorded = t.record(KIND, body, subjects=subjects, trace=f"mlflow-{run_id}")
        t.flush()
        bundle = t.bundle(recorded.digest)
    tags = anchor_tags(bundle)
    with _mlflow_errors(client, run_id):
        if log_bundle:
            with tempfile.TemporaryDirectory() as tmp:
                path = bundle.write(Path(tmp) / f"{bundle.digest}.bctrace.json")
                client.log_artifact(run_id, str(path), artifact_path=BUNDLE_ARTIFACT_DIR)
            tags[f"{TAG_PREFIX}bundle"] = f"{BUNDLE_ARTIFACT_DIR}/{path.name}"
        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    return MlflowAnchor(run_id, recorded, bundle, tags)


@contextmanager
def anchored_run(*, tracer: Tracer | None = None, log_bundle: bool = True, **start_run_kwargs: Any) -> Iterator[Any]:
    """``mlflow.start_run(**start_run_kwargs)`` whose run is anchored and tagged when it ends::

        with anchored_run(run_name="rf") as active:
            mlflow.log_param("n_estimators", 100)
            ...
        mlflow.get_run(active.info.run_id).data.tags["bctrace.tx"]
    """
    active = mlflow.start_run(**start_run_kwargs)
    try:
        with active:
            yield active
    finally:
        anchor_run(active.info.run_id, tracer=tracer, log_bundle=log_bundle)


def verify_run(
    run_id: str,
    *,
    tracer: Tracer | None = None,
    client: MlflowClient | None = None,
    tracking_uri: str | None = None,
    bundle: ProofBundle | str | os.PathLike[str] | None = None,
) -> VerificationReport:
    """Check a run against its anchored record: the bundle verifies on its chains, and the run as
    the store has it now (params, metrics and their history, tags, inputs, artifact hashes) is
    what was anchored. Raises :class:`~bctrace.errors.SubjectMismatch` naming what changed.

    :param bundle: the bundle (or its file); default: the latest one logged by :func:`anchor_run`
        (the run's ``bctrace.bundle`` tag).
    """
    from ..._internal.bundle import ProofBundle

    client = client or MlflowClient(tracking_uri)
    if bundle is None:
        with _mlflow_errors(client, run_id):
            rel = client.get_run(run_id).data.tags.get(f"{TAG_PREFIX}bundle")
            if rel is None:
                raise UsageError(f"MLflow run {run_id} has no {TAG_PREFIX}bundle tag: anchor it first, or pass the bundle")
            with tempfile.TemporaryDirectory() as tmp:
                bundle = ProofBundle.read(_download(client, run_id, rel, tmp))
    elif not isinstance(bundle, ProofBundle):
        bundle = ProofBundle.read(bundle)
    anchored = bundle.record.get("body", {})
    if bundle.record.get("kind") != KIND or anchored.get("run", {}).get("id") != run_id:
        raise BundleError(f"the bundle {bundle.digest} is not the record of MLflow run {run_id}")
    with _tracer(tracer) as t:
        report = t.verify(bundle)
    _, current = run_record(run_id, client=client)
    changed = _differences(anchored, current)
    if changed:
        raise SubjectMismatch(f"MLflow run {run_id} differs from its anchored record {bundle.digest}: {', '.join(changed)}")
    return report


def run_record(run_id: str, *, client: MlflowClient) -> tuple[list[Subject], dict[str, Any]]:
    """The subjects (artifact files) and body of the ``mlflow-run`` record of a run, as the
    tracking store has it now."""
    with _mlflow_errors(client, run_id):
        run = client.get_run(run_id)
        experiment = client.get_experiment(run.info.experiment_id)
        history = {key: _history(client, run_id, key) for key in sorted(run.data.metrics)}
        artifacts = _artifacts(client, run_id, run.info.artifact_uri)
    tags = {k: v for k, v in sorted(run.data.tags.items()) if not k.startswith(TAG_PREFIX)}
    body: dict[str, Any] = {
        "source": "mlflow",
        "tracking_uri": redact_uri(client.tracking_uri),
        "experiment": {"id": experiment.experiment_id, "name": experiment.name},
        "run": {
            "id": run.info.run_id,
            "name": run.info.run_name,
            "user": run.info.user_id,
            "status": run.info.status,
            "lifecycle_stage": run.info.lifecycle_stage,
            "start_time": _iso_ms(run.info.start_time),
            "end_time": _iso_ms(run.info.end_time),
            "artifact_uri": redact_uri(run.info.artifact_uri),
        },
        "code": {key: tags[tag] for key, tag in CODE_TAGS.items() if tag in tags},
        "params": dict(sorted(run.data.params.items())),
        "metrics": {k: _finite(v) for k, v in sorted(run.data.metrics.items())},
        "metric_history": history,
        "tags": tags,
        "inputs": [_dataset_input(d) for d in (run.inputs.dataset_inputs if run.inputs else [])],
        "model_outputs": [{"model_id": m.model_id, "step": m.step} for m in getattr(run.outputs, "model_outputs", None) or []],
        "artifacts": [{"path": rel, "sha256": s.sha256, "size": s.size} for rel, s in artifacts],
    }
    return [s for _, s in artifacts], body


def anchor_tags(bundle: ProofBundle) -> dict[str, str]:
    """``bctrace.*`` tags for an anchored record: one value per tag, comma-separated in the order
    of ``bctrace.chain`` when the root was anchored on several chains."""
    anchors = bundle.anchors

    def joined(attr: str) -> str:
        return ",".join("" if getattr(a, attr) is None else str(getattr(a, attr)) for a in anchors)

    return {
        f"{TAG_PREFIX}digest": bundle.digest,
        f"{TAG_PREFIX}root": bundle.merkle.root,
        f"{TAG_PREFIX}trace": str(bundle.record["trace"]),
        f"{TAG_PREFIX}seq": str(bundle.record.get("seq", 0)),
        f"{TAG_PREFIX}chain": joined("chain"),
        f"{TAG_PREFIX}chain_id": joined("chain_id"),
        f"{TAG_PREFIX}backend": joined("backend"),
        f"{TAG_PREFIX}tx": joined("tx"),
        f"{TAG_PREFIX}block": joined("block"),
    }


def redact_uri(uri: str | None) -> str | None:
    """A URI without user, password, query or fragment: tracking URIs can carry credentials."""
    if not uri or "://" not in uri:
        return uri
    parts = urlsplit(uri)
    netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{netloc}{parts.path}"  # not urlunsplit: it drops sqlite:////abs's slashes


# -- internals ------------------------------------------------------------------------------------


def _last_run_id() -> str:
    last = mlflow.last_active_run()
    if last is None or last.info.end_time is None:
        raise UsageError("no ended MLflow run in this process: pass the run id")
    return str(last.info.run_id)


@contextmanager
def _tracer(tracer: Tracer | None) -> Iterator[Tracer]:
    if tracer is not None:
        yield tracer
        return
    from ..._internal.tracer import Tracer

    with Tracer.from_config() as own:
        yield own


@contextmanager
def _mlflow_errors(client: MlflowClient, run_id: str) -> Iterator[None]:
    """MLflow failures as bctrace errors: an unknown run is a usage error, the rest a store error."""
    try:
        yield
    except MlflowException as err:
        message = one_line(err.message, 300)
        where = f"MLflow run {run_id} at {redact_uri(client.tracking_uri)}"
        if err.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise UsageError(f"{where}: {message}") from err
        raise StoreError(f"{where}: {message}") from err


def _differences(anchored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Names of what differs, one level deep (``params.lr``, ``artifacts[model.pkl]``), compared
    by canonical JSON so that ``1`` and ``1.0`` are equal as they are in the record."""
    out: list[str] = []
    for key in sorted(set(anchored) | set(current)):
        old, new = anchored.get(key), current.get(key)
        if key == "artifacts":
            old, new = ({a["path"]: a for a in v or []} for v in (old, new))
        if canonical_bytes(old) == canonical_bytes(new):
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            fmt = "{}[{}]" if key == "artifacts" else "{}.{}"
            out.extend(fmt.format(key, k) for k in sorted(set(old) | set(new)) if canonical_bytes(old.get(k)) != canonical_bytes(new.get(k)))
        else:
            out.append(key)
    return out


def _history(client: MlflowClient, run_id: str, key: str) -> list[list[Any]]:
    """``[[step, timestamp_ms, value], ...]`` in logging order."""
    points = sorted(client.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp))
    return [[m.step, m.timestamp, _finite(m.value)] for m in points]


def _dataset_input(dataset_input: Any) -> dict[str, Any]:
    ds = dataset_input.dataset
    tags = {t.key: t.value for t in dataset_input.tags}
    entry: dict[str, Any] = {
        "name": ds.name,
        "digest": ds.digest,
        "source_type": ds.source_type,
        "source": ds.source,
        "context": tags.pop("mlflow.data.context", None),
    }
    if tags:
        entry["tags"] = tags
    for key in ("schema", "profile"):  # JSON text, kept verbatim as MLflow stores it
        if getattr(ds, key, None):
            entry[key] = getattr(ds, key)
    return entry


def _artifacts(client: MlflowClient, run_id: str, artifact_uri: str | None) -> list[tuple[str, Subject]]:
    """Every artifact file except earlier ``bctrace/`` bundles, hashed in place when the artifact
    store is a local folder, else after downloading it to a temporary folder."""
    files: list[str] = []
    pending = [""]
    while pending:
        for info in client.list_artifacts(run_id, pending.pop() or None):
            if info.path == BUNDLE_ARTIFACT_DIR or info.path.startswith(BUNDLE_ARTIFACT_DIR + "/"):
                continue
            (pending if info.is_dir else files).append(info.path)
    files.sort()
    local = _local_dir(artifact_uri)
    if local is not None:
        return [(rel, _subject(local / rel, rel)) for rel in files]
    with tempfile.TemporaryDirectory() as tmp:
        return [(rel, _subject(Path(_download(client, run_id, rel, tmp)), rel)) for rel in files]


def _download(client: MlflowClient, run_id: str, rel: str, dst: str) -> str:
    """``client.download_artifacts`` without MLflow's progress bars: bctrace's commands print
    one result line, not a bar per downloaded file."""
    from mlflow.environment_variables import MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR

    name = MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR.name
    before = os.environ.get(name)
    os.environ[name] = "false"  # read by MLflow at each download
    try:
        return str(client.download_artifacts(run_id, rel, dst))
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _subject(path: Path, rel: str) -> Subject:
    return subject_for_path(path, name=f"artifact:{rel}")[0]


def _local_dir(uri: str | None) -> Path | None:
    if not uri:
        return None
    parts = urlsplit(uri)
    if parts.scheme == "file":
        path = Path(unquote(parts.path))
    elif not parts.scheme:
        path = Path(uri)
    else:
        return None
    return path if path.is_dir() else None


def _finite(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


def _iso_ms(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
