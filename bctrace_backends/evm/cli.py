"""The ``bctrace evm`` command group: ``deploy`` and ``devnet`` (put a TraceRegistry on a chain,
or try it all locally), and the registry's writer allowlist (``allow``, ``revoke``, ``writers``).

``devnet`` runs in the foreground: it starts the anvil nodes, deploys a registry on each, writes
a config for them, and keeps them running until Ctrl-C or SIGTERM, then stops them by PID. Their
chains live in memory, so anchors made on a devnet vanish when it stops (it is for trying).
"""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from bctrace.api import get_tracer
from bctrace.errors import BctraceError, UsageError

from .allowlist import allow, revoke, writers


@click.group("evm")
def evm() -> None:
    """EVM chains: deploy the registry, run a local devnet, manage the writer allowlist."""


@evm.command()
@click.option("--chain", "chain", required=True, help="The [chains.NAME] table to deploy on (an EVM-family backend).")
@click.option("--restricted", is_flag=True,
              help="Turn the writer allowlist on; fixed for good (always on for besu and quorum chains).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def deploy(chain: str, restricted: bool, as_json: bool) -> None:
    """Deploy a TraceRegistry on an EVM-family chain and print the config line to paste."""
    from .backend import EvmBackend
    from .deploy import deploy_registry

    tracer = get_tracer()
    backend = tracer.backend(chain)
    if not isinstance(backend, EvmBackend):
        raise UsageError(f"chain {chain!r} uses backend {type(backend).name!r}; `bctrace evm deploy` is for backend \"evm\" and its family")
    restricted = restricted or backend.deploys_restricted
    done = deploy_registry(backend.client, restricted=restricted)
    if as_json:
        click.echo(json.dumps({**done.__dict__, "restricted": restricted, "config_line": done.config_line()}, indent=2))
        return
    link = backend.config.tx_url(done.tx)
    click.echo(f"Deployed TraceRegistry on chain {chain!r} (chain id {done.chain_id}) in block {done.block}, "
               f"tx {done.tx}, gas {done.gas_used}" + (f"\n  {link}" if link else ""))
    if backend.config.contract and backend.config.contract.lower() != done.address.lower():
        click.echo(f"This replaces contract {backend.config.contract}; anchors made there stay there.")
    if restricted:
        click.echo(f"Writer allowlist on: only {backend.client.sender} (the owner) may anchor; "
                   f"add writers with `bctrace evm allow --chain {chain} ADDRESS`.")
    click.echo(f"Add this line to [chains.{chain}] in {tracer.config.describe_source()}:\n\n    {done.config_line()}\n")


@evm.command()
@click.option("--chain-id", "chain_ids", type=click.IntRange(min=1), multiple=True,
              help="Start one anvil chain per --chain-id (default: one chain, id 31337).")
@click.option("--free-gas", is_flag=True, help="Gas price and base fee 0, like a private network.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=Path("bctrace.toml"),
              show_default=True, help="Config file to write for the devnet.")
@click.option("--config", "old_out", type=click.Path(dir_okay=False, path_type=Path), hidden=True)
@click.option("--force", is_flag=True, help="Overwrite the config file if it exists.")
@click.option("--no-local", is_flag=True, help="Anchor only on the devnet chains, not on the local ledger too.")
@click.option("--json", "as_json", is_flag=True, help="Print the chains as one JSON line once they are ready.")
def devnet(chain_ids: tuple[int, ...], free_gas: bool, out: Path, old_out: Path | None, force: bool, no_local: bool, as_json: bool) -> None:
    """Start local anvil chains with the registry deployed, write a config for them, and keep
    them running until Ctrl-C (or SIGTERM), which stops them.

    No private key is made or stored: the chains impersonate a random, funded account
    (``node_account`` in the config), so transactions are sent unsigned to the node."""
    from eth_utils import to_checksum_address

    from .anvil import AnvilError, start_anvil
    from .client import EvmClient
    from .config import EvmConfig
    from .deploy import deploy_registry

    if old_out is not None:
        from bctrace.api import deprecated

        deprecated("'bctrace devnet --config FILE'", "'bctrace evm devnet --out FILE'")
        out = old_out
    ids = list(dict.fromkeys(chain_ids or (31337,)))
    if out.exists() and not force:
        raise UsageError(f"{out} exists; pass --force to overwrite it or --out to write another file")
    state = out.resolve().parent / ".bctrace" / "devnet"
    state.mkdir(parents=True, exist_ok=True)
    sender = to_checksum_address(os.urandom(20))

    nodes = []
    stop, previous = _install_stop_handler()
    try:
        chains: dict[str, dict[str, Any]] = {}
        for chain_id in ids:
            try:
                node = start_anvil(chain_id, free_gas=free_gas, log_dir=state, extra_args=("--auto-impersonate",))
            except AnvilError as err:
                raise UsageError(f"devnet chain id {chain_id}: {err}") from err
            nodes.append(node)
            node.fund(sender)
            name = f"devnet-{chain_id}"
            table: dict[str, Any] = {"backend": "evm", "rpc_url": node.url, "chain_id": chain_id, "node_account": sender}
            if free_gas:
                table["gas_price"] = 0
            done = deploy_registry(EvmClient(name, EvmConfig.model_validate(table)))
            chains[name] = {**table, "contract": done.address}
            click.echo(f"chain {name}: {node.url} (pid {node.pid}), TraceRegistry at {done.address}", err=as_json)
        out.write_text(_devnet_toml(chains, with_local=not no_local), encoding="utf-8")
        ready = {"config": str(out.resolve()), "nodes": [{"chain": n, "url": c["rpc_url"], "pid": node.pid}
                                                        for (n, c), node in zip(chains.items(), nodes, strict=False)]}
        (state / "devnet.json").write_text(json.dumps(ready, indent=2))
        if as_json:
            click.echo(json.dumps({**ready, "ready": True}))
        click.echo(f"\nWrote {out}. In another terminal:\n\n"
                   f"    bctrace --config {out} stamp README.md\n"
                   f"    bctrace --config {out} verify README.md\n\n"
                   "devnet ready; press Ctrl-C to stop the chains (their anchors vanish with them).", err=as_json)
        while not stop["now"] and all(n.running() for n in nodes):
            time.sleep(0.2)
        dead = [n for n in nodes if not n.running()]
        if dead and not stop["now"]:
            raise BctraceError(f"devnet: anvil (pid {dead[0].pid}, chain id {dead[0].chain_id}) exited; stopping the others")
    except KeyboardInterrupt:
        pass
    finally:
        for node in nodes:
            node.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if nodes:
            click.echo(f"devnet stopped ({len(nodes)} chain{'s' if len(nodes) > 1 else ''})", err=as_json)


def _install_stop_handler() -> tuple[dict[str, bool], dict[signal.Signals, Any]]:
    """SIGTERM and SIGINT end the devnet's wait loop, so the finally block stops the nodes.
    Returns the flag and the handlers to restore afterwards."""
    flag = {"now": False}

    def handler(signum: int, frame: Any) -> None:
        flag["now"] = True

    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    for signum in previous:
        signal.signal(signum, handler)
    return flag, previous


def _devnet_toml(chains: dict[str, dict[str, Any]], *, with_local: bool) -> str:
    names = (["local"] if with_local else []) + list(chains)
    lines = [
        f"# Written by `bctrace devnet` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%SZ}.",
        "# The chains run while that command runs; Ctrl-C stops them and their anchors are gone.",
        "# node_account: a funded account the devnet nodes impersonate (no private key exists for it).",
        'state_dir = ".bctrace"',
        f"default_chains = {json.dumps(names)}",
        "",
    ]
    if with_local:
        lines += ["[chains.local]", 'backend = "local"', ""]
    for name, table in chains.items():
        lines.append(f"[chains.{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
        lines.append("")
    return "\n".join(lines)


evm.add_command(allow)
evm.add_command(revoke)
evm.add_command(writers)
