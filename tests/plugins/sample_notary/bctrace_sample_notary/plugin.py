"""The template for a bctrace plugin: a chain backend (``sample-notary``, anchors kept in a JSON
file as a stand-in for a real notary service) and a command group (``bctrace notary``).

It imports nothing but :mod:`bctrace.api`, the plugin API. Copy this package, rename it, and
replace the JSON file with calls to your chain's client.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
from pydantic import Field, ValidationInfo, field_validator

from bctrace.api import (
    AnchorReceipt,
    BackendConfig,
    BackendRegistry,
    ChainBackend,
    ChainUnreachable,
    CommandRegistry,
    emit_json,
    get_tracer,
    hookimpl,
    path_from_config,
    to_0x,
)


class NotaryConfig(BackendConfig):
    """One ``[chains.NAME]`` table with ``backend = "sample-notary"``; unknown keys are refused."""

    backend: str = "sample-notary"
    file: Path
    """The notary's JSON file, relative to the config file's folder."""
    chain_id: int = Field(default=777, ge=1)

    @field_validator("file")
    @classmethod
    def _relative_to_config(cls, value: Path, info: ValidationInfo) -> Path | None:
        return path_from_config(value, info)


class NotaryBackend(ChainBackend):
    name = "sample-notary"
    config_model = NotaryConfig
    config: NotaryConfig

    def _load(self) -> dict[str, Any]:
        if not self.config.file.exists():
            raise ChainUnreachable(self.chain, f"notary file {self.config.file} does not exist")
        data: dict[str, Any] = json.loads(self.config.file.read_text())
        return data

    @property
    def chain_id(self) -> int:
        return self.config.chain_id

    def anchor(self, root: bytes) -> AnchorReceipt:
        data = self._load() if self.config.file.exists() else {"anchors": {}}
        key = to_0x(root)
        if key not in data["anchors"]:  # idempotent: the same root is never anchored twice
            data["anchors"][key] = {"block": len(data["anchors"]) + 1, "timestamp": int(time.time())}
            self.config.file.write_text(json.dumps(data))
        return self._receipt(key, data["anchors"][key])

    def lookup(self, root: bytes) -> AnchorReceipt | None:
        entry = self._load()["anchors"].get(to_0x(root))
        return self._receipt(to_0x(root), entry) if entry else None

    def head(self) -> int:
        return len(self._load()["anchors"])

    def _receipt(self, key: str, entry: dict[str, Any]) -> AnchorReceipt:
        # Extra keys are allowed in a receipt: a backend keeps its own proof data there, and it
        # travels in every bundle (here: which notary file vouched for the root).
        return AnchorReceipt(chain=self.chain, chain_id=self.chain_id, backend=self.name, tx=key,
                             block=entry["block"], timestamp=entry["timestamp"], notary=self.config.file.name)


@click.group("notary")
def notary() -> None:
    """The sample notary: show what it holds."""


@notary.command("count")
@click.option("--chain", default="notary", show_default=True, help="The [chains.NAME] of the notary.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def count(chain: str, as_json: bool) -> None:
    """How many roots the notary holds."""
    backend = get_tracer().backend(chain)  # the tracer every command gets (bctrace --config)
    if as_json:
        emit_json({"chain": chain, "anchors": backend.head()})
    else:
        click.echo(f"{chain}: {backend.head()} root(s) anchored")


@hookimpl
def bctrace_register_backends(registry: BackendRegistry) -> None:
    registry.add("sample-notary", NotaryBackend)


@hookimpl
def bctrace_register_commands(registry: CommandRegistry) -> None:
    registry.add(notary)
