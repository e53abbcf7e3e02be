"""A hash of a model's learned parameters that does not depend on how it was pickled.

A pickle's bytes change with things that do not change the model (``n_jobs``, library-internal
attributes, protocol version), so two identical models can have different file hashes. Instead:

- torch (``torch-state-dict-v1``): for each ``state_dict`` entry in key order, a header
  ``{"key", "dtype", "shape", "nbytes"}`` (RFC 8785 JSON) followed by the tensor's raw bytes
  (CPU, contiguous, native little-endian as torch stores them).
- scikit-learn (``sklearn-fitted-v1``): the estimator's class, its hyper-parameters except those
  that only affect execution (:data:`EXECUTION_ONLY_PARAMS`), and every fitted attribute (public
  name ending in ``_``), encoded recursively: arrays as dtype + shape + bytes, nested estimators
  the same way, Cython objects (``Tree``) through their ``__getstate__``.
- a path: a torch state_dict file or a scikit-learn pickle is hashed as above (see
  :func:`hash_model_file`); any other file by its sha256 (``file-sha256``; a folder by its
  manifest hash).

Every value is framed with a type tag and a length, so no two different inputs share an encoding.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._internal.hexutil import to_0x
from .._internal.record import canonical_bytes
from ..errors import UsageError

__all__ = ["EXECUTION_ONLY_PARAMS", "hash_model", "hash_model_file", "hash_sklearn", "hash_torch_state"]

EXECUTION_ONLY_PARAMS = frozenset({"n_jobs", "verbose", "copy_X", "pre_dispatch", "memory", "random_state", "warm_start"})
"""scikit-learn params left out: they change how (or how reproducibly) a model is fitted or run,
not the fitted model; ``random_state``'s effect is already in the fitted arrays."""


def hash_model(obj: Any) -> dict[str, Any]:
    """Hash a torch module or state_dict, a fitted scikit-learn estimator, or a file/folder path.

    Returns ``{"method", "sha256", ...}`` with method-specific counts (tensors, parameters, bytes).
    """
    if isinstance(obj, (str, os.PathLike)):
        return hash_model_file(obj)
    module = type(obj).__module__.split(".")[0]
    if module == "torch" or _is_torch_state(obj) or hasattr(obj, "state_dict") and _torch_loaded():
        state = obj.state_dict() if hasattr(obj, "state_dict") and callable(obj.state_dict) else obj
        return hash_torch_state(state)
    if hasattr(obj, "get_params") and hasattr(obj, "fit"):
        return hash_sklearn(obj)
    raise UsageError(f"cannot hash a model of type {type(obj).__module__}.{type(obj).__qualname__}: pass a torch module or state_dict, a scikit-learn estimator, or the saved file's path")


def hash_torch_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """Hash a torch ``state_dict`` (format ``torch-state-dict-v1``, see the module docstring)."""
    import torch

    h = hashlib.sha256()
    tensors = params = nbytes = 0
    for key, value in state.items():
        if isinstance(value, torch.Tensor):
            t = value.detach().to("cpu").contiguous().reshape(-1)
            raw = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
            header = {"key": str(key), "dtype": str(value.dtype).removeprefix("torch."), "shape": list(value.shape), "nbytes": len(raw)}
            _frame(h, b"T", canonical_bytes(header))
            _frame(h, b"B", raw)
            tensors += 1
            params += value.numel()
            nbytes += len(raw)
        else:  # extra state (ints, strings, nested dicts) rides along through the generic encoder
            _frame(h, b"K", str(key).encode())
            _encode(h, value)
    return {"method": "torch-state-dict-v1", "sha256": to_0x(h.digest()), "tensors": tensors, "parameters": params, "size": nbytes}


def hash_sklearn(estimator: Any) -> dict[str, Any]:
    """Hash a fitted scikit-learn estimator's learned state (format ``sklearn-fitted-v1``)."""
    fitted = _fitted_attributes(estimator)
    if not fitted and not getattr(estimator, "__sklearn_is_fitted__", lambda: False)():  # a fitted Pipeline has no attribute_ of its own
        raise UsageError(f"{type(estimator).__name__} has no fitted attributes: fit it before logging it")
    h = hashlib.sha256()
    _encode(h, estimator)
    return {"method": "sklearn-fitted-v1", "sha256": to_0x(h.digest()), "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}", "fitted_attributes": sorted(fitted)}


def _fitted_attributes(est: Any) -> dict[str, Any]:
    return {k: v for k, v in sorted(vars(est).items()) if k.endswith("_") and not k.startswith("_")}


def _frame(h: Any, tag: bytes, payload: bytes) -> None:
    h.update(tag + len(payload).to_bytes(8, "big") + payload)


def _encode(h: Any, value: Any) -> None:
    """Feed an unambiguous, pickle-independent encoding of ``value`` to ``h``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        try:
            _frame(h, b"J", canonical_bytes(value))
        except ValueError:  # NaN / inf
            _frame(h, b"F", repr(value).encode())
        return
    if isinstance(value, bytes):
        _frame(h, b"b", value)
        return
    if type(value).__module__ == "numpy" or hasattr(value, "__array_interface__"):
        _encode_array(h, value)
        return
    if isinstance(value, Mapping):
        _frame(h, b"D", str(len(value)).encode())
        for k in sorted(value, key=str):
            _frame(h, b"K", str(k).encode())
            _encode(h, value[k])
        return
    if isinstance(value, (list, tuple)):
        _frame(h, b"L", str(len(value)).encode())
        for item in value:
            _encode(h, item)
        return
    if hasattr(value, "get_params") and hasattr(value, "fit"):  # an estimator, possibly nested
        params = {k: v for k, v in value.get_params(deep=False).items() if k not in EXECUTION_ONLY_PARAMS}
        _frame(h, b"E", f"{type(value).__module__}.{type(value).__qualname__}".encode())
        _encode(h, params)
        _encode(h, _fitted_attributes(value))
        return
    state = getattr(value, "__getstate__", None)
    if state is not None:
        try:
            got = state()
        except TypeError:
            got = None
        if isinstance(got, Mapping):  # e.g. sklearn's Cython Tree: nodes and values arrays
            _frame(h, b"O", f"{type(value).__module__}.{type(value).__qualname__}".encode())
            _encode(h, got)
            return
    if callable(value):  # a function given as a param (a custom kernel): its qualified name
        _frame(h, b"C", f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}".encode())
        return
    raise UsageError(f"cannot hash a fitted attribute of type {type(value).__module__}.{type(value).__qualname__}")


def _encode_array(h: Any, value: Any) -> None:
    import numpy as np

    arr = np.asarray(value)
    if arr.dtype.hasobject:
        _frame(h, b"A", canonical_bytes({"dtype": "object", "shape": list(arr.shape)}))
        for item in arr.reshape(-1):
            _encode(h, item)
        return
    if arr.dtype.names:  # structured (sklearn's Tree nodes): field by field, so the padding
        # bytes between fields, which hold uninitialised memory, never reach the hash
        _frame(h, b"S", canonical_bytes({"fields": list(arr.dtype.names), "shape": list(arr.shape)}))
        for name in arr.dtype.names:
            _encode_array(h, arr[name])
        return
    arr = np.ascontiguousarray(arr)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    _frame(h, b"A", canonical_bytes({"dtype": arr.dtype.str, "shape": list(arr.shape)}))
    _frame(h, b"B", arr.tobytes())


TORCH_SUFFIXES = frozenset({".pt", ".pth"})
PICKLE_SUFFIXES = frozenset({".joblib", ".pkl", ".pickle"})


def hash_model_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Hash a saved model by its learned parameters when the format allows, else by its bytes.

    ``.pt``/``.pth`` holding a state_dict are loaded with ``torch.load(weights_only=True)`` (no
    code runs); ``.joblib``/``.pkl`` holding a scikit-learn estimator are unpickled, which runs
    code from the file: only call this on files your own command just wrote. The file's own
    sha256 is always kept as ``file_sha256``.
    """
    p = Path(path)
    file_info = _hash_path(p)
    info: dict[str, Any] | None = None
    suffix = p.suffix.lower()
    if p.is_file() and suffix in TORCH_SUFFIXES:
        info = _try_torch_file(p)
    elif p.is_file() and suffix in PICKLE_SUFFIXES:
        info = _try_pickle_file(p)
    if info is None:
        return file_info
    return {**info, "file_sha256": file_info["sha256"], "size": file_info["size"], "path": p.name}


def _try_torch_file(p: Path) -> dict[str, Any] | None:
    try:
        import torch
    except ImportError:
        return None
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception:  # not a weights-only torch file: fall back to the file's bytes
        return None
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    return hash_torch_state(obj) if _is_torch_state(obj) else None


def _try_pickle_file(p: Path) -> dict[str, Any] | None:
    try:
        try:
            import joblib
        except ImportError:
            import pickle

            with p.open("rb") as fh:
                obj = pickle.load(fh)
        else:
            obj = joblib.load(p)
    except Exception:  # not an estimator pickle we can read: fall back to the file's bytes
        return None
    if hasattr(obj, "get_params") and hasattr(obj, "fit") and _fitted_attributes(obj):
        return hash_sklearn(obj)
    return None


def _hash_path(p: Path) -> dict[str, Any]:
    from .._internal.hashing import subject_for_path

    subject, _ = subject_for_path(p)
    return {"method": "file-sha256", "sha256": subject.sha256, "size": subject.size, "path": p.name}


def _torch_loaded() -> bool:
    import sys

    return "torch" in sys.modules


def _is_torch_state(obj: Any) -> bool:
    if not isinstance(obj, Mapping) or not _torch_loaded():
        return False
    import torch

    return any(isinstance(v, torch.Tensor) for v in obj.values())
