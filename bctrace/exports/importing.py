"""``bctrace import --format in-toto STATEMENT``: an in-toto Statement (a SLSA provenance from a
CI system, an SBOM attestation) recorded as one bctrace record whose subjects are the
statement's subjects, so that the artifacts it speaks about are anchored with it.

The statement is checked with the in-toto attestation bindings first (:func:`.intoto.validate`).
A DSSE envelope is accepted too: its payload is imported, and its signatures are kept in the
record as what they are, claims (``signatures_checked: false``): bctrace does not know the keys.
Every subject must carry a ``sha256`` digest, since that is what a bctrace subject is; other
digests are kept beside it. The record's body holds the predicate type, the predicate and the
SHA-256 of the statement's exact bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from bctrace.api import Subject, UsageError, require_extra

KIND = "in-toto-statement"
MAX_STATEMENT_BYTES = 64 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def read_statement(path: str | os.PathLike[str]) -> tuple[dict[str, Any], bytes, dict[str, Any] | None]:
    """The statement (as JSON), its exact bytes, and the DSSE envelope it came in, if any."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_STATEMENT_BYTES + 1)
    except OSError as err:
        raise UsageError(f"statement {p} cannot be read: {err.strerror or err}") from None
    if len(raw) > MAX_STATEMENT_BYTES:
        raise UsageError(f"statement {p} is larger than {MAX_STATEMENT_BYTES // 2**20} MiB")
    data = _json(raw, str(p))
    envelope = None
    if isinstance(data, dict) and "payloadType" in data and "payload" in data:
        envelope = data
        if data["payloadType"] != "application/vnd.in-toto+json":
            raise UsageError(f"{p}: DSSE payload type {data['payloadType']!r} is not an in-toto statement")
        try:
            raw = base64.b64decode(str(data["payload"]), validate=True)
        except (binascii.Error, ValueError):
            raise UsageError(f"{p}: the DSSE payload is not base64") from None
        data = _json(raw, f"{p} (DSSE payload)")
    if not isinstance(data, dict):
        raise UsageError(f"{p} is not an in-toto statement (not a JSON object)")
    return data, raw, envelope


def _json(raw: bytes, source: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UsageError(f"{source} is not JSON: {err}") from None


def statement_record(path: str | os.PathLike[str]) -> tuple[list[Subject], dict[str, Any]]:
    """The subjects and body of the record that imports the statement at ``path``."""
    require_extra("export", "import --format in-toto", "in_toto_attestation", "google.protobuf")
    from .intoto import validate

    stmt, raw, envelope = read_statement(path)
    try:
        validate(stmt)
    except ValueError as err:
        raise UsageError(f"{path}: {err}") from None
    subjects = []
    for i, s in enumerate(stmt["subject"]):
        name = str(s.get("name") or s.get("uri") or f"subject {i}")
        digest = dict(s.get("digest") or {})
        sha = str(digest.pop("sha256", ""))
        if not _SHA256.fullmatch(sha):
            raise UsageError(f"{path}: subject {i} ({name!r}) has no sha256 digest; a bctrace subject needs one")
        subjects.append(Subject(name=name, sha256="0x" + sha.lower(), digests={k: str(v) for k, v in digest.items()} or None,
                                media_type=s.get("mediaType") or None))
    body: dict[str, Any] = {
        "statement_sha256": "0x" + hashlib.sha256(raw).hexdigest(),
        "statement_type": stmt["_type"],
        "predicate_type": stmt["predicateType"],
        "predicate": stmt["predicate"],
    }
    if envelope is not None:
        body["dsse"] = {"payload_type": envelope["payloadType"], "signatures_checked": False,
                        "keyids": [str(sig.get("keyid", "")) for sig in envelope.get("signatures", []) if isinstance(sig, dict)]}
    return subjects, body
