"""``evm``: anchor on any EVM chain (public L1s, L2s, private networks, local anvil) over JSON-RPC.

The plugin module: it registers the backend and the ``deploy`` / ``devnet`` commands. Nothing
here imports web3 at import time; the hooks import the heavy modules only when they run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bctrace.plugins import hookimpl

if TYPE_CHECKING:
    import click

    from bctrace.plugins import BackendRegistry


@hookimpl
def bctrace_register_backends(registry: BackendRegistry) -> None:
    registry.add("evm", "bctrace_backends.evm.backend:EvmBackend", extra="evm")


@hookimpl
def bctrace_add_commands(cli: click.Group) -> None:
    from .cli import deploy, devnet

    cli.add_command(deploy)
    cli.add_command(devnet)
