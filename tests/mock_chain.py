"""``mock``: an in-memory chain for unit tests of the core, registered by the test suite
(``tests/conftest.py``), never by bctrace itself. Not for real use: it forgets everything when
the process ends. Anchors are shared by all instances with the same chain name
in one process, so a test can build a second Tracer and still find them."""

from __future__ import annotations

import time
from typing import ClassVar

from pydantic import Field

from bctrace.api import AnchorFailed, AnchorReceipt, BackendConfig, BackendRegistry, ChainBackend, ChainUnreachable, hookimpl, to_0x


class MockConfig(BackendConfig):
    backend: str = "mock"
    chain_id: int = Field(default=31337, ge=1)
    fail: bool = False
    """Make every anchor fail, to test that the outbox keeps records."""
    pending: bool = False
    """Anchors start pending (``status: "pending"``) until :meth:`MockBackend.confirm`."""


class MockBackend(ChainBackend):
    name = "mock"
    config_model = MockConfig
    config: MockConfig
    _chains: ClassVar[dict[str, dict[str, AnchorReceipt]]] = {}
    fail_next: ClassVar[set[str]] = set()
    """Chain names whose next anchor raises (then clears): simulates a one-off outage."""
    confirmed: ClassVar[set[str]] = set()
    """Roots (0x) a pending chain has confirmed."""
    upgrade_fails: ClassVar[bool] = False

    @classmethod
    def reset(cls) -> None:
        cls._chains.clear()
        cls.fail_next.clear()
        cls.confirmed.clear()
        cls.upgrade_fails = False

    @classmethod
    def confirm(cls, root: bytes) -> None:
        cls.confirmed.add(to_0x(root))

    def upgrade(self, root: bytes, receipt: AnchorReceipt) -> AnchorReceipt:
        if self.upgrade_fails:
            raise ChainUnreachable(self.chain, "mock chain cannot be asked")
        if receipt.status != "pending" or to_0x(root) not in self.confirmed:
            return receipt
        self._anchors[to_0x(root)] = confirmed = receipt.model_copy(update={"status": None, "block": len(self._anchors) + 1})
        return confirmed

    @property
    def _anchors(self) -> dict[str, AnchorReceipt]:
        return self._chains.setdefault(self.chain, {})

    @property
    def chain_id(self) -> int:
        return self.config.chain_id

    def anchor(self, root: bytes) -> AnchorReceipt:
        key = to_0x(root)
        if key in self._anchors:
            return self._anchors[key]
        if self.config.fail or self.chain in self.fail_next:
            self.fail_next.discard(self.chain)
            raise AnchorFailed(self.chain, "mock chain configured to fail")
        receipt = AnchorReceipt(
            chain=self.chain,
            chain_id=self.chain_id,
            backend=self.name,
            tx=to_0x(root[::-1]),
            block=0 if self.config.pending else len(self._anchors) + 1,
            timestamp=int(time.time()),
            status="pending" if self.config.pending else None,
        )
        self._anchors[key] = receipt
        return receipt

    def lookup(self, root: bytes) -> AnchorReceipt | None:
        return self._anchors.get(to_0x(root))

    def head(self) -> int:
        return len(self._anchors)


@hookimpl
def bctrace_register_backends(registry: BackendRegistry) -> None:
    registry.add("mock", MockBackend)
