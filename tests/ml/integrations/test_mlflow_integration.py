"""MLflow integration against a real local tracking store (SQLite + a local artifact folder in a
temp dir): a run is recorded, anchored on the local ledger, tagged with the anchor, verified, and
a later change to the run is caught."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import mlflow
import pytest
from mlflow.entities import Dataset, DatasetInput, InputTag
from mlflow.tracking import MlflowClient

from bctrace._internal.bundle import ProofBundle
from bctrace.errors import SubjectMismatch, UsageError
from bctrace.ml.integrations.mlflow import anchor_run, anchored_run, redact_uri, verify_run

GIT_COMMIT = "3f2c1a0b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"


@pytest.fixture(scope="module")
def store_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite tracking store for the module (creating its tables takes seconds)."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    MlflowClient(uri).search_experiments()  # creates the tables now
    return uri


@pytest.fixture
def client(store_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MlflowClient:
    """The store, with a fresh experiment per test whose artifacts live under tmp_path; both are
    made the defaults of ``mlflow.start_run`` through MLflow's environment variables."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store_uri)
    c = MlflowClient(store_uri)
    experiment = c.create_experiment(f"bctrace-{tmp_path.name}", artifact_location=(tmp_path / "artifacts").as_uri())
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", experiment)
    return c


def _log_training(client: MlflowClient, tmp_path: Path) -> str:
    with mlflow.start_run(run_name="rf") as active:
        run_id = active.info.run_id
        mlflow.log_params({"n_estimators": 10, "max_depth": 3})
        for step, loss in enumerate([0.9, 0.5, 0.25]):
            mlflow.log_metric("loss", loss, step=step)
        mlflow.log_metric("accuracy", 0.875)
        mlflow.set_tag("mlflow.source.git.commit", GIT_COMMIT)
        client.log_inputs(run_id, [DatasetInput(Dataset(name="iris", digest="a1b2c3d4", source_type="local", source='{"uri": "data/iris.csv"}'),
                                                tags=[InputTag("mlflow.data.context", "training")])])
        (tmp_path / "model.txt").write_text("weights 1 2 3")
        (tmp_path / "report").mkdir()
        (tmp_path / "report" / "summary.json").write_text('{"ok": true}')
        mlflow.log_artifact(str(tmp_path / "model.txt"))
        mlflow.log_artifacts(str(tmp_path / "report"), artifact_path="report")
    return run_id


def test_anchor_run_records_everything_and_tags_the_run(client, tracer, tmp_path) -> None:
    run_id = _log_training(client, tmp_path)
    result = anchor_run(run_id, tracer=tracer, client=client)
    record = result.bundle.record
    body = record["body"]

    assert record["kind"] == "mlflow-run" and record["trace"] == f"mlflow-{run_id}"
    assert body["run"]["id"] == run_id and body["run"]["name"] == "rf" and body["run"]["status"] == "FINISHED"
    assert body["params"] == {"max_depth": "3", "n_estimators": "10"}
    history = body["metric_history"]["loss"]
    assert [(step, value) for step, _, value in history] == [(0, 0.9), (1, 0.5), (2, 0.25)]
    assert all(isinstance(ts, int) and ts > 1.7e12 for _, ts, _ in history)  # epoch milliseconds
    assert body["metrics"] == {"accuracy": 0.875, "loss": 0.25}
    assert body["code"]["git_commit"] == GIT_COMMIT and body["tags"]["mlflow.source.git.commit"] == GIT_COMMIT
    assert body["inputs"] == [{"name": "iris", "digest": "a1b2c3d4", "source_type": "local", "source": '{"uri": "data/iris.csv"}', "context": "training"}]
    sha = {p: "0x" + hashlib.sha256((tmp_path / p).read_bytes()).hexdigest() for p in ("model.txt", "report/summary.json")}
    assert [(a["path"], a["sha256"]) for a in body["artifacts"]] == sorted(sha.items())
    assert {s["name"]: s["sha256"] for s in record["subjects"]} == {f"artifact:{p}": h for p, h in sha.items()}
    assert body["tracking_uri"].startswith("sqlite:///")

    # the anchor landed on the MLflow run, and the bundle travels with it
    tags = client.get_run(run_id).data.tags
    anchor = result.bundle.anchors[0]
    assert tags["bctrace.chain"] == anchor.chain and tags["bctrace.chain_id"] == str(anchor.chain_id)
    assert tags["bctrace.tx"] == anchor.tx and tags["bctrace.root"] == result.bundle.merkle.root
    assert tags["bctrace.digest"] == result.recorded.digest_hex
    logged = ProofBundle.read(client.download_artifacts(run_id, tags["bctrace.bundle"], str(tmp_path / "dl")))
    assert logged.digest == result.bundle.digest and tracer.verify(logged).ok

    assert verify_run(run_id, tracer=tracer, client=client).ok  # unchanged run: verifies


def test_verify_run_names_what_changed_after_anchoring(client, tracer, tmp_path) -> None:
    run_id = _log_training(client, tmp_path)
    anchor_run(run_id, tracer=tracer, client=client)
    client.log_metric(run_id, "loss", 0.01, step=3)  # history rewritten after the fact
    client.set_tag(run_id, "reviewed", "yes")
    (tmp_path / "model.txt").write_text("weights 9 9 9")
    client.log_artifact(run_id, str(tmp_path / "model.txt"))  # an artifact replaced
    with pytest.raises(SubjectMismatch, match=r"artifacts\[model.txt\], metric_history.loss, metrics.loss, tags.reviewed"):
        verify_run(run_id, tracer=tracer, client=client)

    again = anchor_run(run_id, tracer=tracer, client=client)  # re-anchoring appends to the run's trace
    assert again.bundle.record["seq"] == 1 and again.bundle.record["prev"] is not None
    assert client.get_run(run_id).data.tags["bctrace.seq"] == "1"
    assert verify_run(run_id, tracer=tracer, client=client).ok


def test_anchored_run_anchors_when_the_block_ends_even_on_failure(client, tracer) -> None:
    with anchored_run(tracer=tracer, run_name="ok-run") as active:
        mlflow.log_param("lr", 0.1)
    ok = client.get_run(active.info.run_id)
    assert ok.data.tags["bctrace.chain"] and ok.info.status == "FINISHED"

    with pytest.raises(ZeroDivisionError):
        with anchored_run(tracer=tracer, run_name="bad-run") as failing:
            mlflow.log_metric("loss", 1.0)
            1 / 0
    tags = client.get_run(failing.info.run_id).data.tags
    bundle = tracer.bundle(tags["bctrace.digest"])
    assert bundle.record["body"]["run"]["status"] == "FAILED" and tracer.verify(bundle).ok


def test_unknown_run_is_a_usage_error(client, tracer) -> None:
    with pytest.raises(UsageError, match="MLflow run 0123456789abcdef0123456789abcdef"):
        anchor_run("0123456789abcdef0123456789abcdef", tracer=tracer, client=client)
    assert tracer.outbox.pending_count() == 0


def test_tracking_uri_credentials_are_never_recorded() -> None:
    assert redact_uri("https://alice:s3cret@mlflow.example.org:8443/api?token=abc#x") == "https://mlflow.example.org:8443/api"
    assert redact_uri("sqlite:////tmp/mlflow.db") == "sqlite:////tmp/mlflow.db"
    assert redact_uri("/tmp/mlruns") == "/tmp/mlruns"


def test_cli_anchors_and_verifies_a_run(client, tracer, cli, tmp_path) -> None:
    run_id = _log_training(client, tmp_path)
    anchored = cli("mlflow", "anchor", run_id, "--json")
    assert anchored.exit_code == 0, anchored.output
    tags = json.loads(anchored.stdout)[0]["tags"]
    assert client.get_run(run_id).data.tags["bctrace.tx"] == tags["bctrace.tx"]

    ok = cli("mlflow", "verify", run_id)
    assert ok.exit_code == 0 and "matches its anchored record" in ok.stdout

    client.log_param(run_id, "late_param", "1")
    changed = cli("mlflow", "verify", run_id)
    assert changed.exit_code == 1 and "params.late_param" in changed.stderr
    missing = cli("mlflow", "anchor", "0123456789abcdef0123456789abcdef")
    assert missing.exit_code == 2 and missing.stderr.startswith("error: MLflow run 0123456789abcdef0123456789abcdef")


def test_verify_prints_no_download_progress_bars(client, tracer, cli, tmp_path) -> None:
    """Issue 10: MLflow's artifact download bars ("Downloading artifacts: 100%|...") must not
    appear in `bctrace mlflow verify` output; the command says one line."""
    run_id = _log_training(client, tmp_path)
    assert cli("mlflow", "anchor", run_id).exit_code == 0
    ok = cli("mlflow", "verify", run_id)
    assert ok.exit_code == 0, ok.output
    assert "Downloading" not in ok.stderr and "%|" not in ok.stderr, ok.stderr
    assert ok.stdout.strip().splitlines() == [f"{run_id}  matches its anchored record; anchor confirmed on local"]
