"""Registries that registrar hooks fill: name -> backend class, store class, signer class
or command group. Each entry remembers which plugin registered it, so a clash names both plugins."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..errors import PluginError

if TYPE_CHECKING:
    import click
    from pydantic import BaseModel

    from .authorship import Signer  # noqa: F401 - named in a string below
    from .backend import ChainBackend  # noqa: F401 - named in a string below
    from .stores import ContentStore  # noqa: F401 - named in a string below


T = TypeVar("T")

CORE = "bctrace"
"""The owner name of what bctrace itself registers (its core commands)."""


class Registry(Generic[T]):
    """Name -> class, filled by a registrar hook. Registering a taken name is an error naming
    both plugins.

    A plugin may register a class, or an import reference ``"package.module:Class"`` that is
    imported only when the name is used: registering then costs nothing, and a backend whose
    optional dependencies are not installed fails with one clear line only when chosen.
    """

    kind = "plugin"

    def __init__(self) -> None:
        self._entries: dict[str, type[T] | str] = {}
        self._extras: dict[str, str] = {}
        self._owners: dict[str, str] = {}
        self.plugin: str = CORE
        """The plugin whose hook is registering now (set by the plugin manager)."""
        self.problems: list[str] = []
        """One line per plugin whose registrar failed; the CLI prints them, the API logs them."""

    def add(self, name: str, cls: type[T] | str, *, extra: str | None = None) -> None:
        """Register ``cls`` under ``name``; ``extra`` names the pip extra that provides its
        dependencies (shown when importing a lazy reference fails)."""
        owner = self._owners.get(name)
        if owner is not None and self._entries[name] != cls:
            raise PluginError(f"plugin {self.plugin!r} registers {self.kind} {name!r}, which plugin {owner!r} already registers")
        self._entries[name] = cls
        self._owners[name] = self.plugin
        if extra:
            self._extras[name] = extra

    def get(self, name: str) -> type[T]:
        try:
            entry = self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            broken = f"; plugins that failed to load: {'; '.join(self.problems)}" if self.problems else ""
            raise PluginError(f"unknown {self.kind} {name!r} (known: {known}){broken}") from None
        if isinstance(entry, str):
            entry = self._entries[name] = self._load(name, entry)
        return entry

    def owner(self, name: str) -> str | None:
        """The plugin that registered ``name``."""
        return self._owners.get(name)

    def _load(self, name: str, ref: str) -> type[T]:
        try:
            return load_reference(ref)  # type: ignore[no-any-return, unused-ignore]
        except ImportError as err:
            hint = f" (install it with: pip install 'bctrace[{self._extras[name]}]')" if name in self._extras else ""
            raise PluginError(f"{self.kind} {name!r} needs a package that is not installed: {err}{hint}") from err

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries


def load_reference(ref: str) -> Any:
    """``"package.module:attr"`` -> the object (raises ImportError or AttributeError)."""
    module_name, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module_name), attr)


class BackendRegistry(Registry["ChainBackend"]):
    kind = "backend"


class StoreRegistry(Registry["ContentStore"]):
    kind = "store"


class SignerRegistry(Registry["Signer"]):
    kind = "signer"


@dataclass(frozen=True)
class KindInfo:
    """What a kind says about itself besides its model (known without importing the model)."""

    version: int
    description: str
    private: tuple[str, ...]
    """Field paths recorded as disclosure digests unless the recorder says ``public=[...]``."""


class KindRegistry(Registry["BaseModel"]):
    """Kind name -> body model (a pydantic model class, or a ``"pkg.module:Model"`` reference
    imported only when that kind is recorded), with its version, description and private fields."""

    kind = "record kind"

    def __init__(self) -> None:
        super().__init__()
        self.info: dict[str, KindInfo] = {}

    def add(self, name: str, cls: type[BaseModel] | str, *, extra: str | None = None, version: int = 1,
            description: str = "", private: tuple[str, ...] | list[str] = ()) -> None:
        """Register kind ``name``: records of it must have a body ``cls`` accepts.

        :param version: the model's version; a record of the kind carries it as ``kind_version``.
        :param description: one line, shown by ``bctrace kinds``.
        :param private: field paths (``donor``, ``a.b``, ``items[0]``) private by default.
        """
        super().add(name, cls, extra=extra)
        self.info[name] = KindInfo(version, description, tuple(private))


class CommandRegistry:
    """Top-level ``bctrace`` commands: the core's, and one namespaced group per plugin.

    ``add`` takes a click command or group, or an import reference (``"pkg.cli:group"``,
    loaded only when that command runs or help is shown). ``alias`` keeps a deprecated
    spelling working (``alias("deploy", "evm deploy")``), with a deprecation line when used.
    """

    def __init__(self) -> None:
        self.commands: dict[str, click.Command | str] = {}
        self.aliases: dict[str, str] = {}
        self._owners: dict[str, str] = {}
        self.plugin: str = CORE
        self.problems: list[str] = []

    def _claim(self, name: str) -> None:
        owner = self._owners.get(name)
        if owner is not None:
            taken = "bctrace's core" if owner == CORE else f"plugin {owner!r}"
            raise PluginError(f"plugin {self.plugin!r} registers command {name!r}, which {taken} already has; the plugin's command is not added")
        self._owners[name] = self.plugin

    def add(self, command: click.Command | str, *, name: str | None = None) -> None:
        """Add a command or group; an import reference needs ``name``."""
        if isinstance(command, str):
            if not name:
                raise PluginError(f"plugin {self.plugin!r} adds command {command!r} by reference without a name")
        else:
            name = name or command.name
        assert name is not None
        self._claim(name)
        self.commands[name] = command

    def alias(self, old: str, new: str) -> None:
        """Accept the deprecated top-level spelling ``old`` for ``new`` (``"evm deploy"``)."""
        self._claim(old)
        self.aliases[old] = new

    def owner(self, name: str) -> str | None:
        return self._owners.get(name)
