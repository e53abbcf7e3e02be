"""Nondeterministic only because torch's deterministic mode is off: a parameter made with
torch.empty is never initialised (a forgotten reset_parameters), so it holds whatever the
allocator hands back: here a freed buffer of per-run bytes. Deterministic mode fills such memory.
Everything else is seeded and single-threaded."""
import os

import torch
from threadpoolctl import threadpool_limits

torch.manual_seed(0)
torch.set_num_threads(1)
threadpool_limits(1)  # NumPy's BLAS too: only the source under test varies
token = torch.frombuffer(bytearray(os.urandom(64 * 4)), dtype=torch.float32).clone()  # e.g. a run token
del token
scale = torch.nn.Parameter(torch.empty(64))  # bug: never initialised
linear = torch.nn.Linear(64, 2)
torch.save({"scale": scale.detach(), **linear.state_dict()}, "model.pt")
