"""The known sources of nondeterminism in a training run, as ``bctrace ml audit`` pins them.

Each source says whether a program used it (from what the audit's start-up hook observed), and
the lines that pin it for good in the script. How each is pinned in a process bctrace does not
control is in :mod:`bctrace.ml._audit_hook` (in-process) and :mod:`bctrace.ml.audit`
(environment variables).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["SOURCES", "THREAD_ENV", "Source", "relevance"]

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
"""Thread-count variables read by OpenMP and the BLAS libraries when they load."""

Usage = dict[str, Any]


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    used: Callable[[Usage], bool]
    fix: Callable[[Usage, int], list[str]]
    gpu: bool = False
    env: tuple[str, ...] = ()
    """Environment variables that, set by the user, pin this source already."""

    def where(self, usage: Usage) -> list[str]:
        """Call sites the hook saw, for the sources it can place (folder listings)."""
        return list(usage.get("listings") or []) if self.id == "file-listing" else []


def _numpy_fix(usage: Usage, seed: int) -> list[str]:
    lines = [f"np.random.seed({seed})  # after `import numpy as np`, before any draw"]
    if usage.get("default_rng_unseeded"):
        lines.append(f"rng = np.random.default_rng({seed})  # give every default_rng() a seed")
    return lines


def _sklearn_fix(usage: Usage, seed: int) -> list[str]:
    names = [n for n in usage.get("sklearn_none_random_state") or [] if n[:1].isupper()]
    if names:
        return [f"{name}(..., random_state={seed})  # scikit-learn's own seed" for name in names]
    return [f"pass random_state={seed} to every scikit-learn estimator and splitter"]


def _threads_fix(usage: Usage, seed: int) -> list[str]:
    lines = ["export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1  # before Python starts"]
    if usage.get("torch_loaded"):
        lines.append("torch.set_num_threads(1)  # right after `import torch`")
    if usage.get("native_pools"):
        lines.append("from threadpoolctl import threadpool_limits; threadpool_limits(1)  # or, from inside the script")
    return lines


def _listing_fix(usage: Usage, seed: int) -> list[str]:
    sites = usage.get("listings") or []
    return [f"sort the listing at {site}  (sorted(os.listdir(...)), sorted(glob.glob(...)))" for site in sites] or ["sort every directory listing: sorted(os.listdir(...))"]


SOURCES: tuple[Source, ...] = (
    Source("python-random", "Python random (global generator, unseeded)", lambda u: bool(u.get("random_used")),
           lambda u, s: [f"random.seed({s})  # after `import random`"]),
    Source("numpy", "NumPy global generator / default_rng() without a seed", lambda u: bool(u.get("numpy_used")), _numpy_fix),
    Source("torch", "torch global generator (CPU and CUDA), unseeded", lambda u: bool(u.get("torch_used")),
           lambda u, s: [f"torch.manual_seed({s})  # right after `import torch`"]),
    Source("sklearn-random-state", "scikit-learn's own seed (random_state=None)", lambda u: bool(u.get("sklearn_none_random_state")), _sklearn_fix),
    Source("pythonhashseed", "PYTHONHASHSEED: set/dict order of str and bytes", lambda u: bool(u.get("hash_randomization", True)),
           lambda u, s: [f"PYTHONHASHSEED={s} python ...  # set before Python starts (bctrace ml run --seed does); or iterate over sorted(a_set)"],
           env=("PYTHONHASHSEED",)),
    Source("threads", "thread counts (OpenMP, MKL, OpenBLAS, torch intra-op): float summation order",
           lambda u: bool(u.get("threads_above_one")), _threads_fix, env=THREAD_ENV),
    Source("torch-deterministic", "torch.use_deterministic_algorithms", lambda u: bool(u.get("torch_loaded")) and not u.get("torch_deterministic"),
           lambda u, s: ["torch.use_deterministic_algorithms(True)  # right after `import torch`"]),
    Source("cudnn-benchmark", "cuDNN benchmark / non-deterministic cuDNN kernels", lambda u: bool(u.get("torch_loaded")),
           lambda u, s: ["torch.backends.cudnn.benchmark = False", "torch.backends.cudnn.deterministic = True"], gpu=True),
    Source("cublas-workspace", "CUBLAS_WORKSPACE_CONFIG (cuBLAS reductions)", lambda u: bool(u.get("torch_loaded")),
           lambda u, s: ['os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"  # before the first CUDA call'], gpu=True, env=("CUBLAS_WORKSPACE_CONFIG",)),
    Source("dataloader-workers", "DataLoader worker seeding", lambda u: bool(u.get("dataloader_workers")),
           lambda u, s: [f"DataLoader(..., worker_init_fn=seed_worker, generator=torch.Generator().manual_seed({s}))  # from bctrace.ml import seed_worker"]),
    Source("file-listing", "file-listing order (os.listdir / os.scandir / glob without sort)", lambda u: bool(u.get("listings")), _listing_fix),
)


def relevance(source: Source, usage: Usage, env_pinned: dict[str, str], *, hook_loaded: bool) -> str | None:
    """None when the audit should pin ``source``; otherwise why it does not."""
    pinned = [name for name in source.env if name in env_pinned]
    if pinned:
        return f"pinned already ({', '.join(f'{n}={env_pinned[n]}' for n in pinned)})"
    if not hook_loaded:
        return None if source.id in ("pythonhashseed", "threads") else "not observable: the start-up hook did not load"
    if not source.used(usage):
        return "not used"
    if source.gpu and not usage.get("cuda"):
        return "used, but not testable here: no CUDA device"
    return None
