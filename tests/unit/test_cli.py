import json
from pathlib import Path

import pytest


def flip_byte(path: Path, needle: str, replacement: str) -> None:
    text = path.read_text()
    assert needle in text
    path.write_text(text.replace(needle, replacement, 1))


@pytest.fixture
def stamped(project, cli):
    (project / "a.txt").write_text("alpha")
    (project / "b.txt").write_text("beta")
    result = cli("stamp", "a.txt", "b.txt")
    assert result.exit_code == 0, result.output
    return project


def test_stamp_then_verify(stamped, cli):
    result = cli("verify", "a.txt", "b.txt")
    assert result.exit_code == 0, result.output
    assert "OK a.txt" in result.output and "verified" in result.output


def test_changed_file_fails(stamped, cli):
    (stamped / "a.txt").write_text("alphb")
    result = cli("verify", "a.txt")
    assert result.exit_code == 1
    assert "a.txt changed: sha256" in result.output


def test_changed_bundle_record_fails(stamped, cli):
    bundle = stamped / "a.txt.bctrace.json"
    flip_byte(bundle, '"kind": "file"', '"kind": "filf"')
    result = cli("verify", "a.txt.bctrace.json")
    assert result.exit_code == 1
    assert "does not hash to the bundle's digest" in result.output


def test_changed_proof_fails(stamped, cli):
    bundle = stamped / "a.txt.bctrace.json"
    data = json.loads(bundle.read_text())
    step = data["merkle"]["proof"][0]
    flip_byte(bundle, step, step[:-1] + ("0" if step[-1] != "0" else "1"))
    result = cli("verify", "a.txt")
    assert result.exit_code == 1
    assert "Merkle proof does not lead" in result.output


def test_changed_ledger_fails(stamped, cli):
    ledger = stamped / ".bctrace" / "ledger.jsonl"
    lines = ledger.read_text().splitlines()
    lines[1] = lines[1].replace('"height":1', '"height":2')
    ledger.write_text("\n".join(lines) + "\n")
    result = cli("verify", "a.txt")
    assert result.exit_code == 1
    assert "tampered" in result.output and "ledger" in result.output


def test_two_local_chains_policy_all_then_one_removed(project, cli):
    (project / "bctrace.toml").write_text(
        '[chains.main]\nbackend = "local"\npath = "ledger-main"\n[chains.backup]\nbackend = "local"\npath = "ledger-backup"\n'
    )
    (project / "doc.txt").write_text("doc")
    assert cli("stamp", "doc.txt").exit_code == 0
    ok = cli("verify", "doc.txt", "--policy", "all", "--json")
    assert ok.exit_code == 0
    report = json.loads(ok.stdout)["results"][0]
    assert [c["status"] for c in report["chains"]] == ["verified", "verified"]
    import shutil

    shutil.rmtree(project / "ledger-backup")
    failed = cli("verify", "doc.txt", "--policy", "all")
    assert failed.exit_code == 3
    assert "backup: unreachable" in failed.output and "ledger-backup" in failed.output
    assert cli("verify", "doc.txt", "--policy", "any").exit_code == 0
    assert cli("verify", "doc.txt", "--policy", "2").exit_code == 3


@pytest.mark.parametrize(
    "config, args, message",
    [
        ('[chains.x]\nbackend = "nosuch"\n', ["chains"], "unknown backend 'nosuch'"),
        ("[chains.x\n", ["chains"], "not valid TOML"),
        ("[chains.x]\npath='p'\n", ["chains"], "field 'backend' is missing"),
        ('[chains.x]\nbackend = "local"\nwat = 1\n', ["chains"], "field 'wat': unknown key"),
        (None, ["verify", "missing.txt"], "path missing.txt does not exist"),
        (None, ["stamp", "missing.txt"], "path missing.txt does not exist"),
        (None, ["verify", "--policy", "most", "x"], "policy 'most'"),
        (None, ["record", "--kind", "k", "--json", "{oops"], "--json is not valid JSON"),
        (None, ["record", "--kind", "k", "--body", "{oops"], "--body is not valid JSON"),
        (None, ["record", "--kind", "k", "--body", "[1]"], "--body must be a JSON object"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(project, cli, config, args, message):
    if config:
        (project / "bctrace.toml").write_text(config)
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.strip().splitlines() if "is deprecated" not in line]
    assert len(lines) == 1


def test_bundle_that_is_not_json(project, cli):
    (project / "x.bctrace.json").write_text("{ not json")
    result = cli("verify", "x.bctrace.json")
    assert result.exit_code == 2 and "is not JSON" in result.output
    (project / "y.bctrace.json").write_text('{"hello": 1}')
    result = cli("show", "y.bctrace.json")
    assert result.exit_code == 2 and "not a bctrace proof bundle" in result.output


def test_record_flush_show_bundle_status(project, cli):
    rec = cli("record", "--kind", "donation", "--body", '{"donor": "A. Donor", "recipient": "school-fund", "amount": "25", "currency": "EUR"}', "--json")
    assert rec.exit_code == 0
    digest = json.loads(rec.stdout)["digest"]
    st = cli("status", "--json")
    assert json.loads(st.stdout)["pending"] == 1
    fl = cli("flush", "--json")
    assert fl.exit_code == 0 and json.loads(fl.stdout)["batches"][0]["records"] == 1
    bundle_file = project / ".bctrace" / "bundles" / f"{digest}.bctrace.json"
    assert bundle_file.exists()
    shown = cli("show", bundle_file)
    assert "kind donation" in shown.output and digest in shown.output
    exported = cli("bundle", digest, "-o", project / "exported.bctrace.json")
    assert exported.exit_code == 0
    assert cli("verify", project / "exported.bctrace.json").exit_code == 0


def test_stdin_text_and_trace_steps(project, cli):
    r = cli("stamp", "-", "--json", input="my paper's abstract")
    assert r.exit_code == 0
    out = json.loads(r.stdout)
    assert out["stamped"][0]["bundle"].endswith(".bctrace.json")
    assert cli("verify", out["stamped"][0]["bundle"]).exit_code == 0
    a = json.loads(cli("record", "--kind", "supply-step", "--body", '{"lot":"lot-1","location":"farm"}', "--trace", "lot-1", "--json").stdout)
    b = json.loads(cli("record", "--kind", "supply-step", "--body", '{"lot":"lot-1","location":"port"}', "--trace", "lot-1", "--json", "--flush").stdout)
    assert (a["seq"], b["seq"]) == (0, 1)
    both = cli("verify", a["bundle"], b["bundle"])
    assert both.exit_code == 0
    only_second = cli("verify", b["bundle"])
    assert only_second.exit_code == 0  # a single step verifies on its own; the chain is checked when several are given
    c = json.loads(cli("record", "--kind", "supply-step", "--body", '{"lot":"lot-1","location":"shop"}', "--trace", "lot-1", "--json", "--flush").stdout)
    gap = cli("verify", a["bundle"], c["bundle"])
    assert gap.exit_code == 1 and "trace lot-1: step 1 is missing" in gap.output


def test_chains_and_init(project, cli):
    assert cli("init").exit_code == 0
    assert (project / "bctrace.toml").exists()
    assert cli("init").exit_code == 2
    out = cli("chains", "--json")
    assert out.exit_code == 0
    (row,) = json.loads(out.stdout)["chains"]
    assert row["chain"] == "local" and row["reachable"] is False  # nothing anchored yet: no ledger
    (project / "a").write_text("a")
    cli("stamp", "a")
    (row,) = json.loads(cli("chains", "--json").stdout)["chains"]
    assert row["reachable"] is True and row["head"] == 1


def test_record_0_1_spellings_keep_their_meaning_with_a_deprecation_line(project, cli):
    """`record --json BODY` (0.1) still means the body, never the output flag; `--output-json`
    still means JSON output; both say so on stderr. `--json` alone is the output flag."""
    old = cli("record", "--kind", "note", "--json", '{"n": 1}', "--output-json")
    assert old.exit_code == 0, old.output
    assert json.loads(old.stdout)["digest"].startswith("0x")
    assert "record --json BODY is deprecated" in old.stderr and "record --output-json is deprecated" in old.stderr
    body_file = project / "body.json"
    body_file.write_text('{"n": 2}')
    at_file = cli("record", "--kind", "note", "--json", f"@{body_file}")
    assert at_file.exit_code == 0 and at_file.stdout.startswith("recorded 0x")
    new = cli("record", "--kind", "note", "--body-file", body_file, "--salt", "--json")
    assert new.exit_code == 0 and new.stderr == "" and json.loads(new.stdout)["seq"] == 0
    both = cli("record", "--kind", "note", "--body", "{}", "--body-file", body_file)
    assert both.exit_code == 2 and "not both" in both.stderr


def test_verbose_logs_what_flush_does_and_stops_after_the_command(project, cli):
    (project / "a.txt").write_text("a")
    loud = cli("-v", "stamp", "a.txt")
    assert loud.exit_code == 0
    assert "bctrace.tracer INFO batch 1: anchored on local" in loud.stderr
    quiet = cli("stamp", "--json", "-", input="b")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_debug_shows_the_cause_chain(project, cli):
    (project / "bctrace.toml").write_text("state_dir = [unclosed\n")
    plain = cli("status")
    assert plain.exit_code == 2 and plain.stderr.startswith("error: config ") and "Traceback" not in plain.stderr
    debug = cli("--debug", "status")
    assert debug.exit_code == 2 and debug.stderr.startswith(plain.stderr.splitlines()[0])
    assert "Traceback" in debug.stderr and "TOMLDecodeError" in debug.stderr and "ConfigError" in debug.stderr
