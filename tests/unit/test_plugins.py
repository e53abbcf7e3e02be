"""Plugin loading: a real third-party package pip-installed into this environment, selected by
name from a config file; direct registration; autoload switch."""

import subprocess
import sys
from pathlib import Path

import pytest

from bctrace import Tracer
from bctrace.errors import ConfigError, PluginError
from bctrace.plugins import hookimpl
from bctrace._internal.plugin_manager import BackendRegistry, backend_registry, get_plugin_manager

SAMPLE = Path(__file__).resolve().parents[1] / "plugins" / "sample_notary"


@pytest.fixture(scope="module")
def sample_plugin_installed():
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", str(SAMPLE)], check=True, timeout=300)
    import importlib

    importlib.invalidate_caches()
    yield
    subprocess.run([*pip, "uninstall", "-y", "bctrace-sample-notary"], check=True, timeout=300)


def test_third_party_backend_selected_from_config(project, sample_plugin_installed, cli):
    (project / "bctrace.toml").write_text(
        '[chains.local]\nbackend = "local"\n[chains.notary]\nbackend = "sample-notary"\nfile = "notary.json"\nchain_id = 777\n'
    )
    (project / "a.txt").write_text("a")
    assert cli("stamp", "a.txt").exit_code == 0
    result = cli("verify", "a.txt", "--policy", "all", "--json")
    assert result.exit_code == 0, result.output
    import json

    chains = json.loads(result.stdout)["results"][0]["chains"]
    assert {c["chain"]: c["status"] for c in chains} == {"local": "verified", "notary": "verified"}
    # remove the notary's state: policy all fails naming it, policy any still passes
    (project / "notary.json").unlink()
    failed = cli("verify", "a.txt", "--policy", "all")
    assert failed.exit_code == 3 and "notary: unreachable" in failed.output and "does not exist" in failed.output
    assert cli("verify", "a.txt", "--policy", "any").exit_code == 0


def test_autoload_can_be_turned_off(project, sample_plugin_installed, monkeypatch):
    monkeypatch.setenv("BCTRACE_DISABLE_PLUGIN_AUTOLOAD", "1")
    (project / "bctrace.toml").write_text('[chains.notary]\nbackend = "sample-notary"\nfile = "n.json"\n')
    with pytest.raises(ConfigError, match="unknown backend 'sample-notary'"):
        Tracer.from_config()


class _Twice:
    @hookimpl
    def bctrace_register_backends(self, registry):
        from bctrace_backends.mock import MockBackend

        registry.add("local", MockBackend)


def test_registered_plugin_is_used_then_unregistered():
    pm = get_plugin_manager(autoload=False)
    plugin = _Twice()
    pm.register(plugin)
    try:
        with pytest.raises(PluginError, match="'local' is registered twice"):
            backend_registry(pm)
    finally:
        pm.unregister(plugin)
    assert "local" in backend_registry(pm)


def test_registry_names_known_backends():
    reg = BackendRegistry()
    with pytest.raises(PluginError, match=r"unknown backend 'x' \(known: none\)"):
        reg.get("x")
