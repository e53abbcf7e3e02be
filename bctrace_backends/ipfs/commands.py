"""``bctrace ipfs fetch BUNDLE --to DIR``: get stamped content back from a store and check it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from bctrace.api import BundleError, UsageError, emit_json, get_config, one_line

if TYPE_CHECKING:
    from bctrace.api import ContentStore, ProofBundle

API_STORE = "--api"
"""The name a store given by ``--api URL`` goes by in messages (it is no ``[stores.NAME]``)."""


@click.group("ipfs")
def ipfs() -> None:
    """Content on IPFS: get the bytes of stamped files back, checked against their records."""


@ipfs.command()
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--to", "to", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder to write the content into.")
@click.option("--store", "store_name", help="A [stores.NAME] of the config (default: the one the bundle names, or the only one).")
@click.option("--api", help="Fetch from this IPFS RPC API URL instead of a configured store (no config needed).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def fetch(bundle: Path, to: Path, store_name: str | None, api: str | None, as_json: bool) -> None:
    """Fetch the content of a stamped file or folder by its CID and check it against the record.

    Bytes whose sha256 or size differ from the record are not kept; the command then fails with
    exit code 3 (the record is fine, the store is not). The bundle's own Merkle proof is checked
    offline first.
    """
    from bctrace.api import ProofBundle, check_offline, fetch_bundle  # here: `bctrace --help` stays fast

    loaded = ProofBundle.read(bundle)
    try:
        check_offline(loaded, str(bundle))
    except ValueError as err:  # a record JSON cannot hold canonically (NaN, huge numbers)
        raise BundleError(f"{bundle}: {one_line(err)}") from None
    with _store(loaded, store_name, api) as store:
        result = fetch_bundle(store, loaded, to, source=str(bundle))
    if as_json:
        emit_json({"store": store.store, "fetched": [str(p) for p in result.written], "not_recreated": result.skipped})
        return
    for path in result.written:
        click.echo(f"fetched {path}")
    for line in result.skipped:
        click.echo(f"not recreated: {line}")
    origin = f"the IPFS node at {api.rstrip('/')}" if api else f"store {store.store!r}"
    click.echo(f"{len(result.written)} file(s) fetched from {origin}, sha256 checked against {bundle.name}")


def _store(bundle: ProofBundle, store_name: str | None, api: str | None) -> ContentStore:
    from pydantic import ValidationError

    from bctrace.api import open_store

    from .store import IpfsConfig, IpfsStore

    if api:
        if store_name:
            raise UsageError("give --store or --api, not both")
        try:
            return IpfsStore(API_STORE, IpfsConfig(api=api))
        except ValidationError as err:
            raise UsageError(f"--api {api!r}: {err.errors()[0]['msg']}") from err
    config = get_config()
    if store_name is None:
        named = [s.get("store") for s in (bundle.record.get("body") or {}).get("stores", []) if isinstance(s, dict)]
        candidates = [n for n in named if n in config.stores] or list(config.stores)
        if not candidates:
            raise UsageError(f"no content store is configured in {config.describe_source()}; add a [stores.NAME] table or pass --api URL")
        store_name = candidates[0]
    return open_store(config, store_name)
