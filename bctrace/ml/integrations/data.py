"""Fingerprints of in-memory datasets (numpy arrays, pandas frames, scipy sparse matrices, torch
tensors), so that data passed to ``fit`` is recorded as surely as a data file on disk.

Format ``array-v1``: SHA-256 over a sequence of framed parts (a one-byte tag, an 8-byte big-endian
length, the payload). An array contributes an RFC 8785 header ``{"dtype", "shape"}`` and its
C-order little-endian bytes, so the same values with another dtype or shape hash differently and
memory layout (Fortran order, slicing, byte order) does not matter. Arrays of Python objects are
hashed element by element as RFC 8785 JSON (strings, numbers, None); anything else is refused rather
than hashed by its memory address. A DataFrame contributes its column names and each column; a
sparse matrix its CSR shape, data, indices and index pointers.
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING, Any

from ..._internal.hexutil import to_0x
from ..._internal.record import canonical_bytes
from ...errors import UsageError

if TYPE_CHECKING:
    from ..run import Run

__all__ = ["FORMAT", "hash_array", "log_array"]

FORMAT = "array-v1"


def hash_array(data: Any) -> dict[str, Any]:
    """Fingerprint ``data``: ``{"method": "array-v1", "sha256", "type", "shape", "dtype", "nbytes"}``."""
    h = hashlib.sha256()
    kind = f"{type(data).__module__.split('.')[0]}.{type(data).__qualname__}"
    info: dict[str, Any] = {"method": FORMAT, "type": kind}
    if hasattr(data, "tocsr") and hasattr(data, "nnz"):  # scipy.sparse matrix or array
        csr = data.tocsr()
        csr.sort_indices()
        _frame(h, b"S", canonical_bytes({"format": "csr", "shape": list(csr.shape)}))
        nbytes = sum(_array(h, a) for a in (csr.data, csr.indices, csr.indptr))
        info.update(shape=list(csr.shape), dtype=csr.dtype.str, nbytes=nbytes)
    elif hasattr(data, "columns") and hasattr(data, "iloc"):  # pandas (or pandas-like) DataFrame
        columns = [str(c) for c in data.columns]
        _frame(h, b"P", canonical_bytes({"columns": columns, "rows": len(data)}))
        nbytes = sum(_array(h, data.iloc[:, i].to_numpy()) for i in range(len(columns)))
        info.update(shape=[len(data), len(columns)], dtypes={c: str(t) for c, t in zip(columns, data.dtypes, strict=False)}, nbytes=nbytes)
    else:
        arr = _as_numpy(data)
        info.update(shape=list(arr.shape), dtype=arr.dtype.str, nbytes=_array(h, arr))
    info["sha256"] = to_0x(h.digest())
    return info


def log_array(run: Run, data: Any, *, name: str, role: str = "train", **meta: Any) -> dict[str, Any]:
    """Add an in-memory dataset to ``run``'s inputs (listed in its end record) with its split role.

    ``meta`` is kept verbatim (JSON values: ``uri=``, ``version=``, ``license=``...)."""
    from ..run import ROLES

    if role not in ROLES:
        raise UsageError(f"input role {role!r} is not one of {', '.join(ROLES)}")
    entry = {"name": name, "role": role, "kind": "array", **hash_array(data), **meta}
    run.inputs.append(entry)
    return entry


def _as_numpy(data: Any) -> Any:
    import numpy as np

    if type(data).__module__.split(".")[0] == "torch":
        data = data.detach().cpu().numpy()
    elif hasattr(data, "to_numpy") and callable(data.to_numpy):  # pandas Series
        data = data.to_numpy()
    return np.asarray(data)


def _array(h: Any, arr: Any) -> int:
    """Feed one array to ``h``; returns the number of value bytes hashed."""
    import numpy as np

    arr = np.asarray(arr)
    if arr.dtype.hasobject:
        _frame(h, b"A", canonical_bytes({"dtype": "object", "shape": list(arr.shape)}))
        for item in arr.reshape(-1):
            value = item.item() if hasattr(item, "item") else item
            if not (value is None or isinstance(value, (str, int, float, bool))):
                raise UsageError(f"cannot hash a dataset element of type {type(value).__name__}: convert the column to numbers or strings first")
            if isinstance(value, float) and not math.isfinite(value):  # missing values in a column
                _frame(h, b"F", repr(value).encode())
            else:
                _frame(h, b"J", canonical_bytes(value))
        return 0
    if arr.dtype.fields:
        raise UsageError("cannot hash a structured array: pass its fields as columns of a DataFrame")
    shape = list(arr.shape)
    flat = np.ascontiguousarray(arr).reshape(-1)  # a view when already C-contiguous
    if flat.dtype.byteorder == ">":
        flat = flat.astype(flat.dtype.newbyteorder("<"))
    _frame(h, b"A", canonical_bytes({"dtype": flat.dtype.str, "shape": shape}))
    raw = flat.view(np.uint8)  # hashed in place, never copied to a bytes object
    _frame(h, b"B", raw)
    return int(raw.nbytes)


def _frame(h: Any, tag: bytes, payload: Any) -> None:
    """Tag, 8-byte length, payload (bytes or a uint8 array, fed without concatenating)."""
    h.update(tag + len(payload).to_bytes(8, "big"))
    h.update(payload)
