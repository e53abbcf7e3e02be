"""Shared by the audit's test scripts: a tiny dataset and a tiny model whose learned weights
depend on the order of the rows it sees. The scripts pin their thread pools themselves (one
thread), so that only the source each one is about is left to vary: the audit then has fewer
sources to try (it sees the pools are pinned)."""
import json

import joblib
import numpy as np
import sklearn.linear_model  # noqa: F401 - loads OpenMP now, so that the limit below covers it
from threadpoolctl import threadpool_limits

threadpool_limits(1)


def dataset() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(7)  # a generator of its own, seeded: not a source under audit
    X = rng.rand(200, 20)  # 20 columns: a set of 20 names has 20! possible orders
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    return X, y


def fit_sgd(X: np.ndarray, y: np.ndarray):
    return sklearn.linear_model.SGDClassifier(max_iter=5, tol=None, shuffle=False, random_state=0).fit(X, y)


def save(model) -> None:
    joblib.dump(model, "model.joblib")
    json.dump({"train_accuracy": float(model.score(*dataset()))} if hasattr(model, "score") else {}, open("metrics.json", "w"))
