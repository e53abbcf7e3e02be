"""The committed artifact: ABI-derived selectors/topics and the registry code check."""

from __future__ import annotations

import subprocess
import sys

from web3 import Web3

from bctrace_backends.evm import artifact


def test_event_topic_and_error_selectors_match_web3():
    assert artifact.event_topic("Anchored") == bytes(Web3.keccak(text="Anchored(bytes32,address)"))
    errors = {e["name"]: sel for sel, e in artifact.custom_errors().items()}
    assert errors["AlreadyAnchored"] == bytes(Web3.keccak(text="AlreadyAnchored(bytes32)"))[:4]
    assert errors["NotAllowed"] == bytes(Web3.keccak(text="NotAllowed(address)"))[:4]


def test_registry_code_check_ignores_only_the_immutable_flag():
    code = bytearray.fromhex(artifact.load()["deployedBytecode"][2:])
    assert artifact.is_registry_code(bytes(code))
    refs = [r for rs in artifact.load()["immutableReferences"].values() for r in rs]
    assert refs, "the restricted flag is an immutable"
    flagged = bytearray(code)
    for r in refs:
        flagged[r["start"] + r["length"] - 1] = 1  # restricted = true
    assert artifact.is_registry_code(bytes(flagged))
    other = bytearray(code)
    other[10] ^= 0xFF
    assert not artifact.is_registry_code(bytes(other))
    assert not artifact.is_registry_code(bytes(code[:-1]))
    assert not artifact.is_registry_code(b"")


def test_abi_has_the_documented_surface():
    names = {e.get("name") for e in artifact.abi()}
    assert {"anchor", "anchors", "verifyRecord", "allow", "revoke", "restricted", "owner", "Anchored"} <= names


def test_import_bctrace_and_loading_an_evm_config_do_not_import_web3(tmp_path):
    (tmp_path / "bctrace.toml").write_text('[chains.x]\nbackend = "evm"\nrpc_url = "http://127.0.0.1:1"\nchain_id = 1\n')
    code = (
        "import sys, bctrace\n"
        "from bctrace import Tracer\n"
        f"t = Tracer.from_config({str(tmp_path / 'bctrace.toml')!r})\n"
        "b = t.backend('x')\n"
        "heavy = [m for m in ('web3', 'eth_account', 'requests', 'solcx') if m in sys.modules]\n"
        "print(heavy)\n"
        "sys.exit(1 if heavy else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
