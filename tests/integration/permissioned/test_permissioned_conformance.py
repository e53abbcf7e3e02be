"""The shared conformance suite for ``besu`` and ``quorum``: on anvil run as a free-gas private
network (chain id 1337, gas price 0, restricted registry), and on a real Besu QBFT node where
Docker or ``BCTRACE_TEST_BESU_URL`` provides one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bctrace.testing import ChainBackendTests

pytestmark = pytest.mark.integration


class TestBesuBackendOnAnvil(ChainBackendTests):
    @pytest.fixture
    def backend(self, permissioned_chain_factory, tmp_path: Path):
        backend = permissioned_chain_factory("besu").backend(tmp_path)
        yield backend
        backend.close()


class TestQuorumBackendOnAnvil(ChainBackendTests):
    @pytest.fixture
    def backend(self, permissioned_chain_factory, tmp_path: Path):
        backend = permissioned_chain_factory("quorum").backend(tmp_path)
        yield backend
        backend.close()


class TestBesuBackendOnBesu(ChainBackendTests):
    """Against hyperledger/besu (QBFT, free gas): skipped here when no Docker engine is reachable."""

    @pytest.fixture
    def backend(self, besu_node, signer, tmp_path: Path):
        from bctrace_backends.evm.deploy import deploy_registry
        from bctrace_backends.permissioned.backend import BesuBackend
        from bctrace_backends.permissioned.config import BesuConfig

        table = {"rpc_url": besu_node.url, "chain_id": besu_node.chain_id, "key": f"env:{besu_node.key_env}" if besu_node.key_env else signer.ref,
                 "timeout": 60, "poll_interval": 0.2}
        deployer = BesuBackend("besu", BesuConfig.model_validate(table), state_dir=tmp_path)
        done = deploy_registry(deployer.client, restricted=True)
        deployer.close()
        backend = BesuBackend("besu", BesuConfig.model_validate({**table, "contract": done.address}), state_dir=tmp_path)
        yield backend
        backend.close()
