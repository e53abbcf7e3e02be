"""Lazy module attributes (PEP 562), so that importing a public module costs nothing until a
name is used.

``bctrace --help`` and the plugins' registration (``from bctrace.api import hookimpl``) must not
pay for pydantic and every model class; the public modules list, per module, the names it
provides and import that module on first use. The same names are imported under
``TYPE_CHECKING`` for type checkers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_getattr(package: str, namespace: dict[str, Any], sources: dict[str, list[str]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``sources`` maps a relative module name to the
    names it provides (``{"._internal.tracer": ("Tracer",)}``; ``"public=original"`` renames);
    each is imported on first use and kept in ``namespace`` (the module's globals), so it is
    looked up once."""
    where = {}
    for module, names in sources.items():
        for entry in names:
            public, _, original = entry.partition("=")
            where[public] = (module, original or public)

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, original = where[name]
        value = getattr(importlib.import_module(module, namespace["__package__"]), original)
        namespace[name] = value
        return value

    return __getattr__
