"""Bitcoin through OpenTimestamps from the command line, with two local calendars and a local
header source: stamp -> pending; upgrade -> Bitcoin attestation, bundle rewritten; verify against
the header source and with a trusted block (right and wrong merkle root); and the exported
``.ots`` file read by the official ``ots`` client (opentimestamps-client)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bctrace import ProofBundle
from bctrace_backends.opentimestamps.export import export_ots

pytestmark = pytest.mark.integration

OTS = str(Path(sys.executable).with_name("ots"))


@pytest.fixture
def stamped(ots_network, write_config, project, cli):
    config = write_config({"bitcoin": ots_network.table()}, default_chains=["bitcoin"], path=project / "bctrace.toml")
    (project / "a.txt").write_text("anchored in bitcoin\n")
    result = cli("--config", config, "stamp", "a.txt")
    assert result.exit_code == 0, result.output + result.stderr
    assert "bitcoin (chain id 123018802804465): pending (run `bctrace upgrade` later)" in result.output
    return config, next(project.glob("a.txt*.bctrace.json"))


def _verify(cli, config: Path, *args: str):
    result = cli("--config", config, "verify", *args, "--json")
    return result, json.loads(result.output)["results"][0]


def test_stamp_pending_upgrade_verify(ots_network, stamped, cli):
    config, bundle_path = stamped
    [anchor] = json.loads(bundle_path.read_text())["anchors"]
    assert anchor["status"] == "pending" and anchor["chain_proof"]["format"] == "opentimestamps-v1"

    shown = cli("--config", config, "show", "a.txt")
    assert shown.exit_code == 0 and "pending" in shown.output and "the proof so far (pending)" in shown.output
    result, report = _verify(cli, config, "a.txt")
    assert result.exit_code == 1
    assert report["chains"][0]["status"] == "pending"
    assert "anchor pending since" in report["chains"][0]["reason"]

    assert "pending anchors: 1 on bitcoin (bctrace upgrade)" in cli("--config", config, "status").output
    early = cli("--config", config, "upgrade")
    assert early.exit_code == 0 and "still pending: 1 anchor(s) (bitcoin)" in early.output
    [height] = ots_network.mine()[:1]
    upgraded = cli("--config", config, "upgrade", "--json")
    assert upgraded.exit_code == 0, upgraded.output + upgraded.stderr
    out = json.loads(upgraded.output)
    assert [a["block"] for a in out["upgraded"]] == [height] and out["bundles"] == [bundle_path.name]

    [anchor] = json.loads(bundle_path.read_text())["anchors"]
    block = ots_network.bitcoin.blocks[height - ots_network.bitcoin.base_height]
    assert "status" not in anchor and anchor["block"] == height
    assert anchor["block_hash"] == "0x" + block.GetHash()[::-1].hex() and anchor["timestamp"] == block.nTime
    result, report = _verify(cli, config, "a.txt")
    assert result.exit_code == 0, result.output + result.stderr
    check = report["chains"][0]
    assert check["status"] == "verified" and check["block"] == height and check["tx"] == anchor["tx"]
    assert cli("--config", config, "upgrade").output.strip() == "no pending anchors"
    assert json.loads(cli("--config", config, "status", "--json").output)["pending_anchors"] == []


def _upgraded(ots_network, cli, config, bundle_path):
    ots_network.mine()
    assert cli("--config", config, "flush").exit_code == 0  # flush upgrades pending anchors too
    return json.loads(bundle_path.read_text())["anchors"][0]


def test_trusted_merkle_root_right_and_wrong(ots_network, stamped, cli, project):
    config, bundle_path = stamped
    anchor = _upgraded(ots_network, cli, config, bundle_path)
    block = ots_network.bitcoin.blocks[anchor["block"] - ots_network.bitcoin.base_height]
    merkle_root = "0x" + block.hashMerkleRoot[::-1].hex()  # as bitcoin-cli getblockheader shows it
    nothing = project / "empty.toml"
    nothing.write_text("")
    result, report = _verify(cli, nothing, str(bundle_path), "--rpc", f"123018802804465={ots_network.bitcoin.url}")
    assert result.exit_code == 0 and report["chains"][0]["status"] == "verified"  # no config: a header API named
    ots_network.stop()  # no network at all from here on
    for spec in (f"bitcoin={anchor['block']}:{merkle_root}", f"opentimestamps={anchor['block']}:{merkle_root}",
                 f"123018802804465={anchor['block_hash']}"):
        result, report = _verify(cli, config if spec.startswith("bitcoin") else nothing, str(bundle_path), "--trust-block", spec)
        assert result.exit_code == 0, (spec, result.output)
        assert report["chains"][0]["status"] == "verified"
    wrong = "0x" + bytes(32 - 1).hex() + "01"
    assert _verify(cli, nothing, str(bundle_path), "--rpc", f"123018802804465={ots_network.bitcoin.url}")[0].exit_code == 3  # stopped
    result, report = _verify(cli, config, str(bundle_path), "--trust-block", f"bitcoin={anchor['block']}:{wrong}")
    assert result.exit_code == 1
    assert report["chains"][0]["status"] == "mismatch"
    assert f"block {anchor['block']} (hash {anchor['block_hash']}, merkle root {merkle_root}) is not a trusted block" in report["chains"][0]["reason"]
    bad = cli("--config", config, "verify", str(bundle_path), "--trust-block", "bitcoin=tall:0x12")
    assert bad.exit_code == 2 and "must be HEIGHT:0xMERKLEROOT or 0xBLOCKHASH" in bad.stderr


def test_tampered_ots_proof_fails(ots_network, stamped, cli):
    config, bundle_path = stamped
    anchor = _upgraded(ots_network, cli, config, bundle_path)
    bundle = json.loads(bundle_path.read_text())
    bundle["anchors"][0]["block"] = anchor["block"] + 10
    bundle_path.write_text(json.dumps(bundle))
    result, report = _verify(cli, config, str(bundle_path))
    assert result.exit_code == 1
    # each calendar committed in its own block: the proof holds both attestations
    assert f"the OTS proof has no Bitcoin attestation at block {anchor['block'] + 10} (it has: {anchor['block']}, {anchor['block'] + 1})" in report["chains"][0]["reason"]

    bundle["anchors"][0]["block"] = anchor["block"] + 1  # the other calendar's block: its tx and time differ
    bundle_path.write_text(json.dumps(bundle))
    result, report = _verify(cli, config, str(bundle_path))
    assert result.exit_code == 1 and report["chains"][0]["reason"].startswith("tx: the chain says 0x")


def test_exported_ots_is_read_by_the_ots_client(ots_network, stamped, cli, project):
    config, bundle_path = stamped
    pending_file = project / "pending.ots"
    pending_file.write_bytes(export_ots(ProofBundle.read(bundle_path)))
    anchor = _upgraded(ots_network, cli, config, bundle_path)
    bundle = ProofBundle.read(bundle_path)
    exported = cli("--config", config, "export", "a.txt", "--format", "ots", "-o", project / "out", "--json")
    assert exported.exit_code == 0, exported.output + exported.stderr
    record, done = project / "out" / "a.txt.record.json", project / "out" / "a.txt.record.json.ots"
    assert sorted(json.loads(exported.output)["files"]) == [str(record), str(done)]
    assert "0x" + hashlib.sha256(record.read_bytes()).hexdigest() == bundle.digest  # what `ots verify` hashes
    assert done.read_bytes() == export_ots(bundle)

    info = subprocess.run([OTS, "info", str(done)], capture_output=True, text=True, timeout=60, check=True).stdout
    assert f"File sha256 hash: {bundle.digest[2:]}" in info
    assert info.count("keccak256") >= 2  # our leaf hash, then the tree's pairs
    assert f"verify BitcoinBlockHeaderAttestation({anchor['block']})" in info
    block = ots_network.bitcoin.blocks[anchor["block"] - ots_network.bitcoin.base_height]
    assert f"# Bitcoin block merkle root {block.hashMerkleRoot[::-1].hex()}" in info
    assert f"# Transaction id {anchor['tx'][2:]}" in info

    # the standard client upgrades the pending export from the same calendars to the same block
    calendars = [arg for c in ots_network.calendars for arg in ("-l", c.url)]
    subprocess.run([OTS, "--no-cache", "--no-default-whitelist", *calendars, "upgrade", str(pending_file)],
                   capture_output=True, text=True, timeout=60, check=True)
    upgraded = subprocess.run([OTS, "info", str(pending_file)], capture_output=True, text=True, timeout=60, check=True).stdout
    assert f"verify BitcoinBlockHeaderAttestation({anchor['block']})" in upgraded


def test_calendars_down_lose_nothing(ots_network, stamped, cli, project):
    config, bundle_path = stamped
    for calendar in ots_network.calendars:
        calendar.refuse = True
    (project / "b.txt").write_text("stamped while the calendars are down\n")
    down = cli("--config", config, "stamp", "b.txt")
    assert down.exit_code == 3 and "0 of 2 calendars accepted the root, 2 needed" in down.stderr
    assert cli("--config", config, "flush").exit_code == 3  # b.txt waits in the outbox
    upgrade = cli("--config", config, "upgrade")  # a.txt's upgrade cannot ask anyone: a note, a.txt stays pending
    assert upgrade.exit_code == 0 and "no calendar of the pending anchor could be asked" in upgrade.stderr
    assert json.loads(bundle_path.read_text())["anchors"][0]["status"] == "pending"

    for calendar in ots_network.calendars:
        calendar.refuse = False
    assert cli("--config", config, "flush").exit_code == 0
    assert json.loads(next(project.glob("b.txt*.bctrace.json")).read_text())["anchors"][0]["status"] == "pending"
    ots_network.mine()
    result = cli("--config", config, "upgrade", "--json")
    assert len(json.loads(result.output)["upgraded"]) == 2
    for name in ("a.txt", "b.txt"):
        assert cli("--config", config, "verify", name).exit_code == 0


def test_a_verifier_upgrades_a_received_pending_bundle(ots_network, stamped, write_config, cli, tmp_path):
    config, bundle_path = stamped
    received = tmp_path / "inbox" / "a.txt.bctrace.json"
    received.parent.mkdir()
    received.write_bytes(bundle_path.read_bytes())
    verifier = write_config({"btc": ots_network.table()}, path=tmp_path / "inbox" / "verifier.toml")
    nothing = write_config({}, path=tmp_path / "inbox" / "none.toml")

    refused = cli("--config", nothing, "upgrade", str(received))
    assert refused.exit_code == 2 and "no configured chain can upgrade the pending anchor on 'bitcoin'" in refused.stderr
    early = cli("--config", verifier, "upgrade", str(received))
    assert early.exit_code == 0 and early.output.strip() == f"{received}: still pending on bitcoin"
    ots_network.mine()
    done = cli("--config", verifier, "upgrade", str(received), "--json")
    assert json.loads(done.output) == {"bundles": [{"bundle": str(received), "still_pending": []}]}
    anchor = json.loads(received.read_text())["anchors"][0]
    assert "status" not in anchor and anchor["chain"] == "bitcoin"
    assert json.loads(bundle_path.read_text())["anchors"][0]["status"] == "pending"  # the producer's copy is untouched
    assert cli("--config", verifier, "verify", str(received)).exit_code == 0
