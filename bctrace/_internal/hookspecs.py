"""Hook specifications: the hooks a plugin may implement (plugin API 1.0).

Every hook is prefixed ``bctrace_``, typed, and a *registrar*: it is handed a registry and adds
names to it. Hooks hand over classes (or ``"module:Class"`` references), never live objects, and
import heavy modules (web3, torch) inside the function, so that ``import bctrace`` stays light.
Each hook is documented in the README, section "Writing a plugin"; a test fails when one is not.

A third-party plugin is a module with ``@hookimpl`` functions, exposed through the entry point
group ``bctrace`` in its package metadata::

    [project.entry-points.bctrace]
    mychain = "bctrace_mychain.plugin"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .export_registry import ExporterRegistry
    from .registry import BackendRegistry, CommandRegistry, SignerRegistry, StoreRegistry

RunFactory = Callable[..., Any]
"""``factory(tracer, name, **options)``: what ``Tracer.run(name, **options)`` returns."""

PROJECT = "bctrace"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

RENAMED_HOOKS = {"bctrace_add_commands": "bctrace_register_commands"}
"""Hooks of plugin API 0.x and what replaced them, for the error a stale plugin gets."""


@hookspec
def bctrace_register_backends(registry: BackendRegistry) -> None:
    """Register chain backend classes.

    :param registry: call ``registry.add("name", BackendClass)`` (or
        ``registry.add("name", "pkg.module:BackendClass", extra="pip-extra")``) once per
        backend; the name is what users write as ``backend = "name"`` in a ``[chains.X]`` table.
    """


@hookspec
def bctrace_register_stores(registry: StoreRegistry) -> None:
    """Register content store classes (IPFS and the like), separate from chains.

    :param registry: call ``registry.add("name", StoreClass)``; the name is what users write as
        ``backend = "name"`` in a ``[stores.X]`` table.
    """


@hookspec
def bctrace_register_signers(registry: SignerRegistry) -> None:
    """Register signature schemes for signed records (proof of authorship).

    :param registry: call ``registry.add("scheme", SignerClass)``; the name is what users write
        as ``scheme = "name"`` in the ``[signer]`` table, and what a record signed with it
        carries as ``signature_scheme`` (the default scheme, ``eip191``, is not written).
    """


@hookspec
def bctrace_register_commands(registry: CommandRegistry) -> None:
    """Add one namespaced command group to the ``bctrace`` command line.

    :param registry: call ``registry.add(group)`` with a click group named after the plugin
        (``bctrace mychain ...``), or ``registry.add("pkg.cli:group", name="mychain")`` to import
        it only when used; ``registry.alias("old", "mychain new")`` keeps a deprecated top-level
        spelling working. A name bctrace or another plugin already has is refused with one line
        naming both, and the rest of the command line keeps working.
    """


@hookspec
def bctrace_register_exporters(registry: ExporterRegistry) -> None:
    """Register export formats for ``bctrace export BUNDLE... --format NAME``.

    :param registry: call ``registry.add("name", "one-line description", export)`` with
        ``export(request: ExportRequest) -> list[ExportedFile]`` (or a ``"pkg.module:function"``
        reference, imported only when the format is used, with ``extra="pip-extra"``). The
        exporter returns files (a relative name and bytes) and bctrace writes them, confined to
        the folder or file the user named; the bundles it gets are already checked offline.
    """


@hookspec(firstresult=True)
def bctrace_run_factory() -> RunFactory | None:
    """Provide what ``Tracer.run(name, **options)`` starts: return a callable
    ``factory(tracer, name, **options)`` (the first plugin to return one wins; the built-in ML
    plugin returns :func:`bctrace.ml.start_run`). The core has no ML code of its own.

    :returns: the factory, or ``None`` to leave it to another plugin.
    """
