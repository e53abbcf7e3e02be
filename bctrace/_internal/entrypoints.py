"""The installed third-party plugins: the ``bctrace`` entry-point group, read by
:mod:`importlib.metadata` only when some distribution may declare it.

Every command builds the plugin manager, and ``importlib.metadata`` costs about as much as the
rest of ``bctrace --help``: importing it pulls in ``email``, ``zipfile``, ``csv`` and more, and
``entry_points()`` parses every entry point of every installed distribution. Most installations
have no third-party bctrace plugin, and that is decided exactly by a plain look: the
distributions ``importlib.metadata`` finds are the ``*.dist-info`` and ``*.egg-info`` folders
in the folders of ``sys.path``, and a group is declared by a ``[group]`` line of their
``entry_points.txt``. Whenever that look finds such a line, or cannot be sure (a zip file or an
``.egg`` on ``sys.path``, an import finder with distributions of its own, a file it cannot
read), ``importlib.metadata`` reads the entry points as before. Nothing is cached: every process
looks again, so a plugin installed a second ago is found.
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import PathFinder
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint


def entry_points(group: str) -> list[EntryPoint]:
    """The entry points of ``group`` that ``importlib.metadata.entry_points(group=group)``
    returns, sorted by name."""
    if not may_declare(group):
        return []
    from importlib import metadata

    return sorted(metadata.entry_points(group=group), key=lambda e: e.name)


_SYS_PATH_FINDERS = {("importlib_metadata", "MetadataPathFinder")}
"""Finders of distributions that look exactly where :class:`PathFinder` looks (the folders of
``sys.path``): the ``importlib_metadata`` backport's, which importing mlflow (and others) adds to
``sys.meta_path``."""


def may_declare(group: str) -> bool:
    """False only when no distribution :mod:`importlib.metadata` can find declares ``group``."""
    for finder in sys.meta_path:
        kind = type(finder)
        if finder is PathFinder or (kind.__module__, kind.__qualname__) in _SYS_PATH_FINDERS:
            continue
        if getattr(finder, "find_distributions", None) is not None:
            return True  # distributions from elsewhere than sys.path's folders
    for entry in sys.path:
        if not isinstance(entry, str) or os.path.basename(entry).lower().endswith(".egg"):
            return True
        folder = entry or "."
        try:
            children = os.listdir(folder)
        except OSError:
            if os.path.isfile(folder):  # a zip file importlib.metadata would look into
                return True
            continue
        for child in children:
            if child.lower().endswith((".dist-info", ".egg-info")) and _declares(os.path.join(folder, child, "entry_points.txt"), group):
                return True
    return False


def _declares(path: str, group: str) -> bool:
    """Whether the ``entry_points.txt`` at ``path`` has a ``[group]`` section, read as
    :mod:`importlib.metadata` reads it (stripped lines; a section is ``[...]``)."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return False  # no entry points (importlib.metadata ignores these too)
    except (OSError, ValueError):
        return True  # unreadable: let importlib.metadata decide, as before
    if group not in text:
        return False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]") and line.strip("[]") == group:
            return True
    return False
