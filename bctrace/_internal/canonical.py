"""RFC 8785 canonical JSON at C speed for the values bctrace itself builds.

The ``rfc8785`` package is the reference (pure Python, about 10 µs for a small record). For the
subset of JSON that bctrace's records almost always are, the standard library's C JSON encoder
with sorted keys and no spaces writes exactly the RFC 8785 bytes, because on that subset the two
rules agree:

- keys are strings whose characters are all below U+D800, so Python's code-point order is the
  UTF-16 code-unit order RFC 8785 sorts by;
- strings are Unicode text (no lone surrogates): both escape ``"``, ``\\`` and the controls below
  U+0020 alike (``\\n``, ``\\u001f``, lower-case hex) and write everything else as UTF-8;
- integers within ±(2**53 - 1) are written as their decimal digits by both;
- a float that is finite, not integral and at least 1e-4 in magnitude is written by Python's
  ``repr`` as its shortest round-trip digits without an exponent, which is the ECMAScript
  spelling RFC 8785 asks for;
- ``true``, ``false``, ``null``, lists, tuples and plain dicts nest no deeper than
  :data:`~bctrace._internal.strictjson.MAX_DEPTH`.

:func:`fast_canonical` checks that a value is in the subset (:func:`is_plain`) and returns
``None`` otherwise, so that the caller falls back to ``rfc8785`` for anything else (integral or
tiny floats, big integers, astral-plane keys, subclasses of the basic types). A hypothesis
property test (``tests/unit/test_canonical.py``) checks that the fast path is byte-identical to
``rfc8785.dumps`` on generated records. No general canonicaliser is written here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .strictjson import MAX_DEPTH

_SAFE = 2**53 - 1


def _c_encoder() -> Callable[[Any], str]:
    """The C encoder built once (``JSONEncoder.encode`` builds it again on every call, which
    costs more than the encoding of a small record); the public API where it is missing."""
    from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]

    if c_make_encoder is None:  # pragma: no cover - CPython without its _json accelerator
        return json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode
    # markers=None: no cycle check (is_plain bounds the depth); default=None: is_plain admits
    # only types the encoder knows
    encoder = c_make_encoder(None, None, encode_basestring, None, ":", ",", True, False, False)
    return lambda value: "".join(encoder(value, 0))


_encode = _c_encoder()


def _text(s: str) -> bool:
    """Unicode text (a lone surrogate is not, and cannot be written as UTF-8)."""
    if s.isascii():
        return True
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is in the subset where the C encoder writes RFC 8785 bytes (see the
    module docstring). A plain value also passes :func:`~bctrace._internal.strictjson.check_value`."""
    kind = type(value)
    if kind is str:
        return _text(value)
    if kind is int:
        return -_SAFE <= value <= _SAFE
    if value is None or kind is bool:
        return True
    if kind is float:
        return 1e-4 <= abs(value) < 1e16 and not value.is_integer()
    if depth >= MAX_DEPTH:
        return False
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or max(key) < "\ud800"):
                return False
            # the common leaves inline, without a call each: ASCII text, safe integers, true,
            # false, null (anything else, or non-ASCII text, is asked recursively)
            leaf = type(item)
            if leaf is str:
                if item.isascii():
                    continue
            elif leaf is int:
                if -_SAFE <= item <= _SAFE:
                    continue
                return False
            elif item is None or leaf is bool:
                continue
            if not is_plain(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        return all(is_plain(item, depth + 1) for item in value)
    return False


def fast_canonical(value: Any) -> bytes | None:
    """RFC 8785 bytes of ``value`` if it is plain (:func:`is_plain`), else ``None``."""
    if not is_plain(value):
        return None
    return _encode(value).encode("utf-8")
