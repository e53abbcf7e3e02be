from pathlib import Path

import pytest

from bctrace._internal.config import load_config
from bctrace.errors import ConfigError
from bctrace_backends.local.backend import LocalConfig


def cfg(project: Path, text: str, name: str = "bctrace.toml") -> Path:
    p = project / name
    p.write_text(text)
    return p


def test_no_config_means_local_in_cwd(project):
    c = load_config()
    assert c.source is None and c.default_chains == ["local"]
    assert c.state_dir == project.resolve() / ".bctrace"


def test_found_in_parent_folder_and_paths_relative_to_it(project):
    cfg(project, '[chains.a]\nbackend = "local"\npath = "ledgers/a"\n')
    sub = project / "deep" / "er"
    sub.mkdir(parents=True)
    c = load_config(cwd=sub)
    assert c.root == project.resolve()
    assert isinstance(c.chains["a"], LocalConfig) and c.chains["a"].path == project.resolve() / "ledgers/a"


def test_pyproject_tool_table(project):
    cfg(project, '[project]\nname = "x"\n[tool.bctrace]\ndefault_chains = ["l"]\n[tool.bctrace.chains.l]\nbackend = "local"\n', "pyproject.toml")
    c = load_config()
    assert c.source.name == "pyproject.toml" and list(c.chains) == ["l"]


def test_env_var_config_and_expansion(project, monkeypatch, tmp_path):
    p = cfg(tmp_path, '[chains.x]\nbackend = "local"\npath = "${LEDGER_DIR}/x"\nchain_id = 5\n[chains.y]\nbackend = "local"\npath = "${NOPE:-fallback}"\n', "elsewhere.toml")
    monkeypatch.setenv("BCTRACE_CONFIG", str(p))
    monkeypatch.setenv("LEDGER_DIR", "/tmp/ledgers")
    c = load_config()
    assert c.chains["x"].path == Path("/tmp/ledgers/x") and c.chains["y"].path.name == "fallback"


@pytest.mark.parametrize(
    "text, message",
    [
        ('[chains.x]\nbackend = "nosuch"\n', "chain 'x': unknown backend 'nosuch'"),
        ("[chains.x\nbackend = 1", "is not valid TOML"),
        ("[chains.x]\npath = 'a'\n", "chain 'x': field 'backend' is missing"),
        ('[chains.x]\nbackend = "local"\ncolour = "red"\n', "chain 'x': field 'colour': unknown key"),
        ('[chains.x]\nbackend = "local"\nchain_id = "abc"\n', "chain 'x': field 'chain_id'"),
        ("surprise = 1\n", "field 'surprise': unknown key"),
        ('default_chains = ["zzz"]\n[chains.x]\nbackend = "local"\n', "default_chains names 'zzz'"),
        ('[chains.x]\nbackend = "local"\npath = "${UNSET_VAR_FOR_TEST}"\n', "UNSET_VAR_FOR_TEST is not set"),
    ],
    ids=["unknown-backend", "malformed", "missing-backend", "unknown-key", "bad-type", "top-level-key", "default-chain", "env"],
)
def test_config_errors_name_the_chain_and_field(project, text, message):
    cfg(project, text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")) as err:
        load_config()
    assert err.value.exit_code == 2
    assert "\n" not in str(err.value).strip() or "TOML" in str(err.value)


def test_explicit_missing_file(project):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config("nope.toml")
