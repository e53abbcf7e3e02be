"""Deprecated: plugin API 0.x. Import from :mod:`bctrace.api` instead (see CHANGELOG.md)."""

import warnings

from .._internal.hookspecs import hookimpl, hookspec
from .._internal.plugin_manager import get_plugin_manager
from .._internal.registry import BackendRegistry, Registry, StoreRegistry

warnings.warn("bctrace.plugins is deprecated: import hookimpl and the registries from bctrace.api", DeprecationWarning, stacklevel=2)

__all__ = ["BackendRegistry", "Registry", "StoreRegistry", "get_plugin_manager", "hookimpl", "hookspec"]
