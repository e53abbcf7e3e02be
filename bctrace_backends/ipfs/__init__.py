"""``ipfs``: content store speaking the Kubo RPC API (Kubo, js-ipfs, hosted pinning services that
expose it), and the ``bctrace ipfs fetch`` command that gets stamped content back and checks it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bctrace.api import hookimpl

if TYPE_CHECKING:
    from bctrace.api import CommandRegistry, StoreRegistry


@hookimpl
def bctrace_register_stores(registry: StoreRegistry) -> None:
    registry.add("ipfs", "bctrace_backends.ipfs.store:IpfsStore", extra="ipfs")


@hookimpl
def bctrace_register_commands(registry: CommandRegistry) -> None:
    registry.add("bctrace_backends.ipfs.commands:ipfs", name="ipfs")
    registry.alias("fetch", "ipfs fetch")
