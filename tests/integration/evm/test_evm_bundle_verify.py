"""A bundle verifies with only web3.py + the committed ABI (contracts/verify_with_web3.py, run in a
fresh interpreter that must never import bctrace), and through the registry's verifyRecord view."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bctrace import Tracer
from bctrace._internal.hexutil import from_0x

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[3] / "contracts" / "verify_with_web3.py"
ARTIFACT = Path(__file__).resolve().parents[3] / "bctrace_backends" / "evm" / "artifacts" / "TraceRegistry.json"

# Runs the script, then fails if anything from bctrace got imported along the way.
_RUNNER = """
import runpy, sys
sys.argv = sys.argv[1:]
code = 0
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exc:
    code = exc.code
leaked = sorted(m for m in sys.modules if m == "bctrace" or m.startswith(("bctrace.", "bctrace_backends")))
if leaked:
    print("IMPORTED", leaked, file=sys.stderr)
    sys.exit(99)
sys.exit(code)
"""


@pytest.fixture
def anchored(evm_chain, write_config, tmp_path):
    config = write_config({"local": {"backend": "local"}, "anvil": evm_chain.table()})
    with Tracer.from_config(config) as tracer:
        recs = [tracer.record("step", {"i": i}, salt=True) for i in range(7)]
        tracer.flush()
        bundles = [tracer.bundle(r.digest) for r in recs]
    return evm_chain, bundles


def _run(bundle_path: Path, rpc: str) -> tuple[int, dict, str]:
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(SCRIPT), str(bundle_path), "--rpc", rpc, "--abi", str(ARTIFACT)],
        capture_output=True, text=True, timeout=60,
    )
    report = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    return proc.returncode, report, proc.stderr


def test_bundle_verifies_with_web3_only(anchored, tmp_path):
    chain, bundles = anchored
    path = bundles[3].write(tmp_path / "r3.bctrace.json")
    code, report, err = _run(path, chain.node.url)
    assert code == 0, err
    assert report["verified"] and report["digest"] and report["proof"]
    (anchor,) = report["anchors"]
    assert anchor["chain"] == "anvil" and anchor["on_chain_verifyRecord"] and anchor["tx_matches"]
    assert anchor["sender"].lower() == chain.signer.address.lower()


def test_web3_only_check_rejects_an_edited_record(anchored, tmp_path):
    chain, bundles = anchored
    data = json.loads(bundles[0].to_json())
    data["record"]["body"]["i"] = 999
    path = tmp_path / "edited.bctrace.json"
    path.write_text(json.dumps(data))
    code, report, err = _run(path, chain.node.url)
    assert code == 1, err
    assert report["digest"] is False and report["verified"] is False
    assert report["anchors"][0]["on_chain_verifyRecord"] is False


def test_on_chain_verify_record_view(anchored, tmp_path):
    chain, bundles = anchored
    backend = chain.backend(tmp_path)
    for bundle in bundles:
        proof = bundle.merkle.proof_bytes()
        assert len(proof) >= 2
        assert backend.verify_on_chain(bundle.digest_bytes(), proof, bundle.merkle.root_bytes()) is True
    b = bundles[0]
    root = b.merkle.root_bytes()
    assert backend.verify_on_chain(bytes(32), b.merkle.proof_bytes(), root) is False  # wrong digest
    assert backend.verify_on_chain(b.digest_bytes(), b.merkle.proof_bytes()[::-1], root) is False  # wrong proof
    assert backend.verify_on_chain(b.digest_bytes(), [], b.digest_bytes()) is False  # root not anchored
    (receipt,) = [a for a in b.anchors if a.chain == "anvil"]
    assert from_0x(receipt.contract or "", what="contract", length=20) == from_0x(chain.contract, what="contract", length=20)
    backend.close()
