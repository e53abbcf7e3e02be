"""``LocalBackend``: anchors roots in the embedded ledger of a state folder."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from bctrace.api import AnchorReceipt, BackendConfig, ChainBackend, path_from_config, to_0x
from bctrace.errors import ChainIdMismatch, ChainMisconfigured, ChainUnreachable, LockTimeout, LockUnavailable, UsageError

from . import proof
from .ledger import LEDGER_FILE, Block, Ledger, LedgerState

MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer every JSON reader (JavaScript's included) holds exactly (RFC 8785)."""


class LocalConfig(BackendConfig):
    backend: str = "local"
    path: Path | None = None
    """Folder of the ledger; relative to the config file; defaults to the project's state folder."""
    chain_id: int | None = Field(default=None, ge=1, le=MAX_SAFE_INTEGER)
    """Chain id written into the ledger when it is created; random when unset. At most 2^53 - 1,
    so that it is the same number in every JSON reader."""

    @field_validator("path")
    @classmethod
    def _relative_to_config(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        value = path_from_config(value, info)
        if value is not None and value.exists() and not value.is_dir():
            raise ValueError(f"{value} is a file, not a folder (the ledger's folder)")
        return value


class LocalBackend(ChainBackend):
    name = "local"
    config_model = LocalConfig
    config: LocalConfig

    def __init__(self, chain: str, config: BackendConfig, *, state_dir: Path) -> None:
        super().__init__(chain, config, state_dir=state_dir)
        self.ledger = Ledger(Path(self.config.path) if self.config.path else state_dir)

    def _state(self) -> LedgerState:
        if not self.ledger.exists():
            raise ChainUnreachable(self.chain, f"ledger {self.ledger.path} does not exist (removed, or nothing anchored yet)")
        state = self.ledger.read()
        if self.config.chain_id is not None and state.chain_id != self.config.chain_id:
            raise ChainIdMismatch(f"chain {self.chain!r}: ledger {self.ledger.path} has chain id {state.chain_id}, config says {self.config.chain_id}")
        return state

    @property
    def chain_id(self) -> int:
        return self._state().chain_id

    def _receipt(self, state: LedgerState, block: Block) -> AnchorReceipt:
        return AnchorReceipt(
            chain=self.chain,
            chain_id=state.chain_id,
            backend=self.name,
            contract=state.genesis,
            tx=block.hash,
            block=block.height,
            timestamp=block.timestamp,
            block_hash=block.hash,
            chain_proof=proof.build(state, block),
        )

    def anchor(self, root: bytes) -> AnchorReceipt:
        try:
            state, block = self.ledger.append_root(to_0x(root), chain_id=self.config.chain_id)
        except LockUnavailable as err:
            raise ChainMisconfigured(self.chain, str(err)) from None
        except LockTimeout as err:
            raise ChainUnreachable(self.chain, str(err)) from None
        except OSError as err:
            raise ChainUnreachable(self.chain, f"ledger {self.ledger.path} cannot be written: {err.strerror or err}") from None
        return self._receipt(state, block)

    def lookup(self, root: bytes) -> AnchorReceipt | None:
        state = self._state()
        block = state.by_root.get(to_0x(root))
        return self._receipt(state, block) if block else None

    def head(self) -> int:
        return self._state().blocks[-1].height

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "ledger": str(self.ledger.path)}

    @classmethod
    def check_chain_proof(cls, anchor: AnchorReceipt, root: bytes, trusted: Collection[bytes]) -> None:
        proof.check(anchor, root, trusted)

    @classmethod
    def from_ledger_copy(cls, path: Path, *, state_dir: Path) -> LocalBackend:
        """A backend reading a copy of a ledger (``verify --ledger``): a ``ledger.jsonl`` file or
        the folder holding it. Its chain id is the copy's own, so bundles match it by chain id."""
        folder = path.parent if path.is_file() and path.name == LEDGER_FILE else path
        if not (folder / LEDGER_FILE).is_file():
            raise UsageError(f"--ledger {path}: no {LEDGER_FILE} there (name the ledger file or the folder holding it)")
        state = Ledger(folder).read()
        return cls(f"ledger {path}", LocalConfig(path=folder, chain_id=state.chain_id), state_dir=state_dir)
