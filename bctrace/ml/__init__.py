"""Reproducible ML runs: capture a training run completely as a hash-chained trace, anchor it,
and check a re-run against it.

Importing this package is cheap: torch, numpy and scikit-learn are imported only by the functions
that need them, and never just to capture the environment.
"""

from __future__ import annotations

from .randomness import seed_everything, seed_worker
from .run import Run, current_run, start_run, traced_run

__all__ = ["Run", "current_run", "seed_everything", "seed_worker", "start_run", "traced_run"]
