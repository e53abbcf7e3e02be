"""Typed record kinds (issue 14, item 3): each built-in kind records a valid body and refuses
each invalid field by name; the command-line shortcut; kinds nobody registered stay free."""

from __future__ import annotations

import json

import pytest

from bctrace import Tracer
from bctrace.errors import UsageError

SHA = "0x" + "ab" * 32

VALID = {
    "donation": {"donor": "D", "recipient": "R", "amount": "12.50", "currency": "EUR", "purpose": "books"},
    "supply-step": {"lot": "L-7", "from": "farm", "to": "port", "location": "Rotterdam", "time": "2026-03-01T10:00:00Z",
                    "quantity": "120", "unit": "kg"},
    "authorship": {"work": SHA, "authors": ["A. Author", "B. Author"], "claimed_at": "2026-03-01T10:00:00+01:00", "title": "T"},
    "file": {"description": "weights", "license": "MIT", "stores": [{"store": "ipfs", "cid": "bafy"}]},
    "dataset": {"name": "cohort", "version": "2", "license": "CC-BY-4.0", "doi": "10.1/x", "manifest": [{"path": "a", "size": 1}]},
    "text": {"title": "my idea", "language": "de-CH"},
    "ml-run": {"step": "end", "run_id": "r1", "status": "ok", "params": {"lr": 0.1}, "seed": 0, "metrics": {"acc": 0.9}},
}

INVALID = [
    ("donation", {"donor": ""}, "donor"),
    ("donation", {"recipient": None}, "recipient"),
    ("donation", {"amount": 25}, "amount"),
    ("donation", {"amount": "-3"}, "amount"),
    ("donation", {"amount": "1e3"}, "amount"),
    ("donation", {"currency": "XYZ"}, "currency"),
    ("donation", {"currency": "eur"}, "currency"),
    ("donation", {"purpose": 7}, "purpose"),
    ("donation", {"donr": "typo"}, "donr"),
    ("supply-step", {"lot": None}, "lot"),
    ("supply-step", {"from": 3}, "from"),
    ("supply-step", {"to": ""}, "to"),
    ("supply-step", {"location": []}, "location"),
    ("supply-step", {"time": "2026-03-01T10:00:00"}, "time"),  # no time zone
    ("supply-step", {"quantity": 120}, "quantity"),
    ("supply-step", {"unit": None}, "unit"),
    ("supply-step", {"item": 5}, "item"),
    ("authorship", {"work": "0x12"}, "work"),
    ("authorship", {"authors": []}, "authors"),
    ("authorship", {"authors": ["ok", ""]}, "authors[1]"),
    ("authorship", {"claimed_at": "yesterday"}, "claimed_at"),
    ("authorship", {"title": 1}, "title"),
    ("file", {"description": 1}, "description"),
    ("file", {"license": ""}, "license"),
    ("file", {"stores": [{"store": "ipfs"}]}, "stores[0].cid"),
    ("dataset", {"manifest": "x"}, "manifest"),
    ("dataset", {"doi": 10}, "doi"),
    ("dataset", {"stores": {}}, "stores"),
    ("text", {"language": "12"}, "language"),
    ("text", {"title": ""}, "title"),
    ("ml-run", {"step": "middle"}, "step"),
    ("ml-run", {"run_id": ""}, "run_id"),
    ("ml-run", {"status": "meh"}, "status"),
    ("ml-run", {"seed": "zero"}, "seed"),
    ("ml-run", {"params": [1]}, "params"),
]


@pytest.fixture
def tracer(project):
    with Tracer.from_config() as t:
        yield t


@pytest.mark.parametrize("kind", sorted(VALID))
def test_each_built_in_kind_records_a_valid_body(tracer, kind):
    rec = tracer.record(kind, VALID[kind], public=["donor"])
    assert rec.record.kind_version == 1 and rec.record.body == VALID[kind]  # kept as written


@pytest.mark.parametrize(("kind", "change", "field"), INVALID, ids=[f"{k}-{f}" for k, _, f in INVALID])
def test_each_invalid_field_is_refused_naming_it(tracer, kind, change, field):
    body = {k: v for k, v in {**VALID[kind], **change}.items() if v is not None}  # None: the field left out
    with pytest.raises(UsageError) as err:
        tracer.record(kind, body)
    assert str(err.value).startswith(f"record of kind '{kind}': field 'body.{field}'"), err.value
    assert tracer.outbox.pending_count() == 0  # nothing half-recorded


def test_unknown_kinds_keep_a_free_body(tracer):
    rec = tracer.record("measurement", {"sensor": "t1", "celsius": 21.5})
    assert rec.record.kind_version is None and rec.record.body == {"sensor": "t1", "celsius": 21.5}


def test_ml_run_kind_accepts_what_a_run_records(tracer, tmp_path):
    (tmp_path / "train.csv").write_text("a\n1\n")
    with tracer.run("tiny", params={"lr": 0.1}, seed=0, bundle_dir=tmp_path / "runs") as run:
        run.log_input(tmp_path / "train.csv")
        run.log_metrics({"loss": 0.5}, step=0)
        run.checkpoint(step=0)
        run.declare(n_runs=1)
    steps = [r.record for r in run.recorded]
    assert [(r.kind, r.kind_version, r.body["step"]) for r in steps] == [
        ("ml-run", 1, "start"), ("ml-run", 1, "checkpoint"), ("ml-run", 1, "end")]


def test_record_shortcut_options_of_a_kind(project, cli):
    (project / "delivery-note.pdf").write_bytes(b"%PDF-1.4 note")
    out = cli("record", "--kind", "supply-step", "--lot", "L-7", "--from", "farm", "--to", "port", "--quantity", "3.5",
              "--unit", "kg", "--time", "2026-03-01T10:00:00Z", "--subject", "delivery-note.pdf", "--json", "--flush")
    assert out.exit_code == 0, out.output
    record = json.loads((project / json.loads(out.stdout)["bundle"]).read_text())["record"]
    assert record["body"] == {"lot": "L-7", "from": "farm", "to": "port", "quantity": "3.5", "unit": "kg", "time": "2026-03-01T10:00:00Z"}
    assert [s["name"] for s in record["subjects"]] == ["delivery-note.pdf"]
    many = cli("record", "--kind", "authorship", "--work", SHA, "--authors", "A", "--authors", "B", "--json")
    assert many.exit_code == 0, many.output
    bad = cli("record", "--kind", "donation", "--donor", "D", "--recipient", "R", "--amount", "25", "--currency", "EURO")
    assert bad.exit_code == 2 and bad.output.strip().splitlines() == [
        "error: record of kind 'donation': field 'body.currency': 'EURO' is not an ISO 4217 currency code (e.g. EUR, USD, CHF)"]
    typo = cli("record", "--kind", "donation", "--donr", "D")
    assert typo.exit_code == 2 and "no option '--donr' for kind 'donation'" in typo.output
    free = cli("record", "--kind", "measurement", "--celsius", "3")
    assert free.exit_code == 2 and "kind 'measurement' is not a registered kind" in free.output
    twice = cli("record", "--kind", "donation", "--donor", "D", "--body", '{"donor": "E"}')
    assert twice.exit_code == 2 and "field 'donor' is given twice" in twice.output
    assert cli("status", "--json").exit_code == 0 and json.loads(cli("status", "--json").stdout)["pending"] == 1


def test_kinds_command_lists_the_kinds(project, cli):
    out = cli("kinds", "--json")
    assert out.exit_code == 0
    rows = {r["kind"]: r for r in json.loads(out.stdout)["kinds"]}
    assert set(VALID) <= set(rows)
    assert rows["donation"]["private"] == ["donor"] and "currency" in rows["donation"]["fields"]
    assert rows["ml-run"]["plugin"] == "bctrace.ml.plugin" and "claimed-at" in rows["authorship"]["fields"]
