"""Hook specifications. Every hook is prefixed ``bctrace_`` and hands over classes or adds
commands; none returns live objects, and implementations import heavy modules (web3, torch)
inside the function so that ``import bctrace`` stays light.

A third-party plugin is a module with ``@hookimpl`` functions, exposed through the entry point
group ``bctrace`` in its package metadata::

    [project.entry-points.bctrace]
    mychain = "bctrace_mychain.plugin"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from .plugin_manager import BackendRegistry, StoreRegistry

PROJECT = "bctrace"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def bctrace_register_backends(registry: BackendRegistry) -> None:
    """Register chain backend classes.

    :param registry: call ``registry.add("name", BackendClass)`` once per backend; the name is
        what users write as ``backend = "name"`` in a ``[chains.X]`` table.
    """


@hookspec
def bctrace_register_stores(registry: StoreRegistry) -> None:
    """Register content store classes (IPFS and the like), separate from chains.

    :param registry: call ``registry.add("name", StoreClass)``; the name is what users write as
        ``backend = "name"`` in a ``[stores.X]`` table.
    """


@hookspec
def bctrace_add_commands(cli: click.Group) -> None:
    """Add subcommands to the ``bctrace`` command line.

    :param cli: the top-level click group; call ``cli.add_command(command)``.
    """
