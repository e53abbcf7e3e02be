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


def test_verify_of_a_large_file_shows_a_progress_bar_like_stamp(project: Path) -> None:
    """Run in a terminal (a pty on stderr), as a user would: both commands show `hashing NAME`."""
    import os
    import pty
    import subprocess
    import sys

    from bctrace.hashing import PROGRESS_THRESHOLD

    with (project / "big.bin").open("wb") as fh:
        fh.truncate(PROGRESS_THRESHOLD + 1)

    def on_terminal(*args: str) -> tuple[int, str]:
        parent, child = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-c", "from bctrace.cli import main; main()", *args],
                                cwd=project, stdout=subprocess.DEVNULL, stderr=child, env={**os.environ, "COLUMNS": "120"})
        os.close(child)
        seen = b""
        while True:
            try:
                data = os.read(parent, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            seen += data
        os.close(parent)
        return proc.wait(timeout=120), seen.decode(errors="replace")

    code, stamp_err = on_terminal("stamp", "big.bin")
    assert code == 0 and "hashing big.bin" in stamp_err
    code, verify_err = on_terminal("verify", "big.bin")
    assert code == 0 and "hashing big.bin" in verify_err
