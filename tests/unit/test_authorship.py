"""Signed records: proof of authorship (an address and an anchored time)."""

import json

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from bctrace import ProofBundle, Tracer
from bctrace._internal.authorship import unsigned_digest
from bctrace.errors import ConfigError, SignatureInvalid, UsageError

KEY = "0x" + "4c" * 32
ADDRESS = Account.from_key(KEY).address


@pytest.fixture
def signing_project(project, monkeypatch):
    monkeypatch.setenv("AUTHOR_KEY", KEY)
    (project / "bctrace.toml").write_text('[signer]\nkey = "env:AUTHOR_KEY"\n')
    return project


def test_signed_stamp_verifies_and_names_the_author(signing_project, cli):
    (signing_project / "paper.txt").write_text("my idea, first")
    out = cli("stamp", "--sign", "paper.txt")
    assert out.exit_code == 0 and f"signed by {ADDRESS}" in out.output
    result = cli("verify", "paper.txt", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["results"][0]["signed_by"] == ADDRESS
    shown = cli("show", "paper.txt.bctrace.json")
    assert f"author   {ADDRESS} (signature checks)" in shown.output


def test_signature_is_plain_eip191_over_the_unsigned_record(signing_project):
    with Tracer.from_config() as t:
        rec = t.record("authorship", {"title": "On ledgers"}, sign=True)
    data = rec.record.to_json_dict()
    assert data["author"] == ADDRESS
    recovered = Account.recover_message(encode_defunct(primitive=unsigned_digest(data)), signature=data["signature"])
    assert recovered == ADDRESS


def test_a_forged_author_or_edited_body_fails(signing_project):
    with Tracer.from_config() as t:
        rec = t.record("authorship", {"title": "On ledgers"}, sign=True)
        t.flush()
        bundle = t.bundle(rec.digest)
        data = bundle.model_dump(mode="json")
        # someone re-signs the record as themselves and rebuilds a bundle that is otherwise valid:
        # the digest changes, so the proof no longer leads to the anchored root
        other = Account.create()
        forged = dict(data["record"], author=other.address)
        forged["signature"] = "0x" + bytes(other.sign_message(encode_defunct(primitive=unsigned_digest(forged))).signature).hex()
        with pytest.raises(Exception, match="does not hash"):
            t.verify(ProofBundle.model_validate({**data, "record": forged}))
        # and a signature that does not match its author is named as such
        from bctrace._internal.signatures import check_signature

        with pytest.raises(SignatureInvalid, match=f"not by the author {ADDRESS}"):
            check_signature(dict(data["record"], body={"title": "Stolen"}))


def test_sign_all_and_author_mismatch(signing_project, monkeypatch):
    (signing_project / "bctrace.toml").write_text('[signer]\nkey = "env:AUTHOR_KEY"\nsign_all = true\n')
    with Tracer.from_config() as t:
        assert t.record("note", {}).record.signature is not None
        assert t.record("note", {}, sign=False).record.signature is None
        with pytest.raises(UsageError, match="not the signing key's address"):
            t.record("note", {}, author="0x" + "00" * 20)


@pytest.mark.parametrize(
    "table, env, message",
    [
        ('key = "0x' + "4c" * 32 + '"', {}, 'must reference an environment variable'),
        ('key = "env:MISSING_KEY_VAR"', {}, "MISSING_KEY_VAR, which is not set"),
        ('key = "env:BAD_KEY"', {"BAD_KEY": "nothex"}, "does not hold a valid hex private key"),
    ],
)
def test_signer_errors_never_show_the_key(project, monkeypatch, table, env, message):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    (project / "bctrace.toml").write_text(f"[signer]\n{table}\n")
    with pytest.raises(ConfigError, match=message) as err:
        with Tracer.from_config() as t:
            t.record("note", {}, sign=True)
    assert "4c4c4c" not in str(err.value)


def test_keystore_signer(project, monkeypatch):
    keystore = Account.encrypt(KEY, "pw", iterations=2)
    (project / "me.json").write_text(json.dumps(keystore))
    monkeypatch.setenv("KS_PW", "pw")
    (project / "bctrace.toml").write_text('[signer]\nkeystore = "me.json"\npassword = "env:KS_PW"\n')
    with Tracer.from_config() as t:
        assert t.record("note", {}, sign=True).record.author == ADDRESS
    monkeypatch.setenv("KS_PW", "wrong")
    with pytest.raises(ConfigError, match="could not be decrypted"):
        with Tracer.from_config() as t:
            t.record("note", {}, sign=True)


def test_signing_without_a_signer_table(project):
    with Tracer.from_config() as t, pytest.raises(ConfigError, match=r"no \[signer\] table"):
        t.record("note", {}, sign=True)
