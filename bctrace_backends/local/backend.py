"""``LocalBackend``: anchors roots in the embedded ledger of a state folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from bctrace.api import AnchorReceipt, BackendConfig, ChainBackend, path_from_config, to_0x
from bctrace.errors import ChainIdMismatch, ChainUnreachable

from .ledger import Block, Ledger, LedgerState


class LocalConfig(BackendConfig):
    backend: str = "local"
    path: Path | None = None
    """Folder of the ledger; relative to the config file; defaults to the project's state folder."""
    chain_id: int | None = Field(default=None, ge=1)
    """Chain id written into the ledger when it is created; random when unset."""

    @field_validator("path")
    @classmethod
    def _relative_to_config(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return path_from_config(value, info)


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
        )

    def anchor(self, root: bytes) -> AnchorReceipt:
        state, block = self.ledger.append_root(to_0x(root), chain_id=self.config.chain_id)
        return self._receipt(state, block)

    def lookup(self, root: bytes) -> AnchorReceipt | None:
        state = self._state()
        block = state.by_root.get(to_0x(root))
        return self._receipt(state, block) if block else None

    def head(self) -> int:
        return self._state().blocks[-1].height

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "ledger": str(self.ledger.path)}
