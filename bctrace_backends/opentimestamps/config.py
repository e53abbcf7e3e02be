"""``OpenTimestampsConfig``: one ``[chains.NAME]`` table with ``backend = "opentimestamps"``.

OpenTimestamps attests in Bitcoin's main chain only, so the chain id is fixed (see
:data:`BITCOIN_CHAIN_ID`). Calendars are asked k-of-n: a root is anchored once ``min_calendars``
of ``calendars`` accepted it; the block headers that verification compares with come from an
Esplora-style HTTP API (``esplora``).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from bctrace.api import BackendConfig, check_env_reference, hide_pasted_secrets

BITCOIN_GENESIS = bytes.fromhex("6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000")
"""Bitcoin's genesis block hash in serialized (internal) byte order."""
BITCOIN_CHAIN_ID = int.from_bytes(BITCOIN_GENESIS[:6], "big")
"""Bitcoin has no numeric chain id: bctrace uses the first 6 bytes of the genesis block hash in
serialized byte order, as a big-endian integer (6 bytes stay exact in JavaScript), as the
``solana`` backend does with its cluster's genesis hash."""

PUBLIC_CALENDARS = (
    "https://a.pool.opentimestamps.org",
    "https://b.pool.opentimestamps.org",
    "https://a.pool.eternitywall.com",
    "https://ots.btc.catallaxy.com",
)
"""The public aggregators the ``ots`` client submits to (``opentimestamps.calendar.DEFAULT_AGGREGATORS``)."""
PUBLIC_UPGRADE_FROM = (
    "https://*.calendar.opentimestamps.org",
    "https://*.calendar.eternitywall.com",
    "https://*.calendar.catallaxy.com",
)
"""Calendars a pending attestation may send us to (the ``ots`` client's default whitelist)."""


class OpenTimestampsConfig(BackendConfig):
    """Bitcoin through OpenTimestamps calendars."""

    model_config = ConfigDict(hide_input_in_errors=True)

    backend: str = "opentimestamps"
    calendars: list[str] = Field(default_factory=lambda: list(PUBLIC_CALENDARS))
    """Calendar (or aggregator) URLs the root is submitted to."""
    min_calendars: int = Field(default=2, ge=1)
    """How many calendars must accept a root for the anchor to count (k of n)."""
    upgrade_from: list[str] = Field(default_factory=lambda: list(PUBLIC_UPGRADE_FROM))
    """URL patterns (``*`` in the host) of calendars a pending attestation may be upgraded from,
    besides ``calendars``; a pending attestation naming any other URL is never fetched."""
    esplora: str | None = "https://blockstream.info/api"
    """Esplora-style HTTP API serving block headers by height (``/block-height/H``,
    ``/block/HASH/header``); needed to upgrade and to verify against the network."""
    bitcoin_rpc: str | None = None
    """Bitcoin Core's JSON-RPC URL (``http://127.0.0.1:8332``): read headers from your own node
    instead of ``esplora``."""
    bitcoin_rpc_auth: str | None = None
    """``"env:VAR"``: the variable holds ``user:password`` of the RPC (``rpcauth``)."""
    timeout: float = Field(default=10.0, gt=0)
    """Seconds to wait for one calendar or header request."""

    @model_validator(mode="before")
    @classmethod
    def _hide_pasted_secret(cls, data: Any) -> Any:
        return hide_pasted_secrets(data, ("bitcoin_rpc_auth",))

    @field_validator("bitcoin_rpc_auth")
    @classmethod
    def _env_reference(cls, value: str | None) -> str | None:
        return check_env_reference(value, "bitcoin_rpc_auth")

    @field_validator("calendars", "upgrade_from")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return [url.rstrip("/") for url in value]

    @model_validator(mode="after")
    def _enough_calendars(self) -> OpenTimestampsConfig:
        if not self.calendars:
            raise ValueError("calendars: at least one calendar URL is needed")
        if self.min_calendars > len(self.calendars):
            raise ValueError(f"min_calendars is {self.min_calendars}, but only {len(self.calendars)} calendar(s) are listed")
        return self
