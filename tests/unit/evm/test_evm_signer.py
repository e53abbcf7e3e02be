"""Signer resolution: env references and keystores; errors name the variable/file, not the secret."""

from __future__ import annotations

import json

import pytest
from eth_account import Account

from bctrace.errors import ChainMisconfigured
from bctrace_backends.evm.config import EvmConfig
from bctrace_backends.evm.signer import load_account


def _cfg(**kw) -> EvmConfig:
    return EvmConfig(rpc_url="http://127.0.0.1:1", chain_id=1, **kw)


def test_key_from_environment(monkeypatch):
    acct = Account.create()
    monkeypatch.setenv("MY_KEY", acct.key.to_0x_hex())
    assert load_account("c", _cfg(key="env:MY_KEY")).address == acct.address


def test_missing_variable_names_it(monkeypatch):
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(ChainMisconfigured, match="MY_KEY.*not set") as info:
        load_account("c", _cfg(key="env:MY_KEY"))
    assert str(info.value).startswith("chain 'c': ")


def test_malformed_key_is_not_echoed(monkeypatch):
    monkeypatch.setenv("MY_KEY", "0xnot-a-key-but-maybe-secret")
    with pytest.raises(ChainMisconfigured) as info:
        load_account("c", _cfg(key="env:MY_KEY"))
    assert "not-a-key" not in str(info.value) and info.value.__cause__ is None


@pytest.fixture
def keystore(tmp_path):
    acct = Account.create()
    data = Account.encrypt(acct.key, "correct horse", kdf="pbkdf2", iterations=1000)
    path = tmp_path / "key.json"
    path.write_text(json.dumps(data))
    return acct, path


def test_keystore_with_password_from_env(keystore, monkeypatch):
    acct, path = keystore
    monkeypatch.setenv("PW", "correct horse")
    assert load_account("c", _cfg(keystore=path, password="env:PW")).address == acct.address


def test_keystore_wrong_password(keystore, monkeypatch):
    _, path = keystore
    monkeypatch.setenv("PW", "battery staple")
    with pytest.raises(ChainMisconfigured, match="could not be decrypted") as info:
        load_account("c", _cfg(keystore=path, password="env:PW"))
    assert "battery" not in str(info.value)


def test_keystore_missing_or_no_terminal(tmp_path, keystore, monkeypatch):
    with pytest.raises(ChainMisconfigured, match="does not exist"):
        load_account("c", _cfg(keystore=tmp_path / "nope.json", password="env:PW"))
    _, path = keystore
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(ChainMisconfigured, match="no terminal"):
        load_account("c", _cfg(keystore=path))


def test_no_signer_configured():
    with pytest.raises(ChainMisconfigured, match="no signer configured"):
        load_account("c", _cfg())
