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
from pathlib import Path

REPORT_ENV = "BCTRACE_ML_CHILD_REPORT"
MODELS_ENV = "BCTRACE_ML_MODELS"


def _write_report(target: str) -> None:
    from .capture import capture_runtime
    from .randomness import capture_randomness

    report = {"randomness": capture_randomness(), "runtime": capture_runtime(), "models": _hash_models()}
    tmp = f"{target}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(report, fh, default=str)
    os.replace(tmp, target)


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
            sys.argv = [argv[1], *argv[2:]]
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(argv)
            sys.path[0] = str(Path(argv[0]).resolve().parent)  # as `python SCRIPT` sets it
            runpy.run_path(argv[0], run_name="__main__")
    finally:  # after the script, before interpreter shutdown (threads and imports still work)
        if target:
            try:
                _write_report(target)
            except Exception as err:  # never mask the script's own outcome
                print(f"bctrace: could not report from the training process: {type(err).__name__}: {err}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
