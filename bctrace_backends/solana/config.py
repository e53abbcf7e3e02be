"""``SolanaConfig``: one ``[chains.NAME]`` table with ``backend = "solana"``, and the cluster presets.

The signing key is a reference (``key = "env:VAR"``: a base58 secret key, or the JSON array that
``solana-keygen`` writes), read only when a transaction is signed. ``signer`` is the public key
anchors must come from; a verifier that holds no key sets only ``signer``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from bctrace.api import BackendConfig, check_env_reference, hide_pasted_secrets

MEMO_PROGRAM = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"
"""The SPL Memo program (v2), the same id on every cluster."""


@dataclass(frozen=True)
class Cluster:
    rpc_url: str
    genesis_hash: str
    explorer_cluster: str | None
    """The ``?cluster=`` of explorer.solana.com links (``None`` for mainnet-beta)."""


PRESETS: dict[str, Cluster] = {
    "mainnet-beta": Cluster("https://api.mainnet-beta.solana.com", "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d", None),
    "devnet": Cluster("https://api.devnet.solana.com", "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG", "devnet"),
    "testnet": Cluster("https://api.testnet.solana.com", "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY", "testnet"),
}
"""Solana's public clusters, with their genesis hashes (which identify a cluster: see ``chain_id``)."""

EXPLORER = "https://explorer.solana.com"
_BASE58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$")


class SolanaConfig(BackendConfig):
    """A Solana cluster reached over JSON-RPC."""

    model_config = ConfigDict(hide_input_in_errors=True)

    presets: ClassVar[dict[str, Cluster]] = PRESETS

    backend: str = "solana"
    preset: str | None = None
    """``mainnet-beta``, ``devnet`` or ``testnet``: fills ``rpc_url``, ``genesis_hash`` and explorer links."""
    rpc_url: str | None = None
    genesis_hash: str | None = None
    """The cluster's genesis hash (base58), checked against ``getGenesisHash`` before anything else."""
    key: str | None = None
    """``"env:VAR"``: the signer's secret key is read from the environment when signing."""
    signer: str | None = None
    """Public key (base58) that anchors must be signed by; derived from ``key`` when unset."""
    commitment: Literal["confirmed", "finalized"] = "confirmed"
    """How settled a transaction must be before its anchor is reported and found."""
    lookup_limit: int = Field(default=1000, ge=1)
    """Signatures of the signer scanned when a root is looked up without a receipt."""
    timeout: float = Field(default=60.0, gt=0)
    """Seconds to wait for an anchor transaction to reach ``commitment``."""
    rpc_timeout: float = Field(default=10.0, gt=0)
    poll_interval: float = Field(default=0.5, gt=0)
    explorer: str | None = None
    """Explorer base URL; default: explorer.solana.com for the presets."""

    @model_validator(mode="before")
    @classmethod
    def _hide_pasted_secret(cls, data: Any) -> Any:
        return hide_pasted_secrets(data, ("key",))

    @field_validator("key")
    @classmethod
    def _env_reference(cls, value: str | None) -> str | None:
        return check_env_reference(value, "key")

    @field_validator("signer", "genesis_hash")
    @classmethod
    def _base58(cls, value: str | None) -> str | None:
        if value is not None and not _BASE58.match(value):
            raise ValueError("must be a base58 public key or hash")
        return value

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        if value is not None and value not in cls.presets:
            raise ValueError(f"unknown preset {value!r} (known: {', '.join(cls.presets)})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SolanaConfig:
        if self.preset is not None:
            cluster = self.presets[self.preset]
            if self.rpc_url is None:
                object.__setattr__(self, "rpc_url", cluster.rpc_url)
            if self.genesis_hash is None:
                object.__setattr__(self, "genesis_hash", cluster.genesis_hash)
            elif self.genesis_hash != cluster.genesis_hash:
                raise ValueError(f"genesis_hash {self.genesis_hash} contradicts preset {self.preset!r}")
        if not self.rpc_url:
            raise ValueError("rpc_url is required (or a preset such as 'devnet')")
        return self

    @property
    def url(self) -> str:
        assert self.rpc_url is not None  # guaranteed by _consistent
        return self.rpc_url

    def tx_url(self, signature: str) -> str | None:
        if self.explorer:
            return f"{self.explorer.rstrip('/')}/tx/{signature}"
        if self.preset is None:
            return None
        cluster = self.presets[self.preset].explorer_cluster
        return f"{EXPLORER}/tx/{signature}" + (f"?cluster={cluster}" if cluster else "")
