"""PyTorch integration: seeded DataLoaders repeat (workers included), and a real training run's
state_dict hash is recorded, anchored, verified, and equal across two seeded runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from bctrace.errors import UsageError
from bctrace.ml import seed_everything
from bctrace.ml.integrations.torch import hash_state_dict, log_model, seeded_loader_kwargs
from bctrace.ml.model_hash import hash_model


class NoisyDataset(Dataset):
    """Each item draws from NumPy's global generator, as augmentation code often does."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> tuple[int, float]:
        return i, float(np.random.rand())


def _epoch(seed: int, workers: int) -> list[tuple[int, float]]:
    loader = DataLoader(NoisyDataset(), batch_size=2, shuffle=True, num_workers=workers, **seeded_loader_kwargs(seed))
    return [(int(i), float(x)) for idx, noise in loader for i, x in zip(idx, noise)]


def test_seeded_loader_repeats_order_and_worker_randomness() -> None:
    first = _epoch(7, workers=2)
    assert first == _epoch(7, workers=2)
    assert first != _epoch(8, workers=2)
    assert len({x for _, x in first}) == 8  # workers do not share one NumPy state


def _train(seed: int) -> torch.nn.Module:
    seed_everything(seed)
    X = torch.randn(64, 4)
    y = (X.sum(dim=1) > 0).long()
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for xb, yb in DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True, **seeded_loader_kwargs(seed)):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()
    return model


def test_training_run_records_the_state_dict_hash(tracer, anchor_and_verify) -> None:
    with tracer.run("torch-mlp", seed=3) as run:
        model = _train(3)
        info = log_model(model)
    end = anchor_and_verify(run)[-1].record["body"]
    assert end["models"] == [{"name": "model", **hash_model(model)}]
    assert info["method"] == "torch-state-dict-v1" and info["tensors"] == 4 and info["parameters"] == 4 * 8 + 8 + 8 * 2 + 2

    assert hash_state_dict(_train(3))["sha256"] == info["sha256"]  # same seed: bit-identical
    assert hash_state_dict(_train(4))["sha256"] != info["sha256"]
    assert hash_state_dict(model.state_dict())["sha256"] == info["sha256"]  # module or its state_dict


def test_log_model_needs_a_run() -> None:
    with pytest.raises(UsageError, match="no ML run is open"):
        log_model(torch.nn.Linear(2, 2))
