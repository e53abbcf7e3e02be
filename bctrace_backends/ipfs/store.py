"""IPFS content store over the Kubo RPC API, with httpx.

Every call is a POST (the RPC API refuses GET) with a timeout, so a hung node is an error, not
a hang. ``add`` passes the import parameters the CID was computed locally with
(``cid-version=1``, ``raw-leaves``, ``chunker=size-N``, sha2-256), so the node's CID can be
compared with the local one. An auth header (for hosted pinning services) is read from the
environment when the store is opened and is never put in errors, reprs or logs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from pydantic import Field, field_validator

from bctrace.api import CidParams, ContentStore, StoreConfig
from bctrace.errors import ConfigError, StoreError, one_line

READ_SIZE = 1 << 20


class IpfsConfig(StoreConfig):
    """``[stores.NAME] backend = "ipfs"``."""

    backend: str = "ipfs"
    api: str = "http://127.0.0.1:5001"
    """Base URL of the node's RPC API (without ``/api/v0``)."""
    timeout: float = Field(default=60.0, gt=0)
    """Seconds to wait for the node to connect or send the next bytes (not the whole transfer)."""
    auth: str | None = None
    """``"env:VAR"``: the auth header's value is read from environment variable VAR."""
    auth_header: str = "Authorization"
    pin: bool = True

    @field_validator("api")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("auth")
    @classmethod
    def _env_only(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("env:") or len(value) == 4):
            raise ValueError('must be "env:VAR" (the secret stays in the environment, not in the config)')
        return value


class IpfsStore(ContentStore):
    name = "ipfs"
    config_model = IpfsConfig
    config: IpfsConfig

    def __init__(self, store: str, config: StoreConfig) -> None:
        super().__init__(store, config)
        headers = {}
        if self.config.auth:
            var = self.config.auth[4:]
            value = os.environ.get(var)
            if not value:
                raise ConfigError(f"store {store!r}: field 'auth': environment variable {var} is not set")
            headers[self.config.auth_header] = value
        self._client = httpx.Client(base_url=f"{self.config.api}/api/v0", headers=headers, timeout=self.config.timeout)

    def close(self) -> None:
        self._client.close()

    def _fail(self, what: str, err: Exception) -> StoreError:
        where = f"store {self.store!r} ({self.config.api})"
        if isinstance(err, httpx.TimeoutException):
            return StoreError(f"{where}: {what} timed out after {self.config.timeout:g} s")
        if isinstance(err, httpx.ConnectError):
            return StoreError(f"{where}: cannot connect to the IPFS node ({what}); is it running?")
        if isinstance(err, httpx.HTTPStatusError):
            return StoreError(f"{where}: {what} refused: HTTP {err.response.status_code} {_message(err.response)}")
        return StoreError(f"{where}: {what} failed: {type(err).__name__}: {err}")

    def add(self, path: Path, params: CidParams) -> str:
        query = {
            "cid-version": "1",
            "raw-leaves": "true",
            "chunker": f"size-{params.chunk_size}",
            "hash": "sha2-256",
            "cid-base": "base32",
            "pin": "true" if self.config.pin else "false",
            "progress": "false",
        }
        try:
            with path.open("rb") as fh:
                response = self._client.post("/add", params=query, files={"file": (path.name, fh, "application/octet-stream")})
            response.raise_for_status()
        except OSError as err:
            raise StoreError(f"store {self.store!r}: cannot read {path}: {err.strerror}") from err
        except httpx.HTTPError as err:
            raise self._fail(f"add {path.name}", err) from err
        lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
        hashes = [line["Hash"] for line in lines if isinstance(line, dict) and "Hash" in line]
        if not hashes:
            raise StoreError(f"store {self.store!r} ({self.config.api}): add {path.name}: the node's answer has no CID")
        return str(hashes[-1])

    @contextmanager
    def cat(self, cid: str) -> Iterator[Iterator[bytes]]:
        try:
            with self._client.stream("POST", "/cat", params={"arg": cid}, timeout=self.config.timeout) as response:
                if response.status_code != 200:
                    response.read()
                    response.raise_for_status()
                yield response.iter_bytes(READ_SIZE)
        except httpx.HTTPError as err:
            raise self._fail(f"cat {cid}", err) from err

    def put_block(self, data: bytes) -> str:
        query = {"cid-codec": "dag-pb", "mhtype": "sha2-256", "pin": "false"}
        try:
            response = self._client.post("/block/put", params=query, files={"file": ("block", data, "application/octet-stream")})
            response.raise_for_status()
            return str(response.json()["Key"])
        except httpx.HTTPError as err:
            raise self._fail("block/put", err) from err
        except (ValueError, KeyError, TypeError) as err:
            raise StoreError(f"store {self.store!r} ({self.config.api}): block/put: the node's answer has no CID") from err

    def pin(self, cid: str) -> None:
        try:
            self._client.post("/pin/add", params={"arg": cid}, timeout=self.config.timeout).raise_for_status()
        except httpx.HTTPError as err:
            raise self._fail(f"pin {cid}", err) from err


def _message(response: httpx.Response) -> str:
    """The node's own error text (Kubo answers ``{"Message": ...}``), on one line."""
    try:
        data: Any = response.json()
        text = data.get("Message") if isinstance(data, dict) else None
    except ValueError:
        text = None
    text = text or response.reason_phrase or ""
    return one_line(text, 200)
