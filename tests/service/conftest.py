"""Real parts for the service tests, each started once and stopped by PID:

- ``pg_server`` / ``pg_url``: one PostgreSQL server per session (``tests/pgserver.py``), a fresh
  database per test;
- ``start_service(project, db, *args)``: the service as a real process on a random loopback port
  (``ServiceProcess``: ``url``, ``stop()`` = SIGTERM, ``kill()`` = SIGKILL);
- ``anvil_registry``: an anvil node with a TraceRegistry deployed, as a ``[chains.anvil]`` table.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pgserver import PostgresServer, find_bin_dir
from serviceproc import ServiceProcess


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail("PostgreSQL server binaries are needed: `apt-get install -y postgresql` (scripts/test does)")
    server = PostgresServer(bin_dir)
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return pg_server.database()


@pytest.fixture
def start_service() -> Iterator[Callable[..., ServiceProcess]]:
    started: list[ServiceProcess] = []

    def start(project: Path, db: str, *args: str, **kwargs: Any) -> ServiceProcess:
        service = ServiceProcess(project, db, *args, **kwargs).start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.kill()


@pytest.fixture(scope="module")
def anvil_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An anvil node (blocks every second, so an anchor takes long enough to be killed in) with
    a TraceRegistry, and the ``[chains.anvil]`` table using it; the key is in an env variable."""
    from eth_account import Account

    from bctrace_backends.evm.anvil import AnvilError, find_anvil, start_anvil
    from bctrace_backends.evm.client import EvmClient
    from bctrace_backends.evm.config import EvmConfig
    from bctrace_backends.evm.deploy import deploy_registry

    try:
        binary = find_anvil(Path(__file__).resolve().parent)
    except AnvilError as err:
        pytest.fail(f"anvil is needed ({err}): run `npm install` (scripts/test does)")
    node = start_anvil(31337, log_dir=tmp_path_factory.mktemp("anvil"), binary=binary, extra_args=["--block-time", "1"])
    account = Account.create()
    env = f"BCTRACE_SERVICE_KEY_{uuid.uuid4().hex[:8].upper()}"
    os.environ[env] = account.key.to_0x_hex()
    try:
        node.fund(account.address)
        cfg = EvmConfig.model_validate({"rpc_url": node.url, "chain_id": 31337, "key": f"env:{env}"})
        client = EvmClient("anvil", cfg)
        try:
            contract = deploy_registry(client).address
        finally:
            client.close()
        yield {"node": node, "table": {"backend": "evm", "rpc_url": node.url, "chain_id": 31337, "contract": contract,
                                       "key": f"env:{env}", "timeout": 60, "poll_interval": 0.1}}
    finally:
        os.environ.pop(env, None)
        node.stop()
