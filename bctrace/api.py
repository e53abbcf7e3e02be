"""The plugin API (version 1.0): the one module a bctrace plugin imports.

Everything a backend, content store or command group needs is here; the rest of bctrace
(``bctrace._internal``) may change in any release. The conformance test classes a plugin's own
test suite subclasses are in :mod:`bctrace.testing` (kept apart so that this module never
imports pytest). The template plugin is ``tests/plugins/sample_notary`` in the repository; the
README's section "Writing a plugin" documents every hook.

A plugin module::

    from bctrace.api import BackendRegistry, hookimpl

    @hookimpl
    def bctrace_register_backends(registry: BackendRegistry) -> None:
        registry.add("mychain", "bctrace_mychain.backend:MyChainBackend")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._internal.hookspecs import hookimpl
from ._internal.lazy import lazy_getattr
from ._internal.registry import BackendRegistry, CommandRegistry, KindRegistry, Registry, SignerRegistry, StoreRegistry
from .cli.context import deprecated, emit_json, get_config, get_tracer, pass_tracer
from .errors import *  # noqa: F403 - every error class is part of the plugin API
from .errors import __all__ as _errors

if TYPE_CHECKING:
    from ._internal.authorship import Signer, SignerConfig
    from ._internal.backend import BackendConfig, ChainBackend
    from ._internal.bundle import AnchorReceipt, ProofBundle
    from ._internal.cid import CidParams
    from ._internal.config import Config, path_from_config
    from ._internal.export_registry import ExportedFile, ExporterRegistry, ExportRequest
    from ._internal.extras import require_extra
    from ._internal.hexutil import Hex32, from_0x, to_0x
    from ._internal.locks import locked
    from ._internal.merkle import keccak256
    from ._internal.record import Record, Subject, canonical_bytes
    from ._internal.secretref import check_env_reference, hide_pasted_secrets, redact_url
    from ._internal.stores import ContentStore, StoreConfig, fetch_bundle
    from ._internal.strictjson import nesting as json_nesting
    from ._internal.tracer import Tracer, open_store
    from ._internal.verify import check_offline

# Imported on first use: a plugin's `from bctrace.api import hookimpl` (and so `bctrace --help`)
# does not pay for pydantic and every model.
__getattr__ = lazy_getattr(__name__, globals(), {
    "._internal.authorship": ["Signer", "SignerConfig"],
    "._internal.backend": ["BackendConfig", "ChainBackend"],
    "._internal.bundle": ["AnchorReceipt", "ProofBundle"],
    "._internal.cid": ["CidParams"],
    "._internal.config": ["Config", "path_from_config"],
    "._internal.export_registry": ["ExportedFile", "ExporterRegistry", "ExportRequest"],
    "._internal.extras": ["require_extra"],
    "._internal.hexutil": ["Hex32", "from_0x", "to_0x"],
    "._internal.locks": ["locked"],
    "._internal.merkle": ["keccak256"],
    "._internal.record": ["Record", "Subject", "canonical_bytes"],
    "._internal.secretref": ["check_env_reference", "hide_pasted_secrets", "redact_url"],
    "._internal.stores": ["ContentStore", "StoreConfig", "fetch_bundle"],
    "._internal.strictjson": ["json_nesting=nesting"],
    "._internal.tracer": ["Tracer", "open_store"],
    "._internal.verify": ["check_offline"],
})

API_VERSION = "1.0"
"""The plugin API's version: additions keep 1.x; a removal or change of meaning makes 2.0."""

__all__ = [
    "API_VERSION",
    "AnchorReceipt",
    "BackendConfig",
    "BackendRegistry",
    "ChainBackend",
    "CidParams",
    "CommandRegistry",
    "Config",
    "ContentStore",
    "ExportRequest",
    "ExportedFile",
    "ExporterRegistry",
    "Hex32",
    "KindRegistry",
    "ProofBundle",
    "Record",
    "Registry",
    "Signer",
    "SignerConfig",
    "SignerRegistry",
    "StoreConfig",
    "StoreRegistry",
    "Subject",
    "Tracer",
    "canonical_bytes",
    "check_env_reference",
    "check_offline",
    "deprecated",
    "emit_json",
    "fetch_bundle",
    "from_0x",
    "get_config",
    "get_tracer",
    "hide_pasted_secrets",
    "hookimpl",
    "json_nesting",
    "keccak256",
    "locked",
    "open_store",
    "pass_tracer",
    "path_from_config",
    "require_extra",
    "redact_url",
    "to_0x",
    *_errors,
]
