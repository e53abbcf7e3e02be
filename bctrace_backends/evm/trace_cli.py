"""``bctrace trace address TRACE_ID``: the address a trace's anchors are sent from (one address
per trace, README), so that anyone can follow the trace on a block explorer."""

from __future__ import annotations

import click

from bctrace.api import emit_json, get_tracer
from bctrace.errors import UsageError

from .extra import require_evm


@click.group("trace")
def trace() -> None:
    """Traces on EVM chains with one address per trace."""


@trace.command()
@click.argument("trace_id")
@click.option("--chain", "chain", help="The [chains.NAME] table with trace_seed (default: every such chain).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def address(trace_id: str, chain: str | None, as_json: bool) -> None:
    """Print the address that sends TRACE_ID's anchors (derived from the chain's trace_seed)."""
    require_evm("trace address")
    from .backend import EvmBackend
    from .trace_accounts import trace_account, trace_path

    tracer = get_tracer()
    names = [chain] if chain else sorted(tracer.config.chains)
    rows = []
    for name in names:
        backend = tracer.backend(name)
        if not isinstance(backend, EvmBackend) or not backend.anchors_per_trace:
            if chain:
                raise UsageError(f"chain {chain!r} has no trace_seed: one address per trace is off there")
            continue
        account = trace_account(name, backend.config, trace_id)
        rows.append({"chain": name, "chain_id": backend.config.chain_id, "address": account.address,
                     "path": trace_path(trace_id), "explorer": backend.config.address_url(account.address)})
    if not rows:
        raise UsageError("no configured chain has trace_seed: one address per trace is off (README, \"One address per trace\")")
    if as_json:
        emit_json({"trace": trace_id, "addresses": rows})
        return
    for row in rows:
        click.echo(f"{row['chain']} (chain id {row['chain_id']}): {row['address']}  (path {row['path']})"
                   + (f"  {row['explorer']}" if row["explorer"] else ""))
