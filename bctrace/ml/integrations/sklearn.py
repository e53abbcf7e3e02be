"""scikit-learn: ``fit`` and ``predict`` that record what went in and what came out.

``fit`` logs the estimator's hyper-parameters (``get_params``), fingerprints of ``X`` and ``y``
(:func:`bctrace.ml.integrations.data.hash_array`) and, once fitted, the hash of the learned state
(:func:`bctrace.ml.model_hash.hash_model`: the fitted arrays, not the pickle). ``predict``
fingerprints the evaluation data and logs metrics. Both log to the run given, else to the open
run; ``fit`` without any run opens one for the fit alone::

    with tracer.run("iris-rf", seed=0) as run:
        model = fit(RandomForestClassifier(n_estimators=50), X_train, y_train)
        predict(model, X_test, y_test, metrics={"f1": f1_score})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..observed import collecting, observe
from ..run import current_run
from ..search import plain_value, qualname
from ..splits import split_summary
from ._binding import RunBinding, require_run
from .data import hash_array, log_array

if TYPE_CHECKING:
    from ..._internal.tracer import Tracer
    from ..run import Run

__all__ = ["cv_splits", "estimator_params", "fit", "predict", "train_test_split"]

E = TypeVar("E")
Metric = Callable[[Any, Any], Any]


def estimator_params(estimator: Any) -> dict[str, Any]:
    """Hyper-parameters (``get_params(deep=True)``) as stable JSON values: a nested estimator or
    a function is named by its qualified class or function name, never by a repr that carries a
    memory address (which would make two identical runs look different)."""
    return {str(k): plain_value(v) for k, v in sorted(estimator.get_params(deep=True).items())}


def fit(
    estimator: E,
    X: Any,
    y: Any = None,
    *,
    run: Run | None = None,
    tracer: Tracer | None = None,
    name: str | None = None,
    dataset: str = "train",
    model_name: str = "model",
    flush: bool = False,
    **fit_params: Any,
) -> E:
    """Fit ``estimator`` on ``X`` (and ``y``) and record params, data fingerprints and the model hash.

    :param run: log to this run; default the open run, else a run opened for this fit alone (on
        ``tracer``, or one built from the config) and ended when the fit returns or fails.
    :param dataset: name of the training data in the record (``<dataset>.X``, ``<dataset>.y``).
    :param flush: anchor right after ending a run opened here.
    :param fit_params: passed to ``estimator.fit``.
    """
    binding = RunBinding(run=run, tracer=tracer, flush=flush)
    active = binding.open(name or type(estimator).__name__, {"estimator": qualname(type(estimator)), **estimator_params(estimator)})
    try:
        log_array(active, X, name=f"{dataset}.X", role="train")
        if y is not None:
            log_array(active, y, name=f"{dataset}.y", role="train")
        fitted = estimator.fit(X, y, **fit_params)  # type: ignore[attr-defined]
        active.log_model(estimator, name=model_name)
        if hasattr(estimator, "cv_results_"):  # GridSearchCV, RandomizedSearchCV ...
            from ..search import sklearn_search

            observe("search", sklearn_search(estimator))
    except BaseException as err:
        binding.close(err)
        raise
    binding.close()
    return fitted


def predict(
    estimator: Any,
    X: Any,
    y: Any = None,
    *,
    run: Run | None = None,
    role: str = "test",
    dataset: str | None = None,
    metrics: Mapping[str, Metric] | None = None,
    step: int | None = None,
) -> Any:
    """Predict on ``X``, fingerprint it (and ``y``) as ``role`` data, and log metrics.

    With ``y``, the metrics are ``estimator.score(X, y)`` as ``<role>_score`` plus each
    ``metrics[name](y, y_pred)`` as ``<role>_<name>``. Needs an open run (or ``run=``).
    The predictions are hashed (``array-v1``) into the run's ``predictions``, which ``bctrace ml
    audit`` compares between runs. Needs an open run (or ``run=``), except in a script started by
    ``bctrace ml run`` / ``ml audit``, where only the predictions hash is reported. Returns the
    predictions.
    """
    active = run or current_run()
    if active is None and not collecting():
        require_run(None)
    label = dataset or role
    y_pred = estimator.predict(X)
    observe("predictions", {"name": label, "role": role, **hash_array(y_pred)})
    if active is None:
        return y_pred
    log_array(active, X, name=f"{label}.X", role=role)
    if y is not None:
        log_array(active, y, name=f"{label}.y", role=role)
        values = {f"{role}_score": estimator.score(X, y)}
        values.update({f"{role}_{key}": fn(y, y_pred) for key, fn in (metrics or {}).items()})
        active.log_metrics(values, step=step)
    return y_pred


def train_test_split(*arrays: Any, **options: Any) -> list[Any]:
    """``sklearn.model_selection.train_test_split`` that also measures the split: membership hash
    of train and test, label distribution and class balance of each (labels: ``stratify``, else
    the second array), and feature rows shared by train and test. Same arguments and result."""
    import numpy as np
    from sklearn.model_selection import train_test_split as split

    n = len(arrays[0])
    *parts, train_idx, test_idx = split(*arrays, np.arange(n), **options)
    labels = options.get("stratify") if options.get("stratify") is not None else (arrays[1] if len(arrays) > 1 else None)
    params = {k: v for k, v in options.items() if k != "stratify"} | ({"stratify": True} if options.get("stratify") is not None else {})
    observe("splits", split_summary({"train": train_idx, "test": test_idx}, method="sklearn.model_selection.train_test_split", params=plain_value(params), X=arrays[0], y=labels))
    return parts


def cv_splits(cv: Any, X: Any, y: Any = None, groups: Any = None) -> list[tuple[Any, Any]]:
    """The folds of a scikit-learn splitter (``KFold``, ``StratifiedKFold``, ``GroupKFold`` ...),
    measured fold by fold (``fold-K.train`` / ``fold-K.validation``), as a list of
    ``(train_indices, validation_indices)`` to pass on as ``cv=``."""
    folds = list(cv.split(X, y, groups))
    named = {}
    for k, (train, val) in enumerate(folds):
        named[f"fold-{k}.train"], named[f"fold-{k}.validation"] = train, val
    observe("splits", split_summary(named, method=qualname(type(cv)), params=plain_value(cv.get_params()) if hasattr(cv, "get_params") else {}, X=X, y=y))
    return folds
