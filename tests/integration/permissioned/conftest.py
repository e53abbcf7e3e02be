"""A real Hyperledger Besu node for the permissioned backend tests, where one can be had.

``besu_node`` is, in order: the node at ``$BCTRACE_TEST_BESU_URL`` (an external Besu, e.g. one
started by hand or by CI), else a ``hyperledger/besu`` container started through testcontainers
as a one-validator QBFT network with free gas (zero base fee, ``--min-gas-price=0``), else a skip
naming why (no Docker engine reachable). Image: ``$BCTRACE_TEST_BESU_IMAGE`` (default
``hyperledger/besu:latest``). The container is stopped by testcontainers at the end of the session.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

BESU_IMAGE = os.environ.get("BCTRACE_TEST_BESU_IMAGE", "hyperledger/besu:latest")
QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
"""The fixed mixHash that marks a BFT block (Besu docs, QBFT genesis)."""


@dataclass(frozen=True)
class BesuNode:
    url: str
    chain_id: int
    key_env: str | None = None
    """Environment variable with a funded key, for an external node that charges gas."""


def _rpc(url: str, method: str, params: list | None = None, timeout: float = 5.0):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())["result"]


def qbft_genesis(validator: str, chain_id: int = 1337) -> dict:
    """A one-validator QBFT genesis with free gas. extraData = RLP([vanity, [validators], vote
    (none: empty list), round 0, seals (none)]), the layout of Besu's QBFT extra data."""
    import rlp

    extra = rlp.encode([bytes(32), [bytes.fromhex(validator[2:])], [], 0, []])
    return {
        "config": {
            "chainId": chain_id,
            "berlinBlock": 0,
            "londonBlock": 0,
            "zeroBaseFee": True,
            "contractSizeLimit": 2147483647,
            "qbft": {"blockperiodseconds": 1, "epochlength": 30000, "requesttimeoutseconds": 4},
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": "0x1fffffffffffff",
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": "0x0000000000000000000000000000000000000000",
        "alloc": {},
        "extraData": "0x" + extra.hex(),
    }


def _wait_for_blocks(url: str, timeout: float = 120.0) -> int:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if int(_rpc(url, "eth_blockNumber"), 16) >= 1:
                return int(_rpc(url, "eth_chainId"), 16)
        except Exception as err:  # not up yet
            last = err
        time.sleep(1)
    raise RuntimeError(f"besu at {url} produced no block within {timeout:g} s ({last})")


@pytest.fixture(scope="session")
def besu_node() -> Iterator[BesuNode]:
    external = os.environ.get("BCTRACE_TEST_BESU_URL")
    if external:
        yield BesuNode(external, int(_rpc(external, "eth_chainId"), 16), key_env="BCTRACE_TEST_BESU_KEY" if os.environ.get("BCTRACE_TEST_BESU_KEY") else None)
        return
    try:
        import docker
        from testcontainers.core.container import DockerContainer
    except ImportError as err:
        pytest.fail(f"testcontainers is needed ({err}): pip install 'bctrace[besu]', or set BCTRACE_TEST_BESU_URL to use an external Besu node")
    try:
        docker.from_env().ping()
    except Exception as err:
        pytest.skip(f"no Docker engine reachable for a Besu container ({type(err).__name__}); "
                    "set BCTRACE_TEST_BESU_URL to point these tests at an external Besu node")
    from eth_account import Account

    validator = Account.create()  # a throwaway node key for a throwaway network
    genesis = json.dumps(qbft_genesis(validator.address)).encode()
    container = (
        DockerContainer(BESU_IMAGE)
        .with_copy_into_container(genesis, "/config/genesis.json")
        # readable by the image's non-root user; a throwaway validator key of a throwaway network
        .with_copy_into_container(validator.key.to_0x_hex().encode(), "/config/key", 0o644)
        .with_exposed_ports(8545)
        .with_command([
            "--genesis-file=/config/genesis.json", "--node-private-key-file=/config/key", "--data-path=/tmp/besu",
            "--rpc-http-enabled", "--rpc-http-host=0.0.0.0", "--rpc-http-api=ETH,NET,WEB3,QBFT",
            "--host-allowlist=*", "--min-gas-price=0", "--discovery-enabled=false",
        ])
    )
    container.start()
    try:
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(8545)}"
        chain_id = _wait_for_blocks(url)
        yield BesuNode(url, chain_id)
    finally:
        container.stop()
