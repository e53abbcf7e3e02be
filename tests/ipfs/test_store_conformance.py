"""The IPFS store passes the shared store conformance suite (bctrace.testing.ContentStoreTests)
against a real js-ipfs node."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bctrace.testing import ContentStoreTests
from bctrace_backends.ipfs.store import IpfsConfig, IpfsStore


class TestIpfsStoreConformance(ContentStoreTests):
    @pytest.fixture
    def store(self, ipfs_api: str) -> Iterator[IpfsStore]:
        with IpfsStore("ipfs", IpfsConfig(api=ipfs_api)) as opened:
            yield opened
