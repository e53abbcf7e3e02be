"""``evm``: anchor on any EVM chain (public L1s, L2s, private networks, local anvil) over JSON-RPC.

The plugin module: it registers the backend, the ``eip191`` record signer, and the ``bctrace evm``
and ``bctrace trace`` command groups. Nothing
here imports web3 at import time; the hooks import the heavy modules only when they run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bctrace.api import hookimpl

if TYPE_CHECKING:
    from bctrace.api import BackendRegistry, CommandRegistry, SignerRegistry


@hookimpl
def bctrace_register_backends(registry: BackendRegistry) -> None:
    registry.add("evm", "bctrace_backends.evm.backend:EvmBackend", extra="evm")


@hookimpl
def bctrace_register_signers(registry: SignerRegistry) -> None:
    registry.add("eip191", "bctrace_backends.evm.signing:Eip191Signer", extra="evm")


@hookimpl
def bctrace_register_commands(registry: CommandRegistry) -> None:
    registry.add("bctrace_backends.evm.cli:evm", name="evm")
    registry.add("bctrace_backends.evm.trace_cli:trace", name="trace")  # one address per trace
    for old, new in (("deploy", "evm deploy"), ("devnet", "evm devnet"), ("allow", "evm allow"),
                     ("revoke-writer", "evm revoke"), ("writers", "evm writers")):
        registry.alias(old, new)
