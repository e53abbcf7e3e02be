"""Measured facts about a train/validation/test split, instead of declared ones.

For each split: its size, a hash of its membership (format ``membership-v1``: SHA-256 of the
sorted, de-duplicated row indices as 8-byte little-endian integers, so the same rows give the same
hash whatever order a splitter returned them in), the label distribution (counts per class, or
mean/std/min/max for a continuous target) and the class balance; across splits: rows whose
features occur in two splits (a duplicate in train and test is leakage, Kapoor & Narayanan 2023).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from .._internal.hexutil import to_0x

__all__ = ["MEMBERSHIP_FORMAT", "membership_hash", "split_summary"]

MEMBERSHIP_FORMAT = "membership-v1"
_MAX_CLASSES = 50
"""A target with more distinct values than this is summarised as continuous."""


def membership_hash(indices: Any) -> str:
    import numpy as np

    ordered = np.unique(np.asarray(indices, dtype=np.int64).reshape(-1)).astype("<i8")
    return to_0x(hashlib.sha256(ordered.tobytes()).digest())


def split_summary(splits: Mapping[str, Sequence[int] | Any], *, method: str, params: Mapping[str, Any] | None = None, X: Any = None, y: Any = None) -> dict[str, Any]:
    """The measured split: ``splits`` maps a split name (``train``, ``test``, ``fold-0.train``...)
    to the row indices of ``X`` / ``y`` it holds."""
    import numpy as np

    labels = _as_numpy(y) if y is not None else None
    if labels is not None and labels.ndim != 1:
        labels = None  # multi-output targets: membership and duplicates only
    out: dict[str, Any] = {"method": method, "params": dict(params or {}), "format": MEMBERSHIP_FORMAT, "splits": {}}
    keys = _row_keys(X) if X is not None else None
    seen: dict[str, set[bytes]] = {}
    for name, idx in splits.items():
        idx = np.asarray(idx, dtype=np.int64).reshape(-1)
        entry: dict[str, Any] = {"size": int(len(idx)), "membership_sha256": membership_hash(idx)}
        if labels is not None:
            entry.update(_label_stats(labels[idx]))
        out["splits"][name] = entry
        if keys is not None:
            seen[name] = {keys[i] for i in idx}
    if keys is not None:
        out["duplicates"] = _duplicates(seen, splits)
    return out


def _label_stats(values: Any) -> dict[str, Any]:
    import numpy as np

    uniques, counts = np.unique(values, return_counts=True)
    if len(uniques) > _MAX_CLASSES and np.issubdtype(values.dtype, np.number):
        return {"target": {"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()), "max": float(values.max())}}
    total = int(counts.sum()) or 1
    labels = {_label(u): int(c) for u, c in zip(uniques, counts, strict=True)}
    balance = {k: round(v / total, 6) for k, v in labels.items()}
    return {"labels": labels, "balance": balance, "imbalance": round(max(counts) / min(counts), 6) if len(counts) else None}


def _duplicates(seen: Mapping[str, set[bytes]], splits: Mapping[str, Any]) -> dict[str, Any]:
    """Rows of a later split whose features also occur in an earlier one (``train`` before
    ``validation`` before ``test``), per pair and in total."""
    names = list(seen)
    pairs = {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if "." in a and "." in b and a.split(".")[0] != b.split(".")[0]:
                continue  # folds of a CV split ("fold-0.train") are compared within the fold only
            shared = len(seen[a] & seen[b])
            pairs[f"{a}/{b}"] = shared
    return {"rows": sum(pairs.values()), "pairs": pairs}


def _row_keys(X: Any) -> list[bytes]:
    """One bytes key per row of ``X`` (its values with dtype), to find equal rows."""
    import numpy as np

    arr = _as_numpy(X)
    arr = arr.reshape(len(arr), -1)
    if arr.dtype.hasobject:
        return [repr(tuple(row)).encode() for row in arr]
    arr = np.ascontiguousarray(arr)
    return [row.tobytes() for row in arr]


def _as_numpy(data: Any) -> Any:
    from .integrations.data import _as_numpy as convert

    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        return data.to_numpy()
    return convert(data)


def _label(value: Any) -> str:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)
