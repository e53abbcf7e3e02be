"""``bctrace evm allow | revoke | writers``: the registry's writer allowlist."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from bctrace.errors import UsageError

if TYPE_CHECKING:
    from .backend import EvmBackend


def _evm_backend(chain: str) -> EvmBackend:
    from bctrace.api import get_tracer

    from .backend import EvmBackend

    backend = get_tracer().backend(chain)
    if not isinstance(backend, EvmBackend):
        raise UsageError(f"chain {chain!r} uses backend {type(backend).name!r}, which has no writer allowlist")
    return backend


def _change(chain: str, address: str, allowed: bool, as_json: bool) -> None:
    from .writers import set_writer

    done = set_writer(_evm_backend(chain), address, allowed)
    if as_json:
        click.echo(json.dumps(done.__dict__, indent=2))
        return
    state = "allowed to anchor" if allowed else "no longer allowed to anchor"
    if done.tx is None:
        click.echo(f"{done.writer} was already {state} on chain {chain!r}; nothing sent")
    else:
        click.echo(f"{done.writer} is now {state} on chain {chain!r} (tx {done.tx}, block {done.block})")


@click.command()
@click.option("--chain", required=True, help="The [chains.NAME] table of the restricted registry.")
@click.argument("address")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def allow(chain: str, address: str, as_json: bool) -> None:
    """Let ADDRESS anchor on a restricted registry (signed by the registry's owner)."""
    _change(chain, address, True, as_json)


@click.command("revoke")
@click.option("--chain", required=True, help="The [chains.NAME] table of the restricted registry.")
@click.argument("address")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def revoke(chain: str, address: str, as_json: bool) -> None:
    """Stop ADDRESS from anchoring on a restricted registry (its past anchors stay valid)."""
    _change(chain, address, False, as_json)


@click.command()
@click.option("--chain", required=True, help="The [chains.NAME] table of the restricted registry.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def writers(chain: str, as_json: bool) -> None:
    """List the owner and the accounts allowed to anchor on a restricted registry."""
    from .writers import list_writers

    info = list_writers(_evm_backend(chain))
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"chain {chain!r}, registry {info['contract']}, owner {info['owner']}")
    for writer in info["writers"]:
        click.echo(f"  {writer}")
    if not info["writers"]:
        click.echo("  (no writers)")
