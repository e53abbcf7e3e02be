"""Start-up hook of ``bctrace ml audit``: copied as ``sitecustomize.py`` into a temporary folder
put first on the child's ``PYTHONPATH``, so that every Python process the audited command starts
(the script, a wrapper's children, spawned data-loader workers) loads it before any user code.

Standard library only: the audited interpreter need not have bctrace installed. It reads its
orders from ``$BCTRACE_AUDIT`` (JSON: ``seed``, ``pins``, ``vary``, ``report_dir``, ``ignore``),
then:

- pins the sources named in ``pins`` (seed the global generators when their library is imported,
  deterministic torch switches, seeded data-loader workers, sorted directory listings);
- varies what the platform leaves unspecified when it is not pinned (``vary``: the directory
  listing order is reversed in odd-numbered runs);
- observes which sources the program actually used, and writes that to
  ``<report_dir>/<pid>.json`` when the process exits.

Libraries imported later are reached through a post-import hook on ``sys.meta_path``. An existing
``sitecustomize`` shadowed by this one is run afterwards.
"""

from __future__ import annotations

import atexit
import functools
import importlib.abc
import importlib.machinery
import json
import os
import random
import sys
from typing import Any

_CONFIG = json.loads(os.environ.get("BCTRACE_AUDIT") or "{}")
_SEED = int(_CONFIG.get("seed", 0))
_PINS = frozenset(_CONFIG.get("pins") or ())
_VARY = _CONFIG.get("vary") or {}
_TRIAL = bool(_PINS)  # any pin: sources not pinned are isolated from the pinned ones
_INSTALL = tuple({os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
_IGNORE = tuple(os.path.realpath(p) + os.sep for p in _CONFIG.get("ignore") or ())
_HERE = os.path.realpath(__file__)
_PID = os.getpid()

_used: dict = {"pid": _PID, "pins_applied": [], "listings": [], "sklearn_none_random_state": [], "default_rng_unseeded": 0,
               "dataloader_workers": 0, "numpy_seeded_by_user": False, "errors": []}
_random_state0 = random.getstate()
_snapshots: dict = {}


def _note_error(where: str, err: BaseException) -> None:
    _used["errors"].append(f"{where}: {type(err).__name__}: {err}")


# -- post-import hooks ---------------------------------------------------------------------------


class _After(importlib.abc.Loader):
    """Runs the wrapped loader, then the callbacks registered for the module; then steps aside
    (the module's loader is the original one again)."""

    def __init__(self, loader, callbacks):
        self._loader, self._callbacks = loader, callbacks

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        for callback in self._callbacks:
            try:
                callback(module)
            except Exception as err:  # never break the audited program
                _note_error(module.__name__, err)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self):
        self.callbacks: dict = {}

    def find_spec(self, name, path, target=None):
        callbacks = self.callbacks.pop(name, None)
        if not callbacks:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _After(spec.loader, callbacks)
                return spec
        return None


_finder = _Finder()
sys.meta_path.insert(0, _finder)


def _after_import(name: str) -> Any:
    def register(fn):
        if name in sys.modules:
            fn(sys.modules[name])
        else:
            _finder.callbacks.setdefault(name, []).append(fn)
        return fn

    return register


# -- Python random -------------------------------------------------------------------------------

if "python-random" in _PINS:
    random.seed(_SEED)
    _random_state0 = random.getstate()
    _used["pins_applied"].append("python-random")
_real_random_seed = random.seed


def _random_seed(a=None, version=2):
    """The script seeding Python's generator itself: then it is not an unseeded source."""
    if a is not None:
        _used["random_seeded_by_user"] = True
    return _real_random_seed(a, version)


random.seed = _random_seed


# -- NumPy ---------------------------------------------------------------------------------------


@_after_import("numpy.random")
def _numpy(npr: Any) -> None:
    _snapshots["numpy"] = _numpy_state(npr)
    real_seed, real_default_rng = npr.seed, npr.default_rng

    def seed(seed=None):
        if seed is not None:
            _used["numpy_seeded_by_user"] = True
        return real_seed(seed)

    calls = [0]

    def default_rng(seed=None):
        if seed is None:
            _used["default_rng_unseeded"] += 1
            if "numpy" in _PINS:
                calls[0] += 1
                seed = [_SEED, calls[0]]
        return real_default_rng(seed)

    npr.seed, npr.default_rng = seed, default_rng
    if "numpy" in _PINS:
        real_seed(_SEED)
        _snapshots["numpy"] = _numpy_state(npr)
        _used["pins_applied"].append("numpy")


def _numpy_state(npr):
    state = npr.get_state()
    return (state[1].tobytes(), state[2])


# -- scikit-learn's own random_state -------------------------------------------------------------


@_after_import("sklearn.utils.validation")
def _sklearn(validation: Any) -> None:
    real = validation.check_random_state
    private: list = []

    def check_random_state(seed):
        if seed is None:
            caller = sys._getframe(1).f_locals.get("self")
            name = type(caller).__name__ if caller is not None else sys._getframe(1).f_code.co_name
            if name not in _used["sklearn_none_random_state"]:
                _used["sklearn_none_random_state"].append(name)
            if _TRIAL and not _used["numpy_seeded_by_user"]:
                # Isolated from the NumPy pin: only the scikit-learn pin seeds what estimators
                # with random_state=None draw; without it they draw from entropy, as unpinned.
                if not private:
                    import numpy as np

                    private.append(np.random.RandomState(_SEED if "sklearn-random-state" in _PINS else None))
                return private[0]
        return real(seed)

    validation.check_random_state = check_random_state
    if "sklearn-random-state" in _PINS:
        _used["pins_applied"].append("sklearn-random-state")


# -- torch ---------------------------------------------------------------------------------------


@_after_import("torch")
def _torch(torch: Any) -> None:
    if "torch" in _PINS:
        torch.manual_seed(_SEED)
        _used["pins_applied"].append("torch")
    real_manual_seed = torch.manual_seed

    @functools.wraps(real_manual_seed)
    def manual_seed(seed):
        _used["torch_seeded_by_user"] = True
        return real_manual_seed(seed)

    torch.manual_seed = manual_seed
    if "threads" in _PINS:
        torch.set_num_threads(1)
    elif _VARY.get("threads"):
        torch.set_num_threads(int(_VARY["threads"]))
    if "torch-deterministic" in _PINS:
        torch.use_deterministic_algorithms(True, warn_only=True)
        _used["pins_applied"].append("torch-deterministic")
    if "cudnn-benchmark" in _PINS:
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        _used["pins_applied"].append("cudnn-benchmark")
    _snapshots["torch"] = bytes(torch.get_rng_state().numpy().tobytes())


@_after_import("torch.utils.data.dataloader")
def _dataloader(dataloader: Any) -> None:
    cls = dataloader.DataLoader
    real_init = cls.__init__

    @functools.wraps(real_init)
    def __init__(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        if getattr(self, "num_workers", 0) > 0:
            _used["dataloader_workers"] += 1
            if "dataloader-workers" in _PINS:
                import torch

                if self.generator is None:
                    self.generator = torch.Generator().manual_seed(_SEED)
                self.worker_init_fn = functools.partial(_seeded_worker, self.worker_init_fn)

    cls.__init__ = __init__
    if "dataloader-workers" in _PINS:
        _used["pins_applied"].append("dataloader-workers")


def _seeded_worker(user_init: Any, worker_id: int) -> None:
    """After the script's own ``worker_init_fn``: seed ``random``, NumPy and torch in the worker
    from the worker's torch seed (the DataLoader derives it from its seeded generator)."""
    if user_init is not None:
        user_init(worker_id)
    import torch

    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    torch.manual_seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed)


# -- directory listings --------------------------------------------------------------------------

_real_listdir, _real_scandir = os.listdir, os.scandir
_LIBRARY_CALLERS = ("importlib", "pkgutil", os.sep + "site.py", "<frozen")


def _reorder(path, items, key):
    """Sorted when pinned, reversed in a varied run; recorded when the caller is the user's code
    (not the interpreter's import machinery) and the folder is outside the Python installation."""
    if len(items) < 2 or isinstance(path, int):
        return items
    site = _call_site()
    if site is None:
        return items
    try:
        where = os.path.realpath(os.fsdecode(path)) + os.sep
    except (TypeError, ValueError):
        return items
    if where.startswith(_INSTALL):
        return items
    if site not in _used["listings"] and len(_used["listings"]) < 20:
        _used["listings"].append(site)
    if "file-listing" in _PINS:
        return sorted(items, key=key)
    if _VARY.get("listing") == "reverse":
        return items[::-1]
    return items


def _call_site():
    """``file:line: source`` of the first caller outside the Python installation and bctrace, or
    None when the listing comes from the import machinery."""
    frame: Any = sys._getframe(3)
    while frame is not None:
        filename = frame.f_code.co_filename
        if any(mark in filename for mark in _LIBRARY_CALLERS):
            return None
        real = os.path.realpath(filename) if not filename.startswith("<") else filename
        if real == _HERE or real.startswith(_IGNORE):
            return None
        if not real.startswith(_INSTALL):
            import linecache

            return f"{os.path.basename(filename)}:{frame.f_lineno}: {linecache.getline(filename, frame.f_lineno).strip()}"
        frame = frame.f_back
    return None


def listdir(path="."):
    return _reorder(path, _real_listdir(path), key=lambda name: name)


class _Entries:
    """What ``os.scandir`` returns: an iterator and a context manager."""

    def __init__(self, entries):
        self._it = iter(entries)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._it = iter(())


def scandir(path="."):
    with _real_scandir(path) as it:
        entries = list(it)
    return _Entries(_reorder(path, entries, key=lambda entry: entry.name))


functools.update_wrapper(listdir, _real_listdir)
functools.update_wrapper(scandir, _real_scandir)
os.listdir, os.scandir = listdir, scandir
if "file-listing" in _PINS:
    _used["pins_applied"].append("file-listing")


# -- report at exit ------------------------------------------------------------------------------


def _native_pools() -> list:
    """BLAS / OpenMP runtimes mapped into this process (their thread count varies results)."""
    marks = ("libgomp", "libiomp", "libomp", "openblas", "libmkl", "libblis", "accelerate")
    found = set()
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                name = os.path.basename(line.rstrip().split(" ")[-1]).lower()
                for mark in marks:
                    if mark in name:
                        found.add(mark.removeprefix("lib"))
    except OSError:
        pass
    return sorted(found)


def _threads_above_one(torch: Any) -> bool:
    """Whether any thread pool runs more than one thread now (False: the script pinned them,
    or the machine has one core). Without threadpoolctl, assume it does when a pool is loaded."""
    if torch is not None and torch.get_num_threads() > 1:
        return True
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return bool(_native_pools())
    return any(pool.get("num_threads", 1) > 1 for pool in threadpool_info())


def _report() -> None:
    target = _CONFIG.get("report_dir")
    if not target or os.getpid() != _PID:
        return
    used = dict(_used)
    used["random_used"] = random.getstate() != _random_state0 and not _used.get("random_seeded_by_user")
    npr = sys.modules.get("numpy.random")
    used["numpy_loaded"] = npr is not None
    used["numpy_used"] = bool(npr is not None and ((_numpy_state(npr) != _snapshots.get("numpy") and not _used["numpy_seeded_by_user"]) or used["default_rng_unseeded"]))
    torch = sys.modules.get("torch")
    used["torch_loaded"] = torch is not None
    if torch is not None:
        try:
            used["torch_used"] = bytes(torch.get_rng_state().numpy().tobytes()) != _snapshots.get("torch") and not _used.get("torch_seeded_by_user")
            used["torch_deterministic"] = bool(torch.are_deterministic_algorithms_enabled()) and "torch-deterministic" not in _PINS
            used["cuda"] = bool(torch.cuda.is_available())
            used["torch_threads"] = torch.get_num_threads()
        except Exception as err:
            _note_error("torch report", err)
    used["native_pools"] = _native_pools()
    used["threads_above_one"] = _threads_above_one(torch)
    used["hash_randomization"] = bool(sys.flags.hash_randomization)
    try:
        with open(os.path.join(target, f"{os.getpid()}.json"), "w", encoding="utf-8") as fh:
            json.dump(used, fh)
    except OSError:
        pass


atexit.register(_report)


# -- the sitecustomize this one shadows ----------------------------------------------------------


def _chain() -> None:
    here = os.path.dirname(_HERE)
    rest = [p for p in sys.path if os.path.realpath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None and os.path.realpath(spec.origin or "") != _HERE:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


try:
    import importlib.util

    _chain()
except Exception as err:  # noqa: BLE001 - as Python does for a failing sitecustomize: go on
    _note_error("shadowed sitecustomize", err)
