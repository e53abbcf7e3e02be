"""Strict bundles (issues 9 and 10): duplicate keys, numbers as IEEE doubles, malformed bundles
are one line with exit 2 (never a traceback), distinct chains for k-of-n, and the local ledger's
chain proof checked against a trusted head."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest


@pytest.fixture
def recorded(project, cli):
    """A record flushed on the local ledger: (bundle path, bundle JSON)."""
    result = cli("record", "--kind", "paper", "--body", '{"title": "On Things", "flops": 1.2e18}', "--flush", "--json")
    assert result.exit_code == 0, result.output
    path = project / json.loads(result.stdout)["bundle"]
    return path, json.loads(path.read_text())


def put(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_duplicate_key_fails_naming_the_key(recorded, cli, tmp_path):
    path, _ = recorded
    text = path.read_text()
    forged = text.replace('"title": "On Things"', '"title": "Forged Title", "title": "On Things"', 1)
    assert forged != text
    result = cli("verify", put(tmp_path / "dup.bctrace.json", forged))
    assert result.exit_code == 1 and "'title' appears twice" in result.output and "record.body" in result.output
    shown = cli("show", tmp_path / "dup.bctrace.json")
    assert shown.exit_code == 1 and "'title' appears twice" in shown.output


@pytest.mark.parametrize("value", ["1e16", "1.2e18", "9007199254740992", "123456789012345680000", "5e-324", "1e21", "-0.0"])
def test_large_and_odd_numbers_round_trip(value, project, cli):
    result = cli("record", "--kind", "x", "--body", f'{{"v": {value}}}', "--flush", "--json")
    assert result.exit_code == 0, result.output
    verified = cli("verify", json.loads(result.stdout)["bundle"])
    assert verified.exit_code == 0, verified.output


@pytest.mark.parametrize("value", ["9007199254740993", "1152921504606846976", "0.10000000000000001"])
def test_numbers_no_double_holds_are_refused_at_record_time(value, project, cli):
    result = cli("record", "--kind", "x", "--body", f'{{"v": {value}}}', "--flush")
    assert result.exit_code == 2 and "body.v" in result.output and "Traceback" not in result.output, result.output
    assert "pydantic" not in result.output


def test_python_ints_no_double_holds_are_refused(project):
    from bctrace import Tracer
    from bctrace.errors import UsageError

    with Tracer.from_config() as t:
        with pytest.raises(UsageError, match=r"body\.n"):
            t.record("x", {"n": 2**53 + 1})
        with pytest.raises(UsageError, match=r"body\.deep"):
            t.record("x", {"deep": json.loads("[" * 150 + "]" * 150)})
        assert t.outbox.pending_count() == 0


def node_reserialise(path):
    node = shutil.which("node")
    assert node, "node is needed (scripts/test installs it)"
    subprocess.run([node, "-e", "const fs=require('fs');const p=process.argv[1];"
                    "fs.writeFileSync(p, JSON.stringify(JSON.parse(fs.readFileSync(p,'utf8'))))", str(path)], check=True)


def test_reserialised_by_javascript_still_verifies_and_a_changed_number_does_not(recorded, cli, tmp_path):
    path, data = recorded
    copy = put(tmp_path / "js.bctrace.json", path.read_text())
    node_reserialise(copy)
    assert copy.read_text() != path.read_text()
    assert cli("verify", copy).exit_code == 0
    result = cli("record", "--kind", "x", "--body", '{"v": 10000000000000000}', "--flush", "--json")
    text = (project_dir(tmp_path) / json.loads(result.stdout)["bundle"]).read_text()
    assert "10000000000000000" in text
    changed = put(tmp_path / "changed.bctrace.json", text.replace("10000000000000000", "10000000000000002"))
    assert cli("verify", changed).exit_code == 1
    inexact = put(tmp_path / "inexact.bctrace.json", text.replace("10000000000000000", "10000000000000001"))
    assert cli("verify", inexact).exit_code == 2


def project_dir(tmp_path):
    return tmp_path / "project"


def test_one_anchor_copied_under_other_names_is_one_chain(recorded, cli, tmp_path):
    path, data = recorded
    (anchor,) = data["anchors"]
    data["anchors"] += [{**anchor, "chain": "second"}, {**anchor, "chain": "third"}]
    copied = put(tmp_path / "copied.bctrace.json", json.dumps(data))
    result = cli("verify", copied, "--policy", "3")
    assert result.exit_code == 1, result.output
    assert "1 of 1 distinct chains verified" in result.output and "are one chain" in result.output
    assert cli("verify", copied, "--policy", "all").exit_code == 0


def test_policy_2_with_one_chain_says_what_is_missing(recorded, cli):
    path, _ = recorded
    result = cli("verify", path, "--policy", "2")
    assert result.exit_code == 1
    assert result.output.rstrip().endswith("was checked"), result.output


def malformed_cases(data):
    """(name, text) of bundles that are not valid bundles; data is a genuine bundle's JSON."""
    text = json.dumps(data)
    record = json.dumps(data["record"])
    cases = {
        "deep nesting": text.replace(record, '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        "4301-digit integer": text.replace(record, '{"x": ' + "9" * 4301 + "}"),
        "NaN": text.replace(record, '{"x": NaN}'),
        "Infinity": text.replace(record, '{"x": Infinity}'),
        "integer beyond 2**53": text.replace(record, '{"x": 9007199254740993}'),
        "lone surrogate": text.replace(record, '{"x": "\\ud800"}'),
        "huge timestamp": text.replace(f'"timestamp": {data["anchors"][0]["timestamp"]}', '"timestamp": ' + "9" * 300),
        "long merkle proof": text.replace('"proof": []', '"proof": [' + ", ".join(['"0x' + "ab" * 32 + '"'] * 65) + "]"),
        "not an object": "[1, 2]",
        "anchor field of the wrong type": text.replace(f'"block": {data["anchors"][0]["block"]}', '"block": "1"'),
    }
    for name, case in cases.items():
        assert case != text or name == "not an object", name
    return cases


def test_malformed_bundles_are_one_line_exit_2(recorded, cli, tmp_path):
    path, data = recorded
    for name, text in malformed_cases(data).items():
        target = put(tmp_path / "bad.bctrace.json", text)
        for command in ("verify", "show"):
            result = cli(command, target)
            assert result.exit_code == 2, (name, command, result.output)
            assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output, (name, result.output)


def rewrite_record(cli, tmp_path, data, **changes):
    """A bundle whose record has ``changes`` and whose digest, root and anchor are made to match
    it by anchoring it for real (a well-formed proof of a badly shaped record)."""
    from bctrace._internal.record import digest_of_json
    from bctrace_backends.local.backend import LocalBackend, LocalConfig
    from bctrace.api import to_0x
    from bctrace._internal.merkle import MerkleTree

    record = {**data["record"], **changes}
    digest = digest_of_json(record)
    tree = MerkleTree([digest])
    backend = LocalBackend("local", LocalConfig(path=tmp_path / "ledger"), state_dir=tmp_path)
    receipt = backend.anchor(tree.root)
    bundle = {"bctrace": 1, "record": record, "digest": to_0x(digest),
              "merkle": {"format": "oz-standard-v1", "root": to_0x(tree.root), "proof": []},
              "anchors": [receipt.model_dump(mode="json", exclude_none=True)]}
    return bundle, backend


def test_badly_shaped_records_are_exit_2(recorded, cli, tmp_path):
    _, data = recorded
    for change in ({"subjects": "a.txt"}, {"subjects": [1, 2]}, {"seq": "1"}):
        bundle, backend = rewrite_record(cli, tmp_path, data, **change)
        target = put(tmp_path / "shape.bctrace.json", json.dumps(bundle))
        for command in ("verify", "show"):
            result = cli(command, target, *(["--ledger", tmp_path / "ledger"] if command == "verify" else []))
            assert result.exit_code == 2 and "record" in result.output, (change, command, result.output)


def test_two_steps_with_a_string_seq_are_exit_2(project, cli, tmp_path):
    a = project / json.loads(cli("record", "--kind", "s", "--trace", "t1", "--flush", "--json").stdout)["bundle"]
    bundle = json.loads(a.read_text())
    shaped, _ = rewrite_record(cli, tmp_path, bundle, seq="1")
    target = put(tmp_path / "step.bctrace.json", json.dumps(shaped))
    result = cli("verify", a, target, "--ledger", tmp_path / "ledger")
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output


def test_control_characters_are_escaped_in_show(project, cli):
    result = cli("record", "--kind", "x\u001b[2Jx", "--flush", "--json")
    shown = cli("show", json.loads(result.stdout)["bundle"])
    assert shown.exit_code == 0 and "\u001b" not in shown.output and "\\x1b" in shown.output


def test_local_anchor_checks_against_a_trusted_head_without_the_state_folder(recorded, cli, project, tmp_path, monkeypatch):
    path, data = recorded
    (anchor,) = data["anchors"]
    assert anchor["chain_proof"]["format"] == "bctrace-local-v1"
    ledger = tmp_path / "auditor" / "ledger.jsonl"
    ledger.parent.mkdir()
    shutil.copy(project / ".bctrace" / "ledger.jsonl", ledger)
    path = shutil.copy(path, tmp_path / "paper.bctrace.json")
    shutil.rmtree(project / ".bctrace")
    monkeypatch.chdir(tmp_path)
    head = f"{anchor['chain_id']}={anchor['tx']}"
    assert cli("verify", path, "--trust-block", head).exit_code == 0
    assert cli("verify", path, "--ledger", ledger).exit_code == 0
    assert cli("verify", path).exit_code == 3  # the ledger is gone and nothing else was named
    wrong = cli("verify", path, "--trust-block", f"{anchor['chain_id']}=0x" + "11" * 32)
    assert wrong.exit_code == 1 and "trusted head" in wrong.output
    for field, value in (("timestamp", anchor["timestamp"] - 86400), ("contract", "0x" + "22" * 32), ("block", 2)):
        edited = json.loads(json.dumps(data))
        edited["anchors"][0][field] = value
        target = put(tmp_path / "edited.bctrace.json", json.dumps(edited))
        for how in (["--trust-block", head], ["--ledger", ledger]):
            result = cli("verify", target, *how)
            assert result.exit_code == 1 and field in result.output, (field, how, result.output)
    edited = json.loads(json.dumps(data))
    edited["anchors"][0]["chain_proof"]["lines"][0] = edited["anchors"][0]["chain_proof"]["lines"][0].replace('"timestamp":', '"timestamp":1')
    result = cli("verify", put(tmp_path / "line.bctrace.json", json.dumps(edited)), "--trust-block", head)
    assert result.exit_code == 1 and "chain_proof.lines[0]" in result.output


def test_bundle_size_limit(recorded, cli, tmp_path, monkeypatch):
    from bctrace._internal import bundle as bundle_module

    path, _ = recorded
    monkeypatch.setattr(bundle_module, "MAX_BUNDLE_BYTES", path.stat().st_size - 1)
    result = cli("verify", path)
    assert result.exit_code == 2 and "larger than" in result.output
