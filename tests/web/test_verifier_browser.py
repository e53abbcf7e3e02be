"""The in-browser verifier in Chromium, served by ``bctrace serve``, against a live anvil chain:
a genuine bundle verifies with the right block and time; each tampering fails naming its reason;
a stopped node is "unreachable"; a trusted block hash verifies with the node stopped."""

from __future__ import annotations

import copy
import json
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from .conftest import run_cli

pytestmark = pytest.mark.integration


def edited(tmp_path: Path, data: dict, name: str = "paper.txt.bctrace.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=1))
    return path


def test_genuine_bundle_and_file_verify_with_block_and_time(anchored, served, verifier):
    anchor = anchored.bundle("paper.txt")["anchors"][0]
    verifier.open(f"{served}?rpc={anchored.chain_id}={anchored.node.url}")
    verdict = verifier.check(anchored.folder / "paper.txt", anchored.folder / "paper.txt.bctrace.json")
    assert verdict.get_attribute("data-status") == "verified", verifier.text()
    shown = verifier.page.locator("[data-testid=anchor]")
    assert shown.count() == 1 and shown.get_attribute("data-status") == "verified"
    assert verifier.page.locator("[data-testid=block]").inner_text() == str(anchor["block"])
    utc = datetime.fromtimestamp(anchor["timestamp"], timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    assert utc in verifier.page.locator("[data-testid=time]").inner_text()
    assert "live node" in verifier.page.locator("[data-testid=checked-by]").inner_text()
    assert verifier.page.locator("[data-testid=subject][data-match=true]").count() == 1
    assert anchored.author in verifier.page.locator("[data-testid=signed-by]").inner_text()  # recovered in the page
    assert verifier.serious_violations() == []
    verifier.screenshot("verified")
    verifier.page.set_viewport_size({"width": 360, "height": 740})  # a phone: nothing wider than the screen
    assert verifier.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    verifier.screenshot("verified-phone")


TAMPERINGS = {
    "changed file": None,  # the bundle is genuine, the file beside it is not
    "tampered record": (lambda b: b["record"]["subjects"][0].update(size=999), "record edited"),
    "moved timestamp": (lambda b: b["anchors"][0].update(timestamp=b["anchors"][0]["timestamp"] - 3600), "timestamp"),
    "wrong contract": (lambda b: b["anchors"][0].update(contract="0x4727329ed2A71A78A282802083768c337427884B"), "contract"),
    "broken proof": (lambda b: b["merkle"].update(proof=["0x" + "ab" * 32]), "Merkle proof"),
}


@pytest.mark.parametrize("case", list(TAMPERINGS))
def test_each_tampering_fails_naming_its_reason(case, anchored, served, verifier, tmp_path):
    bundle = anchored.bundle("paper.txt")
    assert bundle["merkle"]["proof"], "two files in one batch: the proof has a step"
    paper = tmp_path / "paper.txt"
    if case == "changed file":
        paper.write_text("a claim worth timestamping, edited\n")
        reason = "file changed"
    else:
        paper.write_text((anchored.folder / "paper.txt").read_text())
        edit, reason = TAMPERINGS[case]
        bundle = copy.deepcopy(bundle)
        edit(bundle)
    verifier.open(f"{served}?rpc={anchored.chain_id}={anchored.node.url}")
    verdict = verifier.check(paper, edited(tmp_path, bundle))
    assert verdict.get_attribute("data-status") == "failed", verifier.text()
    assert reason in verdict.inner_text(), verdict.inner_text()
    if case in ("moved timestamp", "wrong contract"):
        assert verifier.page.locator("[data-testid=anchor]").get_attribute("data-status") == "failed"
    if case == "wrong contract":
        assert verifier.serious_violations() == []
    verifier.screenshot(f"failed-{case.replace(' ', '-')}")


def test_a_duplicate_key_or_an_inexact_number_makes_the_bundle_invalid(anchored, served, verifier, tmp_path):
    text = (anchored.folder / "paper.txt.bctrace.json").read_text()
    verifier.open(served)
    twice = edited(tmp_path, {}, "twice.bctrace.json")
    twice.write_text(text.replace('"bctrace": 1', '"bctrace": 1, "bctrace": 1', 1))
    assert twice.read_text() != text
    verdict = verifier.check(twice)
    assert verdict.get_attribute("data-status") == "failed" and 'the key "bctrace" appears twice' in verdict.inner_text()
    inexact = edited(tmp_path, {}, "inexact.bctrace.json")
    inexact.write_text(text.replace('"bctrace": 1', '"bctrace": 1, "extra": 10000000000000001', 1))
    assert '10000000000000001' in inexact.read_text()
    verdict = verifier.check(inexact)
    assert verdict.get_attribute("data-status") == "failed" and "10000000000000001 is not exactly a double" in verdict.inner_text()


def test_an_rpc_saved_in_settings_is_used_without_the_url(anchored, served, verifier):
    verifier.open(served)
    verifier.page.click("#settings-panel summary")
    verifier.page.fill("#rpcs", f"{anchored.chain_id}={anchored.node.url}")
    verifier.page.click("#save-settings")
    verifier.open(served)  # a new visit: the setting comes from localStorage
    verdict = verifier.check(anchored.folder / "paper.txt.bctrace.json")
    assert verdict.get_attribute("data-status") == "verified", verifier.text()
    assert anchored.node.url in verifier.page.locator("[data-testid=checked-by]").inner_text()


def test_stopped_node_is_unreachable_and_a_trusted_block_hash_verifies_offline(anchored, served, verifier):
    bundle_path = anchored.folder / "notes.txt.bctrace.json"
    anchor = anchored.bundle("notes.txt")["anchors"][0]
    assert anchor["chain_proof"]["format"] == "evm-mpt-v1"
    rpc = f"?rpc={anchored.chain_id}={anchored.node.url}"
    anchored.node.stop()
    verifier.open(f"{served}{rpc}")
    verdict = verifier.check(bundle_path)
    assert verdict.get_attribute("data-status") == "unreachable", verifier.text()
    assert "did not answer" in verdict.inner_text()
    verifier.screenshot("unreachable")

    verifier.open(f"{served}{rpc}&trust={anchored.chain_id}={anchor['block_hash']}")
    verdict = verifier.check(bundle_path)
    assert verdict.get_attribute("data-status") == "verified", verifier.text()
    assert "offline" in verifier.page.locator("[data-testid=checked-by]").inner_text()

    other = "0x" + "12" * 32
    verifier.open(f"{served}?trust={anchored.chain_id}={other}")
    verdict = verifier.check(bundle_path)
    assert verdict.get_attribute("data-status") == "failed" and "not the trusted block hash" in verdict.inner_text()


def test_exported_site_verifies_from_disk_with_no_network(anchored, tmp_path, verifier):
    """``bctrace serve --export DIR``, then the page opened from file://: an EVM anchor and a
    local-ledger anchor both check offline against trusted hashes."""
    site = tmp_path / "site"
    run_cli(tmp_path, "serve", "--export", str(site))
    assert sorted(p.name for p in site.iterdir()) == ["index.html"]
    local = tmp_path / "local"
    local.mkdir()
    (local / "minutes.txt").write_text("minutes of the board meeting\n")
    run_cli(local, "stamp", "minutes.txt")
    local_anchor = json.loads((local / "minutes.txt.bctrace.json").read_text())["anchors"][0]
    evm_anchor = anchored.bundle("paper.txt")["anchors"][0]
    trust = f"trust={evm_anchor['chain_id']}={evm_anchor['block_hash']}&trust={local_anchor['chain_id']}={local_anchor['block_hash']}"
    verifier.open(f"{(site / 'index.html').as_uri()}?{trust}")
    verdict = verifier.check(anchored.folder / "paper.txt.bctrace.json", local / "minutes.txt.bctrace.json", local / "minutes.txt")
    assert verdict.get_attribute("data-status") == "verified", verifier.text()
    assert "no network used" in verdict.inner_text()
    assert verifier.page.locator("[data-testid=anchor][data-status=verified]").count() == 2


def test_traces_are_found_by_a_subjects_sha256(anchored, serve_process):
    url = serve_process(cwd=anchored.folder)
    record = anchored.bundle("paper.txt")["record"]
    with urllib.request.urlopen(f"{url}traces?q={record['subjects'][0]['sha256']}", timeout=10) as response:
        found = response.read().decode()
    with urllib.request.urlopen(f"{url}traces?q=0x{'ab' * 32}", timeout=10) as response:
        none = response.read().decode()
    assert record["trace"] in found and anchored.bundle("notes.txt")["record"]["trace"] not in found
    assert record["trace"] not in none and "No trace matches" in none
