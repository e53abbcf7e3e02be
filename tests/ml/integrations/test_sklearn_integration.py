"""scikit-learn integration: a real fit and predict, recorded, anchored on the local ledger, verified."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline

from bctrace.errors import UsageError
from bctrace.ml.integrations.data import hash_array
from bctrace.ml.integrations.sklearn import estimator_params, fit, predict
from bctrace.ml.model_hash import hash_model


def _data(seed: int = 0) -> tuple[np.ndarray, ...]:
    X, y = make_classification(n_samples=120, n_features=6, random_state=seed)
    return X[:90], X[90:], y[:90], y[90:]


def test_fit_and_predict_in_a_run_are_recorded_and_anchor(tracer, anchor_and_verify) -> None:
    X_train, X_test, y_train, y_test = _data()
    with tracer.run("sk-logreg", seed=0) as run:
        model = fit(LogisticRegression(C=0.5, max_iter=200), X_train, y_train)
        y_pred = predict(model, X_test, y_test, metrics={"f1": f1_score})
    bundles = anchor_and_verify(run)
    end = bundles[-1].record["body"]

    assert end["params"]["C"] == 0.5 and end["params"]["max_iter"] == 200
    assert end["params"]["estimator"] == "sklearn.linear_model._logistic.LogisticRegression"
    inputs = {i["name"]: i for i in end["inputs"]}
    assert [(n, inputs[n]["role"]) for n in sorted(inputs)] == [("test.X", "test"), ("test.y", "test"), ("train.X", "train"), ("train.y", "train")]
    assert inputs["train.X"]["sha256"] == hash_array(X_train)["sha256"]
    assert inputs["train.X"]["shape"] == [90, 6] and inputs["train.X"]["dtype"] == "<f8"
    assert inputs["test.y"]["sha256"] == hash_array(y_test)["sha256"]
    assert end["models"] == [{"name": "model", **hash_model(model)}]
    assert end["metrics"]["test_f1"] == pytest.approx(f1_score(y_test, y_pred))
    assert end["metrics"]["test_score"] == pytest.approx(model.score(X_test, y_test))
    assert end["status"] == "ok"


def test_pipeline_fit_records_a_hash_that_follows_its_steps(tracer, anchor_and_verify) -> None:
    from sklearn.preprocessing import StandardScaler

    X_train, _, y_train, _ = _data()
    with tracer.run("sk-pipeline") as run:
        model = fit(Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=0.5))]), X_train, y_train)
    end = anchor_and_verify(run)[-1].record["body"]
    assert end["params"]["clf__C"] == 0.5 and end["params"]["estimator"] == "sklearn.pipeline.Pipeline"
    assert end["models"][0]["sha256"] == hash_model(model)["sha256"]
    other = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=0.5))]).fit(X_train[:60], y_train[:60])
    assert hash_model(other)["sha256"] != end["models"][0]["sha256"]  # same params, other data: the steps' fitted state counts


def test_fit_without_a_run_opens_one_and_anchors_it(tracer, opened_runs) -> None:
    X_train, _, y_train, _ = _data()
    rf_params = {"n_estimators": 5, "random_state": 0}
    from sklearn.ensemble import RandomForestClassifier

    first = fit(RandomForestClassifier(**rf_params), X_train, y_train, tracer=tracer, flush=True)
    second = fit(RandomForestClassifier(**rf_params, n_jobs=2), X_train, y_train, tracer=tracer, flush=True)
    assert tracer.outbox.pending_count() == 0  # flush=True anchored each run when it ended
    runs = [[tracer.bundle(r.digest) for r in run.recorded] for run in opened_runs]
    assert [[b.record["body"]["step"] for b in bundles] for bundles in runs] == [["start", "end"]] * 2
    for bundles in runs:
        assert all(tracer.verify(b).ok for b in bundles)
    ends = [bundles[-1].record["body"] for bundles in runs]
    assert ends[0]["name"] == "RandomForestClassifier" and ends[1]["params"]["n_jobs"] == 2
    # the model hash ignores n_jobs: both runs name the same learned state
    assert ends[0]["models"][0]["sha256"] == ends[1]["models"][0]["sha256"] == hash_model(first)["sha256"] == hash_model(second)["sha256"]


def test_changed_row_changes_the_dataset_fingerprint() -> None:
    X_train, _, _, _ = _data()
    base = hash_array(X_train)
    assert hash_array(np.asfortranarray(X_train))["sha256"] == base["sha256"]  # layout does not matter
    assert hash_array(X_train.astype(">f8"))["sha256"] == base["sha256"]  # nor byte order
    changed = X_train.copy()
    changed[3, 2] += 1e-9
    assert hash_array(changed)["sha256"] != base["sha256"]
    assert hash_array(X_train.astype(np.float32))["sha256"] != base["sha256"]  # dtype does
    assert hash_array(X_train.reshape(45, 12))["sha256"] != base["sha256"]  # and shape does


def test_object_arrays_hash_by_value_and_refuse_opaque_objects() -> None:
    labels = np.array(["cat", None, 3, float("nan")], dtype=object)
    assert hash_array(labels)["sha256"] == hash_array(labels.copy())["sha256"]
    assert hash_array(labels)["sha256"] != hash_array(np.array(["cat", None, 4, float("nan")], dtype=object))["sha256"]
    with pytest.raises(UsageError, match="dataset element of type object"):
        hash_array(np.array([object()], dtype=object))


def test_sparse_and_dense_fingerprints_are_stable() -> None:
    import scipy.sparse as sparse
    dense = np.eye(4)
    assert hash_array(sparse.csr_matrix(dense))["sha256"] == hash_array(sparse.csc_matrix(dense))["sha256"]
    assert hash_array(sparse.csr_matrix(dense))["sha256"] != hash_array(dense)["sha256"]


def test_predict_needs_a_run() -> None:
    X_train, X_test, y_train, _ = _data()
    model = LogisticRegression().fit(X_train, y_train)
    with pytest.raises(UsageError, match="no ML run is open"):
        predict(model, X_test)


def test_pipeline_params_are_flat_and_carry_no_memory_addresses() -> None:
    from sklearn.feature_selection import SelectKBest, f_classif

    params = estimator_params(Pipeline([("select", SelectKBest(f_classif, k=3)), ("clf", LogisticRegression(C=0.5))]))
    assert params["select__score_func"] == "sklearn.feature_selection._univariate_selection.f_classif"
    assert params["clf__C"] == 0.5 and params["select__k"] == 3
    assert params["steps"] == [["select", "sklearn.feature_selection._univariate_selection.SelectKBest"], ["clf", "sklearn.linear_model._logistic.LogisticRegression"]]
    assert " at 0x" not in repr(params)


def test_failed_fit_ends_the_run_it_opened_as_failed(tracer, anchor_and_verify, opened_runs) -> None:
    X_train, _, _, _ = _data()
    with pytest.raises(ValueError):
        fit(LogisticRegression(), X_train, np.zeros(3), tracer=tracer)  # y has the wrong length
    (run,) = opened_runs
    end = anchor_and_verify(run)[-1].record["body"]
    assert end["status"] == "failed" and end["error"]["type"] == "ValueError"
    assert end["models"] == []
