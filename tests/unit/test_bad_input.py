"""Bad input a user (or a hostile file) can give: one readable line, the documented exit code,
never a traceback. Configs that cannot be used, file names that are not text, NaN in a body."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


LONG_URL = "http://node.example/" + "k" * 50_000_000


@pytest.mark.parametrize("content, command, message", [
    (b'state_dir = "\xff\xfe"\n', "status", "is not UTF-8 text (byte 13 is 0xff)"),
    (b"a = " + b"[" * 1000 + b"]" * 1000 + b"\n", "status", "values are nested more than 16 levels deep"),
    (b'[chains.x]\nbackend = "local"\nz = ' + b"{a=" * 40 + b"1" + b"}" * 40 + b"\n", "chains",
     "values are nested more than 16 levels deep"),
    (b'state_dir = "a\\u0000b"\n', "status", "field 'state_dir': contains a NUL character"),
    (b'[chains.l]\nbackend = "local"\npath = "a\\u0000b"\n', "chains", "chain 'l': field 'path': contains a NUL character"),
    (b'state_dir = "~nosuchuser-bctrace/x"\n', "status", "field 'state_dir': '~nosuchuser-bctrace/x': ~nosuchuser-bctrace names no user"),
    (b'[chains.l]\nbackend = "local"\npath = "~nosuchuser-bctrace"\n', "chains", "field 'path': '~nosuchuser-bctrace'"),
    (b'[chains.e]\nbackend = "evm"\nrpc_url = "http://[::1"\nchain_id = 1\n', "chains",
     "chain 'e': field 'rpc_url': is not a valid URL (Invalid IPv6 URL)"),
    (b'[chains.e]\nbackend = "evm"\nrpc_url = "ftp://x"\nchain_id = 1\n', "chains", "must be an http:// or https:// URL"),
    (b'[chains.l]\nbackend = "local"\npath = "bctrace.toml"\n', "status", "bctrace.toml is a file, not a folder"),
    (b'[chains.l]\nbackend = "local"\nchain_id = 9007199254740992\n', "status",
     "field 'chain_id': Input should be less than or equal to 9007199254740991"),
    (b'[chains.l]\nbackend = "local"\nchain_id = 99999999999999999999\n', "status", "field 'chain_id'"),
    (('[chains.e]\nbackend = "evm"\nchain_id = 1\nrpc_url = "' + LONG_URL + '"\n').encode(), "chains",
     "is larger than 1 MiB; a bctrace config is a few lines"),
], ids=["not-utf8", "nested-1000", "nested-table", "nul-state-dir", "nul-path", "no-such-user", "no-such-user-path",
        "ipv6", "scheme", "path-is-file", "chain-id-2^53", "chain-id-huge", "50MB-url"])
def test_unusable_configs_are_one_line_exit_2(project: Path, cli, content: bytes, command: str, message: str) -> None:
    (project / "bctrace.toml").write_bytes(content)
    assert message in one_line_error(cli(command))
    assert message in one_line_error(cli("record", "--kind", "x", "--flush"))
    assert not (project / ".bctrace").exists() or command == "chains"


def test_a_long_rpc_url_from_the_environment_is_refused(project: Path, cli, monkeypatch) -> None:
    monkeypatch.setenv("BIG_URL", LONG_URL)
    (project / "bctrace.toml").write_text('[chains.e]\nbackend = "evm"\nchain_id = 1\nrpc_url = "${BIG_URL}"\n')
    err = one_line_error(cli("chains"))
    assert "field 'rpc_url': String should have at most 4096 characters" in err and len(err) < 300


def test_config_under_a_home_that_cannot_be_found(project: Path, cli) -> None:
    err = one_line_error(cli("--config", "~nosuchuser-bctrace/bctrace.toml", "status"))
    assert "--config: '~nosuchuser-bctrace/bctrace.toml': ~nosuchuser-bctrace names no user" in err


NOT_UTF8 = os.fsdecode(b"caf\xe9.txt")


def test_stamp_of_a_folder_holding_a_name_that_is_not_utf8_names_it(project: Path, cli) -> None:
    (project / "data" / "sub").mkdir(parents=True)
    (project / "data" / "ok.txt").write_text("ok")
    (project / "data" / "sub" / NOT_UTF8).write_text("x")
    err = one_line_error(cli("stamp", "data"))
    assert "folder data, in data/sub: the name 'caf\\xe9.txt' is not valid UTF-8" in err
    assert not (project / "data.bctrace.json").exists()
    assert "pending records: 0" in cli("status").output


def test_stamp_of_a_file_or_link_whose_name_is_not_utf8(project: Path, cli) -> None:
    (project / NOT_UTF8).write_text("x")
    assert "stamp caf\\xe9.txt: the name 'caf\\xe9.txt' is not valid UTF-8" in one_line_error(cli("stamp", NOT_UTF8))
    (project / "d").mkdir()
    (project / "d" / "l").symlink_to(NOT_UTF8)
    assert "folder d, link l: its target 'caf\\xe9.txt' is not valid UTF-8" in one_line_error(cli("stamp", "d"))


def test_stamp_git_with_an_untracked_name_that_is_not_utf8(project: Path, cli) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", "repo"], check=True)
    subprocess.run(["git", "-C", "repo", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    (project / "repo" / NOT_UTF8).write_text("x")
    assert "the name 'caf\\xe9.txt' is not valid UTF-8" in one_line_error(cli("stamp", "--git", "repo"))


@pytest.mark.parametrize("body", ['{"a": NaN}', '{"a": [1, Infinity]}', '{"a": -Infinity}'])
def test_nan_in_record_json_is_our_own_line(project: Path, cli, body: str) -> None:
    err = one_line_error(cli("record", "--kind", "x", "--body", body))
    assert "--body: " in err and "JSON has no NaN or Infinity" in err
    assert "pydantic" not in err and "http" not in err


def test_nan_through_the_python_api_is_our_own_line(project: Path) -> None:
    from bctrace import Tracer
    from bctrace.errors import UsageError

    with Tracer.from_config() as tracer, pytest.raises(UsageError) as err:
        tracer.record("x", {"loss": float("nan")})
    assert str(err.value) == "record of kind 'x': body.loss: nan is not a JSON number; record it as a string"


@pytest.mark.parametrize("args, message", [
    (("verify",), " verify: Missing argument 'TARGETS...'. (see '"),
    (("nosuch",), ": No such command 'nosuch'."),
    (("--bogus", "status"), ": No such option '--bogus'"),
    (("verify", "--ledger", "/nonexistent-bctrace", "x.json"), " verify: Invalid value for '--ledger'"),
    (("evm", "nosuch"), " evm: No such command 'nosuch'."),
], ids=["missing-argument", "unknown-command", "unknown-root-option", "bad-path", "unknown-plugin-subcommand"])
def test_click_usage_mistakes_are_one_line_exit_2(project: Path, cli, args: tuple[str, ...], message: str) -> None:
    """Click's own three-line usage errors become our one line, naming the command and its help."""
    err = one_line_error(cli(*args))
    assert message in err and err.rstrip().endswith(" --help')")
