"""Compile the test stand-ins (GasPriceOracle, NodeInterface) with the registry's solc-js pipeline.

Why committed artifacts: the integration tests place the runtime code on anvil with
``anvil_setCode`` and must not need node/solc-js to run; ``--check`` (run by a test when solc-js
is installed) proves the artifacts match the sources. The compiler settings are those of
``contracts/compile.py`` (optimizer, ``paris``, no metadata hash), so output is byte-identical.

Usage: ``python contracts/test/compile_standins.py [--check]``
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
SOURCES = ("GasPriceOracleStandIn", "NodeInterfaceStandIn")


def _registry_compiler() -> Any:
    spec = importlib.util.spec_from_file_location("bctrace_contracts_compile", HERE.parent / "compile.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compile_standins() -> dict[str, str]:
    """name -> rendered JSON artifact (abi, deployedBytecode, source hash)."""
    import solcx

    base = _registry_compiler()
    sources = {f"{n}.sol": {"content": (HERE / f"{n}.sol").read_text()} for n in SOURCES}
    with tempfile.TemporaryDirectory(prefix="bctrace-solc-") as tmp:
        out = solcx.compile_standard(
            {"language": "Solidity", "sources": sources, "settings": base.SETTINGS}, solc_binary=base._shim(Path(tmp))
        )
    errors = [e for e in out.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise base.CompileError("; ".join(e.get("formattedMessage", "?") for e in errors))
    rendered = {}
    for name in SOURCES:
        contract = out["contracts"][f"{name}.sol"][name]
        rendered[name] = base.render({
            "contractName": name,
            "sourceSha256": "0x" + hashlib.sha256((HERE / f"{name}.sol").read_bytes()).hexdigest(),
            "abi": contract["abi"],
            "deployedBytecode": "0x" + contract["evm"]["deployedBytecode"]["object"],
        })
    return rendered


def load(name: str) -> dict[str, Any]:
    """A committed stand-in artifact (for the test fixtures)."""
    return json.loads((ARTIFACTS / f"{name}.json").read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed artifacts instead of writing them")
    args = parser.parse_args(argv)
    differing = []
    for name, text in compile_standins().items():
        path = ARTIFACTS / f"{name}.json"
        if args.check:
            if not path.is_file() or path.read_text() != text:
                differing.append(name)
        else:
            ARTIFACTS.mkdir(exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    if differing:
        print(f"DIFFERS from a fresh compile: {', '.join(differing)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
