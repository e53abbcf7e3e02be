"""OpenTimestampsConfig and the pieces of the backend that need no calendar: the chain id,
trusted-block parsing, and the .ots of a record built from a proof (read back with the library)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bctrace.api import UsageError
from bctrace_backends.opentimestamps.backend import OpenTimestampsBackend
from bctrace_backends.opentimestamps.config import BITCOIN_CHAIN_ID, PUBLIC_CALENDARS, OpenTimestampsConfig


def test_defaults_are_the_public_calendars_two_of_them_required():
    config = OpenTimestampsConfig()
    assert config.calendars == list(PUBLIC_CALENDARS) and config.min_calendars == 2
    assert BITCOIN_CHAIN_ID == 0x6FE28C0AB6F1  # the genesis hash 000000000019d6…e26f, serialized order


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"calendars": []}, "at least one calendar URL"),
        ({"calendars": ["http://a"], "min_calendars": 2}, "min_calendars is 2, but only 1 calendar"),
        ({"calendars": ["ftp://a"]}, r"is not an http\(s\) URL"),
        ({"bitcoin_rpc_auth": "alice:pasted-password"}, 'must be a reference like "env:MY_BITCOIN_RPC_AUTH"'),
        ({"calendar": ["http://a"]}, "Extra inputs are not permitted"),
    ],
)
def test_bad_tables_name_the_field(table, message):
    with pytest.raises(ValidationError, match=message) as err:
        OpenTimestampsConfig(**table)
    assert "pasted-password" not in str(err.value)


def test_trusted_forms():
    root = "0x" + "ab" * 32
    assert OpenTimestampsBackend.parse_trusted(f"840001:{root}") == (BITCOIN_CHAIN_ID, (840001).to_bytes(4, "big") + bytes.fromhex("ab" * 32))
    assert OpenTimestampsBackend.parse_trusted(root.upper().replace("0X", "0x")) == (BITCOIN_CHAIN_ID, bytes.fromhex("ab" * 32))
    for bad in ("tall:" + root, "840001:0x12", "840001"):
        with pytest.raises(UsageError, match="must be HEIGHT:0xMERKLEROOT or 0xBLOCKHASH"):
            OpenTimestampsBackend.parse_trusted(bad)
