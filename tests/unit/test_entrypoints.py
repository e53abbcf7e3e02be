"""Finding installed plugins without importlib.metadata when none can be installed
(bctrace._internal.entrypoints): never misses a group importlib.metadata sees, and agrees with it
on what a section is."""

from __future__ import annotations

import sys
import zipfile
from importlib import metadata

import pytest

from bctrace._internal.entrypoints import entry_points, may_declare

GROUP = "bctrace-entrypoints-test"
"""A group nothing else declares (the suite's other files install real plugins meanwhile)."""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A folder at the front of sys.path, as a freshly installed distribution's site would be."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    return site


def install(site, name: str, entry_points_txt: str, suffix: str = ".dist-info") -> None:
    info = site / f"{name}-0.1{suffix}"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points_txt)


def test_every_group_installed_here_is_seen():
    groups = metadata.entry_points().groups
    assert "console_scripts" in groups
    assert [g for g in groups if not may_declare(g)] == []
    assert not may_declare(GROUP) and entry_points(GROUP) == []


def test_the_importlib_metadata_backports_finder_looks_where_the_shortcut_looks(folder):
    import importlib_metadata  # mlflow imports it; it adds its own finder of distributions

    assert any(type(f) is importlib_metadata.MetadataPathFinder for f in sys.meta_path)
    assert not may_declare(GROUP)
    install(folder, "backported", f"[{GROUP}]\nbackported = backported\n")
    assert may_declare(GROUP) and [e.name for e in entry_points(GROUP)] == ["backported"]


def test_a_plugin_installed_a_moment_ago_is_found(folder):
    assert not may_declare(GROUP)
    install(folder, "fresh", f"[console_scripts]\nfresh = fresh:main\n\n[{GROUP}]\nfresh = fresh_plugin\n")
    assert may_declare(GROUP)
    assert [(e.name, e.value) for e in entry_points(GROUP)] == [("fresh", "fresh_plugin")]


@pytest.mark.parametrize("text, declared", [
    (f"  [{GROUP}]  \nx = x\n", True),  # stripped, as importlib.metadata reads it
    (f"[[{GROUP}]]\nx = x\n", True),  # brackets stripped from both ends
    (f"[ {GROUP} ]\nx = x\n", False),  # another group name (' NAME ')
    (f"# [{GROUP}]\n[other]\nx = x\n", False),  # a comment
    (f"[other]\n{GROUP} = x\n", False),  # an entry point named like the group
])
def test_sections_are_read_as_importlib_metadata_reads_them(folder, text, declared):
    install(folder, "spelled", text, suffix=".egg-info")
    assert may_declare(GROUP) is declared
    assert bool(metadata.entry_points(group=GROUP)) is declared


def test_what_cannot_be_looked_at_goes_to_importlib_metadata(tmp_path, monkeypatch):
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipped-0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 0.1\n")
        zf.writestr("zipped-0.1.dist-info/entry_points.txt", f"[{GROUP}]\nzipped = zipped\n")
    monkeypatch.syspath_prepend(str(archive))
    assert may_declare(GROUP)
    assert [e.name for e in entry_points(GROUP)] == ["zipped"]


def test_an_import_finder_with_its_own_distributions_goes_to_importlib_metadata(monkeypatch):
    class Finder:
        def find_spec(self, *args):
            return None

        def find_distributions(self, context=None):
            return iter(())

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    assert may_declare(GROUP)
