"""Run a Python script the way ``python SCRIPT ARGS`` would, and report from inside it.

``bctrace ml run -- python train.py ARGS`` starts ``python -m bctrace.ml.child train.py ARGS``
instead (only when that ``python`` is bctrace's own interpreter), so that what can only be seen
from inside the training process is recorded without any change to the script: the seeds it set
through :func:`bctrace.ml.seed_everything`, the determinism switches in force when it finished,
the BLAS/OpenMP thread pools it loaded, and torch/CUDA facts if it imported torch. The report is
written as JSON to ``$BCTRACE_ML_CHILD_REPORT`` when the script returns, raises or calls
``sys.exit`` (not after ``os._exit``).
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

REPORT_ENV = "BCTRACE_ML_CHILD_REPORT"
MODELS_ENV = "BCTRACE_ML_MODELS"


def _write_report(target: str) -> None:
    from .capture import capture_runtime
    from .randomness import capture_randomness

    report = {"randomness": capture_randomness(), "runtime": capture_runtime(), "models": _hash_models(), "observed": _observed()}
    tmp = f"{target}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(report, fh, default=str)
    os.replace(tmp, target)


def _observed() -> dict[str, object]:
    """Splits, searches and predictions the integrations measured (only if the script used one)."""
    observed = sys.modules.get("bctrace.ml.observed")
    return observed.snapshot() if observed is not None else {}


def _hash_models() -> dict[str, dict[str, object]]:
    """Hash the declared model files here, where torch / scikit-learn are already imported: the
    parent would otherwise pay for importing them again. The parent accepts a result only if the
    file's sha256 still matches."""
    from .model_hash import hash_model_file

    out: dict[str, dict[str, object]] = {}
    for path in json.loads(os.environ.get(MODELS_ENV) or "[]"):
        if os.path.exists(path):
            try:
                out[path] = hash_model_file(path)
            except Exception:  # the parent hashes it again and reports the error
                continue
    return out


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: python -m bctrace.ml.child (SCRIPT | -m MODULE) [ARGS...]")
    target = os.environ.get(REPORT_ENV)
    try:
        if argv[0] == "-m" and len(argv) > 1:
            _check_module(argv[1])
            sys.argv = [argv[1], *argv[2:]]
            _run(lambda: runpy.run_module(argv[1], run_name="__main__", alter_sys=True))
        else:
            if not os.path.exists(argv[0]):  # as python says it, without this launcher's frames
                print(f"{sys.executable}: can't open file {os.path.abspath(argv[0])!r}: [Errno 2] No such file or directory", file=sys.stderr)
                raise SystemExit(2)
            sys.argv = list(argv)
            sys.path[0] = str(Path(argv[0]).resolve().parent)  # as `python SCRIPT` sets it
            _run(lambda: runpy.run_path(argv[0], run_name="__main__"))
    finally:  # after the script, before interpreter shutdown (threads and imports still work)
        if target:
            try:
                _write_report(target)
            except Exception as err:  # never mask the script's own outcome
                print(f"bctrace: could not report from the training process: {type(err).__name__}: {err}", file=sys.stderr)


def _check_module(name: str) -> None:
    """``python -m MISSING`` prints one line and exits 1; so does this launcher."""
    import importlib.util

    try:
        found = importlib.util.find_spec(name) is not None
    except ImportError:  # a missing parent package
        found = False
    if not found:
        print(f"{sys.executable}: No module named {name}", file=sys.stderr)
        raise SystemExit(1)


def _run(target: Callable[[], object]) -> None:
    """Run the script; an uncaught exception is printed as Python prints it for ``python
    SCRIPT`` (the script's frames only, not runpy's and this launcher's) and exits 1."""
    try:
        target()
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as err:  # noqa: BLE001 - reported exactly like the interpreter would
        tb = err.__traceback__
        while tb is not None and (tb.tb_frame.f_code.co_filename == __file__ or "runpy" in tb.tb_frame.f_code.co_filename):
            tb = tb.tb_next
        traceback.print_exception(type(err), err, tb)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main(sys.argv[1:])
