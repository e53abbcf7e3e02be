"""EvmConfig: presets, fee units, secret references, redaction (no node needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bctrace._internal.config import load_config
from bctrace.api import redact_url
from bctrace.errors import ConfigError
from bctrace_backends.evm.config import PRESETS, EvmConfig, parse_wei

KEY = "0x" + "ab" * 32


def test_preset_fills_chain_id_and_defaults():
    cfg = EvmConfig(rpc_url="https://rpc.example", preset="sepolia", key="env:K")
    assert cfg.chain_id == 11155111
    assert cfg.effective_confirmations == PRESETS["sepolia"].confirmations
    assert cfg.fee_cap == PRESETS["sepolia"].max_fee_gwei * 10**9
    assert cfg.tx_url("0x12") == "https://sepolia.etherscan.io/tx/0x12"


@pytest.mark.parametrize("preset,chain_id", [("mainnet", 1), ("holesky", 17000), ("hoodi", 560048), ("polygon", 137),
                                             ("gnosis", 100), ("bsc", 56), ("avalanche", 43114)])
def test_every_preset_has_its_public_chain_id(preset, chain_id):
    assert EvmConfig(rpc_url="https://x", preset=preset).chain_id == chain_id


def test_preset_and_contradicting_chain_id_is_refused():
    with pytest.raises(ValidationError, match="contradicts preset"):
        EvmConfig(rpc_url="https://x", preset="mainnet", chain_id=5)


def test_chain_id_is_required_without_preset():
    with pytest.raises(ValidationError, match="chain_id is required"):
        EvmConfig(rpc_url="https://x")


def test_custom_chain_defaults():
    cfg = EvmConfig(rpc_url="http://127.0.0.1:8545", chain_id=1337)
    assert cfg.effective_confirmations == 1 and cfg.fee_cap == 1000 * 10**9 and cfg.tx_url("0x1") is None
    assert not cfg.has_signer


@pytest.mark.parametrize("raw,wei", [(0, 0), ("0", 0), ("30 gwei", 30 * 10**9), ("1.5 gwei", 1_500_000_000),
                                     ("0.01 ether", 10**16), (12345, 12345), (" 2 GWEI ", 2 * 10**9)])
def test_fee_amounts(raw, wei):
    assert parse_wei(raw) == wei
    assert EvmConfig(rpc_url="https://x", chain_id=1, max_fee_per_gas=raw).max_fee_per_gas == wei


@pytest.mark.parametrize("raw", ["30 gwie", "0.5 wei", "lots", "-1"])
def test_bad_fee_amounts(raw):
    with pytest.raises(ValidationError):
        EvmConfig(rpc_url="https://x", chain_id=1, max_fee_per_gas=raw)


def test_free_gas_legacy_price_zero_is_allowed():
    assert EvmConfig(rpc_url="https://x", chain_id=1337, gas_price=0).gas_price == 0


def test_legacy_and_1559_fees_are_exclusive():
    with pytest.raises(ValidationError, match="cannot be combined"):
        EvmConfig(rpc_url="https://x", chain_id=1, gas_price=1, max_fee_per_gas="10 gwei")


def test_plaintext_key_is_refused_without_echoing_it():
    with pytest.raises(ValidationError) as info:
        EvmConfig(rpc_url="https://x", chain_id=1, key=KEY)
    assert "env:" in str(info.value)
    assert KEY not in str(info.value) and KEY[2:] not in str(info.value)
    assert KEY not in repr(info.value.errors())


def test_plaintext_key_in_config_file_gives_one_line_config_error(tmp_path: Path):
    path = tmp_path / "bctrace.toml"
    path.write_text(f'[chains.x]\nbackend = "evm"\nrpc_url = "https://x"\nchain_id = 1\nkey = "{KEY}"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "chain 'x'" in message and "field 'key'" in message and KEY[2:] not in message


def test_signer_fields():
    with pytest.raises(ValidationError, match="only one signer"):
        EvmConfig(rpc_url="https://x", chain_id=1, key="env:A", keystore="k.json")
    with pytest.raises(ValidationError, match="only one signer"):
        EvmConfig(rpc_url="https://x", chain_id=1, key="env:A", node_account="0x" + "11" * 20)
    with pytest.raises(ValidationError, match="20-byte address"):
        EvmConfig(rpc_url="https://x", chain_id=1, node_account="0x1234")
    assert EvmConfig(rpc_url="https://x", chain_id=1, node_account="0x" + "11" * 20).has_signer
    with pytest.raises(ValidationError, match="only used with keystore"):
        EvmConfig(rpc_url="https://x", chain_id=1, key="env:A", password="env:B")
    with pytest.raises(ValidationError):
        EvmConfig(rpc_url="https://x", chain_id=1, keystore="k.json", password="hunter2")


def test_keystore_path_is_relative_to_the_config_file(tmp_path: Path):
    path = tmp_path / "bctrace.toml"
    path.write_text('[chains.x]\nbackend = "evm"\nrpc_url = "https://x"\nchain_id = 1\nkeystore = "keys/a.json"\npassword = "env:PW"\n')
    cfg = load_config(path).chains["x"]
    assert cfg.keystore == tmp_path / "keys" / "a.json"


def test_unknown_key_and_bad_address_are_refused(tmp_path: Path):
    with pytest.raises(ValidationError):
        EvmConfig(rpc_url="https://x", chain_id=1, rpcurl="typo")
    with pytest.raises(ValidationError, match="20-byte address"):
        EvmConfig(rpc_url="https://x", chain_id=1, contract="0x1234")


@pytest.mark.parametrize("url,shown", [
    ("https://mainnet.infura.io/v3/SECRETKEY", "https://mainnet.infura.io/…"),
    ("https://user:pw@rpc.example:8545", "https://rpc.example:8545/…"),
    ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
    ("https://rpc.example/?apikey=SECRET", "https://rpc.example/…"),
    ("not a url", "<rpc url>"),
])
def test_rpc_urls_are_redacted(url, shown):
    assert redact_url(url) == shown


def test_repr_shows_no_secret_values(monkeypatch):
    monkeypatch.setenv("K", KEY)
    cfg = EvmConfig(rpc_url="https://x", chain_id=1, key="env:K")
    assert KEY not in repr(cfg) and KEY not in str(cfg.model_dump())
