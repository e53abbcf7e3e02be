"""The canonical JSON fast path (bctrace._internal.canonical) is byte-identical to ``rfc8785``.

Property tests (hypothesis, derandomized): on any generated JSON-like value the fast path either
declines (``None``) or writes exactly ``rfc8785.dumps``; on values drawn from the subset it
claims, it never declines; real records built by bctrace take it.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone

import rfc8785
from bundle_fuzz import ci
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bctrace._internal.canonical import fast_canonical, is_plain
from bctrace._internal.record import Record, Subject, canonical_bytes

# Anything at all: every Unicode category (lone surrogates included), astral keys, controls,
# every float and integer size, tuples, and subclasses of the basic types.
any_text = st.text(st.characters(), max_size=10)
# Keys whose code-point order differs from their UTF-16 order (astral vs U+E000-U+FFFF).
any_key = st.one_of(any_text, st.sampled_from(["\U0001f600", "\uff61", "\ue000", "a", "\U00010000b"]))


class Level(enum.IntEnum):
    LOW = 1


class Tag(str, enum.Enum):
    A = "a"


anything = st.recursive(
    st.one_of(
        st.none(), st.booleans(), any_text,
        st.integers(min_value=-(2**60), max_value=2**60),
        st.integers(min_value=-(2**53), max_value=2**53),
        st.floats(), st.floats(min_value=-1e17, max_value=1e17), st.floats(min_value=-1e-3, max_value=1e-3),
        st.sampled_from([2**53 - 1, 2**53, -(2**53) + 1, -(2**53), 2**60]),
        st.sampled_from([Level.LOW, Tag.A, 0.0001, 9.9999e-5, 1e16 - 1.5, 4503599627370495.5, 1e-7, 1e21, -0.0]),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple),
                            st.dictionaries(any_key, inner, max_size=4)),
    max_leaves=16,
)

# The subset the fast path claims: keys below U+D800, text without surrogates, safe integers,
# non-integral floats of magnitude at least 1e-4.
bmp_key = st.text(st.characters(max_codepoint=0xD7FF), max_size=10)
plain_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)
plain_float = st.floats(min_value=1e-4, max_value=1e15, exclude_min=False).filter(lambda f: not f.is_integer())
plain = st.recursive(
    st.one_of(st.none(), st.booleans(), plain_text, st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
              plain_float, plain_float.map(lambda f: -f)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(bmp_key, inner, max_size=4)),
    max_leaves=16,
)


def reference(value) -> bytes | None:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        return None


@ci(200)
@given(anything)
def test_fast_path_is_byte_identical_or_declines(value):
    fast = fast_canonical(value)
    if fast is not None:
        assert fast == reference(value)
        assert canonical_bytes(value) == fast


@ci(200)
@given(plain)
def test_fast_path_takes_every_plain_value(value):
    assert is_plain(value)
    assert fast_canonical(value) == rfc8785.dumps(value)


def test_known_divergences_fall_back_to_rfc8785():
    # Python's json would write these differently from RFC 8785; the fast path must decline.
    for value in (1.0, 1e16, 1e-5, 1e21, -0.0, 2**53, {"\U0001f600": 1, "\ufb01": 2}, Level.LOW, Tag.A, "\ud800",
                  {"a": float("nan")}, {"a": 2**53}, {"a": -(2**53)}, [2**60], {"a": {"b": [True, None, 2**53]}},
                  {"a": "\ud800"}, {"a": 1.0}, {"\U0001f600": True}):
        assert fast_canonical(value) is None, value
    assert canonical_bytes({"\U0001f600": 1, "\ufb01": 2}) == rfc8785.dumps({"\U0001f600": 1, "\ufb01": 2})
    assert canonical_bytes([1.0, 1e-7, 1e21]) == b"[1,1e-7,1e+21]"


def test_records_bctrace_builds_take_the_fast_path():
    subject = Subject(name="model.pt", sha256="0x" + "ab" * 32, size=12, cid="bafy", cid_params={"chunker": "size-262144"},
                      digests={"blake3": "0x" + "cd" * 32})
    rec = Record(kind="ml-run", trace="t", seq=3, prev="0x" + "01" * 32, created=datetime(2026, 1, 2, tzinfo=timezone.utc),
                 author="me", subjects=(subject,), salt="00" * 16,
                 body={"loss": 0.2345, "epoch": 7, "ok": True, "note": "é\n\"x\"", "hp": {"lr": 0.001, "layers": [64, 32]}})
    data = rec.to_json_dict()
    assert is_plain(data)
    assert rec.canonical_bytes() == rfc8785.dumps(data)


# Records as Tracer.record builds them, with every optional field set or not, any timezone,
# subjects with optional fields, and bodies from the whole JSON-like space (not only the subset).
hex32 = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
subjects = st.builds(Subject, name=plain_text, sha256=hex32, size=st.none() | st.integers(min_value=0, max_value=2**40),
                     cid=st.none() | plain_text, cid_params=st.none() | st.dictionaries(bmp_key, plain, max_size=2),
                     digests=st.none() | st.dictionaries(bmp_key, plain_text, max_size=2), media_type=st.none() | plain_text)
record_fields = st.fixed_dictionaries({
    "kind": any_text.filter(bool), "trace": any_text.filter(bool), "seq": st.integers(min_value=0, max_value=2**40),
    "created": st.datetimes(timezones=st.timezones() | st.just(timezone.utc)),
    "subjects": st.lists(subjects, max_size=2).map(tuple),
    "body": st.dictionaries(bmp_key, plain | anything, max_size=4),
}, optional={"prev": hex32, "kind_version": st.integers(min_value=1, max_value=9), "author": any_text, "salt": plain_text})


@ci(300)
@given(record_fields)
def test_record_canonical_bytes_without_the_serializer_are_the_serializers(fields):
    # Record.canonical_bytes builds its JSON by hand (_plain_json_dict) instead of asking
    # pydantic's serializer (to_json_dict): the bytes must be the same, and the hand-built JSON
    # must be taken whenever the record is plain.
    try:
        rec = Record(**fields)
        by_serializer = canonical_bytes(rec.to_json_dict())
    except (ValidationError, ValueError):
        return  # refused on either path
    assert rec.canonical_bytes() == by_serializer
    if is_plain(rec.body) and is_plain(rec.to_json_dict()):
        assert fast_canonical(rec._plain_json_dict()) == by_serializer
