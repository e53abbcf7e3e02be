"""``EvmConfig``: one ``[chains.NAME]`` table with ``backend = "evm"``, and the public-chain presets.

Secrets never live in this model: the signing key is a *reference* (``key = "env:VAR"``, or an
encrypted ``keystore`` file with ``password = "env:VAR"`` or a prompt), resolved only when a
transaction is signed (see :mod:`.signer`). A plaintext key pasted into the file is refused, and
``hide_input_in_errors`` keeps it out of the validation message. The RPC URL may carry a
provider's API key in its path or query, so it is shown redacted everywhere (:func:`redact_url`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit

from pydantic import BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from bctrace.api import BackendConfig, check_env_reference, hide_pasted_secrets, path_from_config


@dataclass(frozen=True)
class Preset:
    """What a user would otherwise look up for a public chain."""

    chain_id: int
    explorer: str
    confirmations: int
    """Blocks to wait before a receipt counts (a reorg deeper than this is very unlikely)."""
    max_fee_gwei: int
    """Default cap on the fee per gas; a spike above it fails the anchor instead of paying."""
    poa: bool = False
    """Blocks carry more than 32 bytes of extraData (Clique/Bor/Parlia/QBFT seals): web3 needs
    its ``ExtraDataToPOAMiddleware`` to read them."""


PRESETS: dict[str, Preset] = {
    "mainnet": Preset(1, "https://etherscan.io", 2, 200),
    "sepolia": Preset(11155111, "https://sepolia.etherscan.io", 2, 500),
    "holesky": Preset(17000, "https://holesky.etherscan.io", 2, 500),
    "hoodi": Preset(560048, "https://hoodi.etherscan.io", 2, 500),
    "polygon": Preset(137, "https://polygonscan.com", 5, 3000, poa=True),
    "gnosis": Preset(100, "https://gnosisscan.io", 2, 500),
    "bsc": Preset(56, "https://bscscan.com", 3, 100, poa=True),
    "avalanche": Preset(43114, "https://snowtrace.io", 1, 1000),
    # L2s whose fee needs no extra oracle call: the L1 cost is folded into the L2 gas price.
    "polygon-zkevm": Preset(1101, "https://zkevm.polygonscan.com", 1, 100),
    "linea": Preset(59144, "https://lineascan.build", 1, 100),
}
"""Ethereum mainnet, Sepolia, Holesky, Hoodi, Polygon PoS, Gnosis, BNB Smart Chain, Avalanche C-Chain,
and the L2s Polygon zkEVM and Linea (OP-stack, Arbitrum and Scroll presets live with their
backends in :mod:`bctrace_backends.l2`)."""

DEFAULT_MAX_FEE_GWEI = 1000
"""Fee cap for chains without a preset and without ``max_fee_per_gas``."""

_UNITS = {"wei": 1, "gwei": 10**9, "ether": 10**18, "eth": 10**18}
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def parse_wei(value: Any) -> Any:
    """``30000000000``, ``"30 gwei"``, ``"0.01 ether"`` -> wei (an int)."""
    if isinstance(value, str):
        parts = value.strip().lower().split()
        if len(parts) == 2 and parts[1] in _UNITS:
            try:
                amount = Decimal(parts[0]) * _UNITS[parts[1]]
            except InvalidOperation:
                raise ValueError(f"{value!r} is not a number of {parts[1]}") from None
            if amount != amount.to_integral_value():
                raise ValueError(f"{value!r} is not a whole number of wei")
            return int(amount)
        if len(parts) == 1 and parts[0].isdigit():
            return int(parts[0])
        raise ValueError(f"{value!r} is not an amount such as 30000000000 or '30 gwei'")
    return value


Wei = Annotated[int, BeforeValidator(parse_wei), Field(ge=0)]


MAX_URL_LENGTH = 4096
"""Longer RPC URLs are refused: real ones (with an API key) are under 200 characters."""


class EvmConfig(BackendConfig):
    """A chain reached over JSON-RPC, with a TraceRegistry deployed at ``contract``."""

    model_config = ConfigDict(hide_input_in_errors=True)

    presets: ClassVar[dict[str, Preset]] = PRESETS
    """The presets this backend accepts (a subclass for a chain family brings its own)."""

    backend: str = "evm"
    preset: str | None = None
    """A public chain by name (see :data:`PRESETS`): fills chain_id, confirmations, fee cap, explorer."""
    rpc_url: str = Field(min_length=1, max_length=MAX_URL_LENGTH)
    chain_id: int | None = Field(default=None, ge=1)
    """Checked against ``eth_chainId`` before anything else: never a transaction to the wrong chain."""
    contract: str | None = None
    """TraceRegistry address; ``bctrace deploy --chain NAME`` prints it."""

    key: str | None = None
    """``"env:VAR"``: the hex private key is read from the environment when signing."""
    keystore: Path | None = None
    """Encrypted keystore JSON (Web3 Secret Storage), relative to the config file."""
    password: str | None = None
    """``"env:VAR"`` holding the keystore password; prompted for on a terminal when unset."""
    node_account: str | None = None
    """An account the node itself holds and unlocks (an anvil devnet with impersonation, a
    permissioned node behind EthSigner or clef): transactions are sent with
    ``eth_sendTransaction`` and no key ever passes through bctrace."""

    trace_seed: str | None = None
    """``"env:VAR"`` holding a BIP-39 mnemonic: each trace's anchors are sent from its own
    account derived from it (README, "One address per trace"), funded from the main signer."""

    confirmations: int | None = Field(default=None, ge=1)
    """Blocks (counting the receipt's own) before an anchor is accepted; preset or 1 by default."""
    gas_price: Wei | None = None
    """Legacy (type 0) transactions at this gas price; ``0`` for free-gas private chains."""
    max_fee_per_gas: Wei | None = None
    """EIP-1559 cap; the anchor fails rather than pay more. Default: preset's cap or 1000 gwei."""
    priority_fee_per_gas: Wei | None = None
    """EIP-1559 tip; default: what the node suggests (``eth_maxPriorityFeePerGas``), capped."""
    gas_limit: int | None = Field(default=None, ge=21000)
    """Fixed gas limit; default: the node's estimate plus 20 %."""
    timeout: float = Field(default=180.0, gt=0)
    """Seconds to wait for the receipt and its confirmations."""
    rpc_timeout: float = Field(default=10.0, gt=0)
    """Seconds for one JSON-RPC request."""
    rpc_retries: int = Field(default=6, ge=0, le=20)
    """Retries of one failed JSON-RPC request (dropped connection, timeout, 429/5xx), with
    backoff and jitter, honouring ``Retry-After`` (see :mod:`.retry`)."""
    poll_interval: float = Field(default=0.5, gt=0)
    explorer: str | None = None
    """Block explorer base URL for links (``https://etherscan.io``); defaults to the preset's."""
    poa: bool | None = None
    """Proof-of-authority blocks (extraData over 32 bytes); default: the preset's, else off."""

    @model_validator(mode="before")
    @classmethod
    def _hide_pasted_secrets(cls, data: Any) -> Any:
        """Swap a pasted secret for a placeholder before validation, so that no error object
        (``str``, ``errors()``, a chained traceback) ever holds it; the field check then fails."""
        return hide_pasted_secrets(data, ("key", "password", "trace_seed"))

    @field_validator("key", "password", "trace_seed")
    @classmethod
    def _env_reference(cls, value: str | None, info: ValidationInfo) -> str | None:
        return check_env_reference(value, info.field_name)

    @field_validator("rpc_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        """web3's HTTP provider is what connects: an http(s) URL with a host, nothing else."""
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - parsing the port is the check
        except ValueError as err:
            raise ValueError(f"is not a valid URL ({err})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        if value is not None and value not in cls.presets:
            raise ValueError(f"unknown preset {value!r} (known: {', '.join(cls.presets)})")
        return value

    @field_validator("contract", "node_account")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not _ADDRESS.match(value):
            raise ValueError("must be a 0x-prefixed 20-byte address")
        return value

    @field_validator("keystore")
    @classmethod
    def _relative_to_config(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return path_from_config(value, info)

    @model_validator(mode="after")
    def _consistent(self) -> EvmConfig:
        if sum(bool(x) for x in (self.key, self.keystore, self.node_account)) > 1:
            raise ValueError("set only one signer: key, keystore or node_account")
        if self.password and not self.keystore:
            raise ValueError("password is only used with keystore")
        if self.gas_price is not None and (self.max_fee_per_gas is not None or self.priority_fee_per_gas is not None):
            raise ValueError("gas_price (legacy) cannot be combined with max_fee_per_gas / priority_fee_per_gas (EIP-1559)")
        if self.preset is not None:
            preset = self.presets[self.preset]
            if self.chain_id is None:
                object.__setattr__(self, "chain_id", preset.chain_id)
            elif self.chain_id != preset.chain_id:
                raise ValueError(f"chain_id {self.chain_id} contradicts preset {self.preset!r} (chain id {preset.chain_id})")
        if self.chain_id is None:
            raise ValueError("chain_id is required (or a preset such as 'sepolia')")
        return self

    # -- effective settings ------------------------------------------------------------------

    @property
    def required_chain_id(self) -> int:
        assert self.chain_id is not None  # guaranteed by _consistent
        return self.chain_id

    @property
    def effective_confirmations(self) -> int:
        if self.confirmations is not None:
            return self.confirmations
        return self.presets[self.preset].confirmations if self.preset else 1

    @property
    def fee_cap(self) -> int:
        if self.max_fee_per_gas is not None:
            return self.max_fee_per_gas
        return (self.presets[self.preset].max_fee_gwei if self.preset else DEFAULT_MAX_FEE_GWEI) * 10**9

    @property
    def effective_poa(self) -> bool:
        if self.poa is not None:
            return self.poa
        return self.presets[self.preset].poa if self.preset else False

    @property
    def explorer_url(self) -> str | None:
        base = self.explorer or (self.presets[self.preset].explorer if self.preset else None)
        return base.rstrip("/") if base else None

    def tx_url(self, tx: str) -> str | None:
        """Link to a transaction on the chain's explorer, if one is known."""
        return f"{self.explorer_url}/tx/{tx}" if self.explorer_url else None

    def address_url(self, address: str) -> str | None:
        return f"{self.explorer_url}/address/{address}" if self.explorer_url else None

    @property
    def has_signer(self) -> bool:
        return bool(self.key or self.keystore or self.node_account)
