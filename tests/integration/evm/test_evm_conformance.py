"""The shared backend conformance suite, run against the evm backend on a live anvil node."""

from __future__ import annotations

from pathlib import Path

import pytest

from bctrace.testing import ChainBackendTests

pytestmark = pytest.mark.integration


class TestEvmBackend(ChainBackendTests):
    @pytest.fixture
    def backend(self, evm_chain, tmp_path: Path):
        backend = evm_chain.backend(tmp_path)
        yield backend
        backend.close()


class TestEvmBackendFreeGas(ChainBackendTests):
    """A private-network style chain: gas price 0, legacy transactions."""

    @pytest.fixture
    def backend(self, evm_chain_factory, tmp_path: Path):
        backend = evm_chain_factory(1337, free_gas=True).backend(tmp_path)
        yield backend
        backend.close()
