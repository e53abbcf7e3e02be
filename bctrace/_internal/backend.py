"""The contract between the core and every ledger: ``ChainBackend`` and ``BackendConfig``.

A backend is a class, handed to the core by a plugin hook (never an instance), built from one
``[chains.NAME]`` table of the config. The core only ever asks four things of it: anchor a root,
look a root up, say which chain it is, and say how far the chain has advanced (for
confirmations). Everything chain-specific (keys, fees, RPC) stays behind this line.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ..errors import ChainProofUnsupported, UsageError
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
        self.notes: list[str] = []
        """What the user should hear once, e.g. that this chain's anchors carry no chain proof;
        the tracer hands them on after a flush."""

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

    @property
    def anchors_per_trace(self) -> bool:
        """Whether this chain wants each trace anchored apart (README, "One address per trace"):
        a flush then batches one trace at a time and anchors each batch with :meth:`anchor_trace`."""
        return False

    def anchor_trace(self, root: bytes, trace: str) -> AnchorReceipt:
        """Anchor the root of a batch that holds records of ``trace`` only (when
        :attr:`anchors_per_trace`); by default the same as :meth:`anchor`. Idempotent, like it."""
        return self.anchor(root)

    @abstractmethod
    def lookup(self, root: bytes) -> AnchorReceipt | None:
        """The receipt of a root's first anchor on this chain, or ``None`` if it is not anchored.

        Raises :class:`~bctrace.errors.ChainUnreachable` when the chain cannot be asked, and a
        :class:`~bctrace.errors.VerificationError` when the chain's own data is inconsistent.
        """

    def upgrade(self, root: bytes, receipt: AnchorReceipt) -> AnchorReceipt:
        """The confirmed receipt of a pending anchor of ``root`` once the chain has confirmed it,
        else ``receipt`` itself (or a pending receipt with more evidence). Called by ``bctrace
        upgrade`` and ``flush`` for every anchor whose ``status`` is ``pending``; the default
        suits a chain whose anchors are confirmed when :meth:`anchor` returns.

        Raises :class:`~bctrace.errors.ChainError` when the chain cannot be asked now.
        """
        return receipt

    @classmethod
    def parse_trusted(cls, value: str) -> tuple[int, bytes]:
        """``--trust-block NAME=VALUE`` for a chain of this backend (``NAME`` a configured chain
        or the backend's name): the chain id and the trusted value that :meth:`check_chain_proof`
        receives. The default refuses; ``CHAIN_ID=0xHASH`` needs no backend."""
        raise UsageError(f"backend {cls.name!r} has no --trust-block NAME=VALUE form; use CHAIN_ID=0xBLOCKHASH")

    @abstractmethod
    def head(self) -> int:
        """The latest block number, used to count confirmations of a receipt."""

    # -- verification of a bundle's claims (defaults suit a backend without chain proofs) ------

    def served_chain_id(self) -> int:
        """The chain id the chain itself reports, not compared with the config: verification
        compares it with the bundle's claim instead."""
        return self.chain_id

    def find_claimed(self, root: bytes, claim: AnchorReceipt | None) -> AnchorReceipt | None:
        """The chain's own receipt of ``root``, looked up where ``claim`` says it is (EVM: in the
        claim's registry contract, not the configured one); the default is :meth:`lookup`.

        Verification compares every field of the answer with the claim. Raises
        :class:`~bctrace.errors.ClaimMismatch` when the claimed place cannot hold anchors.
        """
        return self.lookup(root)

    @classmethod
    def check_chain_proof(cls, anchor: AnchorReceipt, root: bytes, trusted: Collection[bytes]) -> None:
        """Check ``anchor.chain_proof`` with no network, given trusted block (or ledger head)
        hashes: every claim of the anchor must follow from the proof and one trusted hash.

        Raises :class:`~bctrace.errors.ClaimMismatch` naming the field that does not follow,
        and :class:`~bctrace.errors.ChainProofUnsupported` for a backend without chain proofs.
        """
        raise ChainProofUnsupported(f"the {cls.name!r} backend has no chain proofs to check")

    @classmethod
    def from_endpoint(cls, chain: str, url: str, receipt: AnchorReceipt, *, state_dir: Path) -> ChainBackend:
        """A backend that checks ``receipt`` by asking the node at ``url``, with no config
        (``bctrace verify --rpc CHAIN_ID=URL``): chain id and contract come from the receipt.

        The default refuses: a backend that can be asked at a bare URL (the EVM family) overrides
        this; one that cannot (a ledger file) needs a ``[chains.NAME]`` table instead.
        """
        raise UsageError(f"backend {cls.name!r} cannot check an anchor at an endpoint URL; configure a [chains.NAME] table for it instead")

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
