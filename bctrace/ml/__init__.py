"""Reproducible ML runs: capture a training run completely as a hash-chained trace, anchor it,
and check a re-run against it.

Importing this package is cheap: torch, numpy and scikit-learn are imported only by the functions
that need them, and never just to capture the environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_getattr

if TYPE_CHECKING:
    from .randomness import seed_everything, seed_worker
    from .run import Run, current_run, start_run, traced_run

# Imported on first use: loading the built-in ML plugin (bctrace.ml.plugin, for `bctrace --help`)
# does not import the run machinery and pydantic.
__getattr__ = lazy_getattr(__name__, globals(), {
    ".randomness": ["seed_everything", "seed_worker"],
    ".run": ["Run", "current_run", "start_run", "traced_run"],
})

__all__ = ["Run", "current_run", "seed_everything", "seed_worker", "start_run", "traced_run"]
