"""`bctrace fetch` never creates, changes or deletes anything outside `--to`, whatever the
manifest in the bundle says and whatever links are already on disk; a malformed manifest is one
line (exit 2) and a failed fetch leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from crafted import MemoryStore, craft_bundle, file_entry, write_bundle

from bctrace.api import fetch_bundle
from bctrace.errors import StoreContentMismatch, UsageError
from bctrace.errors import WriteRefused as Refused

ISSUE_CHAIN = [
    {"path": "a/b/c/d/up", "type": "symlink", "target": "../../../.."},
    {"path": "esc", "type": "symlink", "target": "a/b/c/d/up/../../victim"},
]


def snapshot(folder: Path, skip: Path) -> dict[str, tuple]:
    """Everything under ``folder`` except ``skip``: type, link target or content."""
    seen: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d != skip]
        for name in dirnames + filenames:
            p = here / name
            if p == skip:
                continue
            if p.is_symlink():
                seen[str(p)] = ("link", os.readlink(p))
            elif p.is_dir():
                seen[str(p)] = ("dir",)
            else:
                seen[str(p)] = ("file", p.read_bytes())
    return seen


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A victim folder and file beside the folder fetched into (bundles are written one level up)."""
    world = tmp_path / "world"
    (world / "victim").mkdir(parents=True)
    (world / "victim" / "important.txt").write_text("precious")
    (world / "important.txt").write_text("precious too")
    return world


def fetch(cli, bundle: Path, out: Path):
    return cli("ipfs", "fetch", bundle, "--to", out, "--api", "http://127.0.0.1:9")  # links and bad manifests need no node


def test_the_issues_three_link_chain_is_refused_and_changes_nothing(world: Path, cli) -> None:
    before = snapshot(world, world / "out")
    bundle = write_bundle(world.parent / "b.bctrace.json", [*ISSUE_CHAIN, {"path": "esc/important.txt", "type": "symlink", "target": "x"}])
    result = fetch(cli, bundle, world / "out")
    assert result.exit_code == 2
    assert "'esc/important.txt' lies beneath 'esc', which is a symlink" in result.stderr
    assert snapshot(world, world / "out") == before
    assert not (world / "out").exists()


def test_links_that_climb_out_through_other_links_are_not_made(world: Path, cli) -> None:
    before = snapshot(world, world / "out")
    result = fetch(cli, write_bundle(world.parent / "b.bctrace.json", ISSUE_CHAIN), world / "out")
    assert result.exit_code == 0, result.output
    assert "not recreated: ds/esc -> a/b/c/d/up/../../victim (points outside the folder, or loops)" in result.output
    assert not (world / "out" / "ds" / "esc").is_symlink()
    assert os.readlink(world / "out" / "ds" / "a/b/c/d/up") == "../../../.."  # stays inside: kept
    assert snapshot(world, world / "out") == before


@pytest.mark.parametrize("target", [
    "/etc", "..", "../important.txt", "a/../../victim", "./../victim", "sub/../..", "loop", "loop/x",
    "inner/../../victim", "deep/../../../victim",
])
def test_escaping_link_targets_are_never_made(world: Path, cli, target: str) -> None:
    entries = [
        {"path": "inner", "type": "symlink", "target": "."},       # inside, but a trap for '..'
        {"path": "deep", "type": "symlink", "target": "s/t"},
        {"path": "loop", "type": "symlink", "target": "loop2"},
        {"path": "loop2", "type": "symlink", "target": "loop"},
        {"path": "s/t/u", "type": "dir"},
        {"path": "x", "type": "symlink", "target": target},
    ]
    before = snapshot(world, world / "out")
    result = fetch(cli, write_bundle(world.parent / "b.bctrace.json", entries), world / "out")
    assert result.exit_code == 0, result.output
    assert f"ds/x -> {target}" in result.output
    assert not os.path.lexists(world / "out" / "ds" / "x")
    for made in (world / "out").rglob("*"):
        real = Path(os.path.realpath(made))
        assert real == world / "out" / "ds" or (world / "out" / "ds") in real.parents, made
    assert snapshot(world, world / "out") == before


def test_nothing_is_written_through_a_link_already_on_disk(world: Path) -> None:
    """A second bundle cannot use a link left in --to (by an older fetch, or by hand) to write
    a file or a folder outside it."""
    out = world / "out"
    (out / "ds").mkdir(parents=True)
    (out / "ds" / "esc").symlink_to("../../victim")
    (out / "ds" / "same.txt").symlink_to("../../important.txt")
    before = snapshot(world, out)
    data = b"new bytes"
    for entries in ([file_entry("esc/new.txt", data)], [{"path": "esc/newdir", "type": "dir"}],
                    [{"path": "esc/l", "type": "symlink", "target": "x"}]):
        with pytest.raises(Refused, match="ds/esc is a symlink; nothing is written through a link"):
            fetch_bundle(MemoryStore([data]), craft_bundle(entries), out)
        assert snapshot(world, out) == before
    # a file whose name is a link on disk replaces the link, never the file it points to
    fetched = fetch_bundle(MemoryStore([data]), craft_bundle([file_entry("same.txt", data)]), out)
    assert fetched.written == [out / "ds" / "same.txt"]
    assert not (out / "ds" / "same.txt").is_symlink() and (out / "ds" / "same.txt").read_bytes() == data
    assert snapshot(world, out) == before


def test_the_subject_folder_itself_cannot_be_a_link(world: Path) -> None:
    out = world / "out"
    out.mkdir()
    (out / "ds").symlink_to("../victim")
    before = snapshot(world, out)
    with pytest.raises(Refused, match="is a symlink"):
        fetch_bundle(MemoryStore([b"x"]), craft_bundle([file_entry("important.txt", b"x")]), out)
    assert snapshot(world, out) == before


def test_a_link_that_leaves_only_on_disk_is_removed(world: Path) -> None:
    out = world / "out"
    (out / "ds").mkdir(parents=True)
    (out / "ds" / "q").symlink_to(".")  # inside; but q/q/../.. on disk is the parent of out
    fetched = fetch_bundle(MemoryStore(), craft_bundle([{"path": "x", "type": "symlink", "target": "q/q/../.."}]), out)
    assert not os.path.lexists(out / "ds" / "x")
    assert fetched.skipped == ["ds/x -> q/q/../.. (on disk, with the links already there, it points outside the folder)"]


def test_inside_links_files_and_folders_are_made(world: Path) -> None:
    data = b"hello\n"
    entries = [file_entry("sub/a.txt", data), {"path": "empty", "type": "dir"},
               {"path": "sub/to-a", "type": "symlink", "target": "a.txt"},
               {"path": "up-a", "type": "symlink", "target": "sub/../sub/a.txt"},
               {"path": "pipe", "type": "fifo"}]
    fetched = fetch_bundle(MemoryStore([data]), craft_bundle(entries), world / "out")
    ds = world / "out" / "ds"
    assert fetched.written == [ds / "sub" / "a.txt"] and (ds / "sub" / "to-a").read_bytes() == data
    assert (ds / "up-a").read_bytes() == data and (ds / "empty").is_dir()
    assert fetched.skipped == ["ds/pipe (a fifo: described in the record only)"]


@pytest.mark.parametrize("entries, message", [
    ("not a list", "the manifest is not a list of entries"),
    (["a.txt"], "manifest entry 0 is not an object"),
    ([{"size": 1}], "manifest entry 0 has no 'path'"),
    ([{"path": "a.txt", "sha256": "0x" + "00" * 32, "cid": "c"}], "is a file without a valid 'size' (got None)"),
    ([{"path": "a.txt", "size": True, "sha256": "0x" + "00" * 32, "cid": "c"}], "without a valid 'size' (got True)"),
    ([{"path": "a.txt", "size": 1, "cid": "c"}], "without a valid 'sha256'"),
    ([{"path": "l", "type": "symlink", "target": ""}], "is a link without a usable target (got '')"),
    ([{"path": "l", "type": "symlink"}], "is a link without a usable target (got None)"),
    ([{"path": "l", "type": "symlink", "target": "a\x00b"}], "is a link without a usable target"),
    ([{"path": "a\x00b", "type": "dir"}], "contains a NUL character"),
    ([{"path": "", "type": "dir"}], "the path must be a non-empty string"),
    ([{"path": 7, "type": "dir"}], "the path must be a non-empty string, got 7"),
    ([{"path": "/etc/x", "type": "dir"}], "is absolute; refused"),
    ([{"path": "a/../../x", "type": "dir"}], "has an empty, '.' or '..' part; refused"),
    ([{"path": "a//x", "type": "dir"}], "has an empty, '.' or '..' part; refused"),
    ([{"path": "d", "type": "dir"}, {"path": "d", "type": "dir"}], "manifest entry 'd' appears twice"),
    ([{"path": "d", "type": "door"}], "has an unknown type 'door'"),
    ([file_entry("f", b"1"), file_entry("f/g", b"2")], "manifest entry 'f/g' lies beneath 'f', which is a file"),
    ([{"path": "p", "type": "fifo"}, {"path": "p/q", "type": "dir"}], "lies beneath 'p', which is a fifo"),
    ([{"path": "a.txt", "size": 1, "sha256": "0x" + "00" * 32}], "file a.txt of ds has no CID in the record"),
])
def test_malformed_manifests_are_one_line_and_leave_nothing(world: Path, cli, entries, message: str) -> None:
    before = snapshot(world, world / "out")
    result = fetch(cli, write_bundle(world.parent / "b.bctrace.json", entries), world / "out")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not (world / "out").exists()
    assert snapshot(world, world / "out") == before


def test_a_failed_fetch_takes_back_what_it_wrote(world: Path) -> None:
    good, bad = b"good", b"bad"
    entries = [file_entry("a/1.txt", good), file_entry("b/2.txt", bad), {"path": "e", "type": "dir"}]
    store = MemoryStore([good, bad])
    store.blobs["cid-" + entries[1]["sha256"]] = b"other bytes"
    with pytest.raises(StoreContentMismatch):
        fetch_bundle(store, craft_bundle(entries), world / "new" / "out")
    assert not (world / "new").exists()  # not even the --to folder (nor its new parent)

    kept = world / "kept"
    kept.mkdir()
    (kept / "mine.txt").write_text("mine")
    with pytest.raises(StoreContentMismatch):
        fetch_bundle(store, craft_bundle(entries), kept)
    assert sorted(p.name for p in kept.iterdir()) == ["mine.txt"]


def test_fetch_api_names_the_node_not_a_store_called_api(world: Path, cli) -> None:
    result = fetch(cli, write_bundle(world.parent / "b.bctrace.json", [{"path": "d", "type": "dir"}]), world / "out")
    assert result.exit_code == 0
    assert "from the IPFS node at http://127.0.0.1:9" in result.output and "'api'" not in result.output
    data = b"some bytes"
    failed = fetch(cli, write_bundle(world.parent / "c.bctrace.json", [file_entry("f", data)]), world / "out2")
    assert failed.exit_code == 3 and "'api'" not in failed.stderr and "--api" in failed.stderr
    assert not (world / "out2").exists()


def test_a_subject_name_cannot_leave_the_folder(world: Path) -> None:
    for name in ("../x", "/etc", "a\x00b"):
        with pytest.raises(UsageError):
            fetch_bundle(MemoryStore(), craft_bundle([{"path": "d", "type": "dir"}], name=name), world / "out")
    assert not (world / "out").exists()
