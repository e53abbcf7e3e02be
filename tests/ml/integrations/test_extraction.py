"""Split membership, label statistics, cross-split duplicates and search spaces are measured by
the integrations (real scikit-learn, torch and Optuna runs), land in the run record, change when
the split changes, and turn the checklist's declared items into measured ones."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, StratifiedKFold
from sklearn.svm import SVC

from bctrace.ml.compare import load_run
from bctrace.ml.integrations import sklearn as skl
from bctrace.ml.integrations import torch as tml
from bctrace.ml.splits import membership_hash


def data(n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    return make_classification(n_samples=n, n_features=6, random_state=0)


def checklist_items(end: dict) -> dict[str, dict]:
    return {i["id"]: i for i in end["checklist"]["items"]}


def test_sklearn_split_is_measured_and_changes_with_the_split(tracer, anchor_and_verify) -> None:
    X, y = data()
    with tracer.run("split") as run:
        X_train, X_test, y_train, y_test = skl.train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
        model = skl.fit(RandomForestClassifier(n_estimators=5, random_state=0), X_train, y_train, model_name="rf")
        skl.predict(model, X_test, y_test)
    end = anchor_and_verify(run)[-1].record["body"]
    (split,) = end["splits"]
    assert split["method"] == "sklearn.model_selection.train_test_split" and split["params"] == {"test_size": 0.25, "random_state": 0, "stratify": True}
    train, test = split["splits"]["train"], split["splits"]["test"]
    assert (train["size"], test["size"]) == (90, 30) == (len(y_train), len(y_test))
    assert train["labels"] == {"0": int((y_train == 0).sum()), "1": int((y_train == 1).sum())}
    assert test["balance"] == {"0": 0.5, "1": 0.5} and test["imbalance"] == 1.0
    assert split["duplicates"] == {"rows": 0, "pairs": {"train/test": 0}}
    # the membership hash is that of the rows the split really holds
    rows = [int(np.flatnonzero((X == r).all(axis=1))[0]) for r in X_test]
    assert test["membership_sha256"] == membership_hash(rows)
    assert end["predictions"][0]["name"] == "test" and end["predictions"][0]["shape"] == [30]
    items = checklist_items(end)
    assert items["declared.split_method"]["source"] == "measured" and items["declared.split_method"]["status"] == "ok"
    assert items["leakage.duplicates_across_splits"] == {"id": "leakage.duplicates_across_splits", "title": items["leakage.duplicates_across_splits"]["title"],
                                                          "source": "measured", "status": "ok", "value": "no feature row in two splits"}
    assert items["data.labels"]["source"] == "measured"

    with tracer.run("split-2") as other:
        skl.train_test_split(X, y, test_size=0.25, random_state=1, stratify=y)
    changed = other.observed["splits"][0]["splits"]
    assert changed["test"]["membership_sha256"] != test["membership_sha256"]
    assert changed["train"]["labels"] == train["labels"]  # stratified: same counts, other rows


def test_duplicate_rows_across_splits_are_found_and_fail_the_leakage_item(tracer) -> None:
    X, y = data(60)
    X = np.vstack([X, X[:10]])  # ten rows copied: a classic leak once shuffled into both splits
    y = np.concatenate([y, y[:10]])
    with tracer.run("leaky") as run:
        skl.train_test_split(X, y, test_size=0.5, random_state=0)
    (split,) = run.observed["splits"]
    dupes = split["duplicates"]["rows"]
    assert dupes > 0
    item = checklist_items(run.recorded[-1].record.body)["leakage.duplicates_across_splits"]
    assert item["status"] == "failed" and item["value"] == f"{dupes} rows in two splits (train/test: {dupes})"


def test_cv_folds_and_grid_and_random_searches_are_measured(tracer) -> None:
    from scipy.stats import loguniform

    X, y = data()
    with tracer.run("search") as run:
        folds = skl.cv_splits(StratifiedKFold(n_splits=3, shuffle=True, random_state=0), X, y)
        grid = skl.fit(GridSearchCV(SVC(), {"C": [0.1, 1.0], "kernel": ["linear", "rbf"]}, cv=folds), X, y)
        skl.fit(RandomizedSearchCV(SVC(), {"C": loguniform(1e-2, 1e2)}, n_iter=3, cv=3, random_state=0), X, y, model_name="random")
    cv, = run.observed["splits"]
    assert cv["method"] == "sklearn.model_selection._split.StratifiedKFold" and len(cv["splits"]) == 6
    assert cv["splits"]["fold-0.validation"]["size"] == len(folds[0][1]) and cv["duplicates"]["pairs"]["fold-0.train/fold-0.validation"] == 0
    g, r = run.observed["search"]
    assert g["method"] == "GridSearchCV" and g["space"] == {"C": [0.1, 1.0], "kernel": ["linear", "rbf"]} and g["n_trials"] == 4
    assert g["best_params"] == grid.best_params_ and g["best_score"] == pytest.approx(grid.best_score_)
    assert sorted(t["rank"] for t in g["trials"]) == sorted(grid.cv_results_["rank_test_score"].tolist())
    assert r["method"] == "RandomizedSearchCV" and r["n_trials"] == 3 and r["space"]["C"]["distribution"] == "loguniform"
    assert checklist_items(run.recorded[-1].record.body)["declared.hyperparameter_search"]["value"].startswith("GridSearchCV: 4 trials over C, kernel")


def test_optuna_study_is_measured(tracer) -> None:
    import optuna

    from bctrace.ml.integrations.optuna import log_study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(lambda t: (t.suggest_float("x", -2, 2) - 1) ** 2 + t.suggest_int("k", 1, 3), n_trials=5)
    with tracer.run("optuna") as run:
        log_study(study)
    (s,) = run.observed["search"]
    assert s["framework"] == "optuna" and s["n_trials"] == 5 and s["method"] == "TPESampler"
    assert s["space"]["x"]["distribution"] == "FloatDistribution" and s["space"]["x"]["low"] == -2
    assert s["best"]["value"] == study.best_value and s["directions"] == ["minimize"]


def test_torch_random_split_and_samplers_are_measured(tracer) -> None:
    X = torch.arange(40, dtype=torch.float32).reshape(20, 2)
    y = torch.tensor([0, 1] * 10)
    ds = torch.utils.data.TensorDataset(X, y)
    with tracer.run("torch-split") as run:
        train, val = tml.random_split(ds, [15, 5], generator=torch.Generator().manual_seed(0))
        tml.log_sampler({"train": torch.utils.data.SubsetRandomSampler(train.indices), "validation": torch.utils.data.SubsetRandomSampler(val.indices)}, ds)
    first, second = run.observed["splits"]
    assert first["splits"]["validation"]["membership_sha256"] == membership_hash(val.indices) == second["splits"]["validation"]["membership_sha256"]
    assert sum(first["splits"]["validation"]["labels"].values()) == 5 and first["duplicates"]["rows"] == 0
    assert second["method"] == "torch samplers (SubsetRandomSampler)"
    with tracer.run("torch-split-2") as again:
        tml.random_split(ds, [15, 5], generator=torch.Generator().manual_seed(1))
    assert again.observed["splits"][0]["splits"]["validation"]["membership_sha256"] != first["splits"]["validation"]["membership_sha256"]


SCRIPT = """
import json, sys
import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from bctrace.ml.integrations.sklearn import predict, train_test_split

X, y = make_classification(n_samples=100, n_features=4, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=float(sys.argv[1]), random_state=0)
model = LogisticRegression().fit(X_train, y_train)
predict(model, X_test)
json.dump({"test_accuracy": model.score(X_test, y_test)}, open("metrics.json", "w"))
"""


def test_a_script_under_ml_run_reports_its_split_without_opening_a_run(ml_project: Path, bctrace_cli) -> None:
    (ml_project / "split_train.py").write_text(SCRIPT)
    ends = []
    for test_size in ("0.2", "0.3"):
        res = bctrace_cli("ml", "run", "--metrics", "metrics.json", "--", sys.executable, "split_train.py", test_size)
        assert res.returncode == 0, res.stderr
        ends.append(load_run(re.search(r"end bundle: (\S+)", res.stderr).group(1)).end)
    a, b = (e["splits"][0]["splits"]["test"] for e in ends)
    assert (a["size"], b["size"]) == (20, 30) and a["membership_sha256"] != b["membership_sha256"]
    assert ends[0]["predictions"][0]["shape"] == [20]
    assert checklist_items(ends[0])["declared.split_method"]["source"] == "measured"
    report = bctrace_cli("ml", "report", str(Path(re.search(r"end bundle: (\S+)", res.stderr).group(1)).parent), "--no-plot")
    assert report.returncode == 0, report.stderr
    assert report.stdout.count("measured") >= 3  # split method, labels, duplicates
