"""The Python run API (the contract the framework integrations build on), on the local ledger."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from bctrace import Tracer
from bctrace.errors import UsageError
from bctrace.ml import current_run, seed_everything, traced_run
from bctrace.ml.compare import load_run


@pytest.fixture
def tracer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tracer]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BCTRACE_CONFIG", raising=False)
    (tmp_path / "train.csv").write_text("a,b\n1,2\n")
    (tmp_path / "val").mkdir()
    (tmp_path / "val" / "part-0.csv").write_text("a,b\n3,4\n")
    with Tracer.from_config(cwd=tmp_path) as t:
        yield t


def test_run_records_a_verified_hash_chained_trace(tracer: Tracer, tmp_path: Path) -> None:
    with tracer.run("mlp", params={"lr": 0.01}, seed=42, bundle_dir=tmp_path / "runs") as run:
        assert current_run() is run
        run.log_params({"epochs": 3})
        run.log_input("train.csv", role="train", license="CC0-1.0")
        run.log_input("val", role="validation")
        run.log_metrics({"loss": 0.5}, step=0)
        run.log_metrics({"loss": 0.3, "acc": 0.9}, step=1)
        run.checkpoint(step=1)
        (tmp_path / "log.txt").write_text("done\n")
        run.log_artifact("log.txt")
        run.declare(dataset_license="CC0-1.0", leakage={"duplicates_across_splits": "checked"})
        run.declare(n_runs=3, leakage={"temporal_leakage": "not-applicable"})
    assert current_run() is None
    assert run.status == "ok" and len(run.recorded) == 3
    flushed = tracer.flush()
    assert [p.name for p in flushed.bundles] == ["000-start.bctrace.json", "001-checkpoint.bctrace.json", "002-end.bctrace.json"]
    loaded = load_run(tmp_path / "runs")
    loaded.verify(tracer)  # digests, proofs, ledger anchors, trace links
    start, end = loaded.start, loaded.end
    assert start["seed"] == 42 and start["randomness"]["seeded"]["python"] == 42 and start["params"] == {"lr": 0.01}
    assert loaded.steps[1].record["body"] == {"step": "checkpoint", "run_id": run.trace_id, "training_step": 1, "metrics": {"loss": 0.3, "acc": 0.9}}
    assert end["params"] == {"lr": 0.01, "epochs": 3}
    assert end["metrics"] == {"loss": 0.3, "acc": 0.9} and end["metric_steps"] == 2
    assert [(i["name"], i["role"], i["kind"]) for i in end["inputs"]] == [("train.csv", "train", "file"), ("val", "validation", "folder")]
    assert end["inputs"][0]["license"] == "CC0-1.0" and end["inputs"][1]["files"] == 1
    assert end["outputs"][0]["name"] == "log.txt"
    assert end["declarations"] == {"dataset_license": "CC0-1.0", "n_runs": 3, "leakage": {"duplicates_across_splits": "checked", "temporal_leakage": "not-applicable"}}
    assert {s["name"] for s in loaded.steps[-1].record["subjects"]} == {"input:train.csv", "input:val", "output:log.txt"}


def test_failed_run_records_the_exception_and_reraises(tracer: Tracer) -> None:
    with pytest.raises(ZeroDivisionError):
        with tracer.run("boom") as run:
            1 / 0  # noqa: B018
    assert run.status == "failed"
    body = run.recorded[-1].record.body
    assert body["status"] == "failed" and body["error"] == {"type": "ZeroDivisionError", "message": "division by zero"}
    assert current_run() is None


def test_traced_run_decorator_anchors_each_call(tracer: Tracer, tmp_path: Path) -> None:
    @traced_run("fit", params={"c": 1.0}, bundle_dir=tmp_path / "deco")
    def fit(x: int) -> int:
        run = current_run()
        assert run is not None and run.name == "fit"
        run.log_metrics({"x": x})
        return x * 2

    assert fit(21) == 42
    loaded = load_run(tmp_path / "deco")  # flushed by the decorator's own tracer
    assert loaded.end["metrics"] == {"x": 21} and loaded.end["params"] == {"c": 1.0}


def test_metric_values_are_made_canonical(tracer: Tracer) -> None:
    import numpy as np
    with tracer.run("m") as run:
        run.log_metrics({"a": np.float32(0.5), "b": float("nan"), "c": np.int64(3), "big": 2**60})
    assert run.recorded[-1].record.body["metrics"] == {"a": 0.5, "b": "nan", "c": 3, "big": str(2**60)}


def test_bad_input_is_refused_with_one_line(tracer: Tracer) -> None:
    with tracer.run("bad") as run:
        with pytest.raises(UsageError, match="role 'training' is not one of train, validation, test, other"):
            run.log_input("train.csv", role="training")
        with pytest.raises(UsageError, match="does not exist"):
            run.log_input("missing.csv")
        with pytest.raises(UsageError, match="unknown leakage item 'dupes'"):
            run.declare(leakage={"dupes": "checked"})
        with pytest.raises(UsageError, match="state must be one of checked, not-applicable, unknown"):
            run.declare(leakage={"duplicates_across_splits": "yes"})
        with pytest.raises(UsageError, match="unknown declaration 'licence'"):
            run.declare(licence="MIT")
        with pytest.raises(UsageError, match="n_runs"):
            run.declare(n_runs="many")
    with pytest.raises(UsageError, match="already ended"):
        run.end()


def test_seed_everything_seeds_and_reports() -> None:
    import numpy as np
    done = seed_everything(123)
    a = (random.random(), np.random.rand())
    seed_everything(123)
    assert (random.random(), np.random.rand()) == a
    assert done["python"] == 123 and done["numpy"] == 123 and done["pythonhashseed"]["exported"] == "123"
    with pytest.raises(UsageError):
        seed_everything(-1)


def test_seed_worker_seeds_from_torch() -> None:
    import numpy as np
    import torch

    from bctrace.ml import seed_worker

    torch.manual_seed(99)
    seed_worker(0)
    a = (random.random(), np.random.rand())
    torch.manual_seed(99)
    seed_worker(0)
    assert (random.random(), np.random.rand()) == a
    assert seed_everything(5)["torch"] == 5 and torch.initial_seed() == 5


def test_log_model_attaches_parameter_hash(tracer: Tracer) -> None:
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0])
    with tracer.run("lr") as run:
        info = run.log_model(model, name="reg")
    body = run.recorded[-1].record.body
    assert body["models"] == [info] and info["method"] == "sklearn-fitted-v1"
    assert json.loads(json.dumps(body))["models"][0]["sha256"] == info["sha256"]
    assert any(s.name == "model:reg" and s.sha256 == info["sha256"] for s in run.recorded[-1].record.subjects)
