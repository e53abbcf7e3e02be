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
    made = json.loads(cli("record", "--kind", "x", "--body", '{"a": 1}', "--flush", "--json").stdout)
    assert Path(made["bundle"]) == project / "proofs" / f"{made['digest']}.bctrace.json"
    assert Path(made["bundle"]).is_file()
    text = json.loads(cli("stamp", "-", "--json", input="an idea").stdout)
    assert Path(text["stamped"][0]["bundle"]).parent == project / "proofs"
    explicit = json.loads(cli("record", "--kind", "x", "--out", "elsewhere", "--json").stdout)
    assert Path(explicit["bundle"]).parent == Path("elsewhere")


def test_verify_of_a_large_file_shows_a_progress_bar_like_stamp(project: Path) -> None:
    """Run in a terminal (a pty on stderr), as a user would: both commands show `hashing NAME`."""
    import os
    import pty
    import subprocess
    import sys

    from bctrace._internal.hashing import PROGRESS_THRESHOLD

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


def _no_anvil_around(monkeypatch, tmp_path: Path) -> Path:
    """A folder with no node_modules above it, a PATH without anvil, an empty home."""
    import shutil

    monkeypatch.delenv("BCTRACE_ANVIL", raising=False)
    monkeypatch.setenv("PATH", str(Path(shutil.which("npm")).parent))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NPM_CONFIG_PREFIX", str(tmp_path / "npm-global"))
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    return tmp_path / "work"


def test_devnet_finds_anvil_installed_by_foundryup_or_npm_globally(tmp_path: Path, monkeypatch) -> None:
    import bctrace_backends.evm.anvil as anvil_mod
    from bctrace_backends.evm.anvil import ANVIL_GLOB, find_anvil

    real = sorted((Path(anvil_mod.__file__).resolve().parents[2] / "node_modules").glob(ANVIL_GLOB))[0]
    work = _no_anvil_around(monkeypatch, tmp_path)
    monkeypatch.setattr(anvil_mod, "__file__", str(tmp_path / "site-packages" / "anvil.py"))  # an installed bctrace
    (tmp_path / "home" / ".foundry" / "bin").mkdir(parents=True)
    (tmp_path / "home" / ".foundry" / "bin" / "anvil").symlink_to(real)
    assert find_anvil(work) == tmp_path / "home" / ".foundry" / "bin" / "anvil"
    (tmp_path / "home" / ".foundry" / "bin" / "anvil").unlink()
    package = tmp_path / "npm-global" / "lib" / "node_modules" / "@foundry-rs" / "anvil-linux-amd64"
    package.mkdir(parents=True)
    (package / "bin").symlink_to(real.parent)
    assert find_anvil(work) == package / "bin" / "anvil"


def test_devnet_without_anvil_says_where_it_looked(tmp_path: Path, monkeypatch, cli) -> None:
    import bctrace_backends.evm.anvil as anvil_mod

    work = _no_anvil_around(monkeypatch, tmp_path)
    monkeypatch.setattr(anvil_mod, "__file__", str(tmp_path / "site-packages" / "anvil.py"))
    monkeypatch.chdir(work)
    result = cli("evm", "devnet")
    assert result.exit_code in (2, 3) and result.stderr.startswith("error: devnet chain id 31337: anvil not found (looked in node_modules of ")
    assert "~/.foundry/bin" in result.stderr and "npm install @foundry-rs/anvil-linux-amd64@1.7.1" in result.stderr
    assert "BCTRACE_ANVIL" in result.stderr and len(result.stderr.strip().splitlines()) == 1
