"""A user who ran only `pip install bctrace` (no extras) must get a working CLI: every built-in
plugin registers without importing web3, httpx, torch or any other optional library.

Simulated in a child interpreter whose import system refuses those packages."""

import subprocess
import sys
import textwrap

OPTIONAL = [
    "web3", "eth_account", "eth_abi", "eth_utils", "rlp", "solcx", "httpx", "blake3", "numpy", "torch",
    "sklearn", "lightning", "pytorch_lightning", "transformers", "mlflow", "testcontainers", "threadpoolctl",
    "solders",
]

CHILD = textwrap.dedent(
    """
    import sys, importlib.abc
    blocked = set(sys.argv[1].split(","))

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in blocked:
                raise ModuleNotFoundError(f"No module named {name!r} (blocked: optional extra)")
            return None

    sys.meta_path.insert(0, Refuse())
    from bctrace.cli import main
    sys.argv = ["bctrace", *sys.argv[2:]]
    main()
    """
)


def run(tmp_path, *args):
    return subprocess.run(
        [sys.executable, "-c", CHILD, ",".join(OPTIONAL), *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )


def test_cli_works_with_core_dependencies_only(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    for args in (["--help"], ["stamp", "a.txt"], ["verify", "a.txt"], ["chains"], ["ml", "--help"]):
        result = run(tmp_path, *args)
        assert result.returncode == 0, f"bctrace {' '.join(args)}: {result.stderr}"
        assert "Traceback" not in result.stderr


def test_optional_backend_without_its_extra_is_one_clear_line(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "bctrace.toml").write_text(
        '[chains.eth]\nbackend = "evm"\nrpc_url = "http://127.0.0.1:9"\nchain_id = 1\n'
        'contract = "0x4727329ed2A71A78A282802083768c337427884B"\nkey = "env:NO_KEY"\n'
    )
    chain = run(tmp_path, "stamp", "a.txt")
    assert chain.returncode == 2, chain.stderr
    assert chain.stderr.startswith("error: chain 'eth': the evm backend needs web3") and "bctrace[evm]" in chain.stderr
    assert '"pending": 0' in run(tmp_path, "status", "--json").stdout  # batched, waiting for the chain
    assert '"chains": [\n        "eth"' in run(tmp_path, "status", "--json").stdout

    (tmp_path / "bctrace.toml").write_text('[stores.pins]\nbackend = "ipfs"\napi = "http://127.0.0.1:9"\n')
    store = run(tmp_path, "stamp", "--store", "pins", "a.txt")
    assert store.returncode == 2
    assert "store 'ipfs' needs a package that is not installed" in store.stderr and "bctrace[ipfs]" in store.stderr
    for result in (chain, store):
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_commands_of_the_evm_extra_name_it_in_one_line(tmp_path):
    address = "0x4727329ed2A71A78A282802083768c337427884B"
    for args in (["evm", "devnet"], ["evm", "deploy", "--chain", "eth"], ["evm", "writers", "--chain", "eth"],
                 ["evm", "allow", "--chain", "eth", address], ["evm", "revoke", "--chain", "eth", address]):
        result = run(tmp_path, *args)
        assert result.returncode == 2, f"bctrace {' '.join(args[:2])}: {result.stderr}"
        assert result.stderr.startswith(f"error: bctrace {' '.join(args[:2])} needs ") and "pip install 'bctrace[evm]'" in result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bctrace.toml").exists()  # devnet wrote nothing


def test_a_signed_bundle_without_eth_account_is_one_usage_line(tmp_path, monkeypatch):
    """The eip191 scheme is the EVM plugin's (registered by reference): without eth-account the
    config still loads, and checking a signed bundle says what to install (exit 2)."""
    from bctrace import Tracer

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTHOR_KEY", "0x" + "4c" * 32)
    (tmp_path / "bctrace.toml").write_text('[signer]\nkey = "env:AUTHOR_KEY"\n')
    (tmp_path / "a.txt").write_text("a")
    with Tracer.from_config() as tracer:
        tracer.stamp(tmp_path / "a.txt", sign=True)
        tracer.flush()
    result = run(tmp_path, "verify", "a.txt")
    assert result.returncode == 2, result.stderr
    assert result.stdout.strip().endswith("the record is signed; checking it needs eth-account: pip install 'bctrace[evm]'")
    assert len(result.stdout.strip().splitlines()) == 1 and "Traceback" not in result.stderr
