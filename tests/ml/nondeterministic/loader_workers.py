"""Nondeterministic only through DataLoader worker seeding: torch, NumPy and random are seeded,
but each worker re-seeds NumPy from entropy ("so that workers differ"), and the dataset's
augmentation draws from NumPy inside the workers."""
import random

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)
np.random.seed(0)
random.seed(0)
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
threadpool_limits(1)  # NumPy's BLAS too: only the source under test varies


class Noisy(Dataset):
    def __len__(self) -> int:
        return 16

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.tensor([i / 16 + np.random.rand()], dtype=torch.float32)


def reseed(worker_id: int) -> None:
    np.random.seed()  # from entropy


if __name__ == "__main__":
    model = torch.nn.Linear(1, 1)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    for xb in DataLoader(Noisy(), batch_size=4, num_workers=2, worker_init_fn=reseed):
        optimiser.zero_grad()
        model(xb).pow(2).mean().backward()
        optimiser.step()
    torch.save(model.state_dict(), "model.pt")
