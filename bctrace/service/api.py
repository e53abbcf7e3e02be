"""The ``/v1`` HTTP API of the anchoring service (Starlette routes, mounted by ``bctrace serve``).

Every request body is read with a size limit, parsed strictly (no NaN, no duplicate keys) and
validated by the models in :mod:`.models` before anything touches the outbox; every refusal is a
4xx whose body is one line of JSON, ``{"error": "..."}``. Outbox work runs in worker threads,
each with its own tracer (and outbox connection).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .._internal.bundle import MerkleProofInfo, field_error
from .._internal.config import Config
from .._internal.hexutil import to_0x
from .._internal.record import parse_digest
from .._internal.strictjson import JsonProblem, loads
from .._internal.tracer import Tracer
from ..errors import BctraceError, OutboxError, UsageError
from .models import DigestsIn, RecordIn, RecordsIn
from .scheduler import AnchorScheduler
from .tokens import Producer, TokenStore

logger = logging.getLogger("bctrace.service")

DEFAULT_MAX_BODY = 4 << 20
"""4 MiB: a batch post of 10,000 small records fits; a 10 MB body is refused unread."""


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": " ".join(message.split())}, status_code=status, headers=headers)


@dataclass
class Limits:
    max_body: int = DEFAULT_MAX_BODY
    rate: float = 50.0
    """Requests per second per token (a burst of ``2 × rate`` is allowed); 0 turns limits off."""


class RateLimiter:
    """A token bucket per producer, in this process (each service process limits on its own)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float:
        """0 when allowed, else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        burst = max(1.0, 2 * self.rate)
        now = time.monotonic()
        with self._lock:
            level, last = self._buckets.get(key, (burst, now))
            level = min(burst, level + (now - last) * self.rate)
            if level < 1:
                self._buckets[key] = (level, now)
                return (1 - level) / self.rate
            self._buckets[key] = (level - 1, now)
            return 0.0


class Service:
    """What the routes share: the config, tokens, limits, the scheduler and per-thread tracers."""

    def __init__(self, config: Config, tokens: TokenStore, scheduler: AnchorScheduler, limits: Limits | None = None) -> None:
        self.config = config
        self.tokens = tokens
        self.scheduler = scheduler
        self.limits = limits or Limits()
        self.limiter = RateLimiter(self.limits.rate)
        self._local = threading.local()
        self._tracers: list[Tracer] = []
        self._tracers_lock = threading.Lock()

    def tracer(self) -> Tracer:
        tracer = getattr(self._local, "tracer", None)
        if tracer is None:
            tracer = self._local.tracer = Tracer(self.config)
            with self._tracers_lock:
                self._tracers.append(tracer)
        return tracer

    def close(self) -> None:
        with self._tracers_lock:
            for tracer in self._tracers:
                tracer.close()
            self._tracers.clear()
        self.tokens.close()

    # -- work done in worker threads --------------------------------------------------------

    def record(self, producer: Producer, items: list[RecordIn]) -> list[dict[str, Any]]:
        tracer = self.tracer()
        out = []
        with tracer.batch():
            for item in items:
                rec = tracer.record(item.kind, item.body, subjects=item.subjects, trace=item.trace,
                                    author=item.author or producer.name, salt=item.salt)
                out.append({"digest": rec.digest_hex, "trace": rec.record.trace, "seq": rec.record.seq})
        return out

    def add_digests(self, digests: list[bytes]) -> list[dict[str, Any]]:
        """Store bare digests; sending one again is harmless (its status says "known")."""
        outbox = self.tracer().outbox
        known = outbox.known(digests)
        try:
            with outbox.group():
                for digest in dict.fromkeys(d for d in digests if d not in known):
                    outbox.append("digest:" + to_0x(digest), _bare(digest), new_trace=True)
        except UsageError:
            pass  # another request stored one of them meanwhile: it is stored either way
        return [{"digest": to_0x(d), "status": "known" if d in known else "pending"} for d in digests]

    def bundle(self, digest: bytes) -> tuple[int, dict[str, Any]]:
        tracer = self.tracer()
        try:
            stored, batch, done = tracer.outbox.find(digest)
        except UsageError:
            raise ApiError(404, f"record {to_0x(digest)} is not known to this service") from None
        if batch is None or not done:
            return 202, {"status": "pending", "digest": to_0x(digest), "expected_by": self.scheduler.next_due}
        if stored.record_json:
            return 200, json.loads(tracer.bundle(digest).to_json())
        receipts = tracer.outbox.anchors(batch.id)
        merkle = MerkleProofInfo(root=to_0x(batch.root), proof=[to_0x(p) for p in tracer.outbox.tree(batch.id).proof(digest)])
        return 200, {"bctrace": 1, "digest": to_0x(digest), "merkle": merkle.model_dump(mode="json"),
                     "anchors": [receipts[c].model_dump(mode="json", exclude_none=True) for c in batch.chains if c in receipts]}

    def trace(self, trace_id: str) -> dict[str, Any]:
        outbox = self.tracer().outbox
        steps = []
        for seq, digest in enumerate(outbox.trace_digests(trace_id)):
            _, batch, done = outbox.find(digest)
            steps.append({"seq": seq, "digest": to_0x(digest), "status": "anchored" if done else "pending"})
        if not steps:
            raise ApiError(404, f"trace {trace_id} is not known to this service")
        return {"trace": trace_id, "records": steps}

    def status(self) -> dict[str, Any]:
        outbox = self.tracer().outbox
        return {"pending": outbox.pending_count(), "open_batches": len(outbox.open_batches()), "chains": list(self.config.default_chains),
                "last_anchor": self.scheduler.last_anchor, "worker": self.scheduler.status()}


def _bare(digest: bytes) -> Callable[[int, bytes | None], tuple[bytes, bytes, str | None]]:
    """The outbox row of a bare digest: no record text (see ``StoredRecord.record_json``)."""
    return lambda _seq, _prev: (b"", digest, None)


# -- request plumbing -----------------------------------------------------------------------

Handler = Callable[[Service, Request, Producer], Awaitable[Response]]


def guarded(scope: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate (bearer token), authorise (scope), rate-limit, and turn every refusal into
    a one-line JSON error."""

    async def endpoint(request: Request) -> Response:
        service: Service = request.app.state.bctrace_service
        try:
            producer = await _authenticate(service, request)
            if scope not in producer.scopes:
                raise ApiError(403, f"token {producer.name!r} lacks the {scope!r} scope")
            wait = service.limiter.allow(producer.name)
            if wait:
                raise ApiError(429, f"rate limit of {service.limits.rate:g} requests/s for {producer.name!r} exceeded",
                               {"Retry-After": str(max(1, round(wait)))})
            return await handler(service, request, producer)
        except ApiError as err:
            return error_response(err.status, str(err), err.headers)
        except OutboxError as err:
            logger.warning("outbox unavailable: %s", err.one_line())
            return error_response(503, err.one_line(), {"Retry-After": "5"})
        except BctraceError as err:  # a record the core refuses (bad subject, ...): the caller's input
            return error_response(400, err.one_line())

    return endpoint


async def _authenticate(service: Service, request: Request) -> Producer:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "missing bearer token (Authorization: Bearer TOKEN; create one with `bctrace serve token create NAME`)",
                       {"WWW-Authenticate": "Bearer"})
    producer = await anyio.to_thread.run_sync(service.tokens.lookup, token.strip())
    if producer is None:
        raise ApiError(401, "unknown token", {"WWW-Authenticate": "Bearer"})
    return producer


async def read_json(request: Request, limit: int) -> Any:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise ApiError(413, f"request body of {length} bytes is over the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body is over the limit of {limit} bytes")
        chunks.append(chunk)
    try:
        return loads(b"".join(chunks).decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "request body is not UTF-8") from None
    except json.JSONDecodeError as err:
        raise ApiError(400, f"request body is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except JsonProblem as err:
        raise ApiError(400, f"request body: {err}") from None


def validated(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data, strict=True)  # no coercion: 0 is not false, "5" is not 5
    except ValidationError as err:
        raise ApiError(422, f"request body: {field_error(err)}") from None


def digest_param(request: Request) -> bytes:
    try:
        return parse_digest(request.path_params["digest"])
    except ValueError as err:
        raise ApiError(400, str(err)) from None


# -- handlers -------------------------------------------------------------------------------

async def post_records(service: Service, request: Request, producer: Producer) -> Response:
    data = await read_json(request, service.limits.max_body)
    items = validated(RecordsIn, data).records if isinstance(data, dict) and "records" in data else [validated(RecordIn, data)]
    out = await anyio.to_thread.run_sync(service.record, producer, items)
    return JSONResponse({"records": out}, status_code=201)


async def post_digests(service: Service, request: Request, producer: Producer) -> Response:
    data = validated(DigestsIn, await read_json(request, service.limits.max_body))
    out = await anyio.to_thread.run_sync(service.add_digests, [parse_digest(d) for d in data.digests])
    return JSONResponse({"digests": out}, status_code=201)


async def get_bundle(service: Service, request: Request, producer: Producer) -> Response:
    status, body = await anyio.to_thread.run_sync(service.bundle, digest_param(request))
    headers = {}
    if status == 202 and body["expected_by"] is not None:
        headers["Retry-After"] = str(max(1, round(body["expected_by"] - time.time())))
    return JSONResponse(body, status_code=status, headers=headers)


async def get_trace(service: Service, request: Request, producer: Producer) -> Response:
    trace_id = request.path_params["trace"]
    if not 1 <= len(trace_id) <= 128:
        raise ApiError(400, "trace id must be 1-128 characters")
    return JSONResponse(await anyio.to_thread.run_sync(service.trace, trace_id))


async def get_status(service: Service, request: Request, producer: Producer) -> Response:
    return JSONResponse(await anyio.to_thread.run_sync(service.status))


async def post_anchor(service: Service, request: Request, producer: Producer) -> Response:
    service.scheduler.trigger()
    return JSONResponse({"triggered": True, "worker": service.scheduler.status()}, status_code=202)


async def openapi(request: Request) -> Response:
    from .openapi import document

    return JSONResponse(document())


def v1_routes() -> list[BaseRoute]:
    """The routes to mount at the app's root (their paths start with ``/v1``)."""
    return [
        Route("/v1/records", guarded("record", post_records), methods=["POST"]),
        Route("/v1/digests", guarded("record", post_digests), methods=["POST"]),
        Route("/v1/bundles/{digest}", guarded("read", get_bundle), methods=["GET"]),
        Route("/v1/traces/{trace}", guarded("read", get_trace), methods=["GET"]),
        Route("/v1/status", guarded("read", get_status), methods=["GET"]),
        Route("/v1/anchor", guarded("admin", post_anchor), methods=["POST"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
