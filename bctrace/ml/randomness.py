"""Seeding and the determinism switches actually in force.

torch is seeded and inspected only when the program has already imported it: importing torch
costs seconds, and a run that never imported torch has no torch randomness to record. Import
torch before calling :func:`seed_everything` when you use it (the record shows ``"torch": null``
otherwise, so the omission is visible).
"""

from __future__ import annotations

import os
import random
import sys
from typing import Any

__all__ = ["capture_randomness", "seed_everything", "seed_worker"]

_last_seeded: dict[str, Any] | None = None


def seed_everything(seed: int) -> dict[str, Any]:
    """Seed Python's ``random``, NumPy's legacy global generator and torch (CPU and every CUDA
    device) when they are loaded, and export ``PYTHONHASHSEED`` for child processes.

    Returns what was seeded, e.g. ``{"seed": 42, "python": 42, "numpy": 42, "torch": 42,
    "torch_cuda": False, "pythonhashseed": {...}}``; ``None`` marks a library that was not seeded.
    ``PYTHONHASHSEED`` only affects this process if it was set before Python started, which
    ``pythonhashseed.effective`` reports.
    """
    global _last_seeded
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        from ..errors import UsageError

        raise UsageError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    random.seed(seed)
    done: dict[str, Any] = {"seed": seed, "python": seed, "numpy": None, "torch": None, "torch_cuda": False}
    try:
        import numpy as np
    except ImportError:
        pass
    else:
        np.random.seed(seed)
        done["numpy"] = seed
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)  # also seeds every CUDA device
        done["torch"] = seed
        done["torch_cuda"] = bool(torch.cuda.is_available())
    before = os.environ.get("PYTHONHASHSEED")
    os.environ["PYTHONHASHSEED"] = str(seed)
    done["pythonhashseed"] = {"exported": str(seed), "at_start": before, "effective": before is not None and before == str(seed)}
    _last_seeded = done
    return done


def seed_worker(worker_id: int) -> None:
    """``worker_init_fn`` for a torch DataLoader: seed ``random`` and NumPy in each worker from
    the worker's torch seed (which the DataLoader derives from its generator), as the PyTorch
    reproducibility notes recommend."""
    import torch

    worker_seed = torch.initial_seed() % 2**32
    random.seed(worker_seed)
    try:
        import numpy as np
    except ImportError:
        return
    np.random.seed(worker_seed)


def capture_randomness(seeded: dict[str, Any] | None = None) -> dict[str, Any]:
    """Seeds set through :func:`seed_everything` and the determinism switches in force now."""
    out: dict[str, Any] = {
        "seeded": seeded if seeded is not None else _last_seeded,
        "hash_randomization": bool(sys.flags.hash_randomization),
        "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED"),
        "CUBLAS_WORKSPACE_CONFIG": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
        "torch": None,
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        out["torch"] = _torch_switches(torch)
    return out


def _torch_switches(torch: Any) -> dict[str, Any]:
    cudnn = torch.backends.cudnn
    return {
        "deterministic_algorithms": bool(torch.are_deterministic_algorithms_enabled()),
        "deterministic_warn_only": bool(torch.is_deterministic_algorithms_warn_only_enabled()),
        "cudnn_deterministic": bool(cudnn.deterministic),
        "cudnn_benchmark": bool(cudnn.benchmark),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cuda_matmul_allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
        "cudnn_allow_tf32": bool(cudnn.allow_tf32),
        "num_threads": torch.get_num_threads(),
        "initial_seed": int(torch.initial_seed()),
    }
