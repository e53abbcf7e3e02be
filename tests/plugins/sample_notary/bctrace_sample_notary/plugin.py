"""Registers ``sample-notary``: anchors kept in a JSON file, as a stand-in for a real service."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bctrace._internal.backend import BackendConfig, ChainBackend
from bctrace._internal.bundle import AnchorReceipt
from bctrace.errors import ChainUnreachable
from bctrace._internal.hexutil import to_0x
from bctrace.plugins import hookimpl


class NotaryConfig(BackendConfig):
    backend: str = "sample-notary"
    file: Path
    chain_id: int = 777


class NotaryBackend(ChainBackend):
    name = "sample-notary"
    config_model = NotaryConfig
    config: NotaryConfig

    def _load(self) -> dict[str, Any]:
        if not self.config.file.exists():
            raise ChainUnreachable(self.chain, f"notary file {self.config.file} does not exist")
        return json.loads(self.config.file.read_text())

    @property
    def chain_id(self) -> int:
        return self.config.chain_id

    def anchor(self, root: bytes) -> AnchorReceipt:
        data = self._load() if self.config.file.exists() else {"anchors": {}}
        key = to_0x(root)
        if key not in data["anchors"]:
            data["anchors"][key] = {"block": len(data["anchors"]) + 1, "timestamp": int(time.time())}
            self.config.file.write_text(json.dumps(data))
        return self._receipt(key, data["anchors"][key])

    def lookup(self, root: bytes) -> AnchorReceipt | None:
        entry = self._load()["anchors"].get(to_0x(root))
        return self._receipt(to_0x(root), entry) if entry else None

    def head(self) -> int:
        return len(self._load()["anchors"])

    def _receipt(self, key: str, entry: dict[str, Any]) -> AnchorReceipt:
        return AnchorReceipt(chain=self.chain, chain_id=self.chain_id, backend=self.name, tx=key,
                             block=entry["block"], timestamp=entry["timestamp"])


@hookimpl
def bctrace_register_backends(registry):
    registry.add("sample-notary", NotaryBackend)
