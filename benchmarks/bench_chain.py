"""Shared by the EVM benchmarks: a funded signer and a TraceRegistry on a running anvil, and a
``bctrace.toml`` that anchors on it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from eth_account import Account

from bctrace_backends.evm.anvil import AnvilNode
from bctrace_backends.evm.client import EvmClient
from bctrace_backends.evm.config import EvmConfig
from bctrace_backends.evm.deploy import Deployment, deploy_registry


def deploy_bench_registry(node: AnvilNode) -> tuple[dict[str, Any], Deployment, EvmClient]:
    """Fund a fresh key (kept in ``$BCTRACE_BENCH_KEY``), deploy the registry; returns the chain's
    config table, the deployment and the open client."""
    account = Account.create()
    node.fund(account.address)
    os.environ["BCTRACE_BENCH_KEY"] = account.key.to_0x_hex()
    table = {"rpc_url": node.url, "chain_id": node.chain_id, "key": "env:BCTRACE_BENCH_KEY", "poll_interval": 0.05}
    client = EvmClient("bench", EvmConfig.model_validate(table))
    return table, deploy_registry(client), client


def write_bench_config(path: Path, table: dict[str, Any], contract: str, *top: str) -> Path:
    """A config with one chain ``bench`` (and ``top`` lines before it, e.g. ``bundle_dir``)."""
    lines = [*top, "[chains.bench]", 'backend = "evm"', f'contract = "{contract}"']
    lines += [f"{k} = {v!r}".replace("'", '"') for k, v in table.items()]
    path.write_text("\n".join(lines) + "\n")
    return path
