"""Optuna: record a study's search space, every trial and the chosen one in the open run.

    study.optimize(objective, n_trials=20)
    log_study(study)        # the run's end step gets it under "search"
"""

from __future__ import annotations

from typing import Any

import optuna  # noqa: F401 - this integration needs optuna installed

from ..observed import observe
from ..search import optuna_search

__all__ = ["log_study"]


def log_study(study: Any) -> dict[str, Any]:
    """Measure ``study`` (space, trials, directions, best trial) into the run."""
    return observe("search", optuna_search(study))
