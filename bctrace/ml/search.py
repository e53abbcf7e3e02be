"""Hyper-parameter searches as measured facts: the space searched, every trial, how the best was
chosen. From scikit-learn's ``GridSearchCV`` / ``RandomizedSearchCV`` (after ``fit``) and Optuna
studies."""

from __future__ import annotations

from typing import Any

__all__ = ["optuna_search", "sklearn_search"]


def sklearn_search(search: Any) -> dict[str, Any]:
    """Space, trials and choice of a fitted ``GridSearchCV`` / ``RandomizedSearchCV`` (or any
    ``BaseSearchCV``)."""
    results = search.cv_results_
    space: Any
    if hasattr(search, "param_grid"):
        space = plain_value(search.param_grid)
    else:
        space = {k: _distribution(v) for k, v in search.param_distributions.items()} if isinstance(search.param_distributions, dict) else plain_value(search.param_distributions)
    trials = []
    for i, params in enumerate(results["params"]):
        trial: dict[str, Any] = {"params": plain_value(params)}
        for key in ("mean_test_score", "std_test_score", "rank_test_score"):
            if key in results:
                trial[key.removesuffix("_test_score")] = results[key][i]
        trials.append(trial)
    return {
        "framework": "scikit-learn",
        "method": type(search).__name__,
        "space": space,
        "n_trials": len(trials),
        "n_iter": getattr(search, "n_iter", None),
        "cv": repr(search.cv) if not isinstance(search.cv, (int, type(None))) else search.cv,
        "scoring": search.scoring if isinstance(search.scoring, (str, type(None))) else repr(search.scoring),
        "refit": search.refit if isinstance(search.refit, (bool, str)) else repr(search.refit),
        "selection": "highest mean cross-validated score (rank 1)",
        "best_params": plain_value(getattr(search, "best_params_", None)),
        "best_score": getattr(search, "best_score_", None),
        "trials": trials,
    }


def optuna_search(study: Any) -> dict[str, Any]:
    """Space (each parameter's distribution), trials and choice of an Optuna study."""
    space: dict[str, Any] = {}
    trials = []
    for t in study.trials:
        for name, dist in t.distributions.items():
            space.setdefault(name, _distribution(dist))
        trials.append({"number": t.number, "state": t.state.name, "params": t.params, "value": t.value if t.values is None or len(t.values) == 1 else t.values})
    directions = [d.name.lower() for d in study.directions]
    best = None
    if len(directions) == 1 and any(t.state.name == "COMPLETE" for t in study.trials):
        best = {"number": study.best_trial.number, "params": study.best_params, "value": study.best_value}
    return {
        "framework": "optuna",
        "method": type(study.sampler).__name__,
        "study": study.study_name,
        "space": space,
        "n_trials": len(trials),
        "directions": directions,
        "selection": f"best objective value ({' / '.join(directions)})",
        "best": best,
        "trials": trials,
    }


def _distribution(dist: Any) -> Any:
    """A search-space entry as data: a list stays a list; a scipy.stats or Optuna distribution is
    its name and parameters."""
    if isinstance(dist, (list, tuple)):
        return list(dist)
    if hasattr(dist, "dist") and hasattr(dist, "args"):  # a frozen scipy.stats distribution
        return {"distribution": dist.dist.name, "args": list(dist.args), "kwds": dict(dist.kwds)}
    if type(dist).__module__.startswith("optuna"):
        return {"distribution": type(dist).__name__, **{k: v for k, v in vars(dist).items() if not k.startswith("_")}}
    return repr(dist)


def plain_value(value: Any) -> Any:
    """Estimator parameters as JSON: nested estimators and callables by their qualified name."""
    if isinstance(value, (list, tuple)):  # e.g. Pipeline.steps: [(name, estimator), ...]
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    if hasattr(value, "get_params") and not isinstance(value, type):  # a nested estimator
        return qualname(type(value))
    if callable(value):  # a class, or a function such as a custom kernel or score_func
        return qualname(value if hasattr(value, "__qualname__") else type(value))
    return value


def qualname(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"
