"""The body models of bctrace's own record kinds (registered by :mod:`.builtin_kinds`, imported
only when a record of one of them is made or checked against its kind).

Amounts and quantities are decimal strings (``"25"``, ``"12.50"``), never JSON numbers: a
double cannot hold every amount exactly, and two readers must see the same one.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from .hexutil import Hex32

_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]+)?$")


def _decimal(text: str) -> str:
    if not _DECIMAL.match(text):
        raise ValueError(f"{text!r} is not a decimal number written as text, such as \"25\" or \"12.50\"")
    return text


DecimalString = Annotated[str, AfterValidator(_decimal)]
"""A non-negative decimal number written as text: ``25``, ``12.50``, ``0.001``."""
Text = Annotated[str, StringConstraints(min_length=1)]


def _iso4217(code: str) -> str:
    import pycountry

    if len(code) != 3 or not code.isupper() or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (e.g. EUR, USD, CHF)")
    return code


Currency = Annotated[str, AfterValidator(_iso4217)]


class _Strict(BaseModel):
    """Kinds with a fixed vocabulary: an unknown field is a typo, refused with its name."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class _Open(BaseModel):
    """Kinds whose records carry tool-made data besides the named fields."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Donation(_Strict):
    donor: Text
    recipient: Text
    amount: DecimalString
    currency: Currency
    purpose: Text | None = None


class SupplyStep(_Strict):
    lot: Text | None = None
    item: Text | None = None
    from_: Text | None = Field(default=None, alias="from")
    to: Text | None = None
    location: Text | None = None
    time: AwareDatetime | None = None
    quantity: DecimalString | None = None
    unit: Text | None = None

    @model_validator(mode="after")
    def _identified(self) -> SupplyStep:
        if self.lot is None and self.item is None:
            raise ValueError("field 'lot': a supply step needs a lot or an item id (lot or item)")
        if self.quantity is not None and self.unit is None:
            raise ValueError("field 'unit': a quantity needs its unit (kg, pcs, l, ...)")
        return self


class Authorship(_Strict):
    """Who claims a work. The work is the record's subject (``bctrace stamp --kind authorship
    --sign paper.pdf``) or its digest in ``work``; a signed record's ``author`` is the signer."""

    work: Hex32 | None = None
    """SHA-256 of the work, ``0x`` + 64 lowercase hex."""
    authors: list[Text] | None = Field(default=None, min_length=1)
    claimed_at: AwareDatetime | None = None
    title: Text | None = None


class StoreRef(_Strict):
    store: Text
    cid: Text


class File(_Open):
    description: Text | None = None
    license: Text | None = None
    stores: list[StoreRef] | None = None


class Dataset(_Open):
    name: Text | None = None
    version: Text | None = None
    license: Text | None = None
    source: Text | None = None
    doi: Text | None = None
    manifest_format: Text | None = None
    manifest: list[dict[str, Any]] | None = None
    stores: list[StoreRef] | None = None


_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _language(tag: str) -> str:
    if not _LANGUAGE.match(tag):
        raise ValueError(f"{tag!r} is not a BCP 47 language tag such as en or de-CH")
    return tag


class TextBody(_Open):
    title: Text | None = None
    language: Annotated[str, AfterValidator(_language)] | None = None
    """A BCP 47 language tag (``en``, ``de-CH``)."""
