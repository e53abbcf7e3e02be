"""``bctrace chains | init``: what the project anchors on, and a config to start from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import BctraceError, UsageError
from .context import emit_json, get_tracer
from .output import table

INIT_TEMPLATE = """\
# bctrace configuration. Docs: README.md, section "Configuration".
# Strings may use ${ENV_VAR} or ${ENV_VAR:-default}; keys are referenced as "env:VAR", never pasted.

# Where the outbox (records waiting to be anchored) and the local ledger live.
state_dir = ".bctrace"

# Chains that `bctrace flush` anchors on (default: every chain below).
default_chains = ["local"]

# Write every record's proof bundle into this folder on flush (stamped files always get
# theirs beside the file).
# bundle_dir = "bundles"

# The embedded ledger: an append-only, hash-chained file in the state folder.
[chains.local]
backend = "local"

# An EVM chain (public, L2 or private). `bctrace evm deploy --chain sepolia` deploys the registry.
# [chains.sepolia]
# backend = "evm"
# preset = "sepolia"
# rpc_url = "${SEPOLIA_RPC_URL}"
# key = "env:BCTRACE_KEY"
# contract = "0x..."

# An IPFS node to store the bytes of stamped files (`bctrace stamp --store ipfs FILE`).
# [stores.ipfs]
# backend = "ipfs"
# api = "http://127.0.0.1:5001"
"""


@click.command()
@click.option("--estimate", is_flag=True, help="Also estimate the cost of one anchor on each chain.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def chains(estimate: bool, as_json: bool) -> None:
    """Configured chains: backend, chain id, reachability (and anchor cost with --estimate)."""
    tracer = get_tracer()
    rows = []
    for name in tracer.config.chains:
        backend = tracer.backend(name)
        row: dict[str, Any] = {**backend.describe(), "default": name in tracer.config.default_chains}
        try:
            row["chain_id"] = backend.chain_id
            row["head"] = backend.head()
            row["reachable"] = True
        except BctraceError as err:
            row["reachable"] = False
            row["reason"] = err.one_line()
        if estimate and row["reachable"]:
            try:
                row["estimate"] = backend.estimate_anchor_cost()
            except BctraceError as err:  # reachable, but no estimate (fee above cap, no oracle)
                row["estimate_error"] = err.one_line()
        rows.append(row)
    if as_json:
        emit_json({"config": tracer.config.describe_source(), "chains": rows})
        return
    click.echo(f"config: {tracer.config.describe_source()}")
    cols = ["chain", "backend", "chain id", "default", "reachable", "head / reason"]
    if estimate:
        cols.append("anchor cost")
    table(None, cols, [
        [r["chain"], r["backend"], r.get("chain_id"), "yes" if r["default"] else "", "yes" if r["reachable"] else "NO",
         r.get("head") if r["reachable"] else r.get("reason")]
        + ([r.get("estimate_error") or _fmt_estimate(r.get("estimate"))] if estimate else [])
        for r in rows
    ])


def _fmt_estimate(est: dict[str, Any] | None) -> str:
    if not est:
        return "free"
    return ", ".join(f"{k} {v}" for k, v in est.items())


@click.command()
@click.option("--force", is_flag=True, help="Overwrite an existing bctrace.toml.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def init(force: bool, as_json: bool) -> None:
    """Write a commented bctrace.toml in the current folder."""
    target = Path("bctrace.toml")
    if target.exists() and not force:
        raise UsageError(f"{target.resolve()} exists already (use --force to overwrite)")
    target.write_text(INIT_TEMPLATE, encoding="utf-8")
    if as_json:
        emit_json({"config": str(target.resolve())})
    else:
        click.echo(f"wrote {target.resolve()}")
