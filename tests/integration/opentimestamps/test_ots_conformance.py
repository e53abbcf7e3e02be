"""The shared backend conformance suite, with the pending state, run against the
opentimestamps backend: two local calendars on loopback built on the opentimestamps library's
server-side operations, and a local Esplora-style header source with real Bitcoin headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bctrace.errors import ChainUnreachable, ClaimMismatch
from bctrace.testing import PendingAnchorTests, random_root

pytestmark = pytest.mark.integration


class TestOpenTimestampsBackend(PendingAnchorTests):
    @pytest.fixture
    def backend(self, ots_network, tmp_path: Path):
        self.network = ots_network
        backend = ots_network.backend(tmp_path)
        yield backend
        backend.close()

    def confirm(self, backend) -> None:
        assert self.network.mine()


def test_anchor_needs_min_calendars(ots_network, tmp_path: Path):
    ots_network.calendars[1].refuse = True
    with pytest.raises(ChainUnreachable, match=r"1 of 2 calendars accepted the root, 2 needed: http://127\.0\.0\.1:\d+: HTTP Error 503"):
        ots_network.backend(tmp_path).anchor(random_root())
    backend = ots_network.backend(tmp_path, min_calendars=1)
    assert backend.anchor(random_root()).status == "pending"
    assert "1 of 2 calendars accepted the root" in backend.notes[0]


def test_upgrade_asks_only_listed_calendars(ots_network, tmp_path: Path):
    root = random_root()
    receipt = ots_network.backend(tmp_path).anchor(root)
    assert ots_network.calendars[1].mine()  # only the second calendar attests
    first_only = ots_network.backend(tmp_path / "first-only", calendars=[ots_network.calendars[0].url], min_calendars=1)
    assert first_only.upgrade(root, receipt).status == "pending"
    assert f"calendar {ots_network.calendars[1].url} is not in calendars or upgrade_from: not asked" in first_only.notes[-1]
    assert ots_network.backend(tmp_path).upgrade(root, receipt).status is None


def test_upgrade_with_every_calendar_down_is_unreachable(ots_network, tmp_path: Path):
    root = random_root()
    receipt = ots_network.backend(tmp_path).anchor(root)
    for calendar in ots_network.calendars:
        calendar.refuse = True
    with pytest.raises(ChainUnreachable, match="no calendar of the pending anchor could be asked: .*HTTP Error 503"):
        ots_network.backend(tmp_path).upgrade(root, receipt)


def test_wrong_header_source_is_a_mismatch(ots_network, tmp_path: Path):
    from ots_calendar import LocalBitcoin

    backend = ots_network.backend(tmp_path)
    root = random_root()
    pending = backend.anchor(root)
    ots_network.mine()
    confirmed = backend.upgrade(root, pending)
    other = LocalBitcoin().start()  # another chain: same heights, other blocks
    try:
        other.add_block([])
        other.add_block([])
        liar = ots_network.backend(tmp_path, esplora=other.url)
        with pytest.raises(ClaimMismatch, match=f"block: block {confirmed.block}: the OTS proof leads to merkle root 0x"):
            liar.find_claimed(root, confirmed)
    finally:
        other.stop()


def test_headers_from_bitcoin_core_rpc(ots_network, tmp_path: Path, monkeypatch):
    from bctrace.errors import ChainMisconfigured

    ots_network.bitcoin.rpc_auth = "alice:s3cret"
    monkeypatch.setenv("BCTRACE_TEST_BTC_RPC", "alice:s3cret")
    core = {"esplora": None, "bitcoin_rpc": ots_network.bitcoin.url, "bitcoin_rpc_auth": "env:BCTRACE_TEST_BTC_RPC"}
    backend = ots_network.backend(tmp_path, **core)
    root = random_root()
    pending = backend.anchor(root)
    ots_network.mine()
    confirmed = backend.upgrade(root, pending)
    assert confirmed.status is None and backend.head() >= confirmed.block
    assert backend.find_claimed(root, confirmed) == confirmed
    assert ots_network.backend(tmp_path / "esplora").find_claimed(root, confirmed) == confirmed  # both sources agree

    monkeypatch.setenv("BCTRACE_TEST_BTC_RPC", "alice:wrong")
    with pytest.raises(ChainMisconfigured, match=r"Bitcoin Core RPC http://127\.0\.0\.1:\d+ refused the credentials \(HTTP 401\)") as err:
        ots_network.backend(tmp_path, **core).head()
    assert "wrong" not in str(err.value)
