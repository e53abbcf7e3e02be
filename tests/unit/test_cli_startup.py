"""Start-up of the command line: what ``bctrace --help`` and ``bctrace verify`` of a local-ledger
bundle import, checked on the modules a real process has loaded when it exits (deterministic;
the time itself is measured in ``benchmarks/``, ``python -m benchmarks --only startup``).

``--help`` must load click and the list of commands with their one-line help, nothing that
validates or checks; ``verify`` only what checking that bundle needs (pydantic for the bundle
model, the local ledger), no chain library, database driver, web server or ML library."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bctrace import Tracer

CHILD = textwrap.dedent(
    """
    import atexit, json, sys
    from bctrace._internal import entrypoints
    out, declared, may_declare = sys.argv[1], [], entrypoints.may_declare
    entrypoints.may_declare = lambda group: declared.append(may_declare(group)) or declared[-1]
    atexit.register(lambda: json.dump({"modules": sorted(sys.modules), "third_party": any(declared)}, open(out, "w")))
    from bctrace.cli import main
    sys.argv = ["bctrace", *sys.argv[2:]]
    main()
    """
)
"""Runs ``bctrace ARGS`` as the console script does, and writes the modules loaded at exit and
whether plugin discovery saw a third-party plugin installed (``test_plugins.py`` installs one
for a while, maybe while this file runs on the other worker)."""

NEVER = {
    "web3", "eth_account", "eth_abi", "eth_utils", "eth_keys", "trie", "rlp", "solcx", "solders", "httpx",
    "opentimestamps", "bitcoin", "psycopg", "starlette", "uvicorn", "numpy", "torch", "sklearn", "matplotlib",
    "mlflow", "threadpoolctl", "blake3", "in_toto_attestation", "securesystemslib", "prov", "google", "rich",
}
"""Optional extras and heavy libraries: neither command may import any of them."""

NOT_FOR_HELP = NEVER | {
    "pydantic", "pydantic_core", "annotated_types", "bctrace._internal.config", "bctrace._internal.tracer",
    "bctrace._internal.record", "bctrace._internal.bundle", "bctrace._internal.outbox", "tomllib", "tomli",
    "sqlite3", "filelock", "rfc8785", "sha3", "pycountry", "importlib.metadata", "email", "zipfile",
}
"""``--help`` shows names and one-line help: no models, config, outbox or hashing, and (with no
third-party plugin installed) not even importlib.metadata."""

NOT_FOR_LOCAL_VERIFY = NEVER | {
    "bctrace._internal.outbox", "sqlite3", "filelock", "tomllib", "bctrace._internal.builtin_kind_models", "pycountry",
    "bctrace._internal.stores", "bctrace._internal.cid", "bctrace.service", "bctrace.web", "bctrace.ml.cli",
    "bctrace_backends.evm.backend", "bctrace_backends.evm.cli",
}
"""Checking a local-ledger bundle reads the bundle and the ledger: no outbox (records waiting to
be anchored play no part), no lock (nothing is written), no TOML (the folder has no config), no
record kinds' models, content stores, service or EVM code."""


def loaded(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str], bool]:
    """Run ``bctrace ARGS``: its result, the modules loaded at its exit, and whether a
    third-party plugin was installed."""
    out = cwd / "modules.json"
    result = subprocess.run([sys.executable, "-c", CHILD, str(out), *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    seen = json.loads(out.read_text())
    return result, set(seen["modules"]), seen["third_party"]


def assert_none_of(forbidden: set[str], modules: set[str]) -> None:
    """No module of a forbidden package (top name) or a forbidden module (full name)."""
    bad = sorted(m for m in modules if m.split(".")[0] in forbidden or any(m == f or m.startswith(f + ".") for f in forbidden))
    assert not bad, f"imported: {', '.join(bad)}"


def test_help_imports_only_the_command_list(tmp_path):
    result, modules, third_party = loaded(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    for name in ("verify", "stamp", "evm", "ml", "ipfs"):  # core commands and the plugins' groups
        assert f"  {name} " in result.stdout
    # an installed third-party plugin is imported and may import what it likes (importlib.metadata found it)
    assert_none_of(NEVER if third_party else NOT_FOR_HELP, modules)


def test_verify_of_a_local_ledger_bundle_imports_only_what_checks_it(tmp_path):
    with Tracer.from_config(cwd=tmp_path) as tracer:
        rec = tracer.record("startup", {"i": 1}, bundle_dir=tmp_path / "b")
        tracer.flush()
    bundle = tmp_path / "b" / f"{rec.digest_hex}.bctrace.json"
    result, modules, _ = loaded(tmp_path, "verify", str(bundle))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"OK {bundle}") and " verified " in result.stdout
    assert "bctrace_backends.local.backend" in modules  # the ledger was consulted
    assert_none_of(NOT_FOR_LOCAL_VERIFY, modules)


@pytest.mark.parametrize("command", [["ml", "--help"], ["evm", "--help"], ["serve", "--help"]])
def test_a_plugin_group_help_imports_no_extra(tmp_path, command):
    result, modules, _ = loaded(tmp_path, *command)
    assert result.returncode == 0, result.stderr
    assert_none_of(NEVER, modules)


def test_every_core_command_reference_loads_the_command_of_that_name():
    from bctrace._internal.registry import load_reference
    from bctrace.cli.app import CORE_COMMANDS

    assert {name: load_reference(reference).name for name, reference in CORE_COMMANDS.items()} == {name: name for name in CORE_COMMANDS}


def test_verify_asks_for_web3_only_when_an_evm_anchor_is_checked(tmp_path):
    """An EVM chain in the config is built (its config checked), but a bundle with no anchor on
    it imports no chain library: the backend's client is made when a node is first asked."""
    (tmp_path / "bctrace.toml").write_text(
        'default_chains = ["local"]\n[chains.local]\nbackend = "local"\n'
        '[chains.l2]\nbackend = "evm"\nrpc_url = "http://127.0.0.1:9"\nchain_id = 1337\n'
        'contract = "0x5f6F0B295f6E436bB13305D07C1517370dcc2D82"\n')
    with Tracer.from_config(cwd=tmp_path) as tracer:
        rec = tracer.record("startup", {"i": 2}, bundle_dir=tmp_path / "b")
        tracer.flush()
    result, modules, _ = loaded(tmp_path, "verify", str(tmp_path / "b" / f"{rec.digest_hex}.bctrace.json"))
    assert result.returncode == 0, result.stderr
    assert "bctrace_backends.evm.backend" in modules  # the configured EVM chain was built
    assert_none_of(NEVER, modules)
