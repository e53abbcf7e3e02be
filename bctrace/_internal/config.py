"""Configuration: which chains (and content stores) a project anchors on.

Found, in order: an explicit path, ``$BCTRACE_CONFIG``, ``bctrace.toml`` in the current folder or
a parent, ``[tool.bctrace]`` in the nearest ``pyproject.toml``. With none of these, the embedded
``local`` ledger is used, so bctrace works before anything is configured. ``${VAR}`` (or
``${VAR:-default}``) in any string is replaced from the environment when the file is read; secrets
such as keys are instead referenced as ``"env:VAR"`` and resolved by the backend only when it signs.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo

from ..errors import ConfigError, PluginError
from .authorship import DEFAULT_SCHEME, SignerConfig
from .backend import BackendConfig
from .boundedread import read_bounded
from .bundle import field_error

CONFIG_FILE = "bctrace.toml"
DEFAULT_STATE_DIR = ".bctrace"
DEFAULT_CHAIN = "local"
MAX_CONFIG_BYTES = 1 << 20
"""A config file is a few hundred bytes; anything over 1 MiB is a mistake, refused unread."""
MAX_CONFIG_DEPTH = 16
"""Tables and arrays nested deeper than this are refused (bctrace's own go three levels deep)."""
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _TopLevel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state_dir: str | None = None
    default_chains: list[str] | None = None
    bundle_dir: str | None = None
    author: str | None = None
    signer: dict[str, Any] | None = None
    chains: dict[str, dict[str, Any]] = {}
    stores: dict[str, dict[str, Any]] = {}
    outbox: str | None = None
    service: dict[str, Any] | None = None


@dataclass(frozen=True)
class Config:
    """A loaded, validated configuration. Chain tables are already backend config models."""

    root: Path
    """The project folder: where the config file is, or the current folder without one."""
    state_dir: Path
    chains: dict[str, BackendConfig]
    default_chains: list[str]
    stores: dict[str, BaseModel] = field(default_factory=dict)
    bundle_dir: Path | None = None
    """If set, every record's bundle is written here on flush (not only stamped files')."""
    author: str | None = None
    signer: SignerConfig | None = None
    """The ``[signer]`` table: the key that signs records (proof of authorship)."""
    source: Path | None = None
    outbox: str | None = None
    """A ``postgresql://`` URL to keep the outbox in PostgreSQL; None: SQLite in ``state_dir``."""
    service: Any = None
    """The ``[service]`` table (client mode: a ``ServiceClientConfig``), or None."""

    def describe_source(self) -> str:
        return str(self.source) if self.source else "no config file (defaults: local ledger)"


def find_config(start: Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    """Locate the config file and return it with its raw table, or None if there is none."""
    env = os.environ.get("BCTRACE_CONFIG")
    if env:
        path = _config_path(env, "BCTRACE_CONFIG")
        if not path.exists():
            raise ConfigError(f"BCTRACE_CONFIG points to {path}, which does not exist")
        return path, _read_table(path)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate, _read_table(candidate)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            table = _read_toml(pyproject).get("tool", {}).get("bctrace")
            if table is not None:
                return pyproject, table
    return None


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    registry: Any = None,
    store_registry: Any = None,
    cwd: Path | None = None,
) -> Config:
    """Read, expand and validate the configuration.

    :param registry: a :class:`~bctrace.api.BackendRegistry`, and
        :param store_registry: a :class:`~bctrace.api.StoreRegistry`; both are built
        from a fresh plugin manager when omitted.
    """
    if registry is None or store_registry is None:
        from . import plugin_manager as manager

        pm = manager.get_plugin_manager()
        registry = registry or manager.backend_registry(pm)
        store_registry = store_registry or manager.store_registry(pm)
    if path is not None:
        p = _config_path(path, "--config")
        if not p.exists():
            raise ConfigError(f"config file {p} does not exist")
        found: tuple[Path, dict[str, Any]] | None = (p, _read_table(p))
    else:
        found = find_config(cwd)
    if found is None:
        root = (cwd or Path.cwd()).resolve()
        return Config(
            root=root,
            state_dir=root / DEFAULT_STATE_DIR,
            chains={DEFAULT_CHAIN: registry.get("local").config_model(backend="local")},
            default_chains=[DEFAULT_CHAIN],
        )
    source, table = found
    return _build(source, table, registry, store_registry)


def _read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; every way it can be unreadable is one ConfigError naming the file."""
    raw = read_bounded(path, MAX_CONFIG_BYTES, "config", ConfigError, too_large="; a bctrace config is a few lines")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"config {path} is not UTF-8 text (byte {err.start} is {raw[err.start]:#04x})") from None
    if sys.version_info >= (3, 11):  # imported here: most commands in a folder without a config read no TOML
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config {path} is not valid TOML: {err}") from err
    except RecursionError:
        data = None
    if data is None or _depth(data) > MAX_CONFIG_DEPTH:
        raise ConfigError(f"config {path}: values are nested more than {MAX_CONFIG_DEPTH} levels deep")
    return data


def _depth(value: Any) -> int:
    """How deeply tables and arrays nest in ``value`` (without recursion, however deep it is)."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def _read_table(path: Path) -> dict[str, Any]:
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("bctrace", {})
    return data


def expand_env(value: Any, where: str) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string of a TOML value."""
    if isinstance(value, str):
        def repl(m: re.Match[str]) -> str:
            var, default = m.group(1), m.group(2)
            if var in os.environ:
                return os.environ[var]
            if default is not None:
                return default
            raise ConfigError(f"{where}: environment variable {var} is not set")

        return _ENV_REF.sub(repl, value)
    if isinstance(value, dict):
        return {k: expand_env(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(x) for x in first["loc"]) or "(table)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif first["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
    return f"field '{where}': {msg}"


def _build(source: Path, table: dict[str, Any], registry: Any, store_registry: Any) -> Config:
    where = str(source)
    try:
        top = _TopLevel.model_validate(table)
    except ValidationError as err:
        raise ConfigError(f"config {where}: {_first_error(err)}") from err
    root = source.resolve().parent
    chains: dict[str, BackendConfig] = {}
    for name, raw in top.chains.items():
        chains[name] = _plugin_table(where, "chain", name, raw, root, registry)
    if not chains:
        chains[DEFAULT_CHAIN] = registry.get("local").config_model(backend="local")
    default_chains = top.default_chains if top.default_chains is not None else list(chains)
    for name in default_chains:
        if name not in chains:
            raise ConfigError(f"config {where}: default_chains names {name!r}, which is not a [chains.{name}] table")
    signer = None
    if top.signer is not None:
        signer = _build_signer(where, expand_env(top.signer, f"config {where}: signer"), root)
    stores = {}
    if top.stores:
        stores = _build_stores(where, top.stores, root, store_registry)
    state_dir = _resolve(root, expand_env(top.state_dir, f"config {where}: state_dir") or DEFAULT_STATE_DIR,
                         f"config {where}: field 'state_dir'")
    bundle_dir = (_resolve(root, expand_env(top.bundle_dir, f"config {where}: bundle_dir"), f"config {where}: field 'bundle_dir'")
                  if top.bundle_dir else None)
    return Config(
        root=root,
        state_dir=state_dir,
        chains=chains,
        default_chains=list(default_chains),
        stores=stores,
        bundle_dir=bundle_dir,
        author=top.author,
        signer=signer,
        source=source,
        outbox=_outbox_setting(where, top.outbox),
        service=_service_setting(where, top.service),
    )


def _service_setting(where: str, raw: dict[str, Any] | None) -> Any:
    """``[service] url = ..., token = "env:VAR"``: record through a shared anchoring service."""
    if raw is None:
        return None
    from ..service.client import ServiceClientConfig  # pydantic only; httpx is imported on first use

    try:
        return ServiceClientConfig.model_validate(expand_env(raw, f"config {where}: service"))
    except ValidationError as err:
        raise ConfigError(f"config {where}: [service] {field_error(err)}") from None


def _outbox_setting(where: str, raw: str | None) -> str | None:
    """``outbox = "sqlite"`` (the default) or a ``postgresql://`` URL (``${VAR}`` expanded)."""
    from .outbox import is_database_url

    value = expand_env(raw, f"config {where}: outbox") if raw is not None else None
    if value is None or value == "sqlite":
        return None
    if not is_database_url(value):
        scheme = value.split("://", 1)[0] if "://" in value else "a path"
        raise ConfigError(f'config {where}: field \'outbox\' must be "sqlite" or a postgresql:// URL, not {scheme}')
    return value


def _build_signer(where: str, raw: dict[str, Any], root: Path) -> SignerConfig:
    """The ``[signer]`` table, validated by its scheme's config model (a plugin's)."""
    from .plugin_manager import signer_registry

    scheme = str(raw.get("scheme", DEFAULT_SCHEME))
    try:
        model = signer_registry().get(scheme).config_model
    except PluginError as err:
        raise ConfigError(f"config {where}: signer: {err}") from None
    try:
        return model.model_validate(raw, context={"root": root})
    except ValidationError as err:
        raise ConfigError(f"config {where}: signer: {_first_error(err)}") from err


def _build_stores(where: str, tables: dict[str, dict[str, Any]], root: Path, registry: Any) -> dict[str, BaseModel]:
    return {name: _plugin_table(where, "store", name, raw, root, registry) for name, raw in tables.items()}


def _plugin_table(where: str, kind: str, name: str, raw: Any, root: Path, registry: Any) -> Any:
    """One ``[chains.NAME]`` or ``[stores.NAME]`` table, validated by the config model of the
    plugin its ``backend`` names; every problem is one ConfigError naming the table and field."""
    label = f"config {where}: {kind} {name!r}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{label} must be a table")
    raw = expand_env(raw, label)
    backend = raw.get("backend")
    if not backend:
        raise ConfigError(f"{label}: field 'backend' is missing")
    if not isinstance(backend, str):
        raise ConfigError(f"{label}: field 'backend' must be a backend name (a string)")
    try:
        model = registry.get(backend).config_model
    except PluginError as err:
        raise ConfigError(f"{label}: {err}") from None
    try:
        return model.model_validate(raw, context={"root": root, kind: name})
    except ValidationError as err:
        raise ConfigError(f"{label}: {_first_error(err)}") from err


def path_from_config(value: Path | None, info: ValidationInfo) -> Path | None:
    """Field validator body for paths in a config table: ``~`` is expanded, and relative paths
    are relative to the config file's folder (passed in the validation context as ``root``),
    not to the cwd. Raises ValueError (shown naming the chain and the field) for a path that
    no file system can hold."""
    if value is None:
        return None
    value = _usable_path(str(value))
    root = (info.context or {}).get("root")
    if root is not None and not value.is_absolute():
        return Path(root) / value
    return value


def _usable_path(value: str) -> Path:
    if "\x00" in value:
        raise ValueError("contains a NUL character, which no path can hold")
    try:
        return Path(value).expanduser()
    except RuntimeError:  # ~user for a user that does not exist
        raise ValueError(f"{value!r}: {value.split('/')[0]} names no user with a home folder") from None


def _config_path(value: str | os.PathLike[str], where: str) -> Path:
    try:
        return _usable_path(os.fspath(value))
    except ValueError as err:
        raise ConfigError(f"{where}: {err}") from None


def _resolve(root: Path, value: str, where: str) -> Path:
    try:
        p = _usable_path(value)
    except ValueError as err:
        raise ConfigError(f"{where}: {err}") from None
    return p if p.is_absolute() else root / p
