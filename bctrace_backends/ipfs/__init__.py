"""``ipfs``: content store speaking the Kubo RPC API (Kubo, js-ipfs, hosted pinning services that
expose it), and the ``bctrace fetch`` command that gets stamped content back and checks it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bctrace.plugins import hookimpl

if TYPE_CHECKING:
    import click

    from bctrace.plugins import StoreRegistry


@hookimpl
def bctrace_register_stores(registry: StoreRegistry) -> None:
    registry.add("ipfs", "bctrace_backends.ipfs.store:IpfsStore", extra="ipfs")


@hookimpl
def bctrace_add_commands(cli: click.Group) -> None:
    from .commands import fetch

    cli.add_command(fetch)
