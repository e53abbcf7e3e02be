"""The contract between the core and every ledger: ``ChainBackend`` and ``BackendConfig``.

A backend is a class, handed to the core by a plugin hook (never an instance), built from one
``[chains.NAME]`` table of the config. The core only ever asks four things of it: anchor a root,
look a root up, say which chain it is, and say how far the chain has advanced (for
confirmations). Everything chain-specific (keys, fees, RPC) stays behind this line.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from .bundle import AnchorReceipt


class BackendConfig(BaseModel):
    """Base of every backend's config model: one ``[chains.NAME]`` table.

    Unknown keys are refused so that a typo in the config is an error, not a silent default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: str
    """Which registered backend reads this table (``local``, ``evm``, a plugin's name...)."""


class ChainBackend(ABC):
    """One configured chain. Subclasses are named ``<Name>Backend`` with a ``<Name>Config``."""

    name: ClassVar[str]
    """The backend's registered name, written into every receipt it makes."""
    config_model: ClassVar[type[BackendConfig]] = BackendConfig

    def __init__(self, chain: str, config: BackendConfig, *, state_dir: Path) -> None:
        self.chain = chain
        """The chain's name in this user's config (``[chains.NAME]``)."""
        self.config = config
        self.state_dir = state_dir
        """The project's state folder, for backends that keep files (caches, ledgers)."""

    @property
    @abstractmethod
    def chain_id(self) -> int:
        """The chain's id; raises :class:`~bctrace.errors.ChainUnreachable` if it cannot be read."""

    @property
    def configured_chain_id(self) -> int | None:
        """The chain id the config promises, known without contacting the chain (or ``None``).

        Verification uses it to match a bundle's receipt to a configured chain without
        connecting to every node; the live :attr:`chain_id` is still checked before trusting it.
        """
        return getattr(self.config, "chain_id", None)

    @abstractmethod
    def anchor(self, root: bytes) -> AnchorReceipt:
        """Anchor a 32-byte Merkle root and return where it landed.

        Must be idempotent: if the root is already anchored, return the existing receipt
        rather than anchoring twice (the outbox relies on this after a crash). Raises a
        :class:`~bctrace.errors.ChainError` subclass when the chain refuses or cannot be reached.
        """

    @abstractmethod
    def lookup(self, root: bytes) -> AnchorReceipt | None:
        """The receipt of a root's first anchor on this chain, or ``None`` if it is not anchored.

        Raises :class:`~bctrace.errors.ChainUnreachable` when the chain cannot be asked, and a
        :class:`~bctrace.errors.VerificationError` when the chain's own data is inconsistent.
        """

    def lookup_claimed(self, root: bytes, claimed: AnchorReceipt | None) -> AnchorReceipt | None:
        """The receipt of ``root``, given the receipt a bundle claims for this chain (or ``None``).

        Verification calls this rather than :meth:`lookup`. The default ignores the claim. A chain
        that keeps no index by root (Solana memos) overrides it to read the claimed transaction
        directly and check it, instead of scanning history, so that a wrong claim fails naming
        what is wrong (the transaction, the memo, the signer). The claim is untrusted: an
        override must check on the chain everything it returns.
        """
        return self.lookup(root)

    @abstractmethod
    def head(self) -> int:
        """The latest block number, used to count confirmations of a receipt."""

    def describe(self) -> dict[str, Any]:
        """A short, secret-free description for ``bctrace chains``."""
        return {"chain": self.chain, "backend": self.name}

    def estimate_anchor_cost(self) -> dict[str, Any] | None:
        """The expected cost of one anchor (fee components in the chain's units), or ``None``
        where anchoring costs nothing (``local``). Shown by ``bctrace chains --estimate``."""
        return None

    def tx_url(self, receipt: AnchorReceipt) -> str | None:
        """A link to the anchor transaction in a block explorer, where the chain has one."""
        return None

    def confirmations(self, receipt: AnchorReceipt) -> int:
        """Blocks on top of the receipt's block, counting its own (0 if not yet mined)."""
        return max(0, self.head() - receipt.block + 1)

    def close(self) -> None:
        """Release connections or files; the default has nothing to release."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} chain={self.chain!r}>"
