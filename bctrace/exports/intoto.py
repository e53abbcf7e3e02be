"""in-toto Statement v1 per record, SLSA Provenance v1 for ML runs, optionally in a DSSE envelope.

Every statement is built as JSON and then parsed and validated with the in-toto attestation
framework's own Python bindings (``in-toto-attestation``: the Statement and ResourceDescriptor
protos, and for ML runs the SLSA Provenance v1 proto, which refuses any field the schema does
not have), so what is written is exactly what those tools read. The JSON is written from our
dict, not from the proto: protobuf would turn every integer of the predicate (a block number,
a chain id) into a float and change the record, whose digest must stay checkable.

- **Subjects** are the record's hashed artifacts, each with its ``sha256`` (and further
  digests, e.g. ``blake3``). A salted text subject's hash is *not* the sha256 of its content, so
  it is never given as one; a record with no plain subject has the record itself as subject
  (its digest is the sha256 of its RFC 8785 bytes, which anyone can recompute).
- **Predicate** (type :data:`BUNDLE_PREDICATE`): the whole proof bundle (record, digest, Merkle
  proof, anchors), so a reader can verify it with bctrace, or with any tool that reads bundles.
  The anchors are what the bundle claims until ``bctrace verify`` checks them on their chains.
- **ML runs**: the end step of an ``ml-run`` trace becomes SLSA Provenance v1: subjects are the
  run's models and outputs; the build definition holds the code (git state, entry point,
  arguments), the parameters and seed, and the environment (from the run's start step); inputs
  are resolved dependencies; byproducts are the final metrics and the bctrace record itself.
- **DSSE** (``--sign``): the statement is the payload of a DSSE envelope (``securesystemslib``'s
  implementation) signed with the ``[signer]`` key over DSSE's pre-authentication encoding;
  ``keyid`` is the signer's identity (an address for the default ``eip191`` scheme, whose
  signature is Ethereum ``personal_sign`` of that encoding).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bctrace.api import BundleError, ExportedFile, ExportRequest, ProofBundle, UsageError, from_0x, require_extra

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
SLSA_PROVENANCE = "https://slsa.dev/provenance/v1"
BUNDLE_PREDICATE = "urn:bctrace:predicate:bundle:v1"
"""A bctrace proof bundle, format version 1 (README, "Proof bundle format")."""
ML_RUN_BUILD_TYPE = "urn:bctrace:build-type:ml-run:v1"
"""An ML training run recorded by ``bctrace.ml`` (README, "Exporting to in-toto, SLSA, PROV")."""
ML_RUN_BUILDER = "urn:bctrace:builder:ml-run"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
ML_KIND = "ml-run"


def export_in_toto(request: ExportRequest) -> list[ExportedFile]:
    """One ``.intoto.json`` statement per record (``.dsse.json`` envelopes with ``--sign``);
    an ML run's start and checkpoint steps are part of its provenance, not statements of their own."""
    require_extra("export", "export --format in-toto", "in_toto_attestation", "google.protobuf")
    starts = {str(b.record.get("trace")): b for b in request.bundles if _ml_step(b) == "start"}
    ended = {str(b.record.get("trace")) for b in request.bundles if _ml_step(b) == "end"}
    signer = request.tracer()._signer() if request.sign else None
    files = []
    for bundle in request.bundles:
        step, trace = _ml_step(bundle), str(bundle.record.get("trace"))
        if step in ("start", "checkpoint") and trace in ended:
            continue  # part of the run's provenance
        stmt = slsa_statement(bundle, starts.get(trace)) if step == "end" else statement(bundle)
        files.append(_file(bundle, stmt, signer))
    return files


def _ml_step(bundle: ProofBundle) -> str | None:
    """``start``, ``checkpoint`` or ``end`` for a step of an ML run, else None."""
    body = bundle.record.get("body")
    return str(body.get("step")) if bundle.record.get("kind") == ML_KIND and isinstance(body, dict) else None


def _file(bundle: ProofBundle, stmt: dict[str, Any], signer: Any) -> ExportedFile:
    try:
        validate(stmt)
    except ValueError as err:  # e.g. a record nested deeper than protobuf's limit of 100
        raise BundleError(f"record {bundle.digest}: {err}") from None
    data = json.dumps(stmt, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    stem = bundle.digest
    if signer is None:
        return ExportedFile(f"{stem}.intoto.json", data)
    return ExportedFile(f"{stem}.dsse.json", (json.dumps(envelope(data.rstrip(b"\n"), signer), indent=2) + "\n").encode())


# -- plain records ------------------------------------------------------------------------------


def statement(bundle: ProofBundle) -> dict[str, Any]:
    """The in-toto Statement v1 of one record: its subjects, the bundle as predicate."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects(bundle.record.get("subjects", [])) or [record_subject(bundle)],
        "predicateType": BUNDLE_PREDICATE,
        "predicate": bundle.model_dump(mode="json", exclude_none=True),
    }


def subjects(items: Sequence[dict[str, Any]], *, prefix: str = "") -> list[dict[str, Any]]:
    """Resource descriptors of a record's subjects whose ``sha256`` is the plain SHA-256 of the
    bytes (salted ones are left out: their hash is not one)."""
    out = []
    for s in items:
        if s.get("hash_scheme") or not str(s.get("name", "")).startswith(prefix):
            continue
        digest = {"sha256": _hex(s["sha256"])}
        for algorithm, value in (s.get("digests") or {}).items():
            digest[algorithm] = _hex(value)
        descriptor: dict[str, Any] = {"name": str(s["name"]).removeprefix(prefix), "digest": digest}
        if s.get("media_type"):
            descriptor["mediaType"] = s["media_type"]
        if s.get("cid"):
            descriptor["uri"] = f"ipfs://{s['cid']}"
        out.append(descriptor)
    return out


def record_subject(bundle: ProofBundle) -> dict[str, Any]:
    """The record itself: its digest is the sha256 of its RFC 8785 canonical bytes."""
    return {"name": f"bctrace-record:{bundle.digest}", "digest": {"sha256": _hex(bundle.digest)},
            "mediaType": "application/json"}


def _hex(value: str) -> str:
    """A digest as in-toto writes it: lowercase hex without ``0x``."""
    return value.removeprefix("0x").lower()


# -- ML runs as SLSA Provenance v1 --------------------------------------------------------------


def slsa_statement(end: ProofBundle, start: ProofBundle | None) -> dict[str, Any]:
    """SLSA Provenance v1 of an ML run: what was built (models, outputs) from what (code,
    parameters, environment, inputs), with the metrics and the bctrace record as byproducts."""
    body = end.record.get("body", {})
    run_id = str(body.get("run_id") or end.record.get("trace"))
    if start is None:
        raise UsageError(f"ML run {run_id}: its start step (code, environment) is not among the bundles; "
                         f"export the run's folder (.bctrace/runs/{run_id})")
    begun = start.record.get("body", {})
    produced = (subjects(end.record.get("subjects", []), prefix="model:")
                + subjects(end.record.get("subjects", []), prefix="output:"))
    if not produced:
        raise BundleError(f"ML run {run_id}: the end step names no model or output (log one with run.log_model or run.log_artifact)")
    code = begun.get("code") or {}
    environment = begun.get("environment") or {}
    metadata: dict[str, Any] = {"invocationId": run_id}
    if body.get("started"):
        metadata["startedOn"] = body["started"]
    if body.get("ended"):
        metadata["finishedOn"] = body["ended"]
    builder: dict[str, Any] = {"id": ML_RUN_BUILDER}
    version = (environment.get("packages") or {}).get("bctrace")
    if version:
        builder["version"] = {"bctrace": str(version)}
    predicate = {
        "buildDefinition": {
            "buildType": ML_RUN_BUILD_TYPE,
            "externalParameters": {"name": body.get("name"), "params": body.get("params", {}), "seed": body.get("seed"),
                                   "code": code},
            "internalParameters": {"environment": environment, "randomness": body.get("randomness")},
            "resolvedDependencies": _code_dependencies(code) + _inputs(body.get("inputs", [])),
        },
        "runDetails": {
            "builder": builder,
            "metadata": metadata,
            "byproducts": [
                {"name": "metrics", "mediaType": "application/json", "annotations": {"metrics": body.get("metrics", {}),
                                                                                     "status": body.get("status")}},
                {**record_subject(end), "annotations": {"bundle": end.model_dump(mode="json", exclude_none=True)}},
                {**record_subject(start), "annotations": {"bundle": start.model_dump(mode="json", exclude_none=True)}},
            ],
        },
    }
    return {"_type": STATEMENT_TYPE, "subject": produced, "predicateType": SLSA_PROVENANCE, "predicate": predicate}


def _code_dependencies(code: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    git = code.get("git") or {}
    if git.get("commit"):
        source: dict[str, Any] = {"name": "source", "digest": {"gitCommit": git["commit"]}}
        if git.get("remote"):
            source["uri"] = f"git+{git['remote']}@{git['commit']}"
        out.append(source)
    entry = code.get("entry_point") or {}
    if entry.get("script") and entry.get("sha256"):
        out.append({"name": str(entry["script"]), "digest": {"sha256": _hex(entry["sha256"])}})
    for config in code.get("config_files") or []:
        out.append({"name": str(config["path"]), "digest": {"sha256": _hex(config["sha256"])}})
    return out


def _inputs(inputs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in inputs:
        if not item.get("sha256"):
            continue
        annotations = {k: v for k, v in item.items() if k not in ("name", "sha256", "manifest")}
        out.append({"name": str(item["name"]), "digest": {"sha256": _hex(item["sha256"])}, "annotations": annotations})
    return out


# -- validation with the attestation framework's bindings ---------------------------------------


def validate(stmt: dict[str, Any]) -> None:
    """Parse ``stmt`` with the in-toto attestation bindings (unknown fields refused) and run their
    checks; an SLSA predicate is parsed into the Provenance v1 proto too. Raises ``ValueError``."""
    from google.protobuf import json_format
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement

    try:
        parsed = json_format.ParseDict(stmt, statement_pb2.Statement())
        Statement.copy_from_pb(parsed).validate()
        if stmt["predicateType"] == SLSA_PROVENANCE:
            from in_toto_attestation.predicates.provenance.v1 import provenance_pb2

            json_format.ParseDict(stmt["predicate"], provenance_pb2.Provenance())
    except (json_format.ParseError, ValueError) as err:
        raise ValueError(f"in-toto statement does not validate: {err}") from err


# -- DSSE ---------------------------------------------------------------------------------------


def envelope(payload: bytes, signer: Any) -> dict[str, Any]:
    """A DSSE envelope of ``payload`` signed by ``signer`` (a bctrace ``Signer``)."""
    require_extra("export", "export --sign", "securesystemslib")
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import Signature

    env = Envelope(payload, PAYLOAD_TYPE, {})
    text = signer.sign(env.pae())
    raw = from_0x(text, what="signature", length=None) if text.startswith("0x") else text.encode("utf-8")
    env.signatures[signer.identity] = Signature(signer.identity, raw.hex())
    return env.to_dict()
