"""Which scheme signs or checks a record: looked up in the signer registry that plugins fill
(``bctrace_register_signers``). Kept apart from the protocol (``authorship``) so that the
registry's types never depend on the plugin manager."""

from __future__ import annotations

from typing import Any

from ..errors import PluginError, UsageError
from .authorship import DEFAULT_SCHEME, Signer, unsigned_digest
from .plugin_manager import signer_registry


def signer_class(scheme: str, source: str = "[signer]") -> type[Signer]:
    try:
        return signer_registry().get(scheme)
    except PluginError as err:
        raise UsageError(f"{source}: signature scheme {scheme!r}: {err.one_line()}") from err


def check_signature(record_json: dict[str, Any], source: str = "record") -> str | None:
    """The verified signer of a signed record, or ``None`` for an unsigned one.

    Raises :class:`~bctrace.errors.SignatureInvalid` when the signature is not the author's.
    """
    signature = record_json.get("signature")
    if signature is None:
        return None
    scheme = str(record_json.get("signature_scheme") or DEFAULT_SCHEME)
    author = str(record_json.get("author") or "")
    return signer_class(scheme, source).check(unsigned_digest(record_json), str(signature), author, source)
