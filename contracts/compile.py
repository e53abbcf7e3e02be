"""Compile TraceRegistry.sol reproducibly and write the artifact the ``evm`` backend ships.

Why this shape: users must not need a compiler, so the compiled artifact is committed inside the
package (``bctrace_backends/evm/artifacts/TraceRegistry.json``); anyone can check it by running
this script and comparing (a test does exactly that). py-solc-x drives solc-js from npm
(``node_modules/solc``) through a tiny shim, because py-solc-x cannot download native solc here.
Settings that make the output byte-identical run to run: optimizer on (200 runs), evmVersion
``paris`` (no PUSH0, so older permissioned chains run it), ``metadata.bytecodeHash: none`` (no
IPFS hash of the metadata appended to the code).

Usage: ``python contracts/compile.py [--check]`` (``--check`` compares instead of writing).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCE = HERE / "TraceRegistry.sol"
ARTIFACT = REPO / "bctrace_backends" / "evm" / "artifacts" / "TraceRegistry.json"
SOLCJS = REPO / "node_modules" / "solc" / "solc.js"
CONTRACT = "TraceRegistry"

SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "paris",
    "metadata": {"bytecodeHash": "none"},
    "outputSelection": {
        "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences"]}
    },
}

# solc-js prints notes such as ">>> Cannot retry compilation with SMT ..." on stdout, which
# would break the JSON that py-solc-x parses; the shim drops exactly those lines.
_SHIM = """#!/bin/sh
exec node {solcjs} "$@" | grep -v '^>>>'
"""


class CompileError(RuntimeError):
    """The compiler is missing or reported an error."""


def _shim(folder: Path) -> Path:
    if shutil.which("node") is None:
        raise CompileError("node is not on PATH (needed to run solc-js)")
    if not SOLCJS.is_file():
        raise CompileError(f"{SOLCJS} is missing: run `npm install` in {REPO}")
    path = folder / "solc"
    path.write_text(_SHIM.format(solcjs=SOLCJS))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def compile_registry() -> dict[str, Any]:
    """Compile the source and return the artifact as a JSON-ready dict."""
    import solcx

    source = SOURCE.read_bytes()
    with tempfile.TemporaryDirectory(prefix="bctrace-solc-") as tmp:
        solc = _shim(Path(tmp))
        version = str(solcx.wrapper.get_solc_version(solc, with_commit_hash=True))
        try:
            out = solcx.compile_standard(
                {"language": "Solidity", "sources": {SOURCE.name: {"content": source.decode()}}, "settings": SETTINGS},
                solc_binary=solc,
            )
        except solcx.exceptions.SolcError as err:
            raise CompileError(f"solc failed: {err}") from err
    errors = [e for e in out.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompileError("; ".join(e.get("formattedMessage", e.get("message", "?")) for e in errors))
    contract = out["contracts"][SOURCE.name][CONTRACT]
    settings = {k: v for k, v in SETTINGS.items() if k != "outputSelection"}
    return {
        "contractName": CONTRACT,
        "sourceName": SOURCE.name,
        "sourceSha256": "0x" + hashlib.sha256(source).hexdigest(),
        "compiler": {"name": "solc-js", "version": version, "settings": settings},
        "abi": contract["abi"],
        "bytecode": "0x" + contract["evm"]["bytecode"]["object"],
        "deployedBytecode": "0x" + contract["evm"]["deployedBytecode"]["object"],
        "immutableReferences": contract["evm"]["deployedBytecode"].get("immutableReferences", {}),
    }


def render(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed artifact instead of writing it")
    args = parser.parse_args(argv)
    text = render(compile_registry())
    if args.check:
        same = ARTIFACT.is_file() and ARTIFACT.read_text() == text
        print(f"{ARTIFACT}: {'identical' if same else 'DIFFERS from a fresh compile'}")
        return 0 if same else 1
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    tmp = ARTIFACT.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, ARTIFACT)
    print(f"wrote {ARTIFACT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
