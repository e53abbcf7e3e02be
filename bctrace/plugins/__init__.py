"""Plugin system (pluggy): hook specifications and the manager that loads built-ins and plugins."""

from .hookspecs import hookimpl, hookspec
from .manager import BackendRegistry, Registry, StoreRegistry, get_plugin_manager

__all__ = ["BackendRegistry", "Registry", "StoreRegistry", "get_plugin_manager", "hookimpl", "hookspec"]
