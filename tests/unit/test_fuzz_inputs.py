"""Fuzzing of what a user or an attacker hands bctrace besides bundles: configs (through
`status`, `chains`, `record --flush` and `fetch`) and folder manifests (through `fetch`).

Whatever the input: no traceback, an exit code among the documented ones (0, 1, 2, 3), an error
that is one line, and for `fetch` nothing outside `--to` created, changed or deleted. Bounded
and deterministic (derandomized, a fixed number of examples), so CI runs the same cases every
time; hypothesis shrinks any failure to a small input.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from crafted import bundle_json, file_entry, record_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bctrace.cli import main

FUZZ = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
DOCUMENTED = {0, 1, 2, 3}


def run(*args: str, cwd: Path):
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=True)
    finally:
        os.chdir(old)


def assert_clean(result, *, what: str) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{what}: {type(result.exception).__name__}: {result.exception}")
    assert result.exit_code in DOCUMENTED, f"{what}: exit {result.exit_code}: {result.output}"
    assert "Traceback" not in result.output, what
    if result.exit_code != 0 and result.stderr:
        lines = result.stderr.strip().splitlines()
        assert lines[0].startswith("error: ") and len(lines) == 1, f"{what}: {result.stderr}"


@contextmanager
def folder():
    with tempfile.TemporaryDirectory(prefix="bctrace-fuzz-") as tmp:
        yield Path(tmp)


# -- configs -------------------------------------------------------------------------------

SAFE_NAME = st.text(alphabet="abcdefgh-_.~ ", min_size=0, max_size=12).filter(lambda s: s not in ("..",) and "/" not in s)
NASTY_TEXT = st.sampled_from(["", "\x00", "a\x00b", "~nosuchuser-fuzz/x", "~", "${UNSET_FUZZ_VAR}", "${UNSET:-}", "é",
                              "http://[::1", "http://127.0.0.1:9", "https://", "x" * 5000, "env:KEY", "0x" + "ab" * 20])
SCALAR = st.one_of(st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True),
                   SAFE_NAME, NASTY_TEXT)
VALUE = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(SAFE_NAME, inner, max_size=3),
                     max_leaves=8)

CHAIN_TABLE = st.fixed_dictionaries(
    {"backend": st.sampled_from(["local", "evm", "mock", "besu", "nosuch"]) | VALUE},
    optional={
        "path": SAFE_NAME | NASTY_TEXT | st.just("/proc/self") | VALUE,
        "chain_id": st.integers(min_value=-5, max_value=2**64) | VALUE,
        "rpc_url": st.sampled_from(["http://127.0.0.1:9", "http://[::1", "ftp://x", ""]) | NASTY_TEXT,
        "contract": st.just("0x" + "11" * 20) | NASTY_TEXT,
        "key": st.just("env:BCTRACE_FUZZ_NO_KEY") | NASTY_TEXT,
        "confirmations": VALUE,
        "rpc_timeout": st.sampled_from([0.5, -1, 0]) | VALUE,
        "colour": VALUE,
    },
)
CONFIG = st.fixed_dictionaries(
    {},
    optional={
        "state_dir": SAFE_NAME | NASTY_TEXT | VALUE,
        "bundle_dir": SAFE_NAME | NASTY_TEXT | VALUE,
        "default_chains": st.lists(st.sampled_from(["local", "a", "b", "zzz"]), max_size=3) | VALUE,
        "author": VALUE,
        "chains": st.dictionaries(st.sampled_from(["local", "a", "b"]), CHAIN_TABLE, max_size=3) | VALUE,
        "stores": st.dictionaries(st.sampled_from(["ipfs", "s"]), st.fixed_dictionaries(
            {"backend": st.sampled_from(["ipfs", "nosuch"]) | VALUE}, optional={"api": NASTY_TEXT, "timeout": VALUE}),
            max_size=1) | VALUE,
        "surprise": VALUE,
    },
)


def toml_value(value) -> str:
    """A TOML rendering of any JSON-like value (TOML has no null: None becomes a string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return {float("inf"): "inf", float("-inf"): "-inf"}.get(value, "nan" if value != value else repr(value))
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))


def render(config: dict) -> str:
    lines = []
    tables = []
    for key, value in config.items():
        if key in ("chains", "stores") and isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
            tables += [(f"{key}.{json.dumps(name)}", table) for name, table in value.items()]
        else:
            lines.append(f"{key} = {toml_value(value)}")
    for header, table in tables:
        lines.append(f"[{header}]")
        lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


@FUZZ
@given(config=CONFIG, mutation=st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=3)), max_size=2))
def test_mutated_configs_through_status_chains_and_record_flush(config, mutation) -> None:
    text = render(config).encode("utf-8", "surrogatepass")
    for position, insert in mutation:  # byte-level damage on top of the structural changes
        position %= len(text) + 1
        text = text[:position] + insert + text[position + len(insert):]
    with folder() as project:
        (project / "bctrace.toml").write_bytes(text)
        record = record_for([file_entry("a.txt", b"a")])
        record["body"]["stores"] = [{"store": "ipfs", "cid": "bafkqaaa"}]
        (project / "b.bctrace.json").write_text(json.dumps(bundle_json(record)))
        for args in (["status"], ["chains"], ["record", "--kind", "fuzz", "--body", '{"n": 1}', "--flush"],
                     ["ipfs", "fetch", "b.bctrace.json", "--to", "out"]):
            assert_clean(run(*args, cwd=project), what=f"{args} with config {text[:300]!r}")
        assert not (project / "out").exists()  # no store could serve it: nothing left behind


# -- manifests -----------------------------------------------------------------------------

JSON_SCALAR = st.one_of(st.booleans(), st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
                        st.floats(allow_nan=False, allow_infinity=False), SAFE_NAME, NASTY_TEXT)
JSON_VALUE = st.recursive(JSON_SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(SAFE_NAME, inner, max_size=3),
                          max_leaves=8)
"""What a signed-off bundle can hold: values with a canonical JSON form (NaN and integers beyond
2^53 in bundles are the bundle fuzz test's)."""

PART = st.sampled_from(["a", "b", "esc", "up", "victim", "..", ".", "", "x\x00", "é", "important.txt"])
REL = st.lists(PART, min_size=1, max_size=5).map("/".join) | st.sampled_from(["/etc/passwd", "/", "a/", "//"])
TARGET = st.lists(st.sampled_from(["..", ".", "a", "b", "up", "esc", "victim", "important.txt", ""]), min_size=0, max_size=6).map(
    "/".join) | st.sampled_from(["/", "/tmp", "../../..", "a/b/c/d/up/../../victim"])
ENTRY = st.one_of(
    st.fixed_dictionaries({"path": REL, "type": st.just("symlink"), "target": TARGET | JSON_VALUE}),
    st.fixed_dictionaries({"path": REL, "type": st.just("dir")}),
    st.fixed_dictionaries({"path": REL, "size": st.integers(-1, 10) | JSON_VALUE, "sha256": st.just("0x" + "ab" * 32) | JSON_VALUE,
                           "cid": st.just("bafkqaaa") | JSON_VALUE}),
    st.fixed_dictionaries({"path": REL | JSON_VALUE}, optional={"type": JSON_VALUE, "target": JSON_VALUE, "size": JSON_VALUE}),
    JSON_VALUE,
)


def snapshot(world: Path, skip: Path) -> dict:
    seen = {}
    for dirpath, dirnames, filenames in os.walk(world):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d != skip]
        for name in dirnames + filenames:
            p = here / name
            seen[str(p)] = ("link", os.readlink(p)) if p.is_symlink() else ("dir",) if p.is_dir() else ("file", p.read_bytes())
    return seen


@FUZZ
@given(entries=st.lists(ENTRY, max_size=8) | JSON_VALUE, name=st.sampled_from(["ds", "..", "a/b", "x\x00"]),
       pre_link=st.sampled_from([None, "../../victim", ".", "../important.txt"]))
def test_mutated_manifests_through_fetch_never_touch_anything_outside_to(entries, name, pre_link) -> None:
    with folder() as tmp:
        world = tmp / "world"
        (world / "victim").mkdir(parents=True)
        (world / "victim" / "important.txt").write_text("precious")
        (world / "important.txt").write_text("precious too")
        out = world / "out"
        if pre_link is not None:  # a link an earlier fetch (or the user) left in --to
            (out / "ds").mkdir(parents=True)
            (out / "ds" / "esc").symlink_to(pre_link)
        record = record_for(entries)
        record["subjects"][0]["name"] = name
        (tmp / "b.bctrace.json").write_text(json.dumps(bundle_json(record)))
        before = snapshot(world, out)
        existing = set(out.rglob("*")) if out.exists() else set()
        result = run("ipfs", "fetch", str(tmp / "b.bctrace.json"), "--to", str(out), "--api", "http://127.0.0.1:9", cwd=tmp)
        assert_clean(result, what=f"fetch of {entries!r:.300}")
        assert snapshot(world, out) == before, f"fetch of {entries!r:.300} changed something outside --to"
        if out.exists():
            base = Path(os.path.realpath(out))
            for made in set(out.rglob("*")) - existing:
                real = Path(os.path.realpath(made))
                assert real == base or base in real.parents, f"{made} resolves outside --to"
