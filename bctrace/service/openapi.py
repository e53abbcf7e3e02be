"""The OpenAPI 3.1 document of ``/v1`` (served at ``/openapi.json``). Request schemas come from
the pydantic models that check the requests; the API is fuzzed from this document
(schemathesis), so every status a route can answer is listed here."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic.json_schema import models_json_schema

from .. import __version__
from .models import DIGEST_PATTERN, DigestsIn, RecordIn, RecordsIn

_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}, "additionalProperties": False}
_DIGEST = {"type": "string", "pattern": DIGEST_PATTERN}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "not JSON, not UTF-8, NaN, a bad digest", 401: "missing or unknown token", 403: "the token lacks the scope",
            404: "unknown", 413: "body over the size limit", 422: "JSON that does not match the schema",
            429: "rate limit exceeded (see Retry-After)", 503: "the outbox database is unavailable (see Retry-After)"}
    return {str(c): _json({"$ref": "#/components/schemas/Error"}, text[c]) for c in codes}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    _, defs = models_json_schema([(m, "validation") for m in (RecordIn, RecordsIn, DigestsIn)], ref_template="#/components/schemas/{model}")
    schemas = dict(defs.get("$defs", {}))
    schemas["Error"] = _ERROR
    schemas["RecordsPost"] = {"oneOf": [{"$ref": "#/components/schemas/RecordIn"}, {"$ref": "#/components/schemas/RecordsIn"}]}
    accepted = {"type": "object", "required": ["digest", "trace", "seq"],
                "properties": {"digest": _DIGEST, "trace": {"type": "string"}, "seq": {"type": "integer", "minimum": 0}}}
    auth: list[dict[str, list[str]]] = [{"bearer": []}]
    common = (401, 403, 429, 503)
    return {
        "openapi": "3.1.0",
        "info": {"title": "bctrace anchoring service", "version": __version__,
                 "description": "Send records or bare sha256 digests; the service anchors them in batches and hands back proof bundles."},
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": auth,
        "paths": {
            "/v1/records": {"post": {
                "summary": "Record one step, or a batch of them ({\"records\": [...]})", "operationId": "postRecords",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RecordsPost"}}}},
                "responses": {"201": _json({"type": "object", "required": ["records"], "properties": {"records": {"type": "array", "items": accepted}}},
                                           "stored durably; anchored at the next anchor"),
                              **_errors(400, 413, 422, *common)}}},
            "/v1/digests": {"post": {
                "summary": "Add bare sha256 digests (the content stays with the producer)", "operationId": "postDigests",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DigestsIn"}}}},
                "responses": {"201": _json({"type": "object", "required": ["digests"], "properties": {"digests": {"type": "array", "items": {
                    "type": "object", "required": ["digest", "status"],
                    "properties": {"digest": _DIGEST, "status": {"enum": ["pending", "known"]}}}}}}, "stored durably"),
                    **_errors(400, 413, 422, *common)}}},
            "/v1/bundles/{digest}": {"get": {
                "summary": "The proof bundle of a record (or the proof of a bare digest)", "operationId": "getBundle",
                "parameters": [{"name": "digest", "in": "path", "required": True, "schema": _DIGEST}],
                "responses": {"200": _json({"type": "object", "required": ["bctrace", "digest", "merkle", "anchors"]},
                                           "anchored: a *.bctrace.json bundle (a bare digest's has no record)"),
                              "202": _json({"type": "object", "required": ["status", "digest"], "properties": {
                                  "status": {"const": "pending"}, "digest": _DIGEST, "expected_by": {"type": ["number", "null"]}}},
                                  "waiting for the next anchor (expected_by: Unix time)"),
                              **_errors(400, 404, *common)}}},
            "/v1/traces/{trace}": {"get": {
                "summary": "A trace's records and whether each is anchored", "operationId": "getTrace",
                "parameters": [{"name": "trace", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 128}}],
                "responses": {"200": _json({"type": "object", "required": ["trace", "records"]}, "the trace"), **_errors(400, 404, *common)}}},
            "/v1/status": {"get": {
                "summary": "Pending records, last anchor per chain, worker health", "operationId": "getStatus",
                "responses": {"200": _json({"type": "object", "required": ["pending", "open_batches", "last_anchor", "worker"]}, "status"),
                              **_errors(*common)}}},
            "/v1/anchor": {"post": {
                "summary": "Anchor now (admin)", "operationId": "postAnchor",
                "responses": {"202": _json({"type": "object", "required": ["triggered"]}, "the anchoring worker was woken"), **_errors(*common)}}},
        },
    }
