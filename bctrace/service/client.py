"""Client mode: a project whose config has a ``[service]`` table sends its records' digests to
a shared anchoring service instead of anchoring them itself, and fetches the proofs back.

Records are built and stored in the local outbox exactly as without a service: it is the
producer's durable spool, and the record content never leaves the machine (only its sha256 is
sent, as ``POST /v1/digests``). Delivery takes the pending records into a local batch, notes
their digests as *awaiting a proof* (``STATE_DIR/service-client.sqlite``), sends them, then
finishes the local batch; a crash or an unreachable service at any step leaves the batch open and
the next delivery sends it again (the service answers "known"). ``fetch-proofs`` (or ``flush``)
asks the service for each awaiting digest, joins the proof to the local record and writes the
bundle, like ``ots upgrade``; a digest the service does not know (404) is sent again.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .._internal.bundle import BUNDLE_SUFFIX, ProofBundle
from .._internal.hexutil import to_0x
from .._internal.outbox import Outbox
from .._internal.secretref import check_env_reference, hide_pasted_secrets, redact_url
from ..errors import ConfigError, ServiceUnreachable, UsageError

logger = logging.getLogger("bctrace.service.client")

SERVICE_CHAIN = "service"
"""The name local delivery batches carry in place of a chain."""
MAX_DIGESTS_PER_POST = 10_000


class ServiceClientConfig(BaseModel):
    """The ``[service]`` table: where the service is and the token (``"env:VAR"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(pattern=r"^https?://")
    token: str
    timeout: float = Field(default=30.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _hide(cls, data: Any) -> Any:
        return hide_pasted_secrets(data, ["token"])

    @field_validator("token")
    @classmethod
    def _ref(cls, value: str) -> str:
        return check_env_reference(value, "token") or value

    def token_value(self) -> str:
        var = self.token.split(":", 1)[1]
        value = os.environ.get(var)
        if not value:
            raise ConfigError(f"[service] token: environment variable {var} is not set")
        return value


class FetchResult(BaseModel):
    delivered: int = 0
    bundles: list[Path] = []
    pending: int = 0
    unreachable: str | None = None


class ServiceClient:
    def __init__(self, config: ServiceClientConfig, outbox: Outbox, outbox_state_dir: Path, bundle_dir: Path) -> None:
        import httpx

        self.config = config
        self.outbox = outbox
        self.bundle_dir = bundle_dir
        self.where = redact_url(config.url)
        self._http = httpx.Client(base_url=config.url.rstrip("/"), timeout=config.timeout,
                                  headers={"Authorization": f"Bearer {config.token_value()}"})
        path = outbox_state_dir / "service-client.sqlite"
        self._awaiting = sqlite3.connect(path, timeout=60, check_same_thread=False)
        self._awaiting.execute("PRAGMA journal_mode=WAL")
        self._awaiting.execute("CREATE TABLE IF NOT EXISTS awaiting(digest BLOB PRIMARY KEY)")

    def close(self) -> None:
        self._http.close()
        self._awaiting.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as err:
            raise ServiceUnreachable(f"service {self.where}: {type(err).__name__}: {err}") from err
        if response.status_code >= 500 or response.status_code == 429:
            raise ServiceUnreachable(f"service {self.where}: {method} {path.split('/0x')[0]} answered {response.status_code}")
        if response.status_code in (401, 403):
            raise ConfigError(f"service {self.where} refused the [service] token: {_error_of(response)}")
        return response

    def deliver(self) -> int:
        """Send every record not yet delivered. Raises ServiceUnreachable (nothing is lost)."""
        sent = 0
        while (batch := self.outbox.next_batch([SERVICE_CHAIN])) is not None:
            digests = [r.digest for r in self.outbox.batch_records(batch.id)]
            with self._awaiting:
                self._awaiting.executemany("INSERT OR IGNORE INTO awaiting(digest) VALUES (?)", [(d,) for d in digests])
            self._send(digests)
            self.outbox.finish_batch(batch.id)
            sent += len(digests)
        return sent

    def _send(self, digests: list[bytes]) -> None:
        for i in range(0, len(digests), MAX_DIGESTS_PER_POST):
            response = self._call("POST", "/v1/digests", json={"digests": [to_0x(d) for d in digests[i:i + MAX_DIGESTS_PER_POST]]})
            if response.status_code != 201:
                raise UsageError(f"service {self.where} refused the digests: {_error_of(response)}")
        logger.info("delivered %d digest(s) to %s", len(digests), self.where)

    def awaiting(self) -> int:
        return int(self._awaiting.execute("SELECT count(*) FROM awaiting").fetchone()[0])

    def fetch_proofs(self) -> FetchResult:
        """Deliver what is not delivered yet, then write the bundle of every record the service
        has anchored. When the service is unreachable, says so and keeps everything."""
        result = FetchResult()
        sweep = ProofBundle.sweeper()
        try:
            result.delivered = self.deliver()
            lost: list[bytes] = []
            for (digest,) in self._awaiting.execute("SELECT digest FROM awaiting ORDER BY rowid").fetchall():
                response = self._call("GET", f"/v1/bundles/{to_0x(digest)}")
                if response.status_code == 404:
                    lost.append(digest)
                if response.status_code != 200:
                    result.pending += 1
                    continue
                stored, _, _ = self.outbox.find(digest)
                proof = {k: v for k, v in response.json().items() if k != "record"}
                bundle = ProofBundle.model_validate({**proof, "record": json.loads(stored.record_json)})
                target = Path(stored.bundle_path) if stored.bundle_path else self.bundle_dir / (to_0x(digest) + BUNDLE_SUFFIX)
                result.bundles.append(bundle.write(target, sweep=sweep))
                with self._awaiting:
                    self._awaiting.execute("DELETE FROM awaiting WHERE digest = ?", (digest,))
            if lost:  # the service does not know them (a new database?): send them again
                self._send(lost)
        except ServiceUnreachable as err:
            result.unreachable = err.one_line()
            result.pending = self.outbox.pending_count() + self.awaiting()
        return result


def _error_of(response: Any) -> str:
    try:
        return str(response.json()["error"])
    except Exception:
        return f"HTTP {response.status_code}"
