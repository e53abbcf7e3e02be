"""10,000 records anchor in one transaction per chain; the signing key never leaks anywhere."""

from __future__ import annotations

import logging

import pytest

from bctrace import Tracer
from bctrace.errors import BctraceError, ConfigError

pytestmark = pytest.mark.integration


def _nonce(chain) -> int:
    return int(chain.node.rpc("eth_getTransactionCount", [chain.signer.address, "latest"]), 16)


def test_ten_thousand_records_one_transaction_per_chain(evm_chain_factory, write_config):
    a = evm_chain_factory(1, name="a")
    b = evm_chain_factory(1337, name="b", free_gas=True)
    config = write_config({"a": a.table(), "b": b.table()})
    before = (_nonce(a), _nonce(b))
    with Tracer.from_config(config) as tracer:
        with tracer.outbox.group():
            recs = [tracer.record("step", {"i": i}) for i in range(10_000)]
        result = tracer.flush()
        assert result.records == 10_000 and len(result.batches) == 1
        assert (_nonce(a), _nonce(b)) == (before[0] + 1, before[1] + 1)
        receipts = {r["chain"]: r for r in result.batches[0]["anchors"]}
        for chain in (a, b):
            tx = chain.node.rpc("eth_getTransactionReceipt", [receipts[chain.name]["tx"]])
            assert int(tx["status"], 16) == 1 and len(tx["logs"]) == 1
        for rec in (recs[0], recs[4_321], recs[-1]):
            report = tracer.verify(tracer.bundle(rec.digest))
            assert report.ok and report.verified_count == 2


def test_private_key_never_appears(evm_chain, write_config, tmp_path, caplog, capsys, cli):
    caplog.set_level(logging.DEBUG)
    key = evm_chain.signer.key
    forms = {key, key[2:], key.upper(), key[2:].upper()}
    (tmp_path / "proj").mkdir()
    config = write_config({"anvil": evm_chain.table()}, path=tmp_path / "proj" / "bctrace.toml")
    texts: list[str] = []
    with Tracer.from_config(config) as tracer:
        recs = [tracer.record("step", {"i": i}) for i in range(3)]
        tracer.flush()
        backend = tracer.backend("anvil")
        texts += [repr(backend), str(backend.describe()), repr(backend.config), str(backend.config.model_dump()),
                  repr(backend.client), tracer.bundle(recs[0].digest).to_json()]
    # errors raised while the key is loaded
    with Tracer.from_config(write_config({"anvil": evm_chain.table(chain_id=99)}, path=tmp_path / "wrong.toml")) as tracer:
        tracer.record("x", {})
        with pytest.raises(BctraceError) as info:
            tracer.flush()
        texts.append(str(info.value))
    with Tracer.from_config(write_config({"anvil": evm_chain.table(gas_limit=30_000)}, path=tmp_path / "oog.toml")) as tracer:
        tracer.record("y", {})
        with pytest.raises(BctraceError) as info:
            tracer.flush()
        texts.append(str(info.value))
        texts.append(repr(info.value.__cause__))
    # a key pasted into the config is refused without echoing it
    pasted = evm_chain.table(key=key)
    with pytest.raises(ConfigError) as info:
        Tracer.from_config(write_config({"anvil": pasted}, path=tmp_path / "pasted.toml"))
    texts += [str(info.value), str(info.value.__cause__)]
    result = cli("--config", tmp_path / "pasted.toml", "chains")
    texts += [result.output, result.stderr]
    assert result.exit_code == 2
    # everything written to disk by the project, plus logs and captured output
    for path in (tmp_path / "proj").rglob("*"):
        if path.is_file():
            texts.append(path.read_bytes().decode("latin-1"))
    texts += [r.getMessage() for r in caplog.records]
    captured = capsys.readouterr()
    texts += [captured.out, captured.err]
    blob = "\n".join(texts)
    assert len(blob) > 1000
    for form in forms:
        assert form not in blob
