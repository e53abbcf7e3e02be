"""Exports: proof bundles turned into formats other tools read (CSV, JSONL, in-toto, PROV, ...).

An export format is a plugin contribution like a backend: ``bctrace_register_exporters(registry)``
adds a name, a one-line description and a function ``export(request) -> [ExportedFile, ...]``.
The function only *returns* files (a name and bytes); bctrace writes them, so that no exporter
(and no name an untrusted bundle made it choose) can write outside the folder or file the user
named: names are plain relative paths, and they are written through :class:`ConfinedFolder`
(no ``..``, no absolute path, no symlink followed).

Bundles are checked offline (record digest and Merkle proof) before any exporter sees them: an
export never launders an edited record. Anchors stay what they are in a bundle, claims, until
``bctrace verify`` checks them on their chains.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import PluginError, UsageError, WriteRefused
from .bundle import BUNDLE_SUFFIX, ProofBundle, bundle_path_for
from .export_registry import ExportedFile, ExporterRegistry, ExportRequest


def exporter_registry() -> ExporterRegistry:
    """Every export format: the built-in ones and each plugin's."""
    from .plugin_manager import get_plugin_manager

    return get_plugin_manager().fill("bctrace_register_exporters", ExporterRegistry())


# -- reading what to export -------------------------------------------------------------------


def bundle_files(targets: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The bundle files named: a bundle, a stamped file (its bundle beside it), or a folder
    (every ``*.bctrace.json`` directly in it, sorted)."""
    found: list[Path] = []
    for target in targets:
        p = Path(os.path.abspath(target)) if Path(target).name in ("", ".", "..") else Path(target)
        if p.is_dir() and not bundle_path_for(p).exists():
            inside = sorted(q for q in p.glob("*" + BUNDLE_SUFFIX) if q.is_file())
            if not inside:
                raise UsageError(f"folder {p} holds no *{BUNDLE_SUFFIX} file")
            found += inside
        elif p.name.endswith(BUNDLE_SUFFIX):
            found.append(p)
        elif bundle_path_for(p).exists():
            found.append(bundle_path_for(p))
        elif not p.exists():
            raise UsageError(f"path {p} does not exist")
        else:
            raise UsageError(f"{p} is not a bundle and has no bundle beside it ({bundle_path_for(p).name})")
    return found


def read_checked(paths: Sequence[Path]) -> dict[Path, ProofBundle]:
    """Read each bundle and check its record digest and Merkle proof (exit 1 when edited); a
    record named twice (its bundle beside a file and in a folder) is exported once."""
    from .verify import check_offline

    bundles: dict[str, tuple[Path, ProofBundle]] = {}
    for p in paths:
        bundle = ProofBundle.read(p)
        check_offline(bundle, str(p))
        bundles.setdefault(bundle.digest, (p, bundle))
    return dict(bundles.values())


def export_bundles(targets: Iterable[str | os.PathLike[str]], fmt: str, *, options: Mapping[str, str] | None = None,
                   sign: bool = False, open_tracer: Callable[[], Any] | None = None,
                   registry: ExporterRegistry | None = None) -> list[ExportedFile]:
    """The files format ``fmt`` makes of the bundles named by ``targets`` (see
    :func:`bundle_files`), each checked offline first; nothing is written yet."""
    registry = registry or exporter_registry()
    registry.get(fmt)  # an unknown format is refused before any bundle is read
    checked = read_checked(bundle_files(targets))
    request = ExportRequest(bundles=tuple(checked.values()), sources=tuple(str(p) for p in checked),
                            options=dict(options or {}), sign=sign, open_tracer=open_tracer)
    return run_exporter(registry, fmt, request)


def run_exporter(registry: ExporterRegistry, name: str, request: ExportRequest) -> list[ExportedFile]:
    """Call format ``name``'s exporter; its files' names are checked before anything is written."""
    files = list(registry.function(name)(request))
    if not files:
        raise UsageError(f"export format {name!r} produced nothing for these bundles")
    seen: set[str] = set()
    for f in files:
        safe_name(f.name, name)
        if f.name in seen:
            raise PluginError(f"export format {name!r} produced two files named {f.name!r}")
        seen.add(f.name)
    return files


def safe_name(name: str, fmt: str) -> PurePosixPath:
    """A file name an exporter chose, as a relative path that stays inside the output folder."""
    rel = PurePosixPath(name)
    if (not name or "\\" in name or "\x00" in name or rel.is_absolute()
            or any(part in ("", ".", "..") for part in name.split("/"))):
        raise WriteRefused(f"export {fmt}: the file name {name!r} would not stay inside the output folder; nothing was written")
    return rel


# -- writing ----------------------------------------------------------------------------------


def write_exports(files: Sequence[ExportedFile], out: Path, *, fmt: str, folder: bool = False) -> list[Path]:
    """Write ``files`` where the user said: one file to ``out`` itself unless ``out`` is a
    folder (``folder``, or an existing one); several files into folder ``out``.
    Nothing is written outside ``out``, through a symlink, or over a folder; a failure takes
    back what this export created."""
    from .confined import ConfinedFolder

    if folder or len(files) > 1 or out.is_dir():
        root, targets = out, [(safe_name(f.name, fmt), f) for f in files]
    else:
        root, targets = out.parent, [(PurePosixPath(out.name), files[0])]
    confined = ConfinedFolder(root, source=f"export {fmt}")
    written: list[Path] = []
    try:
        for rel, f in targets:
            written.append(confined.write_file(rel, lambda fh, data=f.data: fh.write(data)))  # type: ignore[misc]
    except BaseException:
        confined.rollback()
        raise
    confined.close()
    return written
