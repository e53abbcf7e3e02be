"""PyTorch: thin helpers over the core's state_dict hash and DataLoader worker seeding.

The hash format and the seeding recipe live in the core (:mod:`bctrace.ml.model_hash`,
:func:`bctrace.ml.seed_worker`); this module only wires them to torch objects and to the open run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from ..model_hash import hash_model
from ..randomness import seed_worker
from ._binding import require_run

if TYPE_CHECKING:
    from ..run import Run

__all__ = ["hash_state_dict", "log_model", "seeded_loader_kwargs"]


def hash_state_dict(model: torch.nn.Module | dict[str, Any]) -> dict[str, Any]:
    """The ``torch-state-dict-v1`` hash of a module's (or a state_dict's) tensors; independent of
    how (or whether) the model was saved."""
    return hash_model(model)


def log_model(model: torch.nn.Module | dict[str, Any], *, name: str = "model", run: Run | None = None) -> dict[str, Any]:
    """Record the state_dict hash in ``run`` (default: the open run)."""
    return require_run(run).log_model(model, name=name)


def seeded_loader_kwargs(seed: int) -> dict[str, Any]:
    """``DataLoader`` arguments that make shuffling and worker randomness repeatable: a seeded
    ``generator`` (drives the sampler and each worker's base seed) and ``worker_init_fn`` that
    seeds ``random`` and NumPy in every worker, as in the PyTorch reproducibility notes::

        DataLoader(ds, shuffle=True, num_workers=2, **seeded_loader_kwargs(42))
    """
    return {"generator": torch.Generator().manual_seed(seed), "worker_init_fn": seed_worker}
