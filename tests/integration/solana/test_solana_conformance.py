"""The shared backend conformance suite, run against the solana backend: JSON-RPC over loopback
into the Solana runtime (LiteSVM) executing the real SPL Memo program."""

from __future__ import annotations

from pathlib import Path

import pytest

from bctrace.testing import ChainBackendTests, random_root

pytestmark = pytest.mark.integration


class TestSolanaBackend(ChainBackendTests):
    @pytest.fixture
    def backend(self, solana_chain, tmp_path: Path):
        backend = solana_chain.backend(tmp_path)
        yield backend
        backend.close()


def test_receipt_names_memo_program_signer_and_signature(solana_chain, tmp_path: Path):
    backend = solana_chain.backend(tmp_path)
    root = random_root()
    receipt = backend.anchor(root)
    extra = receipt.model_extra or {}
    assert receipt.contract == "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"
    assert extra["signer"] == solana_chain.signer
    assert extra["genesis_hash"] == solana_chain.node.genesis_hash
    landed = solana_chain.node.landed[extra["signature"]]
    assert landed.memo == f"[74] bctrace:0x{root.hex()}"  # what the Memo program executed
    assert len(bytes.fromhex(receipt.tx[2:])) == 64


def test_find_claimed_reads_the_claimed_transaction(solana_chain, tmp_path: Path):
    backend = solana_chain.backend(tmp_path)
    root, other = random_root(), random_root()
    receipt = backend.anchor(root)
    other_receipt = backend.anchor(other)
    assert backend.find_claimed(root, receipt) == receipt
    from bctrace.errors import AnchorMissing

    with pytest.raises(AnchorMissing, match=f"does not anchor root 0x{root.hex()}: its memo is 'bctrace:0x{other.hex()}'"):
        backend.find_claimed(root, other_receipt)


def test_fee_estimate_is_the_nodes_fee_for_the_memo_message(solana_chain, tmp_path: Path):
    estimate = solana_chain.backend(tmp_path).estimate_anchor_cost()
    assert estimate == {"lamports": 5000, "total": "0.000005 SOL"}


def test_key_is_never_in_repr_or_errors(solana_chain, tmp_path: Path, monkeypatch):
    import os

    backend = solana_chain.backend(tmp_path)
    secret = os.environ[solana_chain.env]
    assert secret not in repr(backend) and secret not in repr(backend.config) and secret not in str(backend.describe())
    monkeypatch.setenv(solana_chain.env, secret[:-4] + "abcd")
    from bctrace.errors import ChainMisconfigured

    with pytest.raises(ChainMisconfigured) as err:
        backend.anchor(random_root())
    assert secret[:20] not in str(err.value)
