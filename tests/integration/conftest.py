"""Fixtures that start real local nodes for integration tests.

EVM (reusable for L2 and permissioned-network tests):

- ``anvil_factory(chain_id, free_gas=False, mining=True, extra_args=())`` starts an anvil node on
  127.0.0.1 and a free port; every node a test started is stopped by PID at teardown.
- ``signer``: a fresh random account whose key is in an environment variable (``signer.env``),
  the way a user configures ``key = "env:VAR"``.
- ``evm_chain_factory(chain_id, ...)``: a node with the signer funded and a TraceRegistry deployed;
  returns an :class:`EvmChain` whose ``table()`` is a ready ``[chains.NAME]`` table.
- ``write_config(chains, default_chains=None)``: writes a ``bctrace.toml`` in the test's folder.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bctrace_backends.evm.anvil import AnvilError, AnvilNode, find_anvil, start_anvil


@pytest.fixture(scope="session")
def anvil_binary() -> Path:
    try:
        return find_anvil(Path(__file__).resolve().parent)
    except AnvilError as err:
        pytest.skip(f"anvil is not installed here ({err})")


@pytest.fixture
def anvil_factory(anvil_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., AnvilNode]]:
    nodes: list[AnvilNode] = []
    logs = tmp_path_factory.mktemp("anvil-logs")

    def start(chain_id: int = 31337, *, free_gas: bool = False, mining: bool = True, extra_args: Sequence[str] = ()) -> AnvilNode:
        node = start_anvil(chain_id, free_gas=free_gas, mining=mining, extra_args=extra_args, log_dir=logs, binary=anvil_binary)
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        node.stop()


@dataclass(frozen=True)
class Signer:
    address: str
    key: str
    """0x hex private key: only for assertions that it never leaks."""
    env: str
    """Name of the environment variable that holds the key."""

    @property
    def ref(self) -> str:
        return f"env:{self.env}"


@pytest.fixture
def signer(monkeypatch: pytest.MonkeyPatch) -> Signer:
    from eth_account import Account

    account = Account.create()
    env = f"BCTRACE_TEST_KEY_{uuid.uuid4().hex[:8].upper()}"
    key = account.key.to_0x_hex()
    monkeypatch.setenv(env, key)
    return Signer(account.address, key, env)


@dataclass
class EvmChain:
    """A live anvil chain with a TraceRegistry deployed by ``signer``."""

    name: str
    node: AnvilNode
    contract: str
    signer: Signer
    settings: dict[str, Any] = field(default_factory=dict)

    def table(self, **overrides: Any) -> dict[str, Any]:
        """A ``[chains.NAME]`` table for this chain (``None`` in overrides removes a key)."""
        table = {
            "backend": "evm",
            "rpc_url": self.node.url,
            "chain_id": self.node.chain_id,
            "contract": self.contract,
            "key": self.signer.ref,
            "timeout": 20,
            "poll_interval": 0.05,
            **self.settings,
            **overrides,
        }
        return {k: v for k, v in table.items() if v is not None}

    def config(self, **overrides: Any) -> Any:
        from bctrace_backends.evm.config import EvmConfig

        return EvmConfig.model_validate(self.table(**overrides))

    def backend(self, state_dir: Path, **overrides: Any) -> Any:
        from bctrace_backends.evm.backend import EvmBackend

        return EvmBackend(self.name, self.config(**overrides), state_dir=state_dir)


@pytest.fixture
def evm_chain_factory(anvil_factory: Callable[..., AnvilNode], signer: Signer) -> Callable[..., EvmChain]:
    from bctrace_backends.evm.client import EvmClient
    from bctrace_backends.evm.config import EvmConfig
    from bctrace_backends.evm.deploy import deploy_registry

    def make(
        chain_id: int = 31337,
        *,
        name: str | None = None,
        free_gas: bool = False,
        restricted: bool = False,
        extra_args: Sequence[str] = (),
    ) -> EvmChain:
        node = anvil_factory(chain_id, free_gas=free_gas, extra_args=extra_args)
        node.fund(signer.address)
        settings = {"gas_price": 0} if free_gas else {}
        chain_name = name or f"anvil-{chain_id}"
        cfg = EvmConfig.model_validate({"rpc_url": node.url, "chain_id": chain_id, "key": signer.ref, **settings})
        client = EvmClient(chain_name, cfg)
        try:
            done = deploy_registry(client, restricted=restricted)
        finally:
            client.close()
        return EvmChain(chain_name, node, done.address, signer, settings)

    return make


@pytest.fixture
def evm_chain(evm_chain_factory: Callable[..., EvmChain]) -> EvmChain:
    return evm_chain_factory(31337)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    def write(chains: dict[str, dict[str, Any]], default_chains: Sequence[str] | None = None, path: Path | None = None) -> Path:
        target = path or tmp_path / "bctrace.toml"
        lines = ['state_dir = ".bctrace"']
        if default_chains is not None:
            lines.append(f"default_chains = {_toml_value(list(default_chains))}")
        for name, table in chains.items():
            lines += ["", f'[chains."{name}"]'] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return target

    return write
