"""The plugin manager: built-in plugins are registered in code, third parties come from the
``bctrace`` entry-point group (turned off by ``BCTRACE_DISABLE_PLUGIN_AUTOLOAD=1``)."""

from __future__ import annotations

import importlib
import os
from typing import Any, Generic, TypeVar

import pluggy

from ..errors import PluginError
from . import hookspecs

BUILTIN_PLUGINS: tuple[str, ...] = (
    "bctrace_backends.local",
    "bctrace_backends.mock",
    "bctrace.ml.plugin",
    "bctrace.ml.integrations.plugin",
    "bctrace_backends.evm",
    "bctrace_backends.ipfs",
    "bctrace_backends.l2",
    "bctrace_backends.permissioned",
)
"""Modules of the built-in plugins; they register through the same hooks a third party uses."""

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> class, filled by a registrar hook. Registering a name twice is an error.

    A plugin may register a class, or an import reference ``"package.module:Class"`` that is
    imported only when the name is used: registering then costs nothing, and a backend whose
    optional dependencies are not installed fails with one clear line only when chosen.
    """

    kind = "plugin"

    def __init__(self) -> None:
        self._entries: dict[str, type[T] | str] = {}
        self._extras: dict[str, str] = {}

    def add(self, name: str, cls: type[T] | str, *, extra: str | None = None) -> None:
        """Register ``cls`` under ``name``; ``extra`` names the pip extra that provides its
        dependencies (shown when importing a lazy reference fails)."""
        known = self._entries.get(name)
        if known is not None and known != cls:
            raise PluginError(f"{self.kind} {name!r} is registered twice ({_where(known)} and {_where(cls)})")
        self._entries[name] = cls
        if extra:
            self._extras[name] = extra

    def get(self, name: str) -> type[T]:
        try:
            entry = self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise PluginError(f"unknown {self.kind} {name!r} (known: {known})") from None
        if isinstance(entry, str):
            entry = self._entries[name] = self._load(name, entry)
        return entry

    def _load(self, name: str, ref: str) -> type[T]:
        module_name, _, attr = ref.partition(":")
        try:
            return getattr(importlib.import_module(module_name), attr)  # type: ignore[no-any-return]
        except ImportError as err:
            hint = f" (install it with: pip install 'bctrace[{self._extras[name]}]')" if name in self._extras else ""
            raise PluginError(f"{self.kind} {name!r} needs a package that is not installed: {err}{hint}") from err

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries


def _where(entry: object) -> str:
    return entry.partition(":")[0] if isinstance(entry, str) else str(getattr(entry, "__module__", entry))


class BackendRegistry(Registry[Any]):
    kind = "backend"


class StoreRegistry(Registry[Any]):
    kind = "store"


def autoload_disabled() -> bool:
    return os.environ.get("BCTRACE_DISABLE_PLUGIN_AUTOLOAD", "").strip() not in ("", "0", "false", "no")


def get_plugin_manager(*, autoload: bool | None = None) -> pluggy.PluginManager:
    """A fresh manager with built-ins and (unless disabled) installed third-party plugins."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for module_name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    if autoload is None:
        autoload = not autoload_disabled()
    if autoload:
        try:
            pm.load_setuptools_entrypoints(hookspecs.PROJECT)
        except Exception as err:  # a broken third-party plugin must not be a traceback
            raise PluginError(f"a bctrace plugin failed to load: {type(err).__name__}: {err}") from err
    return pm


def backend_registry(pm: pluggy.PluginManager) -> BackendRegistry:
    registry = BackendRegistry()
    pm.hook.bctrace_register_backends(registry=registry)
    return registry


def store_registry(pm: pluggy.PluginManager) -> StoreRegistry:
    registry = StoreRegistry()
    pm.hook.bctrace_register_stores(registry=registry)
    return registry
