"""Train a small random forest on the bundled CSV data; deterministic given the seed.

Runs as is, or recorded by bctrace without any change to this file:

    bctrace ml run --seed 1 --input data/train.csv:train --input data/test.csv:test \
        --model model.joblib --metrics metrics.json -- python sklearn_train.py
    bctrace ml reproduce .bctrace/runs/<run-id>/ -- python sklearn_train.py
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, log_loss

HERE = Path(__file__).resolve().parent


def load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return data[:, :-1], data[:, -1].astype(int)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=HERE / "data" / "train.csv")
    parser.add_argument("--test", type=Path, default=HERE / "data" / "test.csv")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("BCTRACE_SEED", "0")))
    parser.add_argument("--n-estimators", type=int, default=50)
    parser.add_argument("--model-out", type=Path, default=Path("model.joblib"))
    parser.add_argument("--metrics-out", type=Path, default=Path("metrics.json"))
    args = parser.parse_args()

    try:  # optional: records which seeds were set when run under `bctrace ml run`
        from bctrace.ml import seed_everything

        seed_everything(args.seed)
    except ImportError:
        np.random.seed(args.seed)

    x_train, y_train = load(args.train)
    x_test, y_test = load(args.test)
    model = RandomForestClassifier(n_estimators=args.n_estimators, max_depth=6, random_state=args.seed, n_jobs=1)
    model.fit(x_train, y_train)
    proba = model.predict_proba(x_test)
    metrics = {
        "test_accuracy": float(accuracy_score(y_test, proba.argmax(axis=1))),
        "test_log_loss": float(log_loss(y_test, proba, labels=model.classes_)),
        "train_accuracy": float(model.score(x_train, y_train)),
    }
    joblib.dump(model, args.model_out)
    args.metrics_out.write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
