"""Nondeterministic only through torch's unseeded global generator (the layer's initial weights)."""
import torch
from threadpoolctl import threadpool_limits

from _common import dataset

X, y = (torch.from_numpy(a) for a in dataset())
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)
threadpool_limits(1)  # NumPy's BLAS too: only the source under test varies
model = torch.nn.Linear(X.shape[1], 2)
optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(5):
    optimiser.zero_grad()
    torch.nn.functional.cross_entropy(model(X.float()), y.long()).backward()
    optimiser.step()
torch.save(model.state_dict(), "model.pt")
