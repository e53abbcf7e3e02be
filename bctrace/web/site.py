"""The static verifier site as shipped in the package: where its files are and how to copy them.

The page is built from ``web/verifier/`` by esbuild (``npm run build:verifier``) and committed
as package data, like the registry contract's artifact, so ``pip install bctrace`` serves and
exports it with no Node on the user's machine. It trusts no server: the same files work from
``bctrace serve``, from disk (``file://``) or from any static host.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from ..errors import UsageError

STATIC_PACKAGE = "bctrace.web"
STATIC_DIR = "static"


def site_files() -> dict[str, bytes]:
    """Every file of the static site, by its name (``index.html`` and any hashed assets)."""
    root = files(STATIC_PACKAGE).joinpath(STATIC_DIR)
    return {entry.name: entry.read_bytes() for entry in root.iterdir() if entry.is_file() and not entry.name.startswith(".")}


def export_site(target: Path) -> list[Path]:
    """Write the static verifier into ``target`` (created if missing); refuse a path that is a
    file. Only the site's own files are written, each directly inside ``target``."""
    if target.exists() and not target.is_dir():
        raise UsageError(f"--export {target}: exists and is not a folder")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a file on the way (--export FILE/site), no permission, ...
        raise UsageError(f"--export {target}: cannot create the folder: {err.strerror or err}") from None
    written = []
    for name, data in sorted(site_files().items()):
        path = target / Path(name).name
        path.write_bytes(data)
        written.append(path)
    return written

