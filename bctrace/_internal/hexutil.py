"""Hashes are bytes inside bctrace and ``0x`` + lowercase hex outside (the README's design section)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic_core import core_schema

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler


def to_0x(value: bytes) -> str:
    """Render bytes as ``0x``-prefixed lowercase hex (``bytes.hex`` is lowercase; 4x faster than
    going through ``HexBytes``, and one import less at start-up)."""
    return "0x" + bytes(value).hex()


def from_0x(value: str, *, what: str = "hash", length: int | None = 32) -> bytes:
    """Parse ``0x`` hex into bytes, with an error that names ``what`` was malformed."""
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError(f"{what} must be 0x-prefixed hex, got {value!r:.80}")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError as err:
        raise ValueError(f"{what} is not valid hex: {value!r:.80}") from err
    if length is not None and len(raw) != length:
        raise ValueError(f"{what} must be {length} bytes, got {len(raw)}")
    return raw


class _Hex32Schema:
    """The check behind :data:`Hex32`, run inside pydantic-core (a pattern, no Python call per
    value: a bundle has one per Merkle proof step), with one readable message for every way a
    value can fail it. The pattern matches the whole text: no trailing newline."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.custom_error_schema(
            core_schema.str_schema(pattern=HEX32_PATTERN),
            custom_error_type="hex32",
            custom_error_message="must be 0x followed by 64 lowercase hex digits",
        )


HEX32_PATTERN = r"^0x[0-9a-f]{64}$"
"""``$`` is the end of the text here (pydantic-core's Rust ``regex``), not Python's "before a
final newline"."""

Hex32 = Annotated[str, _Hex32Schema]
"""A 32-byte hash written as ``0x`` + 64 lowercase hex digits (the form stored in bundles)."""
