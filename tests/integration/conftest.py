"""Fixtures that start real local nodes for integration tests.

EVM (reusable for L2 and permissioned-network tests):

- ``anvil_factory(chain_id, free_gas=False, mining=True, extra_args=())`` starts an anvil node on
  127.0.0.1 and a free port; every node a test started is stopped by PID at teardown.
- ``signer``: a fresh random account whose key is in an environment variable (``signer.env``),
  the way a user configures ``key = "env:VAR"``.
- ``evm_chain_factory(chain_id, ...)``: a node with the signer funded and a TraceRegistry deployed;
  returns an :class:`EvmChain` whose ``table()`` is a ready ``[chains.NAME]`` table.
- ``write_config(chains, default_chains=None)``: writes a ``bctrace.toml`` in the test's folder.
- ``rpc_proxy(upstream, rewrite)``: a loopback JSON-RPC proxy in front of a node that lets
  ``rewrite(request, reply)`` change each reply (PoA blocks, lying providers); returns its URL.

Solana:

- ``solana_node``: the Solana runtime in-process (LiteSVM) behind a JSON-RPC server on 127.0.0.1
  and a free port (``tests/solana_rpc.py``), stopped at teardown.
- ``solana_chain``: a funded signer whose key is in an environment variable; ``table()`` is a
  ready ``[chains.NAME]`` table.

Bitcoin through OpenTimestamps:

- ``ots_network``: a local Bitcoin header source (Esplora-style API) and two OpenTimestamps
  calendars on 127.0.0.1 (``tests/ots_calendar.py``); ``mine()`` makes both calendars commit what
  they hold into a new block; ``table()`` is a ready ``[chains.NAME]`` table.

Rollups and permissioned networks (on anvil, with the chain id of the real network):

- ``op_chain_factory(chain_id=10, ecotone=True)``: an OP-stack-like chain, the GasPriceOracle
  stand-in (``contracts/test``) placed at its predeploy address with ``anvil_setCode``.
- ``arbitrum_chain_factory(chain_id=42161)``: the NodeInterface stand-in at 0x…C8.
- ``permissioned_chain_factory(backend="besu")``: a free-gas chain (1337) with a restricted
  registry, like a QBFT network with the allowlist on.
"""

from __future__ import annotations

import json
import threading
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bctrace_backends.evm.anvil import AnvilError, AnvilNode, find_anvil, start_anvil

REPO = Path(__file__).resolve().parents[2]
STANDINS = REPO / "contracts" / "test" / "artifacts"
OP_ORACLE = "0x420000000000000000000000000000000000000F"
ARB_NODE_INTERFACE = "0x00000000000000000000000000000000000000C8"
OP_ECOTONE_PARAMS = {"l1_base_fee": 20 * 10**9, "blob_base_fee": 3 * 10**9, "base_fee_scalar": 5227, "blob_base_fee_scalar": 1014213}
"""Ecotone fee parameters of the same order as OP mainnet's."""
OP_BEDROCK_PARAMS = {"l1_base_fee": 20 * 10**9, "overhead": 188, "scalar": 684000}
ARB_L1_BASE_FEE = 25 * 10**9


def standin(name: str) -> dict[str, Any]:
    """A compiled test stand-in (``contracts/test/artifacts/NAME.json``)."""
    return json.loads((STANDINS / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def stand_ins() -> SimpleNamespace:
    """The stand-ins' addresses, fee parameters and artifacts, for tests that check fees."""
    return SimpleNamespace(
        OP_ORACLE=OP_ORACLE, ARB_NODE_INTERFACE=ARB_NODE_INTERFACE, OP_ECOTONE_PARAMS=OP_ECOTONE_PARAMS,
        OP_BEDROCK_PARAMS=OP_BEDROCK_PARAMS, ARB_L1_BASE_FEE=ARB_L1_BASE_FEE, artifact=standin,
    )


@pytest.fixture(scope="session")
def anvil_binary() -> Path:
    try:
        return find_anvil(Path(__file__).resolve().parent)
    except AnvilError as err:
        pytest.fail(f"anvil is needed ({err}): run `npm install` in the repository (scripts/test does)")


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
        """The backend this chain's table names (``evm``, ``optimism``, ``besu``...)."""
        from bctrace._internal.plugin_manager import backend_registry, get_plugin_manager

        table = self.table(**overrides)
        cls = backend_registry(get_plugin_manager(autoload=False)).get(table["backend"])
        return cls(self.name, cls.config_model.model_validate(table), state_dir=state_dir)

    def send(self, to: str, signature: str, args: Sequence[Any] = ()) -> dict[str, Any]:
        """A transaction from the signer calling ``signature`` (e.g. ``allow(address)``) at ``to``."""
        from eth_abi import encode

        from bctrace._internal.merkle import keccak256
        from bctrace_backends.evm.client import EvmClient

        types = [t for t in signature[signature.index("(") + 1 : -1].split(",") if t]
        data = keccak256(signature.encode())[:4] + encode(types, list(args))
        client = EvmClient(self.name, self.config())
        try:
            return client.transact(data, to=to, what=signature)
        finally:
            client.close()


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


@pytest.fixture
def op_chain_factory(evm_chain_factory: Callable[..., EvmChain]) -> Callable[..., EvmChain]:
    def make(chain_id: int = 10, *, name: str | None = None, ecotone: bool = True, oracle: str = OP_ORACLE,
             backend: str = "optimism") -> EvmChain:
        chain = evm_chain_factory(chain_id, name=name or f"op-{chain_id}")
        chain.node.rpc("anvil_setCode", [oracle, standin("GasPriceOracleStandIn")["deployedBytecode"]])
        p = {**OP_BEDROCK_PARAMS, "blob_base_fee": 0, "base_fee_scalar": 0, "blob_base_fee_scalar": 0}
        p.update(OP_ECOTONE_PARAMS if ecotone else {})
        chain.send(oracle, "setParams(bool,uint256,uint256,uint32,uint32,uint256,uint256)",
                   [ecotone, p["l1_base_fee"], p["blob_base_fee"], p["base_fee_scalar"], p["blob_base_fee_scalar"],
                    p["overhead"], p["scalar"]])
        chain.settings["backend"] = backend
        return chain

    return make


@pytest.fixture
def arbitrum_chain_factory(evm_chain_factory: Callable[..., EvmChain]) -> Callable[..., EvmChain]:
    def make(chain_id: int = 42161, *, name: str | None = None) -> EvmChain:
        chain = evm_chain_factory(chain_id, name=name or f"arb-{chain_id}")
        chain.node.rpc("anvil_setCode", [ARB_NODE_INTERFACE, standin("NodeInterfaceStandIn")["deployedBytecode"]])
        chain.send(ARB_NODE_INTERFACE, "setL1BaseFeeEstimate(uint256)", [ARB_L1_BASE_FEE])
        chain.settings["backend"] = "arbitrum"
        return chain

    return make


@pytest.fixture
def permissioned_chain_factory(evm_chain_factory: Callable[..., EvmChain]) -> Callable[..., EvmChain]:
    """Anvil as a free-gas private network (chain id 1337) with a restricted registry."""

    def make(backend: str = "besu", *, chain_id: int = 1337, name: str | None = None) -> EvmChain:
        chain = evm_chain_factory(chain_id, name=name or f"{backend}-{chain_id}", free_gas=True, restricted=True)
        chain.settings.pop("gas_price", None)  # the besu/quorum backends default to gas price 0 themselves
        chain.settings["backend"] = backend
        return chain

    return make


@pytest.fixture
def solana_node() -> Iterator[Any]:
    from solana_rpc import LiteSvmNode

    node = LiteSvmNode().start()
    try:
        yield node
    finally:
        node.stop()


@dataclass
class SolanaChain:
    node: Any
    keypair: Any
    env: str

    @property
    def signer(self) -> str:
        return str(self.keypair.pubkey())

    def table(self, **overrides: Any) -> dict[str, Any]:
        return {"backend": "solana", "rpc_url": self.node.url, "key": f"env:{self.env}", "poll_interval": 0.05, **overrides}

    def backend(self, state_dir: Path, name: str = "solana-local", **overrides: Any) -> Any:
        from bctrace_backends.solana.backend import SolanaBackend
        from bctrace_backends.solana.config import SolanaConfig

        return SolanaBackend(name, SolanaConfig(**self.table(**overrides)), state_dir=state_dir)


@pytest.fixture
def solana_chain(solana_node: Any, monkeypatch: pytest.MonkeyPatch) -> SolanaChain:
    keypair = solana_node.funded_keypair()
    env = f"BCTRACE_TEST_SOLANA_KEY_{uuid.uuid4().hex[:8].upper()}"
    monkeypatch.setenv(env, str(keypair))
    return SolanaChain(solana_node, keypair, env)


@dataclass
class OtsNetwork:
    bitcoin: Any
    calendars: list[Any]

    def mine(self) -> list[int]:
        return [h for h in (c.mine() for c in self.calendars) if h is not None]

    def table(self, **overrides: Any) -> dict[str, Any]:
        return {"backend": "opentimestamps", "calendars": [c.url for c in self.calendars], "min_calendars": 2,
                "upgrade_from": [], "esplora": self.bitcoin.url, "timeout": 5.0, **overrides}

    def backend(self, state_dir: Path, name: str = "bitcoin", **overrides: Any) -> Any:
        from bctrace_backends.opentimestamps.backend import OpenTimestampsBackend
        from bctrace_backends.opentimestamps.config import OpenTimestampsConfig

        return OpenTimestampsBackend(name, OpenTimestampsConfig(**self.table(**overrides)), state_dir=state_dir)

    def stop(self) -> None:
        for server in [*self.calendars, self.bitcoin]:
            server.stop()


@pytest.fixture
def ots_network() -> Iterator[OtsNetwork]:
    from ots_calendar import LocalBitcoin, LocalCalendar

    bitcoin = LocalBitcoin().start()
    bitcoin.add_block([])
    network = OtsNetwork(bitcoin, [LocalCalendar(bitcoin=bitcoin).start() for _ in range(2)])
    try:
        yield network
    finally:
        network.stop()


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


class _RewritingProxy(ThreadingHTTPServer):
    def __init__(self, upstream: str, rewrite: Callable[[dict[str, Any], dict[str, Any]], None]) -> None:
        self.upstream = upstream
        self.rewrite = rewrite
        super().__init__(("127.0.0.1", 0), _RewritingHandler)


class _RewritingHandler(BaseHTTPRequestHandler):
    server: _RewritingProxy

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        req = urllib.request.Request(self.server.upstream, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            reply = json.loads(resp.read())
        asked = json.loads(body)
        for question, answer in zip(asked if isinstance(asked, list) else [asked], reply if isinstance(reply, list) else [reply]):
            self.server.rewrite(question, answer)
        out = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def rpc_proxy() -> Iterator[Callable[..., str]]:
    servers: list[_RewritingProxy] = []

    def start(upstream: str, rewrite: Callable[[dict[str, Any], dict[str, Any]], None]) -> str:
        server = _RewritingProxy(upstream, rewrite)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
