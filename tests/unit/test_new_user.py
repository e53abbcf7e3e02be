"""What a new user meets in the first hour, from the README: each a line that says what to do."""

from __future__ import annotations

import json
from pathlib import Path


def test_chains_estimate_says_unknown_for_a_chain_it_cannot_reach(project: Path, cli) -> None:
    (project / "bctrace.toml").write_text(
        '[chains.local]\nbackend = "local"\n[chains.gone]\nbackend = "evm"\nrpc_url = "http://127.0.0.1:9"\n'
        'chain_id = 1\nrpc_timeout = 2\nrpc_retries = 0\n')
    cli("record", "--kind", "x")
    cli("flush", "--chain", "local")  # makes the local ledger, so it is reachable
    out = cli("chains", "--estimate").output
    gone = next(line for line in out.splitlines() if line.strip().startswith("gone"))
    local = next(line for line in out.splitlines() if line.strip().startswith("local"))
    assert "NO" in gone and "unknown (unreachable)" in gone and "free" not in gone
    assert local.rstrip().endswith("free")


def test_record_and_stdin_text_honour_bundle_dir_of_the_config(project: Path, cli) -> None:
    (project / "bctrace.toml").write_text('bundle_dir = "proofs"\n[chains.local]\nbackend = "local"\n')
    made = json.loads(cli("record", "--kind", "x", "--json", '{"a": 1}', "--flush", "--output-json").output)
    assert Path(made["bundle"]) == project / "proofs" / f"{made['digest']}.bctrace.json"
    assert Path(made["bundle"]).is_file()
    text = json.loads(cli("stamp", "-", "--json", input="an idea").output)
    assert Path(text["stamped"][0]["bundle"]).parent == project / "proofs"
    explicit = json.loads(cli("record", "--kind", "x", "--out", "elsewhere", "--output-json").output)
    assert Path(explicit["bundle"]).parent == Path("elsewhere")
