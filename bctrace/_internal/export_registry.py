"""The export-format registry and what an exporter is given and returns (kept light: the
hook specifications name it, so it imports nothing that reaches the plugin manager). How exports
are read, checked and written is in :mod:`bctrace._internal.exporters`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import PluginError, UsageError
from .bundle import ProofBundle
from .registry import CORE, load_reference


@dataclass(frozen=True)
class ExportedFile:
    """One file an exporter produces: a plain relative ``name`` (``a.csv``, ``intoto/x.json``)
    and its bytes. ``binary`` files are never printed on stdout."""

    name: str
    data: bytes
    binary: bool = False


@dataclass(frozen=True)
class ExportRequest:
    """What an exporter is given: the bundles (already checked offline, in the order named,
    each record once), where each was read from (``sources[i]`` for ``bundles[i]``), the ``--option KEY=VALUE`` pairs, whether ``--sign`` was asked,
    and the invocation's tracer on demand (its config and ``[signer]``)."""

    bundles: tuple[ProofBundle, ...]
    sources: tuple[str, ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)
    sign: bool = False
    open_tracer: Callable[[], Any] | None = None
    """Returns the invocation's :class:`~bctrace.api.Tracer` (typed loosely: naming the tracer here
    would tie this light module to the whole core)."""

    def tracer(self) -> Any:
        """The project's tracer (loads the config); a usage error when there is none."""
        if self.open_tracer is None:
            raise UsageError("this export needs a bctrace project (its config), and none was given")
        return self.open_tracer()

    def option(self, name: str, default: str | None = None) -> str | None:
        return self.options.get(name, default)


ExportFunction = Callable[[ExportRequest], Sequence[ExportedFile]]


@dataclass(frozen=True)
class Exporter:
    name: str
    description: str
    owner: str
    function: ExportFunction | str
    extra: str | None = None


class ExporterRegistry:
    """Format name -> exporter, filled by ``bctrace_register_exporters``. Registering a taken
    name is an error naming both plugins."""

    kind = "export format"

    def __init__(self) -> None:
        self._entries: dict[str, Exporter] = {}
        self.plugin: str = CORE
        """The plugin whose hook is registering now (set by the plugin manager)."""
        self.problems: list[str] = []

    def add(self, name: str, description: str, export: ExportFunction | str, *, extra: str | None = None) -> None:
        """Register format ``name`` (what users give as ``--format``), a one-line description
        (shown by ``bctrace export --help`` and ``--list``), and the function, or a
        ``"pkg.module:function"`` reference imported only when the format is used; ``extra``
        names the pip extra that provides its dependencies."""
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise PluginError(f"plugin {self.plugin!r} registers export format {name!r}: use letters, digits, '-' and '_'")
        if not description.strip() or "\n" in description.strip():
            raise PluginError(f"plugin {self.plugin!r} registers export format {name!r} without a one-line description")
        taken = self._entries.get(name)
        if taken is not None:
            raise PluginError(f"plugin {self.plugin!r} registers export format {name!r}, which plugin {taken.owner!r} already registers")
        self._entries[name] = Exporter(name, description.strip(), self.plugin, export, extra)

    def get(self, name: str) -> Exporter:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            broken = f"; plugins that failed to load: {'; '.join(self.problems)}" if self.problems else ""
            raise UsageError(f"unknown export format {name!r} (known: {known}){broken}") from None

    def function(self, name: str) -> ExportFunction:
        entry = self.get(name)
        if not isinstance(entry.function, str):
            return entry.function
        try:
            loaded = load_reference(entry.function)
        except ImportError as err:
            hint = f" (install it with: pip install 'bctrace[{entry.extra}]')" if entry.extra else ""
            raise UsageError(f"export format {name!r} needs a package that is not installed: {err}{hint}") from err
        self._entries[name] = Exporter(entry.name, entry.description, entry.owner, loaded, entry.extra)
        return loaded

    def names(self) -> list[str]:
        return sorted(self._entries)

    def describe(self) -> list[tuple[str, str]]:
        return [(n, self._entries[n].description) for n in self.names()]

    def __contains__(self, name: object) -> bool:
        return name in self._entries
