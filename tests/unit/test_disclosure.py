"""Selective disclosure of body fields: private fields are anchored as salted digests only, a
shared bundle reveals exactly the fields chosen, and every revealed value is checked against its
digest (issue 14, item 1)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import rfc8785

from bctrace import Tracer
from bctrace._internal.disclosure import ALG, disclosure_digest, make_private, parse_path, resolve
from bctrace.errors import DisclosureMismatch, UsageError

DONOR = "Héloïse Montgomery-Okafor"


def _bytes_of_everything(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_donation_trace_with_the_donor_private_discloses_only_the_amount(project, cli):
    """The issue's Done-when: 4 steps, donor private; a bundle disclosing only the amount
    verifies and holds the donor's name nowhere; a forged amount fails; the producer's full
    bundle verifies."""
    digests = []
    for month in ("01", "02", "03", "04"):
        out = cli("record", "--kind", "donation", "--donor", DONOR, "--recipient", "school-fund", "--amount", "25",
                  "--currency", "EUR", "--purpose", f"books {month}", "--private", "amount", "--private", "currency",
                  "--trace", "gift-17", "--json")
        assert out.exit_code == 0, out.output
        digests.append(json.loads(out.stdout))
    assert [d["seq"] for d in digests] == [0, 1, 2, 3]
    disclosures = Path(digests[0]["disclosures"])
    assert stat.S_IMODE(os.stat(disclosures).st_mode) == 0o600 and DONOR.encode() in disclosures.read_bytes()
    assert cli("flush").exit_code == 0

    # what was anchored, queued and bundled holds digests only: no byte of the donor's name
    state = project / ".bctrace"
    for path in state.rglob("*"):
        if path.is_file() and "disclosures" not in path.parts:
            assert DONOR.encode() not in path.read_bytes(), path
    record = json.loads(Path(digests[0]["bundle"]).read_text())["record"]
    assert record["kind_version"] == 1 and record["body"]["_sd_alg"] == ALG
    assert set(record["body"]) == {"_sd", "_sd_alg", "recipient", "purpose"} and len(record["body"]["_sd"]) == 3

    shared = project / "shared"
    shared.mkdir()
    for i, d in enumerate(digests):
        out = cli("disclose", d["bundle"], "--field", "amount", "-o", shared / f"step{i}.bctrace.json")
        assert out.exit_code == 0, out.output
        assert 'revealed amount = "25"' in out.output
    everything = _bytes_of_everything(shared)
    for form in (DONOR, DONOR.lower(), json.dumps(DONOR)[1:-1], "Montgomery"):
        assert form.encode() not in everything
    steps = sorted(str(p) for p in shared.iterdir())
    verified = cli("verify", *steps, "--json")
    assert verified.exit_code == 0, verified.output
    for result in json.loads(verified.stdout)["results"]:
        assert result["fields"] == {"revealed": {"amount": "25"}, "hidden": [{"path": "body", "count": 2}]}
    text = cli("verify", steps[0])
    assert text.exit_code == 0 and 'revealed amount = "25"' in text.output and "hidden   2 values in body" in text.output

    # a forged amount: the disclosure no longer hashes to any digest of the record
    forged = json.loads(Path(steps[0]).read_text())
    assert forged["disclosures"][0][1:] == ["amount", "25"]
    forged["disclosures"][0][2] = "2500"
    (shared / "forged.bctrace.json").write_text(json.dumps(forged))
    bad = cli("verify", shared / "forged.bctrace.json")
    assert bad.exit_code == 1 and "the disclosure of field 'amount' matches no digest in the record" in bad.output
    shown = cli("show", shared / "forged.bctrace.json")
    assert shown.exit_code == 1 and "fields   FAILED" in shown.output
    # revealing a field under another name fails as well
    forged["disclosures"][0][1:] = ["currency", "25"]
    (shared / "forged.bctrace.json").write_text(json.dumps(forged))
    assert cli("verify", shared / "forged.bctrace.json").exit_code == 1

    # the producer reveals everything to itself: the full bundle verifies and shows the donor
    full = cli("disclose", digests[0]["bundle"], "--all", "-o", project / "full.bctrace.json", "--json")
    assert full.exit_code == 0, full.output
    assert json.loads(full.stdout)["revealed"] == {"amount": "25", "currency": "EUR", "donor": DONOR}
    check = cli("verify", project / "full.bctrace.json", "--json")
    assert check.exit_code == 0 and json.loads(check.stdout)["results"][0]["fields"]["hidden"] == []


def test_a_holder_can_only_narrow_a_shared_bundle(project, cli, tmp_path, monkeypatch):
    out = json.loads(cli("record", "--kind", "donation", "--donor", DONOR, "--recipient", "r", "--amount", "5", "--currency",
                         "CHF", "--private", "amount", "--json", "--flush").stdout)
    assert cli("disclose", out["bundle"], "--field", "amount", "--field", "donor", "-o", project / "two.bctrace.json").exit_code == 0
    holder = tmp_path / "holder"
    holder.mkdir()
    monkeypatch.chdir(holder)  # another folder: none of the producer's disclosures
    narrowed = cli("disclose", project / "two.bctrace.json", "--field", "amount", "-o", "one.bctrace.json", "--json")
    assert narrowed.exit_code == 0 and json.loads(narrowed.stdout)["revealed"] == {"amount": "5"}
    assert DONOR.encode() not in (holder / "one.bctrace.json").read_bytes()
    missing = cli("disclose", "one.bctrace.json", "--field", "donor", "-o", "x.bctrace.json")
    assert missing.exit_code == 2 and "field 'donor'" in missing.output and "Traceback" not in missing.output
    nothing = cli("disclose", "one.bctrace.json", "-o", "x.bctrace.json")
    assert nothing.exit_code == 2 and "--field" in nothing.output


def test_digest_is_sha256_of_the_rfc8785_bytes_of_the_disclosure():
    """The byte rule the README documents, computed independently of bctrace's helpers."""
    body, made = make_private({"amount": "25", "note": "x"}, ["amount"])
    (entry,) = made
    salt, name, value = entry["disclosure"]
    assert (name, value) == ("amount", "25") and salt.startswith("0x") and len(salt) == 34
    expected = "0x" + hashlib.sha256(rfc8785.dumps([salt, "amount", "25"])).hexdigest()
    assert body == {"note": "x", "_sd": [expected], "_sd_alg": "sha-256-jcs"}


def test_nested_fields_array_items_and_a_private_field_inside_a_private_field():
    body = {"donor": {"name": "N", "city": "C"}, "items": ["a", {"sku": "s", "price": "9"}], "open": 1}
    hidden, made = make_private(body, ["donor", "donor.name", "items[0]", "items[1].price"])
    assert body["donor"]["name"] == "N"  # the caller's body is not changed
    assert hidden["items"][0] == {"...": disclosure_digest(next(m["disclosure"] for m in made if m["path"] == "items[0]"))}
    assert "price" not in hidden["items"][1] and len(hidden["items"][1]["_sd"]) == 1
    assert "donor" not in hidden and hidden["open"] == 1
    by_path = {m["path"]: m["disclosure"] for m in made}
    inner = by_path["donor"][2]
    assert inner["city"] == "C" and "name" not in inner and len(inner["_sd"]) == 1  # donor.name hidden inside donor

    nothing = resolve(hidden, [])
    assert nothing.revealed == {} and {h.path for h in nothing.hidden} == {"", "items[0]", "items[1]"}
    everything = resolve(hidden, list(by_path.values()))
    assert everything.body == body and everything.hidden == []
    only_city = resolve(hidden, [by_path["donor"]])
    assert only_city.body["donor"] == {"city": "C"} and {h.path for h in only_city.hidden} == {"donor", "items[0]", "items[1]"}
    # a disclosure whose parent stays hidden matches nothing visible: refused, not ignored
    with pytest.raises(DisclosureMismatch, match="field 'name' matches no digest"):
        resolve(hidden, [by_path["donor.name"]])
    # an array item's disclosure cannot stand in for a member's, nor be given twice
    with pytest.raises(DisclosureMismatch, match="given twice"):
        resolve(hidden, [by_path["items[0]"], by_path["items[0]"]])


def test_decoys_pad_and_sort_the_digest_list():
    body, made = make_private({"a": 1, "b": 2, "c": 3}, ["a", "b"], decoys=3)
    assert len(body["_sd"]) == 5 and body["_sd"] == sorted(body["_sd"])
    resolved = resolve(body, [m["disclosure"] for m in made])
    assert resolved.revealed == {"a": 1, "b": 2} and [h.to_dict() for h in resolved.hidden] == [{"path": "body", "count": 3}]


def test_bad_private_paths_and_disclosures_are_one_clear_error():
    with pytest.raises(UsageError, match="private field 'nope': the body has no such field"):
        make_private({"a": 1}, ["nope"])
    with pytest.raises(UsageError, match=r"private field 'a\[3\]': the body has no such array item"):
        make_private({"a": [1]}, ["a[3]"])
    for text in ("", "a..b", "[0]", "a.", "a[x]", "a]"):
        with pytest.raises(UsageError, match="is not a field path"):
            parse_path(text)
    assert parse_path("items[2].name") == ("items", 2, "name")
    body, _ = make_private({"a": 1}, ["a"])
    for junk in (["0x00"], "x", [1, "a", 2], ["s", "_sd", 1]):
        with pytest.raises(DisclosureMismatch):
            resolve(body, [junk])
    # an item disclosure listed as a member, or a member disclosure standing for an item, matches nothing
    item, member = ["0x01", "v"], ["0x01", "k", "v"]
    with pytest.raises(DisclosureMismatch, match="an array item matches no digest"):
        resolve({"_sd": [disclosure_digest(item)], "_sd_alg": ALG}, [item])
    with pytest.raises(DisclosureMismatch, match="field 'k' matches no digest"):
        resolve({"x": [{"...": disclosure_digest(member)}], "_sd_alg": ALG}, [member])
    with pytest.raises(DisclosureMismatch, match="sha-256-jcs"):
        resolve({**body, "_sd_alg": "md5"}, [])


def test_python_api_records_private_fields_and_discloses(project):
    with Tracer.from_config() as tracer:
        rec = tracer.record("grant", {"to": "lab", "amount": "100", "reviewers": ["r1", "r2"]},
                            private=["amount", "reviewers[1]"], decoys=1)
        assert rec.disclosure_file is not None and "amount" not in rec.record.body
        tracer.flush()
        full = tracer.bundle(rec.digest)
        assert tracer.verify(full).fields.revealed == {}
        shared = tracer.disclose(full, ["reviewers[1]"])
        report = tracer.verify(shared)
        assert report.fields.revealed == {"reviewers[1]": "r2"}
        assert report.to_dict()["fields"]["hidden"] == [{"path": "body", "count": 2}]
        # a donation's donor is private by default; public= records it in clear
        open_gift = tracer.record("donation", {"donor": "D", "recipient": "R", "amount": "1", "currency": "EUR"}, public=["donor"])
        assert open_gift.record.body["donor"] == "D" and open_gift.disclosure_file is None
        # a record refused after its fields were hidden leaves no private values behind
        with pytest.raises(UsageError, match="created must be timezone-aware"):
            tracer.record("grant", {"amount": "7"}, private=["amount"], created=datetime(2026, 1, 1))
        assert len(list((project / ".bctrace" / "disclosures").iterdir())) == 1


def test_a_javascript_reader_finds_each_disclosure_digest_in_the_record(project, cli):
    """The documented byte rule checked by Node alone (its crypto module, no bctrace code). For a
    disclosure of strings, RFC 8785 bytes are exactly ``JSON.stringify``'s (RFC 8785 serialises
    strings as ECMAScript does), so this needs no JCS library."""
    out = json.loads(cli("record", "--kind", "donation", "--donor", DONOR, "--recipient", "r", "--amount", "25", "--currency", "EUR",
                         "--private", "amount", "--json", "--flush").stdout)
    assert cli("disclose", out["bundle"], "--all", "-o", project / "full.bctrace.json").exit_code == 0
    script = ("const b=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));"
              "const h=d=>'0x'+require('crypto').createHash('sha256').update(JSON.stringify(d),'utf8').digest('hex');"
              "console.log(JSON.stringify(b.disclosures.map(d=>[d[1],b.record.body._sd.includes(h(d))])));")
    node = shutil.which("node")
    assert node, "node is needed (scripts/test installs it)"
    found = subprocess.run([node, "-e", script, str(project / "full.bctrace.json")], capture_output=True, text=True, timeout=60, check=True)
    assert sorted(json.loads(found.stdout)) == [["amount", True], ["donor", True]]
