"""The committed stand-in artifacts are exactly what contracts/test/compile_standins.py builds."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_recompiling_the_stand_ins_gives_the_committed_artifacts():
    if shutil.which("node") is None or not (REPO / "node_modules" / "solc" / "solc.js").is_file():
        pytest.fail(f"node and solc-js are needed: run `npm install` in the repository (scripts/test does)")
    spec = importlib.util.spec_from_file_location("bctrace_compile_standins", REPO / "contracts" / "test" / "compile_standins.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, text in module.compile_standins().items():
        assert (module.ARTIFACTS / f"{name}.json").read_text() == text, f"{name}: run python contracts/test/compile_standins.py"
