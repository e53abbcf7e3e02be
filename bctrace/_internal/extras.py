"""Commands that need an optional extra say so in one line, before importing what is missing.

``pip install bctrace`` (no extras) runs the core CLI; a command of an extra (``devnet``,
``deploy``, the writer allowlist) then fails with the pip command to run, not a traceback.
"""

from __future__ import annotations

import importlib

from ..errors import UsageError


def require_extra(extra: str, command: str, *modules: str) -> None:
    """Raise :class:`UsageError` naming ``pip install 'bctrace[EXTRA]'`` if a module is missing."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as err:
            missing = err.name or name
            raise UsageError(f"bctrace {command} needs {missing}, which is not installed: pip install 'bctrace[{extra}]'") from None
