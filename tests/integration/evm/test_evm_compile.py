"""The committed artifact is exactly what contracts/compile.py produces from the source."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.integration


def _compile_module():
    spec = importlib.util.spec_from_file_location("bctrace_contracts_compile", REPO / "contracts" / "compile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recompiling_gives_the_committed_artifact_byte_for_byte():
    compile_ = _compile_module()
    if shutil.which("node") is None or not compile_.SOLCJS.is_file():
        pytest.fail("node and solc-js are needed: run `npm install` in the repository (scripts/test does)")
    fresh = compile_.compile_registry()
    committed_text = compile_.ARTIFACT.read_text()
    assert compile_.render(fresh) == committed_text
    committed = json.loads(committed_text)
    assert committed["sourceSha256"] == "0x" + hashlib.sha256((REPO / "contracts" / "TraceRegistry.sol").read_bytes()).hexdigest()
    assert committed["compiler"]["settings"] == {
        "evmVersion": "paris", "metadata": {"bytecodeHash": "none"}, "optimizer": {"enabled": True, "runs": 200},
    }
    assert committed["compiler"]["version"].startswith("0.8.37+commit.")
