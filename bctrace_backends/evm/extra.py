"""The evm extra: commands that need it say so in one line on a core-only install."""

from __future__ import annotations

from bctrace.api import require_extra

EVM_MODULES = ("web3", "eth_account", "eth_utils", "requests")
"""What the evm extra brings and the evm commands import."""


def require_evm(command: str) -> None:
    """One line naming ``pip install 'bctrace[evm]'`` if the extra is not installed."""
    require_extra("evm", command, *EVM_MODULES)
