import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from bctrace._internal.record import Record, Subject, canonical_bytes, digest_of_json

FIXED = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)


def make(**kw):
    base = {"kind": "text", "trace": "t1", "created": FIXED}
    return Record(**{**base, **kw})


def test_digest_is_sha256_of_rfc8785_bytes():
    rec = make(body={"b": 1, "a": [1, 2]})
    canonical = rec.canonical_bytes()
    assert canonical == (
        b'{"body":{"a":[1,2],"b":1},"created":"2026-01-02T03:04:05.678901Z","kind":"text","schema_version":1,'
        b'"seq":0,"subjects":[],"trace":"t1"}'
    )
    assert rec.digest() == hashlib.sha256(canonical).digest()


def test_key_order_does_not_change_digest():
    assert make(body={"x": 1, "y": 2}).digest() == make(body={"y": 2, "x": 1}).digest()


def test_unicode_is_kept_as_utf8_and_keys_sorted_by_utf16():
    # RFC 8785 sorts keys by UTF-16 code units: U+1F600 (surrogates D83D...) sorts before U+FB01.
    data = {"\ufb01": 1, "\U0001f600": 2, "é": 3}
    assert canonical_bytes(data) == '{"é":3,"😀":2,"ﬁ":1}'.encode()


def test_floats_follow_ecmascript_formatting():
    assert canonical_bytes([1.0, 0.1, 1e21, 1e-7, -0.0]) == b"[1,0.1,1e+21,1e-7,0]"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), [1.0, float("-inf")]])
def test_non_finite_numbers_are_refused_not_nulled(bad):
    with pytest.raises(ValidationError, match=r"body\.x.*JSON cannot represent"):
        make(body={"x": bad})
    with pytest.raises(ValueError, match="canonicalise"):
        canonical_bytes({"x": float("nan")})


def test_unset_optional_fields_are_left_out():
    d = make().to_json_dict()
    assert "prev" not in d and "author" not in d and "salt" not in d


def test_json_round_trip_keeps_digest():
    rec = make(body={"f": 0.30000000000000004, "s": "ü"}, subjects=[Subject(name="a", sha256="0x" + "ab" * 32, size=3)])
    again = json.loads(json.dumps(rec.to_json_dict()))
    assert digest_of_json(again) == rec.digest()
    assert Record.model_validate(again).digest() == rec.digest()


def test_frozen_and_extra_forbidden():
    rec = make()
    with pytest.raises(ValidationError):
        rec.kind = "other"
    with pytest.raises(ValidationError, match="extra"):
        Record(kind="x", surprise=1)


def test_created_must_be_aware_and_is_normalised_to_utc():
    with pytest.raises(ValidationError, match="timezone"):
        Record(kind="x", created=datetime(2026, 1, 1))
    rec = Record(kind="x", created=datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))))
    assert rec.to_json_dict()["created"] == "2026-01-01T10:00:00Z"


def test_prev_and_sha256_must_be_0x_hex32():
    with pytest.raises(ValidationError):
        make(prev="abc")
    with pytest.raises(ValidationError):
        Subject(name="a", sha256="0x" + "AB" * 32)


def test_salt_changes_digest():
    assert make(salt="00").digest() != make(salt="01").digest()
