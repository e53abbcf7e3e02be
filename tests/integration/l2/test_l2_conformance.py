"""The shared backend conformance suite for the rollup backends, on anvil nodes with the rollup's
chain id and its fee oracle / precompile stand-in in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from bctrace.testing import ChainBackendTests

pytestmark = pytest.mark.integration


class TestOptimismBackend(ChainBackendTests):
    @pytest.fixture
    def backend(self, op_chain_factory, tmp_path: Path):
        backend = op_chain_factory(10).backend(tmp_path)
        yield backend
        backend.close()


class TestArbitrumBackend(ChainBackendTests):
    @pytest.fixture
    def backend(self, arbitrum_chain_factory, tmp_path: Path):
        backend = arbitrum_chain_factory(42161).backend(tmp_path)
        yield backend
        backend.close()
