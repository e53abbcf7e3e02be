"""Plugin loading: the template plugin pip-installed and passing the conformance suite; installed
plugins that are broken (fail to import, misspell a hook, take a core command's name) are one
line naming them while everything else keeps working; every hook exercised by a throwaway
plugin registered and unregistered; the autoload switch."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pydantic
import pytest

from bctrace import Tracer
from bctrace._internal.plugin_manager import backend_registry, reset_plugin_manager, store_registry
from bctrace.api import BackendRegistry, CommandRegistry, KindRegistry, SignatureInvalid, Signer, SignerConfig, SignerRegistry, StoreRegistry, hookimpl, pass_tracer
from bctrace.errors import ConfigError, PluginError
from bctrace.testing import ChainBackendTests, registered_plugin

SAMPLE = Path(__file__).resolve().parents[1] / "plugins" / "sample_notary"


@pytest.fixture(scope="module")
def sample_plugin_installed():
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", str(SAMPLE)], check=True, timeout=300)
    import importlib

    importlib.invalidate_caches()
    reset_plugin_manager()  # the process's manager was built before the plugin was installed
    yield
    subprocess.run([*pip, "uninstall", "-y", "bctrace-sample-notary"], check=True, timeout=300)
    reset_plugin_manager()


def test_third_party_backend_selected_from_config(project, sample_plugin_installed, cli):
    (project / "bctrace.toml").write_text(
        '[chains.local]\nbackend = "local"\n[chains.notary]\nbackend = "sample-notary"\nfile = "notary.json"\nchain_id = 777\n'
    )
    (project / "a.txt").write_text("a")
    assert cli("stamp", "a.txt").exit_code == 0
    result = cli("verify", "a.txt", "--policy", "all", "--json")
    assert result.exit_code == 0, result.output
    chains = json.loads(result.stdout)["results"][0]["chains"]
    assert {c["chain"]: c["status"] for c in chains} == {"local": "verified", "notary": "verified"}
    bundle = json.loads((project / "a.txt.bctrace.json").read_text())
    assert [a.get("notary") for a in bundle["anchors"]] == [None, "notary.json"]  # backend proof data travels
    # its namespaced command group gets the same tracer as every command
    count = cli("notary", "count", "--json")
    assert count.exit_code == 0 and json.loads(count.stdout) == {"chain": "notary", "anchors": 1}
    # remove the notary's state: policy all fails naming it, policy any still passes
    (project / "notary.json").unlink()
    failed = cli("verify", "a.txt", "--policy", "all")
    assert failed.exit_code == 3 and "notary: unreachable" in failed.output and "does not exist" in failed.output
    assert cli("verify", "a.txt", "--policy", "any").exit_code == 0


class TestTemplatePluginConformance(ChainBackendTests):
    """The template plugin, written only against bctrace.api, passes the shared conformance suite."""

    @pytest.fixture
    def backend(self, sample_plugin_installed, tmp_path):
        from bctrace_sample_notary.plugin import NotaryBackend, NotaryConfig

        return NotaryBackend("notary", NotaryConfig(file=tmp_path / "notary.json"), state_dir=tmp_path)


def test_autoload_can_be_turned_off(project, sample_plugin_installed, monkeypatch):
    monkeypatch.setenv("BCTRACE_DISABLE_PLUGIN_AUTOLOAD", "1")
    (project / "bctrace.toml").write_text('[chains.notary]\nbackend = "sample-notary"\nfile = "n.json"\n')
    with pytest.raises(ConfigError, match="unknown backend 'sample-notary'"):
        Tracer.from_config()


# -- installed plugins that are broken --------------------------------------------------------


def install_fake_plugin(site: Path, name: str, source: str) -> None:
    """A real installed distribution (a dist-info with an entry point), without pip."""
    (site / f"{name}.py").write_text(textwrap.dedent(source))
    info = site / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[bctrace]\n{name} = {name}\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    reset_plugin_manager()
    yield folder
    reset_plugin_manager()


BROKEN = {
    "import_fails": ("import not_a_module_anywhere\n", "plugin 'import_fails' (import_fails) failed to load: ModuleNotFoundError"),
    "misspelt": (
        """
        from bctrace.api import hookimpl

        @hookimpl
        def bctrace_register_backend(registry):
            pass
        """,
        "plugin 'misspelt' was not loaded: it implements unknown hook 'bctrace_register_backend' (did you mean 'bctrace_register_backends'?)",
    ),
    "old_api": (
        """
        from bctrace.api import hookimpl

        @hookimpl
        def bctrace_add_commands(cli):
            pass
        """,
        "plugin 'old_api' was not loaded: it implements unknown hook 'bctrace_add_commands' (plugin API 1.0 replaced it with 'bctrace_register_commands'",
    ),
    "takes_verify": (
        """
        import click
        from bctrace.api import hookimpl

        @click.command("verify")
        def verify():
            "Not the real verify."

        @hookimpl
        def bctrace_register_commands(registry):
            registry.add(verify)
        """,
        "plugin 'takes_verify' registers command 'verify', which bctrace's core already has; the plugin's command is not added",
    ),
    "hook_raises": (
        """
        from bctrace.api import hookimpl

        @hookimpl
        def bctrace_register_commands(registry):
            raise RuntimeError("bug in the plugin")
        """,
        "plugin 'hook_raises' failed in bctrace_register_commands: RuntimeError: bug in the plugin",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_installed_plugin_is_one_line_and_the_rest_works(name, site, project, cli):
    source, line = BROKEN[name]
    install_fake_plugin(site, name, source)
    result = cli("stamp", "--json", "-", input="text")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stamped"][0]["digest"].startswith("0x")
    assert result.stderr.splitlines() == [f"warning: {line}"] or (
        len(result.stderr.splitlines()) == 1 and result.stderr.startswith(f"warning: {line}")
    ), result.stderr
    helped = cli("--help")
    assert helped.exit_code == 0 and "verify" in helped.stdout and "evm" in helped.stdout


def test_two_plugins_claiming_one_group_name_both_named(site, project, cli):
    group = """
        import click
        from bctrace.api import hookimpl

        @click.group("tools")
        def tools():
            "Tools."

        @tools.command()
        def hello():
            click.echo("hello from {name}")

        @hookimpl
        def bctrace_register_commands(registry):
            registry.add(tools)
        """
    install_fake_plugin(site, "aaa_tools", group.replace("{name}", "aaa"))
    install_fake_plugin(site, "bbb_tools", group.replace("{name}", "bbb"))
    result = cli("tools", "hello")
    assert result.exit_code == 0 and result.stdout == "hello from aaa\n"
    assert result.stderr == ("warning: plugin 'bbb_tools' registers command 'tools', which plugin 'aaa_tools' already has; "
                             "the plugin's command is not added\n")


# -- every hook, with a throwaway plugin registered and unregistered ---------------------------


class _Backends:
    @hookimpl
    def bctrace_register_backends(self, registry: BackendRegistry) -> None:
        from mock_chain import MockBackend

        registry.add("throwaway", MockBackend)
        registry.add("local", MockBackend)  # taken by the built-in: refused, naming both


def test_hook_register_backends():
    with registered_plugin(_Backends(), name="throwaway-backends"):
        registry = backend_registry()
        assert registry.get("throwaway").name == "mock"
        assert registry.get("local").name == "local"  # the built-in keeps its name
        assert registry.problems == ["plugin 'throwaway-backends' registers backend 'local', which plugin 'bctrace_backends.local' already registers"]
    assert "throwaway" not in backend_registry()


class _Stores:
    @hookimpl
    def bctrace_register_stores(self, registry: StoreRegistry) -> None:
        registry.add("throwaway", "bctrace_backends.ipfs.store:IpfsStore", extra="ipfs")


def test_hook_register_stores():
    with registered_plugin(_Stores(), name="throwaway-stores"):
        assert store_registry().get("throwaway").name == "ipfs"
    assert "throwaway" not in store_registry()


@click.group("throwaway")
def _throwaway_group() -> None:
    """A throwaway group."""


@_throwaway_group.command("hi")
def _hi() -> None:
    from bctrace.api import get_config

    click.echo(f"hi from {get_config().describe_source()}")


@_throwaway_group.command("state")
@pass_tracer
def _state(tracer) -> None:
    click.echo(f"state in {tracer.config.state_dir.name}")


class _Commands:
    @hookimpl
    def bctrace_register_commands(self, registry: CommandRegistry) -> None:
        registry.add(_throwaway_group)
        registry.alias("hi", "throwaway hi")


def test_hook_register_commands(project, cli):
    with registered_plugin(_Commands(), name="throwaway-commands"):
        assert cli("throwaway", "hi").stdout == "hi from no config file (defaults: local ledger)\n"
        assert cli("throwaway", "state").stdout == "state in .bctrace\n"  # @pass_tracer
        old = cli("hi")
        assert old.stdout.startswith("hi from") and "'bctrace hi' is deprecated" in old.stderr and "'bctrace throwaway hi'" in old.stderr
    assert cli("throwaway", "hi").exit_code == 2  # gone with the plugin


def test_misspelt_hook_in_a_registered_plugin_is_refused_naming_it():
    class Misspelt:
        @hookimpl
        def bctrace_register_store(self, registry: StoreRegistry) -> None:
            pass

    with pytest.raises(PluginError, match=r"plugin 'typo' was not loaded: it implements unknown hook 'bctrace_register_store' \(did you mean 'bctrace_register_stores'\?\)"):
        with registered_plugin(Misspelt(), name="typo"):
            pass
    with registered_plugin(_Stores(), name="typo"):  # the name is free again
        pass


def test_registry_names_known_backends():
    reg = BackendRegistry()
    with pytest.raises(PluginError, match=r"unknown backend 'x' \(known: none\)"):
        reg.get("x")


class _Runs:
    """A plugin that provides its own run implementation (say, backed by another tracker)."""

    @hookimpl(tryfirst=True)
    def bctrace_run_factory(self):
        def factory(tracer, name, **options):
            return ("throwaway-run", name, options)

        return factory


def test_hook_run_factory(project):
    with Tracer.from_config() as tracer:
        from bctrace.ml import Run

        with tracer.run("built-in") as run:  # the ML plugin's, through the hook
            assert isinstance(run, Run)
        with registered_plugin(_Runs(), name="throwaway-runs"):
            assert tracer.run("mine", seed=1) == ("throwaway-run", "mine", {"seed": 1})
        with tracer.run("again") as run:
            assert isinstance(run, Run)


class _HmacSigner(Signer):
    """A non-EVM signature scheme, as a plugin would add one (HMAC-SHA256 with a shared key:
    enough to exercise the protocol, not a proof of authorship to a third party)."""

    scheme = "test-hmac"

    class Config(SignerConfig):
        scheme: str = "test-hmac"
        who: str

    config_model = Config

    def __init__(self, who: str) -> None:
        self.who = who

    @classmethod
    def from_config(cls, config, where="[signer]"):
        return cls(config.who)

    @property
    def identity(self) -> str:
        return self.who

    def sign(self, message: bytes) -> str:
        return hmac.new(self.who.encode(), message, hashlib.sha256).hexdigest()

    @classmethod
    def check(cls, message: bytes, signature: str, author: str, source: str) -> str:
        if not hmac.compare_digest(hmac.new(author.encode(), message, hashlib.sha256).hexdigest(), signature):
            raise SignatureInvalid(f"{source}: the signature is not {author}'s")
        return author


class _Signers:
    @hookimpl
    def bctrace_register_signers(self, registry: SignerRegistry) -> None:
        registry.add("test-hmac", _HmacSigner)


def test_hook_register_signers(project, cli):
    (project / "bctrace.toml").write_text('[signer]\nscheme = "test-hmac"\nwho = "alice"\n')
    (project / "a.txt").write_text("a")
    with registered_plugin(_Signers(), name="throwaway-signers"):
        stamped = cli("stamp", "--sign", "a.txt")
        assert stamped.exit_code == 0 and "signed by alice" in stamped.output
        record = json.loads((project / "a.txt.bctrace.json").read_text())["record"]
        assert record["signature_scheme"] == "test-hmac" and record["author"] == "alice"
        verified = cli("verify", "a.txt", "--json")
        assert verified.exit_code == 0 and json.loads(verified.stdout)["results"][0]["signed_by"] == "alice"
    # without the plugin the scheme is unknown: a config naming it is refused, and a verifier
    # with no config gets a usage error naming the scheme, not a false verdict
    assert "unknown signer 'test-hmac' (known: eip191)" in cli("verify", "a.txt").output
    (project / "bctrace.toml").unlink()
    unknown = cli("verify", "a.txt")
    assert unknown.exit_code == 2 and "signature scheme 'test-hmac': unknown signer 'test-hmac'" in unknown.output


def test_eip191_signatures_stay_without_a_scheme_field(project, monkeypatch):
    """Records signed with the default scheme look exactly as in 0.1 (same digest inputs)."""
    monkeypatch.setenv("AUTHOR_KEY", "0x" + "4c" * 32)
    (project / "bctrace.toml").write_text('[signer]\nkey = "env:AUTHOR_KEY"\n')
    with Tracer.from_config() as tracer:
        data = tracer.record("note", {}, sign=True).record.to_json_dict()
    assert "signature_scheme" not in data and data["signature"].startswith("0x")


class _BrokenCommandModule:
    @hookimpl
    def bctrace_register_commands(self, registry: CommandRegistry) -> None:
        registry.add("no_such_module_anywhere:group", name="broken")


def test_a_command_group_that_cannot_be_imported_is_one_line(project, cli):
    with registered_plugin(_BrokenCommandModule(), name="broken-commands"):
        helped = cli("--help")
        assert helped.exit_code == 0 and "stamp" in helped.stdout and "broken" not in helped.stdout
        assert helped.stderr == ("warning: plugin 'broken-commands': command 'broken' cannot be loaded: "
                                 "ModuleNotFoundError: No module named 'no_such_module_anywhere'\n")
        used = cli("broken")
        assert used.exit_code == 2 and "cannot be loaded" in used.stderr and "Traceback" not in used.output


class _Grant(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    funder: str
    amount: str = pydantic.Field(pattern=r"^[0-9]+$")
    programme: str | None = None


class _Kinds:
    @hookimpl
    def bctrace_register_kinds(self, registry: KindRegistry) -> None:
        registry.add("grant", _Grant, version=3, description="A research grant", private=("funder",))


def test_hook_register_kinds(project, cli):
    with registered_plugin(_Kinds(), name="throwaway-kinds"):
        out = cli("record", "--kind", "grant", "--funder", "Secret Foundation", "--amount", "5000", "--json", "--flush")
        assert out.exit_code == 0, out.output
        bundle = (project / json.loads(out.stdout)["bundle"]).read_text()
        assert "Secret Foundation" not in bundle and '"kind_version": 3' in bundle  # private by default, versioned
        bad = cli("record", "--kind", "grant", "--funder", "F", "--amount", "lots")
        assert bad.exit_code == 2 and "record of kind 'grant': field 'body.amount'" in bad.output
        listed = {r["kind"]: r for r in json.loads(cli("kinds", "--json").stdout)["kinds"]}
        assert listed["grant"] == {"kind": "grant", "version": 3, "description": "A research grant",
                                   "fields": ["funder", "amount", "programme"], "private": ["funder"], "plugin": "throwaway-kinds"}
    free = cli("record", "--kind", "grant", "--body", '{"anything": 1}')
    assert free.exit_code == 0  # gone with the plugin: a free kind again
