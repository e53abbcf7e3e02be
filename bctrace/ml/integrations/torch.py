"""PyTorch: thin helpers over the core's state_dict hash and DataLoader worker seeding.

The hash format and the seeding recipe live in the core (:mod:`bctrace.ml.model_hash`,
:func:`bctrace.ml.seed_worker`); this module only wires them to torch objects and to the open run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from ..model_hash import hash_model
from ..observed import observe
from ..randomness import seed_worker
from ..splits import split_summary
from ._binding import require_run
from .data import hash_array

if TYPE_CHECKING:
    from ..run import Run

__all__ = ["hash_state_dict", "log_model", "log_predictions", "log_sampler", "random_split", "seeded_loader_kwargs"]


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


def random_split(dataset: Any, lengths: Any, generator: torch.Generator | None = None, *, names: tuple[str, ...] = ("train", "validation", "test")) -> list[Any]:
    """``torch.utils.data.random_split`` that also measures the split (membership hash, labels,
    class balance, rows shared between splits; see :mod:`bctrace.ml.splits`). Splits are named
    ``train``, ``validation``, ``test`` in order (``names=`` to change)."""
    kwargs = {"generator": generator} if generator is not None else {}
    subsets = torch.utils.data.random_split(dataset, lengths, **kwargs)
    if len(subsets) > len(names):
        names = tuple(f"split-{i}" for i in range(len(subsets)))
    X, y = _features_and_labels(dataset)
    params = {"lengths": list(lengths), "seeded_generator": generator is not None}
    observe("splits", split_summary({n: s.indices for n, s in zip(names, subsets, strict=False)}, method="torch.utils.data.random_split", params=params, X=X, y=y))
    return subsets


def log_sampler(samplers: dict[str, Any], dataset: Any = None) -> dict[str, Any]:
    """Measure a split given as samplers over one dataset, e.g. ``{"train":
    SubsetRandomSampler(train_idx), "validation": SubsetRandomSampler(val_idx)}`` (any sampler
    with ``indices``)."""
    missing = [n for n, s in samplers.items() if not hasattr(s, "indices")]
    if missing:
        from ...errors import UsageError

        raise UsageError(f"sampler {missing[0]!r} has no indices: only samplers over a fixed index set (SubsetRandomSampler...) describe a split")
    X, y = _features_and_labels(dataset) if dataset is not None else (None, None)
    method = ", ".join(sorted({type(s).__name__ for s in samplers.values()}))
    return observe("splits", split_summary({n: list(s.indices) for n, s in samplers.items()}, method=f"torch samplers ({method})", X=X, y=y))


def log_predictions(predictions: Any, *, name: str = "test", role: str = "test") -> dict[str, Any]:
    """Hash predictions (``array-v1``) into the run, for ``bctrace ml audit`` to compare."""
    return observe("predictions", {"name": name, "role": role, **hash_array(predictions)})


def _features_and_labels(dataset: Any) -> tuple[Any, Any]:
    """Features and labels of a ``TensorDataset`` (first and last tensor) or of a dataset with
    ``data`` / ``targets`` (torchvision style); else each item's tensors, and no labels."""
    tensors = getattr(dataset, "tensors", None)
    if tensors:
        return tensors[0], (tensors[-1] if len(tensors) > 1 else None)
    if hasattr(dataset, "data") and hasattr(dataset, "targets"):
        return dataset.data, dataset.targets
    items = [dataset[i] for i in range(len(dataset))]
    first = [item[0] if isinstance(item, (tuple, list)) else item for item in items]
    return torch.stack([torch.as_tensor(x) for x in first]), None
