"""The plugin manager: built once per process, with the built-in plugins registered in code and
third parties loaded from the ``bctrace`` entry-point group (turned off by
``BCTRACE_DISABLE_PLUGIN_AUTOLOAD=1``).

A broken plugin never takes bctrace down: a plugin that fails to import, implements a hook that
does not exist (``check_pending``), or whose registrar raises or claims a taken name, is left out
with one line naming it (:attr:`BctracePluginManager.problems`, printed by the CLI, logged by
the Python API), and everything else keeps working.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Protocol, TypeVar

import pluggy

from ..errors import BctraceError, one_line
from . import hookspecs
from .entrypoints import entry_points
from .registry import BackendRegistry, CommandRegistry, KindRegistry, SignerRegistry, StoreRegistry

logger = logging.getLogger("bctrace.plugins")

BUILTIN_PLUGINS: tuple[str, ...] = (
    "bctrace._internal.builtin_kinds",
    "bctrace_backends.local",
    "bctrace.ml.plugin",
    "bctrace.ml.integrations.plugin",
    "bctrace.exports.plugin",
    "bctrace_backends.evm",
    "bctrace_backends.ipfs",
    "bctrace_backends.l2",
    "bctrace_backends.permissioned",
    "bctrace_backends.solana",
    "bctrace_backends.opentimestamps",
)
"""Modules of the built-in plugins; they register through the same hooks a third party uses."""


class Fillable(Protocol):
    """What a registrar hook fills: who is registering now, and the problems met."""

    plugin: str
    problems: list[str]


R = TypeVar("R", bound=Fillable)


class BctracePluginManager(pluggy.PluginManager):
    """pluggy's manager, plus the one-line problems of plugins that were left out."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.problems: list[str] = []

    def register_checked(self, plugin: object, name: str) -> bool:
        """Register ``plugin`` and check its hooks; on failure record one line and leave it out."""
        try:
            self.register(plugin, name=name)
        except pluggy.PluginValidationError as err:
            self.problems.append(f"plugin {name!r} was not loaded: {one_line(err)}")
            return False
        return self._check(name)

    def _check(self, name: str) -> bool:
        """``check_pending`` names a misspelt hook (an ``@hookimpl`` no hookspec matches)."""
        plugin = self.get_plugin(name)
        for hook_name in dir(plugin):
            if not hook_name.startswith("bctrace_") or self.parse_hookimpl_opts(plugin, hook_name) is None:
                continue
            if hook_name in RENAMED or not hasattr(self.hook, hook_name) or not getattr(self.hook, hook_name).has_spec():
                self.unregister(name=name)
                self.problems.append(f"plugin {name!r} was not loaded: it implements unknown hook {hook_name!r}{_suggest(hook_name)}")
                return False
        try:
            self.check_pending()
        except pluggy.PluginValidationError as err:
            self.unregister(name=name)
            self.problems.append(f"plugin {name!r} was not loaded: {one_line(err)}")
            return False
        return True

    def fill(self, hook_name: str, registry: R) -> R:
        """Call a registrar hook plugin by plugin (built-ins first), so that every name knows who
        registered it; a plugin whose registrar fails is named in ``registry.problems``."""
        caller = getattr(self.hook, hook_name)
        for impl in caller.get_hookimpls():
            registry.plugin = impl.plugin_name
            try:
                impl.function(registry=registry)
            except BctraceError as err:
                registry.problems.append(err.one_line())
            except Exception as err:  # a third-party bug must not be a traceback for everyone
                registry.problems.append(f"plugin {impl.plugin_name!r} failed in {hook_name}: {type(err).__name__}: {one_line(err, 300)}")
        registry.plugin = hookspecs.PROJECT
        for problem in registry.problems:
            logger.warning("%s", problem)
        return registry


RENAMED = hookspecs.RENAMED_HOOKS


def _suggest(hook_name: str) -> str:
    if hook_name in RENAMED:
        return f" (plugin API 1.0 replaced it with {RENAMED[hook_name]!r}: see CHANGELOG.md)"
    import difflib

    known = [n for n in dir(hookspecs) if n.startswith("bctrace_")]
    close = difflib.get_close_matches(hook_name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def autoload_disabled() -> bool:
    return os.environ.get("BCTRACE_DISABLE_PLUGIN_AUTOLOAD", "").strip() not in ("", "0", "false", "no")


def build_plugin_manager(*, autoload: bool) -> BctracePluginManager:
    """A new manager with the built-ins and, if ``autoload``, the installed third-party plugins."""
    pm = BctracePluginManager()
    for module_name in BUILTIN_PLUGINS:
        pm.register_checked(importlib.import_module(module_name), module_name)
    if autoload:
        for ep in entry_points(hookspecs.PROJECT):
            if pm.has_plugin(ep.name) or pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as err:  # an import error in a plugin is its problem, not everyone's
                pm.problems.append(f"plugin {ep.name!r} ({ep.value}) failed to load: {type(err).__name__}: {one_line(err, 300)}")
                continue
            pm.register_checked(plugin, ep.name)
    for problem in pm.problems:
        logger.warning("%s", problem)
    return pm


_MANAGERS: dict[bool, BctracePluginManager] = {}


def get_plugin_manager(*, autoload: bool | None = None) -> BctracePluginManager:
    """The process's plugin manager (built on first use, once per autoload setting)."""
    if autoload is None:
        autoload = not autoload_disabled()
    if autoload not in _MANAGERS:
        _MANAGERS[autoload] = build_plugin_manager(autoload=autoload)
    return _MANAGERS[autoload]


def reset_plugin_manager() -> None:
    """Forget the process's managers (tests do this after pip-installing a plugin)."""
    _MANAGERS.clear()


def backend_registry(pm: BctracePluginManager | None = None) -> BackendRegistry:
    return (pm or get_plugin_manager()).fill("bctrace_register_backends", BackendRegistry())


def store_registry(pm: BctracePluginManager | None = None) -> StoreRegistry:
    return (pm or get_plugin_manager()).fill("bctrace_register_stores", StoreRegistry())


def signer_registry(pm: BctracePluginManager | None = None) -> SignerRegistry:
    return (pm or get_plugin_manager()).fill("bctrace_register_signers", SignerRegistry())


def kind_registry(pm: BctracePluginManager | None = None) -> KindRegistry:
    return (pm or get_plugin_manager()).fill("bctrace_register_kinds", KindRegistry())


def command_registry(pm: BctracePluginManager | None = None, *, core: CommandRegistry | None = None) -> CommandRegistry:
    """The core's commands (already in ``core``) plus every plugin's group."""
    return (pm or get_plugin_manager()).fill("bctrace_register_commands", core or CommandRegistry())
