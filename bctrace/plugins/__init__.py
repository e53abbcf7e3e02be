"""Plugin system (pluggy): hook specifications and the manager that loads built-ins and plugins."""

from .._internal.hookspecs import hookimpl, hookspec
from .._internal.plugin_manager import BackendRegistry, Registry, StoreRegistry, get_plugin_manager

__all__ = ["BackendRegistry", "Registry", "StoreRegistry", "get_plugin_manager", "hookimpl", "hookspec"]
